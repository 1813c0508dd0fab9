/**
 * chronots/service: a tsserver language-service plugin that shows, as you type, what a `tspc` build
 * would report: discarded Futures and functions left to the run-time driver.
 *
 * tsconfig: `"plugins": [{ "name": "chronots/service", "discarded": "error" }]`. It wraps the project's
 * language service and appends to `getSemanticDiagnostics` the asyncCheck rule's diagnostics
 * (transformer/discards.ts: same rule, same messages and code as tspc and `chronots check`) and,
 * when the project's build lowers (entry.ts, `"unlowered"`), the lowering's TS99301 warnings, found by
 * running the lowering on the file and dropping its output. Both run with the TypeScript instance
 * tsserver hands to `init` (compiler.ts), since the editor's compiler may not be ours. A bad entry
 * (entry.ts) does not stop the plugin: its errors head every file's list, the only place an editor has.
 *
 * tsserver loads plugins with `require` and ignores package `exports`, so the package carries a CommonJS
 * shim at `service/index.cjs` that hands this module's default export to tsserver.
 */
import type ts from "typescript";
import { useCompiler } from "./compiler.js";
import { discardedFutures } from "./discards.js";
import { configFileOf, ENTRY_CODE, type PluginEntry, type Problem, problemsOf, readSeverity, type Severity, unloweredWithoutEmit } from "./entry.js";
import { driverWarnings } from "./lower.js";
import { checkerRecognizer } from "./recognize.js";

export default function init({ typescript }: { typescript: typeof ts }): ts.server.PluginModule {
  let entry: PluginEntry | undefined;
  let discarded: Severity;
  /** What is wrong with the entry, shown at the top of every file: an editor has no other place for it. */
  let problems: Problem[] = [];
  const configure = (config: PluginEntry | undefined) => {
    entry = config;
    discarded = readSeverity(config, "discarded", "error");
    problems = config ? problemsOf(config, "editor") : [];
  };
  return {
    create(info) {
      configure(info.config);
      const ls = info.languageService;
      const proxy: ts.LanguageService = Object.create(null);
      for (const k of Object.keys(ls) as (keyof ts.LanguageService)[]) {
        const member = ls[k];
        (proxy as any)[k] = typeof member === "function" ? member.bind(ls) : member;
      }
      proxy.getSemanticDiagnostics = (fileName) => {
        const own = ls.getSemanticDiagnostics(fileName);
        const program = ls.getProgram();
        const sf = program?.getSourceFile(fileName);
        if (!program || !sf) return own;
        useCompiler(typescript);
        const options = program.getCompilerOptions();
        const unlowered = unloweredWithoutEmit(entry, options.plugins as PluginEntry[] | undefined, configFileOf(program));
        const bad = problems.map(({ message }): ts.Diagnostic => ({
          file: sf,
          start: 0,
          length: 0,
          category: typescript.DiagnosticCategory.Error,
          code: ENTRY_CODE,
          source: "chronots",
          messageText: `${message} (the "chronots/service" entry of ${configFileOf(program) ?? "the tsconfig"})`,
        }));
        return [...bad, ...own, ...discardedFutures(program, sf, discarded), ...driverWarnings(sf, options, checkerRecognizer(program), unlowered)];
      };
      return proxy;
    },
    onConfigurationChanged: configure,
  };
}
