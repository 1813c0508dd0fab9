/**
 * `chronots check -p tsconfig.json`: what a `tspc` build would report, for CI, without emitting anything.
 *
 * Reads the tsconfig, builds a Program, and prints, like tsc, the program's own errors (so the command
 * can stand in for `tsc --noEmit`) followed by every discarded Future (TS90001) in the project's
 * source files (declaration files and node_modules are skipped), every yield of a non-Future (TS90002)
 * and, when the project's build lowers,
 * every function the lowering leaves to the run-time driver (TS99301). The severities come from the
 * chronots entry in `compilerOptions.plugins` (entry.ts): `"discarded"`, "error" without one, and
 * `"unlowered"`; a bad entry is an error TS99302 at its option, as in a `tspc` build.
 * A solution-style tsconfig (`"files": []` and `references`) has each referenced project checked.
 * Exit status: 0 clean (warnings allowed), 1 on any error, 2 on bad arguments.
 */
import { join } from "node:path";
import ts from "typescript";
import { compilerProblem, useCompiler } from "./compiler.js";
import { discardedFutures } from "./discards.js";
import { chronotsEntry, type PluginEntry, pluginDiagnostics, readSeverity, unloweredWithoutEmit } from "./entry.js";
import { guarded } from "./guard.js";
import { driverWarnings } from "./lower.js";
import { checkerRecognizer } from "./recognize.js";
import { badYields } from "./yields.js";

export const usage = `Usage: chronots check [-p <tsconfig.json or directory>] [--pretty | --no-pretty]
Reports the program's type errors, every discarded Future, every yield of a non-Future and, when the
build lowers, every function left to the run-time driver, like tsc; exits 1 on errors.`;

export function main(args: readonly string[], out: NodeJS.WritableStream = process.stdout): number {
  let project = "tsconfig.json";
  let pretty = !!(out as { isTTY?: boolean }).isTTY;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "-p" || a === "--project") {
      const v = args[++i];
      if (v === undefined) return fail(out, `option '${a}' needs a path to a tsconfig.json or a directory`);
      project = v;
    } else if (a === "--pretty") pretty = true;
    else if (a === "--no-pretty") pretty = false;
    else if (a === "-h" || a === "--help") {
      out.write(`${usage}\n`);
      return 0;
    } else return fail(out, `unknown argument '${a}'`);
  }
  const problem = compilerProblem(ts);
  if (problem) {
    out.write(`chronots check: ${problem}\n`);
    return 2;
  }
  return checkProject(ts.sys.directoryExists(project) ? join(project, "tsconfig.json") : project, out, pretty, new Set());
}

/**
 * One tsconfig's check. A solution-style one (no files of its own, only `references`) checks each
 * project it references instead, as `tspc -b` builds them; the worst exit status counts.
 */
function checkProject(configFile: string, out: NodeJS.WritableStream, pretty: boolean, seen: Set<string>): number {
  seen.add(configFile);
  const configErrors: ts.Diagnostic[] = [];
  const host: ts.ParseConfigFileHost = { ...ts.sys, onUnRecoverableConfigFileDiagnostic: (d) => configErrors.push(d) };
  const config = ts.getParsedCommandLineOfConfigFile(configFile, undefined, host);
  if (!config) return report(out, configErrors, pretty);
  const references = config.projectReferences ?? [];
  if (config.fileNames.length === 0 && references.length > 0 && config.errors.length === 0)
    return Math.max(0, ...references.map(ts.resolveProjectReferencePath).filter((f) => !seen.has(f)).map((f) => checkProject(f, out, pretty, seen)));
  const plugins = (config.options.plugins ?? []) as PluginEntry[];
  useCompiler(ts);
  // A bad entry is an error of the check, placed at its option, as tspc reports it; the check goes on.
  const entryErrors = pluginDiagnostics(plugins, configFile);
  const entry = chronotsEntry(plugins, configFile);
  const discarded = readSeverity(entry, "discarded", "error");
  const unlowered = unloweredWithoutEmit(entry, plugins, configFile);
  const program = ts.createProgram({ rootNames: config.fileNames, options: config.options, projectReferences: config.projectReferences, configFileParsingDiagnostics: ts.getConfigFileParsingDiagnostics(config) });
  const own = ts.getPreEmitDiagnostics(program);
  const sources = program.getSourceFiles().filter((sf) => !sf.isDeclarationFile && !program.isSourceFileFromExternalLibrary(sf));
  const recognize = checkerRecognizer(program);
  const found = sources.flatMap((sf) => [
    ...guarded(sf, "was not checked for discarded futures", () => discardedFutures(program, sf, discarded)),
    ...guarded(sf, "was not checked for yields of non-Futures", () => badYields(program, sf)),
    ...guarded(sf, "was not checked for functions left to the driver", () => driverWarnings(sf, config.options, recognize, unlowered)),
  ]);
  return report(out, [...entryErrors, ...own, ...found], pretty);
}

function report(out: NodeJS.WritableStream, diags: readonly ts.Diagnostic[], pretty: boolean): number {
  const host: ts.FormatDiagnosticsHost = {
    getCanonicalFileName: (f) => f,
    getCurrentDirectory: ts.sys.getCurrentDirectory,
    getNewLine: () => ts.sys.newLine,
  };
  const errors = diags.filter((d) => d.category === ts.DiagnosticCategory.Error).length;
  if (diags.length > 0) out.write(pretty ? ts.formatDiagnosticsWithColorAndContext(diags, host) : ts.formatDiagnostics(diags, host));
  if (pretty && errors > 0) out.write(`\nFound ${errors} error${errors === 1 ? "" : "s"}.\n`);
  return errors > 0 ? 1 : 0;
}

function fail(out: NodeJS.WritableStream, message: string): number {
  out.write(`chronots check: ${message}\n${usage}\n`);
  return 2;
}
