/**
 * The tsconfig.json that Vite's own transform (rolldown's oxc, through oxc_resolver) reads for a file,
 * for the Vite plugin to know the JSX runtime and factory oxc compiles that file's JSX with.
 *
 * oxc_resolver starts at the nearest tsconfig.json, takes the first of its references that holds the
 * file (one level: references of references are not followed), else that tsconfig.json if it holds
 * the file, else goes on from the folder above. "Holds" is TypeScript's `files`/`include`/`exclude`
 * test, run here by TypeScript's own search over a folder tree holding only the file, with one
 * difference oxc_resolver has: without an `exclude`, `outDir` and `declarationDir` are not left out.
 * Each config is read once per plugin and again when it or a file it extends changes.
 */
import * as path from "node:path";
import ts from "typescript";

/** A tsconfig.json as read: its options, which files it holds, the configs it references. */
interface Tsconfig {
  options: ts.CompilerOptions;
  /** Its `files`, and the arguments TypeScript's search of its `include` and `exclude` is run with. */
  files: Set<string>;
  search?: Parameters<typeof ts.sys.readDirectory>;
  references: string[];
}
/**
 * The tsconfigs read by one plugin, with the files each was read from (its `extends` too) and their
 * times: Vite keeps the plugin when a tsconfig changes (it clears its own cache and reloads the page,
 * and only for a file named tsconfig.json), so a config is read again when one of those files changes.
 */
export type Tsconfigs = Map<string, { config: Tsconfig | undefined; read: [string, number][] }>;

const modified = (file: string) => ts.sys.getModifiedTime?.(file)?.getTime() ?? 0;

/** The tsconfig at `at`, or undefined when it cannot be read or does not parse. */
export function readTsconfig(at: string, tsconfigs: Tsconfigs): Tsconfig | undefined {
  const had = tsconfigs.get(at);
  if (had?.read.every(([file, time]) => modified(file) === time)) return had.config;
  let search: Tsconfig["search"];
  const host = {
    ...ts.sys,
    readDirectory: (...args: Parameters<typeof ts.sys.readDirectory>) => ((search = args), []),
    onUnRecoverableConfigFileDiagnostic: () => {},
  };
  const parsed = ts.getParsedCommandLineOfConfigFile(at, {}, host);
  // Without an `exclude`, TypeScript excludes `outDir` and `declarationDir`; oxc_resolver does not.
  if (search && (parsed?.raw as { exclude?: unknown } | undefined)?.exclude === undefined) search = [search[0], search[1], undefined, search[3], search[4]];
  // No file found by `include` (TS18003) is what the search above makes of every config.
  const broken = !parsed || parsed.errors.some((d) => d.category === ts.DiagnosticCategory.Error && d.code !== 18003);
  const extended = (parsed?.options.configFile as { extendedSourceFiles?: string[] } | undefined)?.extendedSourceFiles ?? [];
  const config = broken ? undefined : { options: parsed.options, files: new Set(parsed.fileNames.map(caseOf)), search, references: (parsed.projectReferences ?? []).map(ts.resolveProjectReferencePath) };
  tsconfigs.set(at, { config, read: [at, ...extended].map((file) => [file, modified(file)]) });
  return config;
}

/**
 * The compiler options of the tsconfig rolldown reads for `file` (oxc_resolver's choice, as rolldown
 * 1.2 makes it): the nearest tsconfig.json's first reference that holds the file (references of
 * references are not followed), else that tsconfig.json if it holds it, else the same one folder above
 * it; none when no tsconfig.json holds it. Undefined when one of those cannot be read (oxc fails then).
 */
export function tsconfigOf(file: string, tsconfigs: Tsconfigs): ts.CompilerOptions | undefined {
  for (let dir = path.dirname(file); ; ) {
    const at = ts.findConfigFile(dir, ts.sys.fileExists);
    if (!at) return {};
    const root = readTsconfig(at, tsconfigs);
    if (!root) return undefined;
    for (const ref of root.references) {
      const c = readTsconfig(ref, tsconfigs);
      if (!c) return undefined;
      if (holds(c, file)) return c.options;
    }
    if (holds(root, file)) return root.options;
    if (path.dirname(at) === path.dirname(path.dirname(at))) return {};
    dir = path.dirname(path.dirname(at));
  }
}

const caseOf = (p: string) => (ts.sys.useCaseSensitiveFileNames ? p : p.toLowerCase());

/** TypeScript's search of `include` and `exclude` (internal), over `getEntries` (a folder's names). */
const { matchFiles } = ts as unknown as {
  matchFiles(
    path: string,
    extensions: readonly string[] | undefined,
    excludes: readonly string[] | undefined,
    includes: readonly string[] | undefined,
    useCaseSensitiveFileNames: boolean,
    currentDirectory: string,
    depth: number | undefined,
    getEntries: (dir: string) => { files: string[]; directories: string[] },
    realpath: (p: string) => string,
  ): string[];
};

/** Whether `config` holds `file`, by its `files` or by TypeScript's search, run on a folder tree holding only `file`. */
function holds(config: Tsconfig, file: string): boolean {
  const key = caseOf(file);
  if (config.files.has(key)) return true;
  if (!config.search) return false;
  const [root, extensions, excludes, includes, depth] = config.search;
  const entries = (dir: string) => {
    const at = caseOf(dir.endsWith("/") ? dir : dir + "/");
    const [name, ...rest] = key.startsWith(at) ? file.slice(at.length).split("/") : [];
    if (!name) return { files: [], directories: [] };
    return rest.length > 0 ? { files: [], directories: [name] } : { files: [name], directories: [] };
  };
  return matchFiles(root, extensions, excludes, includes, ts.sys.useCaseSensitiveFileNames, ts.sys.getCurrentDirectory(), depth, entries, (p) => p).length > 0;
}
