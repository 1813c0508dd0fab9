/**
 * `async(worker)` of a generator declared by name: when the lowering may rewrite the declaration.
 *
 * Under the driver, each run of `async(worker)` makes a new function around the generator `worker`
 * names, with its name and `length`. The lowering can instead turn `function* worker` itself into that
 * function (a plain declaration of the same name, parameters and place, so it hoists as before) and
 * the call into a read of `worker`. Nothing can tell the two apart when:
 *
 * - the declaration is a statement of a block or module around the call, with no function, class,
 *   loop or namespace between them: the call then runs at most once for each function object the
 *   declaration makes, so no two of its results could be compared;
 * - no other identifier of the file has the name (the call's argument and the declaration's name are
 *   the only two), nor does the JSX transform write it later (the JSX factory), so nothing else calls,
 *   exports, assigns or shadows it, the body included;
 * - nothing reads bindings by name (no `eval` in the file, no `with` around the declaration), and a
 *   declaration at the top of the file is in a module, not in a script whose functions are globals;
 * - it is a plain generator with a body and no modifiers (`async`, `export`, `declare`), and no
 *   generator encloses it (a body the lowering rewrites as a whole).
 *
 * These are syntactic, so the ts-patch entry and the Vite plugin lower the same declarations; the
 * recogniser still decides, per call, whether its `async` is chronots'. A call whose generator fails
 * them gets the reason, which the warning that leaves it to the driver gives.
 */
import type ts from "typescript";
import { SK, tsi } from "./compiler.js";
import { type GeneratorDeclaration, unparen } from "./analyze.js";

/** For each call `async(name)` naming a generator declaration: that declaration, or why the lowering may not rewrite it. */
export type Declared = Map<ts.CallExpression, GeneratorDeclaration | string>;

/**
 * A `function*` where a declaration may stand (first in the file or a line, or after `;`, `{`, `}` or a
 * `case …:`), with any modifiers. One written with comments inside gets the general warning instead.
 */
const DECLARATION = /(?:^|[\n;{}:])[ \t]*(?:(?:export|default|declare|async)\s+)*function\s*\*/;

/**
 * The calls `isAsync` accepts whose argument names a generator declaration, each with that
 * declaration or the reason it stays a generator; `reserved` are names the file's later transforms
 * write (the JSX factory). One walk of the file, made only when its text may declare a generator.
 */
export function declaredGenerators(file: ts.SourceFile, isAsync: (call: ts.CallExpression) => boolean, reserved: ReadonlySet<string>): Declared {
  const found: Declared = new Map();
  // A tree another transform rebuilt has lost the parents and positions this relies on.
  if (!tsi.isParseTreeNode(file) || !DECLARATION.test(file.text)) return found;
  const uses = new Map<string, number>();
  const calls: ts.CallExpression[] = [];
  const walk = (n: ts.Node): void => {
    if (n.kind === SK.Identifier) {
      const name = (n as ts.Identifier).text;
      uses.set(name, (uses.get(name) ?? 0) + 1);
      return;
    }
    if (n.kind === SK.CallExpression && isAsync(n as ts.CallExpression)) calls.push(n as ts.CallExpression);
    tsi.forEachChild(n, walk);
  };
  walk(file);
  for (const call of calls) {
    const arg = unparen(call.arguments[0]!);
    if (!tsi.isIdentifier(arg)) continue;
    const around = declarationAround(call, arg.text);
    if (!around) continue;
    const why = whyNot(around, file, uses, reserved);
    found.set(call, why === undefined ? (around.decl as GeneratorDeclaration) : `'${arg.text}', ${why},`);
  }
  return found;
}

interface Around {
  decl: ts.FunctionDeclaration;
  /** A function, class, loop, namespace or `with` between the call and the declaration. */
  between: ts.Node | undefined;
}

/** The function declaration named `name` among the statements of a block or module around `call`, and what stands between them. */
function declarationAround(call: ts.CallExpression, name: string): Around | undefined {
  let between: ts.Node | undefined;
  for (let n: ts.Node | undefined = call.parent; n; n = n.parent) {
    if (n.kind === SK.Block || n.kind === SK.SourceFile) {
      for (const st of (n as ts.Block | ts.SourceFile).statements) if (tsi.isFunctionDeclaration(st) && st.name?.text === name) return { decl: st, between };
    } else if (!between && (tsi.isFunctionLike(n) || tsi.isClassLike(n) || tsi.isIterationStatement(n, false) || n.kind === SK.ModuleDeclaration || n.kind === SK.WithStatement)) between = n;
  }
  return undefined;
}

/** Why the declaration of `around` must stay a generator, or `undefined` when the lowering may rewrite it. */
function whyNot({ decl, between }: Around, file: ts.SourceFile, uses: Map<string, number>, reserved: ReadonlySet<string>): string | undefined {
  const name = decl.name!.text;
  // Named more than twice, the argument may not even be this declaration (a parameter of that name).
  if (uses.get(name) !== 2) return "a name the file uses elsewhere too (a generator lowered in place is named only by its declaration and the call)";
  if (!decl.asteriskToken) return "a function that is not a generator (async() takes a function*)";
  if (decl.modifiers?.length) return `a generator declared \`${decl.modifiers.map((m) => m.getText()).join(" ")}\``;
  if (!decl.body) return "a generator without a body";
  if (reserved.has(name)) return "a generator named as the JSX factory is";
  if (uses.has("eval")) return "a generator in a file with a direct eval, which could read it by name";
  if (between) return `a generator declared outside the ${describe(between)} the call is in, which may run the call more than once for it`;
  if (decl.parent === file && !tsi.isExternalModule(file) && !(file.flags & tsi.NodeFlags.JavaScriptFile)) return "a generator declared at the top of a script, where it is a global";
  for (let n = decl.parent; n.kind !== SK.SourceFile; n = n.parent) {
    if (n.kind === SK.WithStatement) return "a generator declared inside `with`";
    if (tsi.isFunctionLike(n) && (n as ts.FunctionLikeDeclaration).asteriskToken) return "a generator declared inside another generator";
  }
  return undefined;
}

function describe(n: ts.Node): string {
  if (tsi.isClassLike(n)) return "class";
  if (tsi.isIterationStatement(n, false)) return "loop";
  if (n.kind === SK.ModuleDeclaration) return "namespace";
  if (n.kind === SK.WithStatement) return "`with`";
  return "function";
}
