/**
 * chronots' entries in a tsconfig's `compilerOptions.plugins` and what they say.
 *
 *   { "transform": "chronots/transformer", "discarded": "error", "unlowered": "warning" }   the build (tspc)
 *   { "name": "chronots/service", "discarded": "error" }                                    the editor
 *
 * `"discarded"` is the severity of a dropped Future (TS90001, discards.ts): "error" by default; the
 * editor and `chronots check` read it from the editor entry, else from the build entry. `"unlowered"` is the
 * severity of a function left to the run-time driver (TS99301): "warning" by default, "error" for
 * a project that wants every function lowered, "off". The editor and `chronots check` emit nothing,
 * so for them a function left to the driver matters only when the build lowers: there it defaults
 * to the build entry's setting, and to "off" in a project without one (one that runs untransformed).
 *
 * A bad entry never stops a build: each bad value and each option chronots does not know (a typo,
 * most likely) is an error TS99302 placed at that option in the tsconfig, and a bad value reads as
 * "error" until it is fixed.
 */
import { createRequire } from "node:module";
import { resolve } from "node:path";
import type * as ts from "typescript";
import { tsi } from "./compiler.js";
import { pathInChronots } from "./package.js";

export type Severity = "error" | "warning" | "off";
export const SEVERITIES: readonly Severity[] = ["error", "warning", "off"];

/** The diagnostic code of a bad plugin entry: `error TS99302` in tsc's output. */
export const ENTRY_CODE = 99302;

export interface PluginEntry {
  name?: string;
  transform?: string;
  discarded?: unknown;
  unlowered?: unknown;
  [option: string]: unknown;
}

/**
 * The build entry's test for a tsconfig: `"transform": "chronots/transformer"`, or a path that
 * resolves from the tsconfig's folder, as ts-patch resolves it, to the transformer inside the
 * chronots package (this repository's examples name it by path).
 */
export function isBuildIn(configFile: string | undefined): (p: PluginEntry) => boolean {
  return (p) => p.transform === "chronots/transformer" || (typeof p.transform === "string" && configFile !== undefined && isTransformerPath(p.transform, configFile));
}

function isTransformerPath(spec: string, configFile: string): boolean {
  let file: string;
  try {
    file = createRequire(resolve(configFile)).resolve(spec);
  } catch {
    return false; // ts-patch itself reports an entry it cannot load
  }
  const inner = pathInChronots(file);
  return inner !== undefined && /^(dist\/(cjs\/)?)?transformer\/index\.[cm]?[jt]s$/.test(inner);
}
export const isEditor = (p: PluginEntry) => p.name === "chronots/service";

type Option = "discarded" | "unlowered";
const OPTIONS: readonly Option[] = ["discarded", "unlowered"];
/** What the host reads from an entry (ts-patch's keys for a transform, tsserver's for a plugin): not ours to judge. */
const HOST_KEYS = {
  build: ["transform", "type", "import", "isEsm", "after", "afterDeclarations", "transformProgram", "resolvePathAliases"],
  // tsserver marks the entry it makes for a plugin named by --globalPlugins "global".
  editor: ["name", "global"],
};

/** The category a diagnostic of `severity` is reported in (an "off" one is not reported at all). */
export const categoryOf = (severity: Severity): ts.DiagnosticCategory => (severity === "error" ? tsi.DiagnosticCategory.Error : tsi.DiagnosticCategory.Warning);

/** Read one of the severities from an entry; absent means `fallback`; a bad value throws a TypeError naming it. */
export function severityOption(entry: Pick<PluginEntry, Option> | undefined, option: Option, fallback: Severity): Severity {
  const v = entry?.[option];
  if (v === undefined) return fallback;
  if (SEVERITIES.includes(v as Severity)) return v as Severity;
  throw new TypeError(`chronots: plugin option "${option}" must be "error", "warning" or "off", got ${JSON.stringify(v)}`);
}

/** As severityOption, but a bad value reads as "error" (problemsOf reports it). */
export function readSeverity(entry: Pick<PluginEntry, Option> | undefined, option: Option, fallback: Severity): Severity {
  try {
    return severityOption(entry, option, fallback);
  } catch {
    return "error";
  }
}

export interface Problem {
  option: string;
  message: string;
}

/** The option of `known` that `given` was probably meant as: one sharing its first four letters. */
export function closestOption(given: string, known: readonly string[]): string | undefined {
  return known.find((o) => o.startsWith(given.slice(0, 4)) || given.startsWith(o.slice(0, 4)));
}

const FORMS = `{ "transform": "chronots/transformer" } for the build, { "name": "chronots/service" } for the editor`;

/**
 * What is wrong with an entry that names one of chronots' plugins under a key that loads it as
 * something else, so that no host runs it as meant and nothing says so: ts-patch skips an entry
 * without "transform", one with `"transformProgram": true` runs the transformer as a program
 * transformer, one with `"after": true` after TypeScript's own transforms, one with
 * `"afterDeclarations": true` on the declaration files only, and the Vite plugin is no transformer
 * at all. `isBuild` is the build entry's test (isBuildIn).
 */
export function misplacedProblem(entry: PluginEntry, isBuild: (p: PluginEntry) => boolean): Problem | undefined {
  if (entry.transform === undefined && entry.name === "chronots/transformer")
    return { option: "name", message: `chronots: "name" loads an editor plugin, and chronots/transformer is the build's, which ts-patch loads through "transform": ${FORMS}` };
  if (entry.transform === undefined && entry.name === undefined) {
    // A misspelt key ("transfrom"): ts-patch and tsserver both skip the entry, and nothing runs.
    const key = Object.keys(entry).find((k) => entry[k] === "chronots/transformer" || entry[k] === "chronots/service");
    if (key) return { option: key, message: `chronots: "${key}" is a key no host reads, so the entry loads nothing: ${FORMS}` };
  }
  if (isBuild(entry) && entry.type !== undefined && entry.type !== "program") return { option: "type", message: pluginType(JSON.stringify(entry.type)) };
  if (entry.transform === "chronots/service") return { option: "transform", message: `chronots: chronots/service is the editor's plugin, which tsserver loads through "name": ${FORMS}` };
  if (entry.transform === "chronots/vite") return { option: "transform", message: VITE_PLUGIN };
  if (isBuild(entry) && entry.transformProgram === true) return { option: "transformProgram", message: PROGRAM_TRANSFORMER };
  return isBuild(entry) ? stageProblem(entry) : undefined;
}

/**
 * The problem of a build entry ts-patch runs later than before TypeScript's own transforms. As in
 * ts-patch, "after" wins, and any truthy value sets either ("true", 1): only `=== true` would leave
 * such an entry running unseen on rewritten code or on declarations.
 */
function stageProblem(entry: PluginEntry): Problem | undefined {
  if (entry.after) return { option: "after", message: after(JSON.stringify(entry.after)) };
  if (entry.afterDeclarations) return { option: "afterDeclarations", message: afterDeclarations(JSON.stringify(entry.afterDeclarations)) };
  return undefined;
}

/** Why an entry with `"type"` set to `value` (JSON) other than "program" lowers nothing. */
const pluginType = (value: string) =>
  `chronots: chronots/transformer takes the program, which ts-patch passes for its default plugin type "program"; "type": ${value} has it pass something else, and the build stops: remove the option`;

/** What the transformer throws when ts-patch hands it no program ("type" other than "program"; it passes no way to report). */
export const NOT_A_PROGRAM = `chronots/transformer: ts-patch called it without the program, which it passes for its default plugin type "program": remove "type" from the tsconfig's entry`;

/** Why an entry with `"transformProgram": true` lowers nothing. */
export const PROGRAM_TRANSFORMER = `chronots: chronots/transformer is a source transformer; "transformProgram": true has ts-patch run it as a program transformer, which lowers nothing: remove the option`;

/** Why an entry with `"after"` set to `value` (JSON) lowers nothing. */
const after = (value: string) =>
  `chronots: chronots/transformer is a source transformer, which must run before TypeScript's own transforms; "after": ${value} has ts-patch run it after them, on code they rewrote, which it cannot lower: remove the option`;

/** Why an entry with `"afterDeclarations"` set to `value` (JSON) lowers and checks nothing. */
const afterDeclarations = (value: string) =>
  `chronots: chronots/transformer is a source transformer; "afterDeclarations": ${value} has ts-patch run it on the declaration files it emits, which lowers and checks nothing: remove the option`;

/** Why chronots/vite has no place in a tsconfig (ts-patch calls it with a program, and it throws this). */
export const VITE_PLUGIN = `chronots: chronots/vite is the Vite plugin, for the plugins of a vite.config; a tsconfig's entries are ${FORMS}`;

/**
 * The problem of the build entry ts-patch handed over as `given` that only the tsconfig shows:
 * ts-patch keeps `"after"` and `"afterDeclarations"` to itself. Said only when every build entry
 * with `given`'s options has the same one, so that a right entry beside a wrong one is not blamed.
 */
export function hiddenProblem(plugins: readonly PluginEntry[], configFile: string | undefined, given: PluginEntry): Problem | undefined {
  const isBuild = isBuildIn(configFile);
  const problems = plugins.filter((p) => isBuild(p) && sameBuildEntry(given)(p)).map(stageProblem);
  return problems.every((p) => p !== undefined && p.option === problems[0]!.option) ? problems[0] : undefined;
}

/** What is wrong with an entry: each bad value, and each option neither chronots nor its host knows. */
export function problemsOf(entry: PluginEntry, host: keyof typeof HOST_KEYS): Problem[] {
  const problems: Problem[] = [];
  for (const option of Object.keys(entry)) {
    if ((OPTIONS as readonly string[]).includes(option)) {
      try {
        severityOption(entry, option as Option, "error");
      } catch (e) {
        problems.push({ option, message: (e as Error).message });
      }
    } else if (!HOST_KEYS[host].includes(option)) {
      const meant = closestOption(option, OPTIONS);
      problems.push({ option, message: `chronots: unknown plugin option "${option}"${meant ? `; did you mean "${meant}"?` : ` (chronots reads ${OPTIONS.map((o) => `"${o}"`).join(" and ")})`}` });
    }
  }
  return problems;
}

/**
 * The problems of the entry `pick` finds, as TS99302 errors placed at their option in `configPath`,
 * or in the tsconfig it inherits the entry from through `extends`.
 */
export function entryDiagnostics(problems: readonly Problem[], configPath: string | undefined, pick: (p: PluginEntry) => boolean): ts.Diagnostic[] {
  if (problems.length === 0) return [];
  const found = configPath === undefined ? undefined : entryIn(configPath, pick) ?? inherited(configPath).reduce<Found | undefined>((f, file) => f ?? entryIn(file, pick), undefined);
  return problems.map(({ option, message }) => {
    const at = found && propertyOf(found.entry, option);
    const start = at ? at.getStart(found!.json) : undefined;
    return {
      file: at ? found!.json : undefined,
      start,
      length: at ? at.end - start! : undefined,
      category: tsi.DiagnosticCategory.Error,
      code: ENTRY_CODE,
      source: "chronots",
      messageText: message,
    };
  });
}

interface Found {
  json: ts.JsonSourceFile;
  entry: ts.ObjectLiteralExpression;
}

/** The entry `pick` finds in the tsconfig `file` itself. */
function entryIn(file: string, pick: (p: PluginEntry) => boolean): Found | undefined {
  const text = tsi.sys.readFile(file);
  if (text === undefined) return undefined;
  const json = tsi.parseJsonText(file, text);
  // An incremental build stores a diagnostic's file in its .tsbuildinfo by the absolute path the program gives its own files.
  const path = tsi.sys.resolvePath(file).replace(/\\/g, "/");
  Object.assign(json, { path, resolvedPath: path });
  const entry = pluginsOf(json)?.find((e) => pick(valueOf(e)));
  return entry && { json, entry };
}

/** The tsconfigs `file` extends, nearest first, as TypeScript resolves them. */
function inherited(file: string): readonly string[] {
  const source = tsi.readJsonConfigFile(file, tsi.sys.readFile);
  tsi.parseJsonSourceFileConfigFileContent(source, tsi.sys, tsi.sys.resolvePath(file + "/.."), undefined, file);
  return source.extendedSourceFiles ?? [];
}

/** The tsconfig a program was read from, which TypeScript records in its options. */
export function configFileOf(program: ts.Program): string | undefined {
  const path = (program.getCompilerOptions() as { configFilePath?: unknown }).configFilePath;
  return typeof path === "string" ? path : undefined;
}

function propertyOf(o: ts.ObjectLiteralExpression, key: string): ts.PropertyAssignment | undefined {
  return o.properties.find((p): p is ts.PropertyAssignment => tsi.isPropertyAssignment(p) && tsi.isStringLiteral(p.name) && p.name.text === key);
}

/** The entries of `compilerOptions.plugins` in a tsconfig, as written. */
function pluginsOf(json: ts.JsonSourceFile): ts.ObjectLiteralExpression[] | undefined {
  const root = json.statements[0]?.expression;
  const options = root && tsi.isObjectLiteralExpression(root) ? propertyOf(root, "compilerOptions")?.initializer : undefined;
  const plugins = options && tsi.isObjectLiteralExpression(options) ? propertyOf(options, "plugins")?.initializer : undefined;
  return plugins && tsi.isArrayLiteralExpression(plugins) ? plugins.elements.filter(tsi.isObjectLiteralExpression) : undefined;
}

/** An entry's options with the values written as JSON literals (others stand as `undefined`). */
function valueOf(o: ts.ObjectLiteralExpression): PluginEntry {
  const entry: PluginEntry = {};
  for (const p of o.properties) {
    if (!tsi.isPropertyAssignment(p) || !tsi.isStringLiteral(p.name)) continue;
    const v = p.initializer;
    entry[p.name.text] = tsi.isStringLiteral(v)
      ? v.text
      : tsi.isNumericLiteral(v)
        ? Number(v.text)
        : v.kind === tsi.SyntaxKind.TrueKeyword
          ? true
          : v.kind === tsi.SyntaxKind.FalseKeyword
            ? false
            : v.kind === tsi.SyntaxKind.NullKeyword
              ? null
              : undefined;
  }
  return entry;
}

/** The problems of chronots' entries among `plugins` (misplaced ones included), as TS99302 errors placed at their options in `configFile`. */
export function pluginDiagnostics(plugins: readonly PluginEntry[], configFile: string | undefined): ts.Diagnostic[] {
  const isBuild = isBuildIn(configFile);
  const editors = plugins.filter(isEditor);
  return plugins.flatMap((e) => {
    const misplaced = misplacedProblem(e, isBuild);
    const own = isEditor(e) ? problemsOf(e, "editor") : isBuild(e) ? problemsOf(e, "build") : [];
    const nth = editors.indexOf(e);
    const duplicate = nth > 0 ? [{ option: "name", message: DUPLICATE_EDITOR }] : [];
    const pick = misplaced ? (p: PluginEntry) => misplacedProblem(p, isBuild)?.message === misplaced.message : nth >= 0 ? nthEditor(nth) : isBuild;
    return entryDiagnostics(misplaced ? [misplaced, ...own] : [...duplicate, ...own], configFile, pick);
  });
}

/** Why a second `chronots/service` entry is wrong: tsserver loads the plugin for each, and all read the first. */
export const DUPLICATE_EDITOR = `chronots: a second "chronots/service" entry: the editor and chronots check read the first one only: remove this one`;

/** Picks the `n`th editor entry, counting the entries it is asked about in order. */
function nthEditor(n: number): (p: PluginEntry) => boolean {
  let seen = 0;
  return (p) => isEditor(p) && seen++ === n;
}

/**
 * Picks, among a tsconfig's entries, the transform entry ts-patch handed over as `given`: ts-patch
 * passes an entry's own options only, without `transform`, so it is the one with the same options.
 */
export function sameBuildEntry(given: PluginEntry): (p: PluginEntry) => boolean {
  const own = (e: PluginEntry) => JSON.stringify(Object.keys(e).filter((k) => !HOST_KEYS.build.includes(k)).sort().map((k) => [k, e[k]]));
  return (p) => typeof p.transform === "string" && own(p) === own(given);
}

/** The entry `chronots check` reads its options from: the editor's, else the build's. */
export function chronotsEntry(plugins: readonly PluginEntry[] | undefined, configFile: string | undefined): PluginEntry | undefined {
  return plugins?.find(isEditor) ?? plugins?.find(isBuildIn(configFile));
}

/**
 * The severity of a discarded Future in the editor and `chronots check`: `entry`'s own setting, else
 * the build entry's among `plugins`, else "error"; so they report what the build reports.
 */
export function discardedWithoutEmit(entry: PluginEntry | undefined, plugins: readonly PluginEntry[] | undefined, configFile: string | undefined): Severity {
  return readSeverity(entry, "discarded", readSeverity(plugins?.find(isBuildIn(configFile)), "discarded", "error"));
}

/**
 * The severity of a function left to the driver where nothing is emitted: `entry`'s own setting,
 * else the build entry's among `plugins` (of the tsconfig `configFile`), else "off" when the project
 * has no build entry.
 */
export function unloweredWithoutEmit(entry: PluginEntry | undefined, plugins: readonly PluginEntry[] | undefined, configFile: string | undefined): Severity {
  const build = plugins?.find(isBuildIn(configFile));
  return readSeverity(entry, "unlowered", build ? readSeverity(build, "unlowered", "warning") : "off");
}
