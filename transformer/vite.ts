/**
 * `chronots/vite`: the lowering as a Vite/Vitest plugin.
 *
 * For each source file that mentions `async` and imports one of the marking modules, `lowerText` finds
 * the `async(function* …)` calls and returns one splice per call; magic-string applies them, so every
 * byte outside those calls stays as it was, and prepends the prelude. magic-string's hires map sends
 * every kept character home; inside a splice, the map takes the positions TypeScript's printer recorded
 * for the lowered text (lowerText), so each line of a lowered body, the structured copy of a loop
 * included, points where `tspc`'s own source map would; a line the printer left unmapped points where
 * the line before it ended, and each line's indentation where the line's first mapping does (withSplices).
 *
 * `modules` may name bare specifiers ("chronots") or files ("./runtime/index.ts", an absolute path):
 * a file entry matches every relative import in any file that resolves to it, whatever its suffix
 * (".js" for ".ts", a directory for its index). Each file is lowered with the specifiers it actually
 * uses, because lowerText matches import specifiers as written.
 *
 * Lowering diagnostics become warnings with file:line:col. A file the lowering cannot handle is
 * warned about and left as it is: untransformed code still runs, through the run-time driver.
 * The JSX factory Vite's own transform is set to call (oxc's or esbuild's option, else the file's
 * tsconfig.json) is handed to the lowering, which leaves alone a function whose locals would shadow it;
 * so is its JSX runtime, which decides when an element's key is evaluated (see jsxOf).
 */
import * as path from "node:path";
import { decode, encode, type SourceMapSegment } from "@jridgewell/sourcemap-codec";
import MagicString from "magic-string";
// magic-string is an ES module only: the declarations of the CommonJS build (dist/cjs) name its source-map
// type through a type-only import that says so; a plain import there is TS1479 under node16 and node18.
import type { SourceMap } from "magic-string" with { "resolution-mode": "import" };
import ts from "typescript";
import { compilerProblem } from "./compiler.js";
import { INTERNAL_CODE, messageOf } from "./guard.js";
import { closestOption, type Severity, SEVERITIES, VITE_PLUGIN } from "./entry.js";
import { lowerText, type Splice } from "./lower.js";
import { readTsconfig, tsconfigOf, type Tsconfigs } from "./tsconfig.js";

export interface ChronotsViteOptions {
  /**
   * Modules whose `async` export marks functions: bare specifiers or file paths. Default `["chronots"]`.
   * The lowered code reads chronots' runtime object from the same module, so a module of your own
   * listed here must re-export all of chronots (`export * from "chronots"`).
   */
  modules?: string[];
  /** Files to lower; default: .ts, .tsx, .mts, .js, .jsx and .mjs files. */
  include?: RegExp | ((file: string) => boolean);
  /** Files to leave alone even when included; default: anything under node_modules. */
  exclude?: RegExp | ((file: string) => boolean);
  /** A function left to the run-time driver: "warning" (the default), "error" (fails the build), "off". */
  unlowered?: Severity;
}

/** The part of a Vite/Rollup plugin context this plugin uses (`error` throws). */
interface WarnContext {
  warn(message: string): void;
  error(message: string): never;
}

/** What the plugin reads of Vite's resolved config: the root, and the JSX options of Vite's own transform. */
interface ResolvedConfig {
  root: string;
  /** The tsconfig.json Vite's transform reads for every file, instead of each file's nearest one. */
  tsconfig?: string;
  oxc?: false | { jsx?: unknown };
  esbuild?: false | { jsxFactory?: string; jsxFragment?: string };
}

export interface ChronotsVitePlugin {
  name: "chronots";
  enforce: "pre";
  configResolved(config: ResolvedConfig): void;
  transform(this: WarnContext, code: string, id: string): { code: string; map: SourceMap } | null;
}

/** ES module sources: the prelude is an `import`, which a CommonJS file (.cts, .cjs) cannot hold. */
const SOURCE = /\.(ts|tsx|mts|js|jsx|mjs)$/;
const NODE_MODULES = /[\\/]node_modules[\\/]/;
const CODE_SUFFIX = /\.(ts|tsx|mts|cts|js|jsx|mjs|cjs)$/;

const OPTIONS = ["modules", "include", "exclude", "unlowered"];

export default function chronots(options: ChronotsViteOptions = {}): ChronotsVitePlugin {
  if (typeof options !== "object" || options === null || Array.isArray(options))
    throw new TypeError(`chronots/vite: the options must be an object, got ${options === null ? "null" : Array.isArray(options) ? "an array" : typeof options}`);
  // ts-patch, given `{ "transform": "chronots/vite" }`, calls this with a Program.
  const given = options as { getRootFileNames?: unknown; getSourceFiles?: unknown };
  if (typeof given.getRootFileNames === "function" || typeof given.getSourceFiles === "function") throw new TypeError(VITE_PLUGIN);
  const problem = compilerProblem(ts);
  if (problem) throw new TypeError(`chronots/vite: ${problem}`);
  // A vite.config.js has no type check to catch a misspelt option.
  const unknown = Object.keys(options).find((k) => !OPTIONS.includes(k));
  if (unknown !== undefined) {
    const meant = closestOption(unknown, OPTIONS);
    throw new TypeError(`chronots/vite: unknown option '${unknown}'${meant ? `; did you mean '${meant}'?` : ""} (the options are ${OPTIONS.map((o) => `'${o}'`).join(", ")})`);
  }
  // As the tsconfig entry reads its options: only an absent one takes the default.
  const listed = options.modules === undefined ? ["chronots"] : options.modules;
  // A hole read as undefined: some() and find() would skip it or trip on it.
  const modules = Array.isArray(listed) ? Array.from(listed) : listed;
  if (!Array.isArray(modules) || modules.length === 0 || modules.some((m) => typeof m !== "string" || m === ""))
    throw new TypeError(`chronots/vite: 'modules' must be an array of one or more non-empty strings, got ${shown(listed)}`);
  // An import names no such module: the plugin would never lower a thing, silently.
  const odd = modules.find((m) => m.trim() !== m || (m.endsWith("/") && !isPath(m)));
  if (odd !== undefined) throw new TypeError(`chronots/vite: 'modules' entry ${JSON.stringify(odd)} matches no import (a space around it, or a '/' ending it)`);
  const include = matcher(options.include === undefined ? SOURCE : options.include, "include");
  const exclude = matcher(options.exclude === undefined ? NODE_MODULES : options.exclude, "exclude");
  const unlowered = options.unlowered === undefined ? "warning" : options.unlowered;
  if (!SEVERITIES.includes(unlowered)) throw new TypeError(`chronots/vite: 'unlowered' must be "error", "warning" or "off", got ${shown(unlowered)}`);
  const bare = modules.filter((m) => !isPath(m));
  let files = new Set<string>();
  const resolveFiles = (root: string) => {
    files = new Set(modules.filter(isPath).map((m) => stem(path.resolve(root, m))));
  };
  resolveFiles(process.cwd());
  let config: ResolvedConfig = { root: process.cwd() };
  const tsconfigs: Tsconfigs = new Map();

  return {
    name: "chronots",
    enforce: "pre",
    configResolved(resolved) {
      config = resolved;
      resolveFiles(config.root);
    },
    transform(code, id) {
      const file = id.split("?", 1)[0]!;
      if (file.startsWith("\0") || !include(file) || exclude(file) || !/\basync\b/.test(code)) return null;
      const used = importedModules(code, file, bare, files);
      if (used.length === 0) return null;
      let lowered: Lowered;
      try {
        lowered = lower(code, file, used, jsxOf(config, file, tsconfigs));
      } catch (e) {
        this.warn(`${file}: chronots could not lower this file and left it untransformed: ${messageOf(e)}`);
        return null;
      }
      // An internal error (TS99303) is a warning whatever `unlowered` says.
      for (const d of lowered.internal) this.warn(d);
      if (unlowered === "error" && lowered.driver.length > 0) this.error(lowered.driver.join("\n"));
      if (unlowered === "warning") for (const d of lowered.driver) this.warn(d);
      return lowered.result;
    },
  };
}

interface Lowered {
  /** Functions left to the driver (TS99301), as `file:line:col: message` lines. */
  driver: string[];
  /** Internal errors (TS99303), as such lines. */
  internal: string[];
  /** The lowered file, null when nothing changed. */
  result: { code: string; map: SourceMap } | null;
}

function lower(code: string, file: string, modules: string[], jsx: Jsx): Lowered {
  const { splices, prelude, preludeAt, preludeChecks, diagnostics: found } = lowerText(file, code, { typescript: ts, modules, ...jsx });
  const lines = (internal: boolean) => found.filter((d) => (d.code === INTERNAL_CODE) === internal).map((d) => formatDiagnostic(file, code, d));
  const diagnostics = { driver: lines(false), internal: lines(true) };
  if (splices.length === 0 && prelude === "") return { ...diagnostics, result: null };
  const s = new MagicString(code);
  for (const { start, end, text } of splices) s.overwrite(start, end, text);
  const line = prelude === "" || prelude.endsWith("\n") ? prelude : prelude + "\n";
  if (line !== "") {
    if (preludeAt > 0) s.appendLeft(preludeAt, line);
    else s.prepend(line);
  }
  const out = s.toString();
  const map = s.generateMap({ hires: true, source: file, includeContent: true });
  const own = decode(map.mappings);
  const byLine = OTHER_BREAK.test(code) || OTHER_BREAK.test(out) ? byJavaScriptLines(own, code, out) : own;
  map.mappings = encode(withSplices(byLine, out, splices, { at: preludeAt, length: line.length, checks: preludeChecks, source: positionIn(lineStarts(code), preludeAt) }));
  return { ...diagnostics, result: { code: out, map } };
}

/** A line terminator other than \n and \r\n: magic-string counts lines by \n alone. */
const OTHER_BREAK = /\r(?!\n)|[\u2028\u2029]/;

/**
 * Where each line of `text` starts, by JavaScript's line terminators (\n, \r\n, \r, U+2028, U+2029):
 * as V8 numbers the lines of a stack trace, and TypeScript's printer and oxc those of their maps.
 */
function lineStarts(text: string): number[] {
  const starts = [0];
  const breaks = /\r\n?|[\n\u2028\u2029]/g;
  for (let m = breaks.exec(text); m; m = breaks.exec(text)) starts.push(m.index + m[0].length);
  return starts;
}

/** The line and column of `offset`, given its text's lineStarts. */
function positionIn(starts: readonly number[], offset: number): [number, number] {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid]! <= offset) lo = mid;
    else hi = mid - 1;
  }
  return [lo, offset - starts[lo]!];
}

/** magic-string's map of `code` to `out`, its lines counted by \n, counted by JavaScript's line terminators on both sides. */
function byJavaScriptLines(lines: SourceMapSegment[][], code: string, out: string): SourceMapSegment[][] {
  const byNewline = (text: string) => lineStarts(text.replace(/[\r\u2028\u2029]/g, " "));
  const [outN, codeN, outJs, codeJs] = [byNewline(out), byNewline(code), lineStarts(out), lineStarts(code)];
  const result: SourceMapSegment[][] = Array.from({ length: outJs.length }, () => []);
  lines.forEach((segs, l) => {
    for (const seg of segs) {
      const [line, column] = positionIn(outJs, outN[l]! + seg[0]);
      if (seg.length === 1) result[line]!.push([column]);
      else result[line]!.push([column, seg[1]!, ...positionIn(codeJs, codeN[seg[2]!]! + seg[3]!), ...(seg.length === 5 ? [seg[4]!] : [])] as SourceMapSegment);
    }
  });
  return result;
}

/** Where lowerText's prelude went into the output (`at`, `length`), its load-time checks in it, and the source's line and column there. */
interface Prelude {
  at: number;
  length: number;
  checks: [number, number][];
  source: [number, number];
}

/**
 * `lines`, the decoded map of `out`, with each splice's own mappings (lowerText's, from the printer) in
 * place of magic-string's, which send the whole overwritten text to the call's first character. Each
 * line of a splice starts with a mapping at its first column: Vite chains this map under oxc's, looking
 * each position up on its own line only, and a column before a line's first segment would be lost, the
 * stack trace left in generated coordinates. A line the printer mapped from a later column starts with
 * that column's position (its indentation is its first statement's); a line it left unmapped (the
 * checks and `case` labels the lowering adds) with the position mapped last before it. The lowering
 * maps its own code around the body (the handler that settles the result when the body throws) to the
 * generator's first line: filled with the position before it, the handler counted as the body's last
 * line in coverage, run whenever the body threw.
 */
function withSplices(lines: SourceMapSegment[][], out: string, splices: Splice[], prelude: Prelude): SourceMapSegment[][] {
  const starts = lineStarts(out);
  const position = (offset: number) => positionIn(starts, offset);
  // A load-time check of the prelude maps to where the prelude stands: a module of the user's that lacks
  // chronots' runtime fails there, and its stack would show a line past the file's end. The rest stays
  // unmapped, as magic-string leaves it: mapped, coverage would count the runtime's own code as the user's.
  for (const [start, end] of prelude.checks) {
    const [line, column] = position(prelude.at + start);
    (lines[line] ??= []).push([column, 0, ...prelude.source], [position(prelude.at + end)[1]]);
    lines[line]!.sort((a, b) => a[0] - b[0]);
  }
  let shift = 0;
  const spliced = new Set<number>();
  for (const sp of [...splices].sort((a, b) => a.start - b.start)) {
    const from = sp.start + shift + (prelude.at <= sp.start ? prelude.length : 0);
    shift += sp.text.length - (sp.end - sp.start);
    const [line, column] = position(from);
    const [endLine, endColumn] = position(from + sp.text.length);
    for (let l = line; l <= endLine; l++)
      lines[l] = (lines[l] ?? []).filter((seg) => (l === line && seg[0] < column) || (l === endLine && seg[0] >= endColumn));
    for (const [l, c, sourceLine, sourceColumn] of sp.mappings) (lines[line + l] ??= []).push([l === 0 ? column + c : c, 0, sourceLine, sourceColumn]);
    for (let l = line; l <= endLine; l++) {
      lines[l]?.sort((a, b) => a[0] - b[0]);
      spliced.add(l);
    }
  }
  let last: SourceMapSegment | undefined;
  for (let l = 0; l < starts.length; l++) {
    const segs = (lines[l] ??= []);
    const from = segs.find((seg) => seg.length > 1) ?? last;
    if (from && spliced.has(l) && segs[0]?.[0] !== 0) segs.unshift([0, from[1]!, from[2]!, from[3]!]);
    for (const seg of segs) if (seg.length > 1) last = seg;
  }
  return lines;
}

/** The import specifiers of `code` that name a marking module, spelled as in the file. */
function importedModules(code: string, file: string, bare: string[], files: Set<string>): string[] {
  const found = new Set<string>();
  for (const { fileName: spec } of ts.preProcessFile(code, true, false).importedFiles) {
    if (bare.includes(spec)) found.add(spec);
    else if (files.size > 0 && (spec.startsWith(".") || path.isAbsolute(spec))) {
      const target = stem(path.resolve(path.dirname(file), spec));
      if (files.has(target) || files.has(path.join(target, "index"))) found.add(spec);
    }
  }
  return [...found];
}

interface Jsx {
  jsxFactories: string[];
  jsxRuntime: "classic" | "automatic" | "unknown";
}

/**
 * The JSX factories and runtime Vite's transform (oxc) uses for `file` where no pragma says: those its
 * `oxc.jsx` sets (Vite converts an `esbuild` option to it), else those of the tsconfig.json it reads
 * for the file (rolldown's: Vite's `tsconfig`, else the one tsconfigOf finds), else the automatic
 * runtime; "unknown" where that tsconfig.json cannot be read. JSX that Vite leaves as it is (`preserve`,
 * `oxc: false`) keeps its source order, as "classic".
 */
function jsxOf(config: ResolvedConfig, file: string, tsconfigs: Tsconfigs): Jsx {
  const jsx = config.oxc === false ? "preserve" : config.oxc?.jsx;
  const set = jsx && typeof jsx === "object" ? (jsx as { runtime?: unknown; pragma?: unknown; pragmaFrag?: unknown }) : {};
  const esbuild = config.esbuild ? [config.esbuild.jsxFactory, config.esbuild.jsxFragment] : [];
  // Read only for files that may hold JSX.
  const tsconfig = typeof jsx !== "string" && /\.[jt]sx$/.test(file) ? (config.tsconfig ? readTsconfig(config.tsconfig, tsconfigs)?.options : tsconfigOf(file, tsconfigs)) : {};
  if (!tsconfig) return { jsxFactories: [], jsxRuntime: "unknown" };
  const factories = [set.pragma ?? tsconfig.jsxFactory, set.pragmaFrag ?? tsconfig.jsxFragmentFactory, ...esbuild];
  // oxc reads "react-native" as automatic, where tsc keeps the JSX as it is.
  const automatic = set.runtime !== undefined ? set.runtime === "automatic" : typeof jsx !== "string" && ![ts.JsxEmit.React, ts.JsxEmit.Preserve].includes(tsconfig.jsx!);
  return { jsxFactories: factories.filter((x): x is string => typeof x === "string" && x !== ""), jsxRuntime: automatic ? "automatic" : "classic" };
}

function isPath(m: string): boolean {
  return m.startsWith(".") || path.isAbsolute(m);
}

/** A module's path without its code suffix: "runtime/index.js" and "runtime/index.ts" are one file. */
function stem(p: string): string {
  return p.replace(CODE_SUFFIX, "");
}

function matcher(m: unknown, what: string): (file: string) => boolean {
  // A global or sticky RegExp's test starts at lastIndex, left past the last match: every other file would fail.
  if (m instanceof RegExp)
    return (file) => {
      m.lastIndex = 0;
      return m.test(file);
    };
  if (typeof m === "function") return (file) => Boolean(m(file));
  throw new TypeError(`chronots/vite: '${what}' must be a RegExp or a function of the file name, got ${shown(m)}`);
}

/**
 * An option's value as its error names it: a string quoted, an array and a plain object by their
 * contents (`…` where they hold themselves), any other object by its class, a function as "a function".
 */
function shown(v: unknown, open: Set<object> = new Set()): string {
  if (typeof v === "string") return JSON.stringify(v);
  if (typeof v === "function") return "a function";
  if (typeof v !== "object" || v === null) return String(v);
  if (open.has(v)) return "…";
  try {
    open.add(v);
    if (Array.isArray(v)) return `[${Array.from(v, (x) => shown(x, open)).join(",")}]`;
    const proto = Object.getPrototypeOf(v);
    if (proto !== Object.prototype && proto !== null) return `a ${proto?.constructor?.name || "object"}`;
    return `{${Object.entries(v).map(([k, x]) => `${JSON.stringify(k)}:${shown(x, open)}`).join(",")}}`;
  } catch {
    return "an object that cannot be read";
  } finally {
    open.delete(v);
  }
}

function formatDiagnostic(file: string, code: string, d: ts.Diagnostic): string {
  // The code as tsc prints it, so a warning can be looked up in the README's table.
  const message = `TS${d.code}: ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`;
  if (d.start === undefined) return `${file}: ${message}`;
  const [line, column] = positionIn(lineStarts(code), d.start);
  return `${file}:${line + 1}:${column + 1}: ${message}`;
}
