/**
 * chronots/service: a tsserver language-service plugin that shows, as you type, what a `tspc` build
 * would report: discarded Futures and functions left to the run-time driver.
 *
 * tsconfig: `"plugins": [{ "name": "chronots/service", "discarded": "error" }]`. It wraps the project's
 * language service and appends to `getSemanticDiagnostics` the asyncCheck rule's diagnostics
 * (transformer/discards.ts: same rule, same messages and code as tspc and `chronots check`), yields of
 * non-Futures (yields.ts) and,
 * when the project's build lowers (entry.ts, `"unlowered"`), the lowering's TS99301 warnings, found by
 * running the lowering on the file and dropping its output; kept per file until it, the options or
 * what its calls' callees are changes (`cachedWarnings`). Both run with the TypeScript instance
 * tsserver hands to `init` (compiler.ts), since the editor's compiler may not be ours. A bad entry
 * (entry.ts), its own or the build's, does not stop the plugin: its errors head every file's list, the
 * only place an editor has.
 *
 * tsserver loads plugins with `require` and ignores package `exports`, so the package carries a CommonJS
 * shim at `service/index.cjs` that hands this module's default export to tsserver.
 */
import type * as ts from "typescript";
import { type TypeScript, useCompiler } from "./compiler.js";
import { discardedFutures } from "./discards.js";
import { configFileOf, discardedWithoutEmit, DUPLICATE_EDITOR, ENTRY_CODE, entryDiagnostics, isBuildIn, isEditor, misplacedProblem, type PluginEntry, type Problem, problemsOf, type Severity, unloweredWithoutEmit } from "./entry.js";
import { guarded, messageOf } from "./guard.js";
import { driverWarnings, type Recognizer } from "./lower.js";
import { forgetPackages } from "./package.js";
import { checkerRecognizer } from "./recognize.js";
import { badYields } from "./yields.js";

/** A file's TS99301 list and what it was computed from: the compiler options, the severity, and what recognition said of each call. */
interface Warned {
  options: ts.CompilerOptions;
  severity: Severity;
  recognized: [ts.CallExpression, string][];
  found: ts.Diagnostic[];
}

/**
 * `recognize`, telling `record` what it says of each call: "=" and the runtime's module specifier
 * (none: not chronots' `async`), or "!" and why the call cannot be lowered (then rethrown).
 */
function recording(recognize: Recognizer, record: (call: ts.CallExpression, said: string) => void): Recognizer {
  return (call) => {
    try {
      const spec = recognize(call);
      record(call, `=${spec ?? ""}`);
      return spec;
    } catch (e) {
      record(call, `!${messageOf(e)}`);
      throw e;
    }
  };
}

/** What `recognize` says of `call` now, as `recording` records it. */
function saysNow(recognize: Recognizer, call: ts.CallExpression): string {
  let now = "";
  try {
    recording(recognize, (_, said) => (now = said))(call);
  } catch {
    // recorded
  }
  return now;
}

/**
 * TS99301 for a file, lowering it again only when something it depends on changed. tsserver asks for
 * every open file's diagnostics after each edit, with a new program whose unchanged files are the same
 * SourceFile objects. The lowering reads the file's syntax, the compiler options and, through the
 * checker, what each call's callee is; the last may change with another file (a re-export of
 * `async`), so it is asked again of the calls it was asked of, which costs lookups only.
 */
function cachedWarnings(cache: WeakMap<ts.SourceFile, Warned>, sf: ts.SourceFile, options: ts.CompilerOptions, recognize: Recognizer, severity: Severity): ts.Diagnostic[] {
  const last = cache.get(sf);
  if (last && last.options === options && last.severity === severity && last.recognized.every(([call, said]) => saysNow(recognize, call) === said)) return last.found;
  const recognized: [ts.CallExpression, string][] = [];
  const found = driverWarnings(sf, options, recording(recognize, (call, said) => recognized.push([call, said])), severity);
  cache.set(sf, { options, severity, recognized, found });
  return found;
}

/**
 * This module run as a build transformer, as ts-patch runs an entry `{ "transform": "chronots/service" }`
 * (it calls the default export with the program): the build gets the entry error `chronots check` gives,
 * rather than ts-patch's "Invalid plugin result", and each file goes through as it is.
 */
function misloaded(program: ts.Program, extras: Extras = {}): ts.TransformerFactory<ts.SourceFile> {
  if (extras.ts) useCompiler(extras.ts);
  const problem = misplacedProblem({ transform: "chronots/service" }, () => false)!;
  for (const d of entryDiagnostics([problem], configFileOf(program), (p) => p.transform === "chronots/service")) extras.addDiagnostic?.(d);
  return () => (file) => file;
}

type Extras = { ts?: TypeScript; addDiagnostic?: (d: ts.Diagnostic) => void };

/**
 * Where a proxy of ours keeps the language service it wraps. Reloading a tsconfig, tsserver creates
 * its plugins again over the service it has, which may be our last proxy: wrapped again, it would
 * report everything twice, the old entry's severities beside the new ones.
 */
const INNER = Symbol.for("chronots/service inner language service");
type Proxied = ts.LanguageService & { [INNER]?: ts.LanguageService };

/**
 * The proxy created last for each project. Another plugin created after ours wraps our proxy in one
 * of its own, which INNER cannot see through, so a reload stacks ours over it: the older proxies
 * below add nothing and leave the reporting to this one.
 */
const newest = new WeakMap<object, ts.LanguageService>();

/** tsserver calls it with its modules; ts-patch, given the wrong entry, with a program, the entry and its extras. */
export default function init(modules: { typescript: TypeScript }, _entry?: unknown, extras?: Extras): ts.server.PluginModule {
  if (typeof (modules as unknown as ts.Program).getTypeChecker === "function") return misloaded(modules as unknown as ts.Program, extras) as never;
  const { typescript } = modules;
  let entry: PluginEntry | undefined;
  /** What is wrong with the entry, shown at the top of every file: an editor has no other place for it. */
  let problems: Problem[] = [];
  const configure = (config: PluginEntry | undefined) => {
    entry = config;
    problems = config ? problemsOf(config, "editor") : [];
  };
  return {
    create(info) {
      // Of two entries naming the plugin, tsserver creates a proxy for each and the last one reports: it reads the first, as chronots check does.
      const listed = (info.project?.getCompilerOptions().plugins ?? []) as PluginEntry[];
      configure(listed.find((p) => p.name === (info.config as PluginEntry | undefined)?.name) ?? info.config);
      const warned = new WeakMap<ts.SourceFile, Warned>();
      let seen: ts.Program | undefined;
      const given: Proxied = info.languageService;
      const ls = given[INNER] ?? given;
      const proxy: Proxied = Object.create(null);
      proxy[INNER] = ls;
      // A host without projects (a test's) gives each proxy a service of its own.
      const owner: object = info.project ?? proxy;
      newest.set(owner, proxy);
      for (const k of Object.keys(ls) as (keyof ts.LanguageService)[]) {
        const member = ls[k];
        (proxy as any)[k] = typeof member === "function" ? member.bind(ls) : member;
      }
      proxy.getSemanticDiagnostics = (fileName) => {
        const own = ls.getSemanticDiagnostics(fileName);
        if (newest.get(owner) !== proxy) return own;
        const program = ls.getProgram();
        const sf = program?.getSourceFile(fileName);
        if (!program || !sf) return own;
        useCompiler(typescript);
        if (program !== seen) {
          seen = program;
          forgetPackages();
        }
        const options = program.getCompilerOptions();
        const plugins = (options.plugins ?? []) as PluginEntry[];
        // Its entry gone from the tsconfig, tsserver keeps this proxy all the same; a global plugin (--globalPlugins) has none.
        // The entry is the one named as tsserver loaded this proxy, which may be a path into the package ("chronots/service/index.cjs").
        const name = (info.config as PluginEntry | undefined)?.name;
        if (!(info.config as { global?: unknown } | undefined)?.global && !plugins.some((p) => name !== undefined && p.name === name)) return own;
        const configFile = configFileOf(program);
        const discarded = discardedWithoutEmit(entry, plugins, configFile);
        const unlowered = unloweredWithoutEmit(entry, plugins, configFile);
        const isBuild = isBuildIn(configFile);
        const where = configFile ?? "the tsconfig";
        const bad = [
          ...problems.map(({ message }) => `${message} (the "chronots/service" entry of ${where})`),
          ...plugins.filter(isEditor).slice(1).map(() => `${DUPLICATE_EDITOR} (in ${where})`),
          ...plugins.flatMap((e) => [misplacedProblem(e, isBuild) ?? [], isBuild(e) ? problemsOf(e, "build") : []].flat()).map(({ message }) => `${message} (in ${where})`),
        ].map((messageText): ts.Diagnostic => ({ file: sf, start: 0, length: 0, category: typescript.DiagnosticCategory.Error, code: ENTRY_CODE, source: "chronots", messageText }));
        return [
          ...bad,
          ...own,
          ...guarded(sf, "was not checked for discarded futures", () => discardedFutures(program, sf, discarded)),
          ...guarded(sf, "was not checked for yields of non-Futures", () => badYields(program, sf)),
          ...guarded(sf, "was not checked for functions left to the driver", () => cachedWarnings(warned, sf, options, checkerRecognizer(program), unlowered)),
        ];
      };
      return proxy;
    },
    onConfigurationChanged: configure,
  };
}
