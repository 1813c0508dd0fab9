/**
 * Recognition: which calls are calls of chronots' `async`, asked of the type checker, so renamed and
 * namespace imports, `import C = require("chronots")`, a JavaScript file's `require("chronots")`
 * and a user's module that re-exports chronots count, and a local function that happens to be
 * named `async` does not. A TypeScript file's `require()` is typed any, so the checker cannot
 * follow it; a call through one that names chronots is left to the driver with a warning. The ts-patch entry
 * (index.ts), the editor plugin (service.ts) and `chronots check` share it; the Vite plugin, which
 * has no checker, matches import specifiers as written (lowerText in lower.ts).
 */
import type * as ts from "typescript";
import { tsi } from "./compiler.js";
import { Unsupported } from "./analyze.js";
import type { Recognizer } from "./lower.js";

const RUNTIME_FILE = /(^|[\\/])runtime[\\/]async\.(ts|d\.ts|js)$|[\\/]chronots[\\/].*async\.d\.[cm]?ts$/;

/**
 * The module specifier the lowered code of `call`'s file reads chronots' runtime object
 * (`__chronots`) from, when `call`'s callee is chronots' `async`: the module `async` was imported
 * from when that one exports the runtime too (chronots itself, or a module of the user's that
 * re-exports it with `export *`). A module that re-exports `async` alone gives no runtime object;
 * then `"chronots"` is used when it resolves, from the calling file, to the package that declares
 * that very `async`, and otherwise the call is left to the driver with a warning.
 */
export function checkerRecognizer(program: ts.Program): Recognizer {
  const checker = program.getTypeChecker();
  const resolve = (s: ts.Symbol) => (s.flags & tsi.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s);
  const exportsRuntime = (module: ts.Symbol | undefined) => module !== undefined && checker.tryGetMemberInModuleExports("__chronots", module) !== undefined;
  /** What `spec` names from `file`: its resolution and, when the program holds that file, its module symbol. */
  const resolveFrom = (spec: string, file: ts.SourceFile) => {
    const found = tsi.resolveModuleName(spec, file.fileName, program.getCompilerOptions(), tsi.sys, undefined, undefined, file.impliedNodeFormat).resolvedModule;
    const entry = found && program.getSourceFile(found.resolvedFileName);
    return { found, module: entry && checker.getSymbolAtLocation(entry) };
  };
  /** The `async` that `"chronots"` gives `file`, when that module gives the runtime object too. */
  const packageAsync = new Map<ts.SourceFile, ts.Symbol | undefined>();
  const fromPackage = (file: ts.SourceFile): ts.Symbol | undefined => {
    if (packageAsync.has(file)) return packageAsync.get(file);
    const { module } = resolveFrom("chronots", file);
    const exported = module && exportsRuntime(module) ? checker.tryGetMemberInModuleExports("async", module) : undefined;
    const target = exported && resolve(exported);
    packageAsync.set(file, target);
    return target;
  };
  /** Per import declaration: whether the module it names exports the runtime object (asked once, not at every call). */
  const importGivesRuntime = new Map<ts.StringLiteral, boolean>();
  const givesRuntime = (from: ts.StringLiteral): boolean => {
    let gives = importGivesRuntime.get(from);
    if (gives === undefined) importGivesRuntime.set(from, (gives = exportsRuntime(checker.getSymbolAtLocation(from))));
    return gives;
  };
  /** Whether `spec`, resolved from `file`, is chronots or, when the program holds it, a module that exports the runtime object. */
  const resolvesToRuntime = (spec: ts.StringLiteral, file: ts.SourceFile): boolean => {
    const { found, module } = resolveFrom(spec.text, file);
    return found?.packageId?.name === "chronots" || exportsRuntime(module);
  };
  /**
   * `undefined` for a call the cheap test above did not recognise, unless it still calls chronots'
   * `async`, as the checker resolves it: through an alias (`const run = async`, `const ns = C`,
   * `const { async } = C`), which the lowering does not follow; asked only then, as most such calls are not.
   */
  const unrecognized = (call: ts.CallExpression): undefined => {
    const decl = checker.getResolvedSignature(call)?.declaration;
    if (decl && tsi.isFunctionDeclaration(decl) && decl.name?.text === "async" && RUNTIME_FILE.test(decl.getSourceFile().fileName)) throw aliasUnsupported(call.expression, "chronots");
    return undefined;
  };
  return (call) => {
    const callee = call.expression;
    const local = tsi.isPropertyAccessExpression(callee) ? callee.expression : callee;
    const at = tsi.isPropertyAccessExpression(callee) ? callee.name : callee;
    if (!tsi.isIdentifier(local)) return unrecognized(call);
    const sym = checker.getSymbolAtLocation(at);
    const target = sym && resolve(sym);
    const decl = target?.declarations?.[0];
    if (!target || target.name !== "async" || !decl || !RUNTIME_FILE.test(decl.getSourceFile().fileName)) {
      // A TypeScript file types `require("…")` as any, so the checker cannot say whose `async` this is.
      const bound = checker.getSymbolAtLocation(local)?.declarations?.[0];
      const spec = bound && !inJavaScript(bound) ? requiredAsync(bound, at === local) : undefined;
      if (spec && resolvesToRuntime(spec, call.getSourceFile()))
        throw new Unsupported(callee, `an async taken with require('${spec.text}') in a TypeScript file, which types it any (write \`import { async } from "${spec.text}"\` or \`import C = require("${spec.text}")\`),`);
      return unrecognized(call);
    }
    const imported = (at === local ? sym : checker.getSymbolAtLocation(local))?.declarations?.[0];
    const from = imported && moduleOf(imported);
    // chronots' `async`, read from a namespace bound otherwise than by an import (`const ns = C`).
    if (!from) throw aliasUnsupported(callee, "chronots");
    const spec = from.text;
    if (givesRuntime(from)) return spec;
    if (fromPackage(call.getSourceFile()) === target) return "chronots";
    throw new Unsupported(callee, `an async imported from '${spec}', which re-exports it without chronots' runtime (import it from 'chronots', or re-export with \`export * from "chronots"\`),`);
  };
}

/**
 * The module specifier of an import binding: `{ async }`, `* as C`, `C = require("…")`, and in a
 * JavaScript file, where the checker follows `require`, `const { async } = require("…")` and
 * `const C = require("…")`.
 */
function moduleOf(imported: ts.Declaration): ts.StringLiteral | undefined {
  const specifier = tsi.isImportSpecifier(imported)
    ? imported.parent.parent.parent.moduleSpecifier
    : tsi.isNamespaceImport(imported)
      ? imported.parent.parent.moduleSpecifier
      : tsi.isImportEqualsDeclaration(imported) && tsi.isExternalModuleReference(imported.moduleReference)
        ? imported.moduleReference.expression
        : inJavaScript(imported)
          ? requiredAsync(imported, tsi.isBindingElement(imported))
          : undefined;
  return specifier && tsi.isStringLiteral(specifier) ? specifier : undefined;
}

/**
 * `"x"` when `bound` is bound by `require("x")`: with `destructured`, as the `async` property
 * (`const { async } = require("x")`, also renamed), else as the whole module (`const C = require("x")`).
 */
function requiredAsync(bound: ts.Declaration, destructured: boolean): ts.StringLiteral | undefined {
  let declaration: ts.Node = bound;
  if (destructured) {
    if (!tsi.isBindingElement(bound) || !tsi.isObjectBindingPattern(bound.parent) || bound.dotDotDotToken) return undefined;
    const key = bound.propertyName ?? bound.name;
    if (!tsi.isIdentifier(key) || key.text !== "async") return undefined;
    declaration = bound.parent.parent;
  }
  if (!tsi.isVariableDeclaration(declaration) || !declaration.initializer) return undefined;
  if (!destructured && !tsi.isIdentifier(declaration.name)) return undefined;
  const init = declaration.initializer;
  const required = tsi.isCallExpression(init) && tsi.isIdentifier(init.expression) && init.expression.text === "require" && init.arguments.length === 1 ? init.arguments[0]! : undefined;
  return required && tsi.isStringLiteral(required) ? required : undefined;
}

const inJavaScript = (n: ts.Node) => (n.flags & tsi.NodeFlags.JavaScriptFile) !== 0;

/** Why a call of chronots' `async` through an alias of it or of its module, imported from `spec`, is left to the driver. */
export const aliasUnsupported = (callee: ts.Expression, spec: string) =>
  new Unsupported(callee, `an alias of chronots' async ('${callee.getText()}'), which the lowering does not follow (call async through its import: \`import { async } from "${spec}"\` or a namespace import's \`C.async\`),`);
