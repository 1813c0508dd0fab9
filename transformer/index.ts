/**
 * chronots/transformer: the ts-patch source transformer.
 *
 *   "plugins": [{ "transform": "chronots/transformer" }]
 *
 * Every call of chronots' `async` (found through the type checker, so renamed and namespace imports
 * count and a local function named `async` does not) whose argument is a generator function
 * expression (also inside parentheses or a type assertion) is replaced by the lowered state machine
 * of lower.ts. A function the lowering does not handle stays as written, with a warning, and runs on
 * the run-time driver; so does `async(gen)` of a generator not written in the call.
 */
import type ts from "typescript";
import { tsi, useCompiler } from "./compiler.js";
import { Unsupported } from "./analyze.js";
import { lowerFile, type Recognizer, UNSUPPORTED_CODE } from "./lower.js";
import { reportDiscarded, type Severity, severityOf } from "./discards.js";

export interface TransformerConfig {
  discarded?: "error" | "warning" | "off";
  [k: string]: unknown;
}

/** What ts-patch passes as a plugin's third argument; a direct caller passes at least `ts`. */
export interface TransformerExtras {
  /** The compiler to build nodes with; without it the CommonJS build requires `typescript`, the ES module build throws. */
  ts?: typeof ts;
  /** Where warnings (functions left to the driver) and discarded-future errors go; dropped without it. */
  addDiagnostic?: (d: ts.Diagnostic) => void;
}

const RUNTIME_FILE = /(^|[\\/])runtime[\\/]async\.(ts|d\.ts|js)$|[\\/]chronots[\\/].*async\.d\.[cm]?ts$/;

/**
 * The module specifier the lowered code of `call`'s file reads chronots' runtime object
 * (`__chronots`) from, when `call`'s callee is chronots' `async`: the module `async` was imported
 * from when that one exports the runtime too (chronots itself, or a module of the user's that
 * re-exports it with `export *`). A module that re-exports `async` alone gives no runtime object;
 * then `"chronots"` is used when it resolves, from the calling file, to the package that declares
 * that very `async`, and otherwise the call is left to the driver with a warning.
 */
function checkerRecognizer(program: ts.Program): Recognizer {
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

/**
 * The `typescript` package, for a host that gives no compiler of its own (ts-patch always does).
 * Required only then, so that a patched `tsc` does not load a second compiler for the transformer's
 * sake. An ES module has no `require`: there the caller passes `ts`.
 */
function packageCompiler(): typeof ts {
  if (typeof require === "function") return require("typescript") as typeof ts;
  throw new TypeError("chronots/transformer: no TypeScript compiler was given; pass it as `ts` in the third argument, as ts-patch does: transformer(program, config, { ts })");
}

/** The diagnostic code of a bad plugin entry: `error TS99302` in tsc's output. */
export const ENTRY_CODE = 99302;

/** The entry's `"discarded"` severity; a bad value is an error of the build (not a crash of tsc), and the rule then reports errors. */
function entrySeverity(config: TransformerConfig, report: (d: ts.Diagnostic) => void, compiler: typeof ts): Severity {
  try {
    return severityOf(config);
  } catch (e) {
    const messageText = (e as Error).message;
    report({ file: undefined, start: undefined, length: undefined, category: compiler.DiagnosticCategory.Error, code: ENTRY_CODE, source: "chronots", messageText });
    return "error";
  }
}

export default function transformer(program: ts.Program, config: TransformerConfig = {}, extras: TransformerExtras = {}): ts.TransformerFactory<ts.SourceFile> {
  const compiler = extras.ts ?? packageCompiler();
  const report = extras.addDiagnostic ?? (() => {});
  const severity = entrySeverity(config, report, compiler);
  const recognize = checkerRecognizer(program);
  // Neither part may take tsc down: an internal error is a warning, and the file goes on as it was.
  const internal = (file: ts.SourceFile, what: string, e: unknown) =>
    report({ file, start: 0, length: 0, category: tsi.DiagnosticCategory.Warning, code: UNSUPPORTED_CODE, source: "chronots", messageText: `chronots: ${file.fileName} ${what}: internal error (${e instanceof Error ? e.message : String(e)})` });
  return (context) => (file) => {
    useCompiler(compiler);
    try {
      reportDiscarded(program, file, severity, report);
    } catch (e) {
      internal(file, "was not checked for discarded futures", e);
    }
    try {
      return lowerFile(file, context, recognize, report);
    } catch (e) {
      internal(file, "was not lowered", e);
      return file;
    }
  };
}
