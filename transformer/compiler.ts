/**
 * The TypeScript the transformer runs on. Every value of the compiler API it uses (the node factory,
 * visitors, node tests, enums) is read from here; types come from the `typescript` package.
 *
 * A host may run a copy of the compiler of its own: ts-patch's `tspc` runs a patched `tsc.js` and
 * hands it to plugins as `extras.ts`; tsserver hands its own to a plugin's `init`. Nodes made by
 * another copy's factory print the same, but they are objects of another compiler's classes, and
 * a host's transforms and printer are written for their own (on benchmark workload 5 the
 * difference in time was within the machine's noise). So each entry point names the compiler it
 * was given before it works on a file.
 *
 * The host's compiler must be the same TypeScript version as the package (it is when chronots is
 * installed with TypeScript as its peer): node kinds differ between versions.
 */
import typescript from "typescript";

export let tsi: typeof typescript = typescript;
export let factory: typescript.NodeFactory = typescript.factory;

/** Work with `instance` from now on; the `typescript` package when the host gives none. */
export function useCompiler(instance: typeof typescript = typescript): void {
  tsi = instance;
  factory = instance.factory;
}
