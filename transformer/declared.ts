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
 *   the only two), so nothing else calls, exports, assigns or shadows it, the body included;
 * - nothing reads bindings by name (no `eval` in the file, no `with` around the declaration), and a
 *   declaration at the top of the file is in a module, not in a script whose functions are globals;
 * - it is a plain generator with a body and no modifiers (`async`, `export`, `declare`), and no
 *   generator encloses it (a body the lowering rewrites as a whole).
 *
 * These are syntactic, so the ts-patch entry and the Vite plugin lower the same declarations; the
 * recogniser still decides, per call, whether its `async` is chronots'.
 */
import type ts from "typescript";
import { SK, tsi } from "./compiler.js";
import { type GeneratorDeclaration, unparen } from "./analyze.js";

/** A call `async(worker)` and the generator declaration it may lower. */
export type Declared = Map<ts.CallExpression, GeneratorDeclaration>;

/**
 * The calls `isAsync` accepts whose argument names a generator declaration the lowering may
 * rewrite. One walk of the file, made only when its text holds such a call (`mayHold`).
 */
export function declaredGenerators(file: ts.SourceFile, mayHold: RegExp, isAsync: (call: ts.CallExpression) => boolean): Declared {
  const found: Declared = new Map();
  if (!mayHold.test(file.text)) return found;
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
  if (uses.has("eval")) return found;
  for (const call of calls) {
    const arg = unparen(call.arguments[0]!);
    if (!tsi.isIdentifier(arg) || uses.get(arg.text) !== 2) continue;
    const decl = declarationAround(call, arg.text);
    if (decl && isPlainGenerator(decl) && inPlainScope(decl, file)) found.set(call, decl);
  }
  return found;
}

/** The function declaration named `name` among the statements of a block or module around `call`, before a function, class, loop or namespace. */
function declarationAround(call: ts.CallExpression, name: string): ts.FunctionDeclaration | undefined {
  for (let n: ts.Node = call.parent; n; n = n.parent) {
    if (n.kind === SK.Block || n.kind === SK.SourceFile) {
      for (const st of (n as ts.Block | ts.SourceFile).statements) if (tsi.isFunctionDeclaration(st) && st.name?.text === name) return st;
    } else if (tsi.isFunctionLike(n) || tsi.isClassLike(n) || tsi.isIterationStatement(n, false) || n.kind === SK.ModuleDeclaration || n.kind === SK.WithStatement) return undefined;
  }
  return undefined;
}

const isPlainGenerator = (decl: ts.FunctionDeclaration): decl is GeneratorDeclaration => decl.asteriskToken !== undefined && decl.body !== undefined && !decl.modifiers?.length;

/** No generator and no `with` encloses `decl`, and at the top of the file, the file is a module. */
function inPlainScope(decl: ts.FunctionDeclaration, file: ts.SourceFile): boolean {
  if (decl.parent === file && !tsi.isExternalModule(file) && !(file.flags & tsi.NodeFlags.JavaScriptFile)) return false;
  for (let n = decl.parent; n !== file; n = n.parent) {
    if (n.kind === SK.WithStatement) return false;
    if (tsi.isFunctionLike(n) && (n as ts.FunctionLikeDeclaration).asteriskToken) return false;
  }
  return true;
}
