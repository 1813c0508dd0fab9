/**
 * Recognition: which calls are calls of chronots' `async`, asked of the type checker, so renamed and
 * namespace imports, `import C = require("chronots")` and a user's module that re-exports chronots
 * count, and a local function that happens to be named `async` does not. The ts-patch entry
 * (index.ts), the editor plugin (service.ts) and `chronots check` share it; the Vite plugin, which
 * has no checker, matches import specifiers as written (lowerText in lower.ts).
 */
import type ts from "typescript";
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
  /** The `async` that `"chronots"` gives `file`, when that module gives the runtime object too. */
  const packageAsync = new Map<ts.SourceFile, ts.Symbol | undefined>();
  const fromPackage = (file: ts.SourceFile): ts.Symbol | undefined => {
    if (packageAsync.has(file)) return packageAsync.get(file);
    const found = tsi.resolveModuleName("chronots", file.fileName, program.getCompilerOptions(), tsi.sys, undefined, undefined, file.impliedNodeFormat).resolvedModule;
    const entry = found && program.getSourceFile(found.resolvedFileName);
    const module = entry && checker.getSymbolAtLocation(entry);
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
  return (call) => {
    const callee = call.expression;
    const local = tsi.isPropertyAccessExpression(callee) ? callee.expression : callee;
    const at = tsi.isPropertyAccessExpression(callee) ? callee.name : callee;
    if (!tsi.isIdentifier(local)) return undefined;
    const sym = checker.getSymbolAtLocation(at);
    if (!sym) return undefined;
    const target = resolve(sym);
    const decl = target.declarations?.[0];
    if (target.name !== "async" || !decl || !RUNTIME_FILE.test(decl.getSourceFile().fileName)) return undefined;
    const imported = (at === local ? sym : checker.getSymbolAtLocation(local))?.declarations?.[0];
    if (!imported) return undefined;
    const from = moduleOf(imported);
    if (!from) return undefined;
    const spec = from.text;
    if (givesRuntime(from)) return spec;
    if (fromPackage(call.getSourceFile()) === target) return "chronots";
    throw new Unsupported(callee, `an async imported from '${spec}', which re-exports it without chronots' runtime (import it from 'chronots', or re-export with \`export * from "chronots"\`),`);
  };
}

/** The module specifier of an import binding: `{ async }`, `* as C`, or `C = require("…")`. */
function moduleOf(imported: ts.Declaration): ts.StringLiteral | undefined {
  const specifier = tsi.isImportSpecifier(imported)
    ? imported.parent.parent.parent.moduleSpecifier
    : tsi.isNamespaceImport(imported)
      ? imported.parent.parent.moduleSpecifier
      : tsi.isImportEqualsDeclaration(imported) && tsi.isExternalModuleReference(imported.moduleReference)
        ? imported.moduleReference.expression
        : undefined;
  return specifier && tsi.isStringLiteral(specifier) ? specifier : undefined;
}
