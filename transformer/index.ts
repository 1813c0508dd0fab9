/**
 * chronots/transformer: the ts-patch source transformer.
 *
 *   "plugins": [{ "transform": "chronots/transformer" }]
 *
 * Every call of chronots' `async` (found through the type checker, so renamed and namespace imports
 * count and a local function named `async` does not) whose argument is a generator function
 * expression (also inside parentheses or a type assertion) is replaced by the lowered state machine
 * of lower.ts. Each file is checked first for dropped Futures (discards.ts) and for yields of
 * non-Futures (yields.ts). A function the lowering does not handle stays as written, with a warning (the entry's
 * `"unlowered"`, entry.ts), and runs on the run-time driver; so does `async(gen)` of a generator not
 * written in the call.
 */
import type * as ts from "typescript";
import { compilerProblem, type TypeScript, useCompiler } from "./compiler.js";
import { asUnlowered, lowerFile } from "./lower.js";
import { checkerRecognizer } from "./recognize.js";
import { discardedFutures } from "./discards.js";
import { guarded, internalError } from "./guard.js";
import { badYields } from "./yields.js";
import { configFileOf, ENTRY_CODE, entryDiagnostics, hiddenProblem, isBuildIn, NOT_A_PROGRAM, type PluginEntry, problemsOf, PROGRAM_TRANSFORMER, readSeverity, sameBuildEntry, type Severity } from "./entry.js";

/** The plugin entry's options (entry.ts). */
export interface TransformerConfig {
  /** A dropped Future (TS90001): "error" by default. */
  discarded?: Severity;
  /** A function left to the run-time driver (TS99301): "warning" by default. */
  unlowered?: Severity;
  [k: string]: unknown;
}

/** What ts-patch passes as a plugin's third argument; a direct caller passes at least `ts`. */
export interface TransformerExtras {
  /** The compiler to build nodes with; without it the CommonJS build requires `typescript`, the ES module build throws. */
  ts?: TypeScript;
  /** Where warnings (functions left to the driver) and discarded-future errors go; dropped without it. */
  addDiagnostic?: (d: ts.Diagnostic) => void;
  /** The list `addDiagnostic` adds to (ts-patch's, one per program, added to the result of every emit of it). */
  diagnostics?: ts.Diagnostic[];
}

/**
 * What the transformer reported into a host's list since the host last ran a transform, per list.
 * ts-patch keeps one list per program and adds all of it to the result of every `emit` of that
 * program, and an incremental build or `--watch` emits file by file, keeping each emit's diagnostics
 * for its file: so the transformer, made anew for each emit (one call per plugin entry, before any
 * file is transformed), takes back what it reported during the last emit, or every file would go on
 * reporting the errors of the files emitted before it, fixed or not.
 */
const reported = new WeakMap<ts.Diagnostic[], { added: Set<ts.Diagnostic>; transformed: boolean }>();

/** `extras.addDiagnostic`, after taking back from the host's list what the last emit reported. */
function reporter(extras: TransformerExtras): { report: (d: ts.Diagnostic) => void; transforming: () => void } {
  const add = extras.addDiagnostic;
  const list = extras.diagnostics;
  if (!add) return { report: () => {}, transforming: () => {} };
  if (!list) return { report: add, transforming: () => {} };
  let state = reported.get(list);
  if (!state) reported.set(list, (state = { added: new Set(), transformed: false }));
  if (state.transformed) {
    for (let i = list.length - 1; i >= 0; i--) if (state.added.has(list[i]!)) list.splice(i, 1);
    state.added.clear();
    state.transformed = false;
  }
  const own = state;
  return {
    report: (d) => {
      own.added.add(d);
      add(d);
    },
    transforming: () => {
      own.transformed = true;
    },
  };
}

/**
 * The `typescript` package, for a host that gives no compiler of its own (ts-patch always does).
 * Required only then, so that a patched `tsc` does not load a second compiler for the transformer's
 * sake. An ES module has no `require`: there the caller passes `ts`.
 */
function packageCompiler(): TypeScript {
  if (typeof require === "function") return require("typescript") as TypeScript;
  throw new TypeError("chronots/transformer: no TypeScript compiler was given; pass it as `ts` in the third argument, as ts-patch does: transformer(program, config, { ts })");
}

export { ENTRY_CODE } from "./entry.js";

/**
 * What ts-patch gets back when it runs the transformer as a program transformer: the same program,
 * whose emit (tspc's, or an editor's under a `ts-patch install`ed TypeScript) lowers nothing and
 * says so, rather than a throw that would take an editor down with it.
 */
function reportingMisuse(program: ts.Program): ts.Program {
  // DiagnosticCategory.Error is 1 in every TypeScript; no compiler was handed over to read it from.
  const error: ts.Diagnostic = { file: undefined, start: undefined, length: undefined, category: 1, code: ENTRY_CODE, source: "chronots", messageText: PROGRAM_TRANSFORMER };
  return {
    ...program,
    emit(...args) {
      const result = program.emit(...args);
      return { ...result, diagnostics: [...result.diagnostics, error] };
    },
  };
}

export default function transformer(program: ts.Program, config: TransformerConfig = {}, extras: TransformerExtras = {}): ts.TransformerFactory<ts.SourceFile> {
  // Another "type" has ts-patch pass a checker, the options, the entry or ("raw") a transformation context, with no way to report: this error is all it can say.
  if (typeof (program as Partial<ts.Program> | undefined)?.getSourceFile !== "function" || typeof program.getTypeChecker !== "function") throw new TypeError(NOT_A_PROGRAM);
  // ts-patch calls a program transformer with the host second (undefined where createProgram was given none) and the entry third.
  if (typeof (config as { getSourceFile?: unknown }).getSourceFile === "function" || (extras as { transformProgram?: unknown }).transformProgram === true)
    return reportingMisuse(program) as never;
  const compiler = extras.ts ?? packageCompiler();
  const problem = compilerProblem(compiler);
  if (problem) throw new TypeError(`chronots/transformer: ${problem}`);
  const { report, transforming } = reporter(extras);
  useCompiler(compiler);
  const configFile = configFileOf(program);
  // An entry ts-patch runs after TypeScript's transforms or on the declarations gets the same arguments: the tsconfig tells.
  const hidden = hiddenProblem((program.getCompilerOptions().plugins ?? []) as PluginEntry[], configFile, config);
  if (hidden) {
    const isBuild = isBuildIn(configFile);
    for (const d of entryDiagnostics([hidden], configFile, (p) => isBuild(p) && sameBuildEntry(config)(p))) report(d);
    return () => (file) => file;
  }
  const problems = problemsOf(config, "build");
  for (const d of entryDiagnostics(problems, configFile, sameBuildEntry(config))) report(d);
  const discarded = readSeverity(config, "discarded", "error");
  const unlowered = readSeverity(config, "unlowered", "warning");
  const reportUnlowered = (d: ts.Diagnostic) => {
    const shown = asUnlowered(d, unlowered);
    if (shown) report(shown);
  };
  const recognize = checkerRecognizer(program);
  return (context) => (file) => {
    transforming();
    useCompiler(compiler);
    // The rules read the file as parsed: an earlier transformer may have rewritten it, and the checker knows nothing of synthesized nodes.
    const parsed = program.getSourceFile(file.fileName) ?? file;
    for (const d of guarded(parsed, "was not checked for discarded futures", () => discardedFutures(program, parsed, discarded))) report(d);
    for (const d of guarded(parsed, "was not checked for yields of non-Futures", () => badYields(program, parsed))) report(d);
    try {
      return lowerFile(file, context, recognize, reportUnlowered);
    } catch (e) {
      report(internalError(file, "was not lowered", e));
      return file;
    }
  };
}
