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
import type * as ts from "typescript";

/**
 * The compiler module, as `import ts from "typescript"` gives it. Named by an import type, not a
 * default import, so the declarations chronots publishes load without `esModuleInterop`.
 */
export type TypeScript = typeof import("typescript");

export let tsi: TypeScript;
export let factory: ts.NodeFactory;
/**
 * `tsi.SyntaxKind`, read once: the compiler exports each member through a getter, and the
 * visitors compare node kinds against it on every node.
 */
export let SK: TypeScript["SyntaxKind"];

/**
 * Why `instance` cannot be the compiler chronots works with, or `undefined` when it can. TypeScript 7
 * is a native compiler: its `typescript` module exports a version and no compiler API, so neither a
 * transformer nor ts-patch can run on it.
 */
export function compilerProblem(instance: unknown): string | undefined {
  const c = instance as Partial<TypeScript> | null | undefined;
  if (typeof c?.createSourceFile === "function" && typeof c.transform === "function" && c.factory) return undefined;
  const which = typeof c?.version === "string" ? `TypeScript ${c.version}` : "the 'typescript' module it was given";
  return `chronots needs TypeScript's JavaScript compiler API, which ${which} does not have (TypeScript 7 compiles natively, without one); chronots works with TypeScript 5.9 or 6: npm install -D typescript@~5.9 (and, for tspc, ts-patch@3)`;
}

/** A strict-family option as TypeScript reads it: set, or implied by `strict` (internal to TypeScript). */
export function strictOption(options: ts.CompilerOptions, flag: "alwaysStrict" | "strictNullChecks"): boolean {
  return (tsi as unknown as { getStrictOptionValue(o: ts.CompilerOptions, flag: string): boolean }).getStrictOptionValue(options, flag);
}

/** Work with `instance` from now on. */
export function useCompiler(instance: TypeScript): void {
  tsi = instance;
  factory = instance.factory;
  SK = instance.SyntaxKind;
  kindNames = undefined;
}

/** Each SyntaxKind's own name, made when a message first needs one. */
let kindNames: Map<number, string> | undefined;

/** A node's kind as a message names it, in words: `ConditionalType` → "a conditional type". */
export function kindName(node: ts.Node): string {
  if (tsi.isExpressionWithTypeArguments(node)) return "an instantiation expression (f<T>)";
  // SK[kind] would give the last name of a value: `FirstLiteralToken` for NumericLiteral.
  kindNames ??= new Map(Object.entries(SK).flatMap(([name, kind]) => (typeof kind === "number" && !/^(First|Last)[A-Z]/.test(name) ? [[kind, name]] : [])));
  const words = kindNames.get(node.kind)!.replace(/([a-z])([A-Z])/g, "$1 $2").toLowerCase();
  return `${/^[aeiou]/.test(words) ? "an" : "a"} ${words}`;
}

/**
 * Calls `visit` on every node below `root`, in the order a recursive `forEachChild` walk takes
 * (a parent before its children, children in source order), skipping the children of a node
 * `visit` returns false for. A loop over a stack, not a recursion: an expression may nest deeper
 * than the stack goes (a concatenation of a few thousand strings), and the rules that use this walk
 * every file.
 */
export function forEachDescendant(root: ts.Node, visit: (n: ts.Node) => boolean | void): void {
  const pending: ts.Node[] = [];
  const children: ts.Node[] = [];
  const add = (n: ts.Node) => void children.push(n);
  const push = (n: ts.Node) => {
    tsi.forEachChild(n, add);
    while (children.length > 0) pending.push(children.pop()!);
  };
  push(root);
  for (let n = pending.pop(); n !== undefined; n = pending.pop()) if (visit(n) !== false) push(n);
}

/** Whether `root` or a node below it passes `test`. */
export function contains(root: ts.Node, test: (n: ts.Node) => boolean): boolean {
  let found = test(root);
  if (!found) forEachDescendant(root, (n) => !found && !(found = test(n)));
  return found;
}
