/**
 * `chronots check -p tsconfig.json`: what a `tspc` build would report, for CI, without emitting anything.
 *
 * Reads the tsconfig, builds a Program, and prints, like tsc and sorted as tsc sorts them (by file,
 * then position), the program's own errors (so the command can stand in for `tsc --noEmit`), every
 * discarded Future (TS90001) in the project's source files (declaration files and node_modules are skipped), every yield of a non-Future (TS90002)
 * and, when the project's build lowers,
 * every function the lowering leaves to the run-time driver (TS99301). The severities come from the
 * chronots entries in `compilerOptions.plugins` (entry.ts): `"discarded"` (the editor entry's, else the
 * build entry's, else "error") and `"unlowered"`; a bad entry is an error TS99302 at its option, as in a `tspc` build.
 * Every project a `tspc -b` would build is checked, once, the referenced ones first; a referenced
 * project is read from its sources, built or not, and its files are reported in its own check only.
 * A cycle of references not marked `"circular": true` is reported as tspc -b reports it (TS6202), alone.
 * Exit status: 0 clean (warnings allowed), 1 on any error, 2 on bad arguments.
 */
import { join, resolve } from "node:path";
import ts from "typescript";
import { compilerProblem, useCompiler } from "./compiler.js";
import { discardedFutures } from "./discards.js";
import { chronotsEntry, discardedWithoutEmit, type PluginEntry, pluginDiagnostics, unloweredWithoutEmit } from "./entry.js";
import { guarded } from "./guard.js";
import { driverWarnings } from "./lower.js";
import { checkerRecognizer } from "./recognize.js";
import { usage } from "./usage.js";
import { badYields } from "./yields.js";


export function main(args: readonly string[], out: NodeJS.WritableStream = process.stdout): number {
  let project: string | undefined;
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
  // Without -p, as tsc: the nearest tsconfig.json from the current folder up (none: the missing one in it is the error).
  const found = project ?? ts.findConfigFile(ts.sys.getCurrentDirectory(), ts.sys.fileExists) ?? "tsconfig.json";
  const root = resolve(ts.sys.directoryExists(found) ? join(found, "tsconfig.json") : found);
  const { order, cycles } = buildOrder(root);
  // tspc -b builds nothing then: it reports the cycles alone.
  if (cycles.length > 0) return report(out, cycles, pretty);
  return Math.max(0, ...order.map((p) => checkProject(p, out, pretty)));
}

/** A tsconfig as read: `config` undefined when it could not be, `errors` then saying why. */
interface Project {
  configFile: string;
  config: ts.ParsedCommandLine | undefined;
  errors: ts.Diagnostic[];
}

/**
 * The projects `tspc -b` builds from `root`, in its order: each once, the projects it references
 * (theirs too) before it; and, as tspc -b finds them, the cycles of references not marked
 * `"circular": true` (TS6202, in its words).
 */
function buildOrder(root: string): { order: Project[]; cycles: ts.Diagnostic[] } {
  const order: Project[] = [];
  const cycles: ts.Diagnostic[] = [];
  const done = new Set<string>();
  const visiting: string[] = [];
  const visit = (configFile: string, circular: boolean) => {
    if (done.has(configFile)) return;
    if (visiting.includes(configFile)) {
      if (!circular) cycles.push(cycleError(visiting));
      return;
    }
    visiting.push(configFile);
    const errors: ts.Diagnostic[] = [];
    const host: ts.ParseConfigFileHost = { ...ts.sys, onUnRecoverableConfigFileDiagnostic: (d) => errors.push(d) };
    const config = ts.getParsedCommandLineOfConfigFile(configFile, undefined, host);
    for (const ref of config?.projectReferences ?? []) visit(ts.resolveProjectReferencePath(ref), circular || ref.circular === true);
    visiting.pop();
    done.add(configFile);
    order.push({ configFile, config, errors });
  };
  visit(root, false);
  return { order, cycles };
}

function cycleError(configFiles: readonly string[]): ts.Diagnostic {
  // Joined as tsc -b joins them.
  const messageText = `Project references may not form a circular graph. Cycle detected: ${configFiles.join("\r\n")}`;
  return { file: undefined, start: undefined, length: undefined, category: ts.DiagnosticCategory.Error, code: 6202, messageText };
}

/**
 * One project's check. A solution-style tsconfig (no files of its own, only `references`) builds
 * nothing: only its own errors are its; the projects it references come in the build order.
 */
function checkProject({ configFile, config, errors }: Project, out: NodeJS.WritableStream, pretty: boolean): number {
  if (!config) return report(out, errors, pretty);
  const configErrors = ts.getConfigFileParsingDiagnostics(config);
  if (config.fileNames.length === 0 && (config.projectReferences ?? []).length > 0) return report(out, configErrors, pretty);
  const plugins = (config.options.plugins ?? []) as PluginEntry[];
  useCompiler(ts);
  // A bad entry is an error of the check, placed at its option, as tspc reports it; the check goes on.
  const entryErrors = pluginDiagnostics(plugins, configFile);
  const entry = chronotsEntry(plugins, configFile);
  const discarded = discardedWithoutEmit(entry, plugins, configFile);
  const unlowered = unloweredWithoutEmit(entry, plugins, configFile);
  // A referenced project is read from its sources, as tsserver reads it: its .d.ts may not be built (TS6305), or be stale.
  const host = Object.assign(ts.createCompilerHost(config.options), { useSourceOfProjectReferenceRedirect: () => true });
  const program = ts.createProgram({ rootNames: config.fileNames, options: config.options, projectReferences: config.projectReferences, host, configFileParsingDiagnostics: configErrors });
  // Those sources are their own project's, checked there.
  const theirs = new Set<ts.SourceFile | undefined>();
  // References marked "circular" may lead back to a project already seen, this one too, whose files stay its own.
  const seen = new Set<string>([config.options.configFilePath as string]);
  const collect = (refs: readonly (ts.ResolvedProjectReference | undefined)[] | undefined) => {
    for (const ref of refs ?? []) {
      if (!ref || seen.has(ref.sourceFile.fileName)) continue;
      seen.add(ref.sourceFile.fileName);
      for (const f of ref.commandLine.fileNames) theirs.add(program.getSourceFile(f));
      collect(ref.references);
    }
  };
  collect(program.getResolvedProjectReferences());
  const files = program.getSourceFiles().filter((sf) => !theirs.has(sf));
  const own = [...configErrors, ...files.flatMap((sf) => ts.getPreEmitDiagnostics(program, sf))];
  const sources = files.filter((sf) => !sf.isDeclarationFile && !program.isSourceFileFromExternalLibrary(sf));
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
  // In tsc's order: by file, then position.
  const sorted = ts.sortAndDeduplicateDiagnostics(diags);
  const errors = sorted.filter((d) => d.category === ts.DiagnosticCategory.Error).length;
  if (sorted.length > 0) out.write(pretty ? ts.formatDiagnosticsWithColorAndContext(sorted, host) : ts.formatDiagnostics(sorted, host));
  if (pretty && errors > 0) out.write(`\nFound ${errors} error${errors === 1 ? "" : "s"}.\n`);
  return errors > 0 ? 1 : 0;
}

function fail(out: NodeJS.WritableStream, message: string): number {
  out.write(`chronots check: ${message}\n${usage}\n`);
  return 2;
}
