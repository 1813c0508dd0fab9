/**
 * chronots/service: a tsserver language-service plugin that shows discarded Futures in the editor.
 *
 * tsconfig: `"plugins": [{ "name": "chronots/service", "discarded": "error" }]`. It wraps the project's
 * language service and appends the asyncCheck rule's diagnostics (transformer/discards.ts: same rule,
 * same messages and code as tspc and `chronots check`) to `getSemanticDiagnostics`. The rule runs with
 * the TypeScript instance tsserver hands to `init` (compiler.ts), since the editor's compiler may not be ours.
 *
 * tsserver loads plugins with `require` and ignores package `exports`, so the package carries a CommonJS
 * shim at `service/index.cjs` that hands this module's default export to tsserver.
 */
import type ts from "typescript";
import { useCompiler } from "./compiler.js";
import { discardedFutures, severityOf, type Severity } from "./discards.js";

export default function init({ typescript }: { typescript: typeof ts }): ts.server.PluginModule {
  let severity: Severity = "error";
  return {
    create(info) {
      severity = severityOf(info.config);
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
        return [...own, ...discardedFutures(program, sf, severity)];
      };
      return proxy;
    },
    onConfigurationChanged(config) {
      severity = severityOf(config);
    },
  };
}
