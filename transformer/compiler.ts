/**
 * The TypeScript the transformer runs on. Every value of the compiler API it uses (the node factory,
 * visitors, node tests, enums) is read from here; types come from the `typescript` package.
 *
 * Each entry point names the compiler it works with before it works on a file: the host's own when
 * it has one (ts-patch hands plugins its patched `tsc.js` as `extras.ts`, tsserver hands its own to
 * a plugin's `init`), else the `typescript` package. Nodes made by another copy's factory print the
 * same, but they are objects of another compiler's classes. Nothing here loads the package itself: a
 * `tsc` patched by `ts-patch install` does not load it, and doing so only for the transformer cost
 * 0.24 s of CPU on benchmark workload 5 (3 %).
 *
 * The host's compiler must be the same TypeScript version as the package (it is when chronots is
 * installed with TypeScript as its peer): node kinds differ between versions.
 */
import type typescript from "typescript";

export let tsi: typeof typescript;
export let factory: typescript.NodeFactory;
/**
 * `tsi.SyntaxKind`, read once: the compiler exports each member through a getter, and the
 * visitors compare node kinds against it on every node.
 */
export let SK: typeof typescript.SyntaxKind;

/** Work with `instance` from now on. */
export function useCompiler(instance: typeof typescript): void {
  tsi = instance;
  factory = instance.factory;
  SK = instance.SyntaxKind;
}
