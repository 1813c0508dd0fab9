/**
 * `async(worker)` of a generator declared by name: when the lowering may rewrite the declaration.
 *
 * Under the driver, each run of `async(worker)` makes a new function around the generator `worker`
 * names, with its name and `length`. The lowering can instead turn the generator itself into that
 * function and the call into a read of `worker`: `function* worker` becomes a plain declaration of
 * the same name, parameters and place (so it hoists as before), and the anonymous generator of
 * `const worker = function* …` (or `let`, `var`) a plain function expression in its place, named by
 * the binding as the generator was. Nothing can tell the two apart when:
 *
 * - the declaration is a statement of a block or module around the call, with no function, class,
 *   loop or namespace between them: the call then runs at most once for each function object the
 *   declaration makes, so no two of its results could be compared; a variable's declaration comes
 *   before the call, which then never reads it uninitialized (`undefined` for a `var`, which
 *   `async()` would reject);
 * - no other identifier of the file has the name (the call's argument and the declaration's name are
 *   the only two), nor does the JSX transform write it later (the JSX factory), so nothing else calls,
 *   exports, assigns or shadows it, the body included;
 * - nothing reads bindings by name (no `eval` in the file, no `with` around the declaration), and a
 *   declaration at the top of the file is in a module, not in a script whose functions are globals;
 * - it is a plain generator with a body and no modifiers (`async`, `export`, `declare`; a variable's
 *   generator is anonymous), and no generator encloses it (a body the lowering rewrites as a whole).
 *
 * These are syntactic, so the ts-patch entry and the Vite plugin lower the same declarations; the
 * recogniser still decides, per call, whether its `async` is chronots'. A call whose generator fails
 * them gets the reason, which the warning that leaves it to the driver gives.
 */
import type * as ts from "typescript";
import { forEachDescendant, SK, tsi } from "./compiler.js";
import { type GeneratorDeclaration, unparen } from "./analyze.js";

/** A generator the lowering may rewrite in place: a declaration, or the anonymous generator a variable is declared with. */
export type DeclaredGenerator = GeneratorDeclaration | ts.FunctionExpression;

/** For each call `async(name)` naming a declared generator: that generator, or why the lowering may not rewrite it. */
export type Declared = Map<ts.CallExpression, DeclaredGenerator | string>;

/** `function*`, also with comments before the star (each comment matched one way only, so that no text makes it backtrack). */
export const GENERATOR = /\bfunction(?:\s|\/\*[^*]*\*+(?:[^/*][^*]*\*+)*\/|\/\/[^\n]*\n)*\*/g;
/**
 * The generators written as the argument of an `async(` call. It allows no line break: a comment
 * ending in `async(` before a declaration is then no match.
 */
const INLINE = /\basync[ \t]*\([ \t]*function[ \t]*\*/g;
/** A generator the file's text shows as such where it starts, as GENERATOR counts it; one with comments inside is left to the driver. */
const GENERATOR_AT = /(?:(?:export|default|declare|async)\s+)*function\s*\*/y;

/** Whether the text may hold a generator not written in an `async(` call, the only ones a walk could find. */
function mayDeclare(text: string): boolean {
  return (text.match(GENERATOR)?.length ?? 0) > (text.match(INLINE)?.length ?? 0);
}

/**
 * The calls `isAsync` accepts whose argument names a generator declaration, each with that
 * declaration or the reason it stays a generator; `reserved` are names the file's later transforms
 * write (the JSX factory). One walk of the file, made only when its text may declare a generator.
 */
export function declaredGenerators(file: ts.SourceFile, isAsync: (call: ts.CallExpression) => boolean, reserved: ReadonlySet<string>): Declared {
  const found: Declared = new Map();
  // A tree another transform rebuilt has lost the parents and positions this relies on.
  if (!tsi.isParseTreeNode(file) || !mayDeclare(file.text)) return found;
  const uses = new Map<string, number>();
  const calls: ts.CallExpression[] = [];
  forEachDescendant(file, (n) => {
    if (n.kind === SK.Identifier) {
      const name = (n as ts.Identifier).text;
      uses.set(name, (uses.get(name) ?? 0) + 1);
      return false;
    }
    if (n.kind === SK.CallExpression && isAsync(n as ts.CallExpression)) calls.push(n as ts.CallExpression);
    return true;
  });
  for (const call of calls) {
    const arg = unparen(call.arguments[0]!);
    if (!tsi.isIdentifier(arg)) continue;
    const around = declarationAround(call, arg.text, file);
    if (!around) continue;
    const why = whyNot(around, call, file, uses, reserved);
    found.set(call, why === undefined ? (around.generator as DeclaredGenerator) : `'${arg.text}', ${why},`);
  }
  return found;
}

interface Around {
  /** The function declaration, or the variable declaration, of the name. */
  decl: ts.FunctionDeclaration | ts.VariableDeclaration;
  /** The statement holding it. */
  statement: ts.FunctionDeclaration | ts.VariableStatement;
  /** What the lowering would rewrite: the declaration, or the variable's initializer. */
  generator: ts.FunctionDeclaration | ts.FunctionExpression;
  /** A function, class, loop, namespace or `with` between the call and the declaration. */
  between: ts.Node | undefined;
}

/**
 * The generator declared as `name` among the statements of a block or module around `call`, and what
 * stands between them; `undefined` when the nearest declaration of that name is something else.
 */
function declarationAround(call: ts.CallExpression, name: string, file: ts.SourceFile): Around | undefined {
  let between: ts.Node | undefined;
  for (let n: ts.Node | undefined = call.parent; n; n = n.parent) {
    if (n.kind === SK.Block || n.kind === SK.SourceFile) {
      for (const st of (n as ts.Block | ts.SourceFile).statements) {
        if (tsi.isFunctionDeclaration(st) && st.name?.text === name) return shownAt(st, file) ? { decl: st, statement: st, generator: st, between } : undefined;
        if (!tsi.isVariableStatement(st)) continue;
        for (const d of st.declarationList.declarations) {
          if (!tsi.isIdentifier(d.name) || d.name.text !== name) continue;
          const init = d.initializer && unparen(d.initializer);
          return init && tsi.isFunctionExpression(init) && shownAt(init, file) ? { decl: d, statement: st, generator: init, between } : undefined;
        }
      }
    } else if (!between && (tsi.isFunctionLike(n) || tsi.isClassLike(n) || tsi.isIterationStatement(n, false) || n.kind === SK.ModuleDeclaration || n.kind === SK.WithStatement)) between = n;
  }
  return undefined;
}

/** Whether `fn` starts as GENERATOR_AT reads a generator, so that `mayDeclare` saw it. */
function shownAt(fn: ts.FunctionDeclaration | ts.FunctionExpression, file: ts.SourceFile): boolean {
  GENERATOR_AT.lastIndex = fn.getStart(file);
  return GENERATOR_AT.test(file.text);
}

/** Why the generator of `around` must stay one, or `undefined` when the lowering may rewrite it. */
function whyNot({ decl, statement, generator, between }: Around, call: ts.CallExpression, file: ts.SourceFile, uses: Map<string, number>, reserved: ReadonlySet<string>): string | undefined {
  const name = (decl.name as ts.Identifier).text;
  // Named more than twice, the argument may not even be this declaration (a parameter of that name).
  if (uses.get(name) !== 2) return "a name the file uses elsewhere too (a generator lowered in place is named only by its declaration and the call)";
  if (tsi.isVariableStatement(statement)) {
    if (generator.name) return "a variable holding a generator function of another name";
    if (statement.modifiers?.length) return `a variable declared \`${statement.modifiers.map((m) => m.getText()).join(" ")}\``;
    if (statement.declarationList.flags & tsi.NodeFlags.Using) return "a variable declared with `using`";
    if (call.pos < decl.end) return "a variable the call reads before its declaration";
  }
  if (generator.modifiers?.length) return `a generator declared \`${generator.modifiers.map((m) => m.getText()).join(" ")}\``;
  if (!generator.body) return "a generator without a body";
  if (reserved.has(name)) return "a generator named as the JSX factory is";
  if (uses.has("eval")) return "a generator in a file with a direct eval, which could read it by name";
  if (between) return `a generator declared outside the ${describe(between)} the call is in, which may run the call more than once for it`;
  if (statement.parent === file && !tsi.isExternalModule(file) && !(file.flags & tsi.NodeFlags.JavaScriptFile)) return "a generator declared at the top of a script, where it is a global";
  for (let n = statement.parent; n.kind !== SK.SourceFile; n = n.parent) {
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
