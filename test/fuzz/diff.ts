/**
 * Differential check of the lowering: each generated program runs twice, as written (V8's generators
 * driven by runtime/async.ts) and lowered by `lowerText`, and both runs must leave the same record.
 *
 * Programs are compiled in batches: one module holds many programs, is lowered once, and both versions
 * are evaluated as scripts with a `require` that hands out the runtime this file imports, so both share
 * one runtime and no file is written. Each program then runs on a fresh Dispatcher of its own until
 * nothing is left to do. The record is everything the program could observe: the trace of harness events (in the order they happened), main's outcome, the final state of
 * every future it made or got, what its closures see at the end, and the number of poll steps taken.
 *
 * `fuzzBatch` samples a batch from fast-check; when it diverges, the failing program is replayed through
 * `fc.check` (same seed, its path) so fast-check shrinks it to a minimal program.
 */
import fc from "fast-check";
import MagicString from "magic-string";
import ts from "typescript";
import * as runtime from "../../runtime/index.js";
import { asyncDiscard, callSoon, Dispatcher, Future, getGlobalDispatcher, setGlobalDispatcher, sleepAsync } from "../../runtime/index.js";
import { lowerText } from "../../transformer/lower.js";
import { printModule, programArb, type Program } from "./gen.js";

/** Events past this many end the program with an error (the same in both runs), so runaways stay small. */
const MAX_EVENTS = 2000;
const MAX_STEPS = 5000;

/** The world a generated program talks to (`h` in its source). */
class Harness {
  readonly trace: string[] = [];
  readonly futures: Future<any>[] = [];
  readonly kept: (() => unknown)[] = [];
  readonly self = { x: 5 };
  readonly keys = { a: 1, b: 2 };
  cancelStep = -1;

  private ev(s: string): void {
    if (this.trace.length >= MAX_EVENTS) throw new Error("event budget exhausted");
    this.trace.push(s);
  }
  private made<T>(kind: string, f: Future<T>): Future<T> {
    this.ev(`${kind}#${this.futures.length}`);
    this.futures.push(f);
    return f;
  }

  cancelAt(step: number): void {
    this.cancelStep = step;
  }
  t<T>(id: number, v: T): T {
    this.ev(`t${id}=${canon(v)}`);
    return v;
  }
  f(...args: unknown[]): unknown {
    this.ev(`f(${args.map(canon).join(",")})`);
    return args.length === 0 ? 0 : args[args.length - 1];
  }
  o(v: object): number {
    this.ev(`o${canon(v)}`);
    return Object.keys(v).length;
  }
  twice<T>(v: T): T[] {
    return [v, v];
  }
  st(f: unknown): string {
    return f instanceof Future ? `${f.state}:${outcome(f)}` : `not a future: ${canon(f)}`;
  }
  err(e: unknown): string {
    return e instanceof Error ? canon(e) : `thrown ${canon(e)}`;
  }
  /** A resource for `using`: null for some `n`; its `[Symbol.dispose]()` reports, and throws for others. */
  res(id: number, n: number, v: unknown): (Disposable & { id: number; v: unknown }) | null {
    this.ev(`res${id}`);
    if (n % 4 === 3) return null;
    const h = this;
    return {
      id,
      v,
      [Symbol.dispose]() {
        h.ev(`dispose${id}`);
        if (n % 3 === 1) throw h.E(n);
      },
    };
  }
  /** JSX's factory (`h.jsx`, fragments `h.Frag`): reports the element, its props and children, and stands for it. */
  jsx(tag: unknown, props: object | null, ...children: unknown[]): string {
    const name = typeof tag === "string" ? tag : (tag as { name: string }).name;
    this.ev(`jsx(${name}:${canon(props)}:${children.map((c) => canon(c)).join(",")})`);
    return `<${name}/${children.length}>`;
  }
  readonly Frag = function Frag() {};
  readonly C = function C() {};
  /** Props to spread, made where the spread is evaluated. */
  props(v: unknown): { r: unknown } {
    this.ev(`props(${canon(v)})`);
    return { r: v };
  }
  E(n: number): Error {
    return new Error(`E${n}`);
  }
  /**
   * An object whose method `m` reports which object it was called on, and whose `nm`, for an even `n`
   * only, is a function doing the same (also under `new`): `o.nm(…)` of an odd one is the engine's
   * TypeError, thrown after the arguments.
   */
  box(n: number): { n: number; m(...args: unknown[]): number; nm?: (...args: unknown[]) => unknown } {
    const h = this;
    return {
      n,
      m(...args: unknown[]) {
        h.ev(`m${this.n}(${args.map(canon).join(",")})`);
        return this.n;
      },
      nm:
        n % 2 === 0
          ? function (this: { n?: number }, ...args: unknown[]) {
              h.ev(`nm${this.n}(${args.map(canon).join(",")})`);
              return this.n;
            }
          : undefined,
    };
  }
  /** A base class for generated classes. */
  readonly Base = class {
    base = "base";
  };
  /** The harness itself, null or undefined: the head of optional chains. */
  maybe(n: number): this | null | undefined {
    return n % 3 === 0 ? null : n % 3 === 1 ? undefined : this;
  }
  private readonly sites = new Set<TemplateStringsArray>();
  /** A template tag reporting its strings (and whether this strings object came before: one per site), values and `this`. */
  tag(strings: TemplateStringsArray, ...values: unknown[]): string {
    const again = this.sites.has(strings);
    this.sites.add(strings);
    this.ev(`tag(${strings.raw.join("|")}${again ? " again" : ""}:${values.map((v) => canon(v)).join(",")})`);
    return strings.join("#");
  }
  /** A property key that reports each conversion of itself to a key. */
  key(v: unknown): { toString(): string } {
    const h = this;
    return {
      toString() {
        h.ev(`key(${canon(v)})`);
        return `k${canon(v)}`;
      },
    };
  }
  /** What a function got as `this`: undefined when called plainly (strict), the object it was called on otherwise. */
  who(t: unknown): string {
    if (t === undefined || t === null) return String(t);
    if (t === this) return "h";
    if (t === this.self) return "self";
    return typeof t === "object" ? `object{${Object.keys(t).join(",")}}` : typeof t;
  }
  /** An object reporting each read and write of its string-keyed properties. */
  readonly kv: Record<string, unknown> = new Proxy({} as Record<string, unknown>, {
    get: (t, p) => {
      if (typeof p === "string") this.ev(`get ${p}`);
      return t[p as string];
    },
    set: (t, p, v) => {
      this.ev(`set ${String(p)}=${canon(v)}`);
      t[p as string] = v;
      return true;
    },
  });
  keep<T>(fn: () => T): T {
    this.kept.push(fn);
    return fn();
  }
  pick(mask: number): { p?: number; q?: number } {
    return { ...(mask & 1 ? { p: 100 } : {}), ...(mask & 2 ? { q: 200 } : {}) };
  }
  list(mask: number): (number | undefined)[] {
    return [mask & 1 ? 100 : undefined, mask & 2 ? 200 : undefined];
  }

  ok<T>(v: T): Future<T> {
    const f = new Future<T>("ok");
    f.complete(v);
    return this.made("ok", f);
  }
  later<T>(v: T): Future<T> {
    const f = this.made("later", new Future<T>("later"));
    callSoon(() => f.pending && f.complete(v));
    return f;
  }
  sleep<T>(v: T): Future<T> {
    const f = this.made("sleep", new Future<T>("sleep"));
    const s = sleepAsync(0);
    s.addCallback(() => f.pending && f.complete(v));
    f.cancelCallback = () => s.cancel();
    return f;
  }
  nap(): Future<void> {
    return this.made("nap", sleepAsync(0));
  }
  bad(n: number): Future<never> {
    const f = new Future<never>("bad");
    f.fail(this.E(n));
    return this.made("bad", f);
  }
  badLater(n: number): Future<never> {
    const f = this.made("badLater", new Future<never>("badLater"));
    callSoon(() => f.pending && f.fail(this.E(n)));
    return f;
  }
  cancelled(): Future<never> {
    const f = new Future<never>("cancelled");
    f.cancel();
    return this.made("cancelled", f);
  }
  cancelLater(): Future<never> {
    const f = this.made("cancelLater", new Future<never>("cancelLater"));
    callSoon(() => f.cancel());
    return f;
  }
  /** An async call's result. */
  c<T>(f: Future<T>): Future<T> {
    return this.made("call", f);
  }
  /** An async call's result, cancelled from the callback queue. */
  cancelSoon<T>(f: Future<T>): Future<T> {
    asyncDiscard(this.made("call", f)); // the caller holds f
    callSoon(() => this.trace.push(`cancel#${this.futures.indexOf(f)}=${f.cancel()}`));
    return f;
  }
  /** An async call left running. */
  bg(f: Future<unknown>): void {
    asyncDiscard(this.made("bg", f)); // left running on purpose; its end state is still compared
  }
  /** A plain generator that yields futures, for `yield*` delegation. */
  *gen(a: Future<unknown>, b: Future<unknown>): Generator<Future<unknown>, string, Future<unknown>> {
    try {
      const x = yield* a;
      const y = yield b;
      return `gen:${canon(x)}:${this.st(y)}`;
    } finally {
      this.ev("gen finally");
    }
  }
  /**
   * An iterable over `items` whose `next()` throws at call `throwAt` (a loop left by it does not close
   * it), and whose `return()` throws when `closeThrows`: each step and each close is an event.
   */
  seq<T>(items: T[], throwAt: number, closeThrows: boolean): Iterable<T> {
    const h = this;
    let calls = 0;
    let i = 0;
    const it: Iterator<T> & Iterable<T> = {
      next() {
        const call = calls++;
        h.ev(`seq next ${call}`);
        if (call === throwAt) throw h.E(50 + call);
        if (i >= items.length) return { done: true, value: undefined };
        return { done: false, value: items[i++]! };
      },
      return() {
        h.ev(`seq close at ${i}${closeThrows ? " throws" : ""}`);
        if (closeThrows) throw h.E(60 + i);
        return { done: true, value: undefined };
      },
      [Symbol.iterator]: () => {
        h.ev("seq open");
        return it;
      },
    };
    return it;
  }
  /** An iterable over `items` that reports its steps and an early close. */
  iter<T>(items: T[]): Iterable<T> {
    const h = this;
    let i = 0;
    const it: Iterator<T> & Iterable<T> = {
      next() {
        h.ev(`next ${i}`);
        if (i >= items.length) return { done: true, value: undefined };
        const at = i++;
        // The value is read when the loop reads it (before its target is evaluated); reading an item of 7 or more throws.
        return {
          done: false,
          get value() {
            h.ev(`value ${at}`);
            const item = Array.isArray(items[at]) ? (items[at] as unknown[])[0] : items[at];
            if (typeof item === "number" && item >= 7) throw h.E(item * 10);
            return items[at]!;
          },
        };
      },
      return() {
        h.ev(`close at ${i}`);
        return { done: true, value: undefined };
      },
      [Symbol.iterator]: () => it,
    };
    return it;
  }
}

/** A stable text form of any value a program can produce. */
/**
 * An error's message, where a call of what is no function has the engine name it as it finds the callee
 * (`o.nm is not a function`, or in some places `undefined is not a function`): only that it was such a
 * call counts, the text is the engine's. The lowering's own text for it is tested in test/async.test.ts.
 */
function uncalled(e: Error): string {
  return e instanceof TypeError ? e.message.replace(/^.* is not a (function|constructor)$/, "… is not a $1") : e.message;
}

export function canon(v: unknown, depth = 0): string {
  if (typeof v === "number") return Object.is(v, -0) ? "-0" : String(v);
  if (typeof v === "string") return JSON.stringify(v);
  if (v === null || typeof v !== "object") return typeof v === "function" ? "fn" : String(v);
  if (v instanceof Future) return `Future(${v.state})`;
  if (v instanceof Error) {
    const { error, suppressed } = v as { error?: unknown; suppressed?: unknown };
    return v.name === "SuppressedError" ? `SuppressedError(${canon(error, depth + 1)},${canon(suppressed, depth + 1)})` : `${v.name}:${uncalled(v)}`;
  }
  if (depth > 3) return "…";
  if (Array.isArray(v)) return `[${v.map((x) => canon(x, depth + 1)).join(",")}]`;
  return `{${Object.entries(v).map(([k, x]) => `${k}:${canon(x, depth + 1)}`).join(",")}}`;
}

function outcome(f: Future<unknown>): string {
  return f.completed ? canon(f.read()) : f.pending ? "" : canon(f.error);
}

export interface Observed {
  trace: string[];
  result: string;
  futures: string[];
  kept: string[];
  steps: number;
}

type Make = (h: Harness) => (this: object, a: number, b: number) => Future<unknown>;

/** Run one program to the end on a dispatcher of its own. */
export function execute(make: Make): Observed {
  const h = new Harness();
  const outer = getGlobalDispatcher();
  const d = new Dispatcher();
  setGlobalDispatcher(d);
  let steps = 0;
  let result: string;
  try {
    const r = make(h).call(h.self, 1, 2);
    while (d.busy && steps < MAX_STEPS) {
      if (steps === h.cancelStep) h.trace.push(`cancel main=${r.cancel()}`);
      try {
        d.poll();
      } catch (e) {
        h.trace.push(`poll threw ${h.err(e)}`);
      }
      steps++;
    }
    result = `${r.state}:${outcome(r)}:${r.name}`;
  } catch (e) {
    result = `threw ${h.err(e)}`;
  } finally {
    setGlobalDispatcher(outer);
  }
  const kept = h.kept.map((fn) => {
    try {
      return canon(fn());
    } catch (e) {
      return h.err(e);
    }
  });
  return { trace: h.trace, result, futures: h.futures.map((f) => `${f.state}:${outcome(f)}`), kept, steps };
}

/**
 * Evaluate a module with the runtime as its only import. Plain JavaScript with named imports and
 * exported functions is rewritten by two regular expressions (fast); anything else goes through
 * TypeScript's transpiler to CommonJS.
 */
export function evaluate(text: string, what: string): { [name: string]: Make } {
  const exports: { [name: string]: Make } = {};
  const require = (spec: string) => {
    if (spec === "chronots") return runtime;
    throw new Error(`${what} imports '${spec}', which the fuzz harness does not provide`);
  };
  const script = text
    .replace(/^import \{([^}]*)\} from ("[^"]+");$/gm, (_, names: string, spec: string) => `const {${names.replace(/\bas\b/g, ":")}} = require(${spec});`)
    .replace(/^import \* as (\w+) from ("[^"]+");$/gm, "const $1 = require($2);")
    .replace(/^export function (\w+)/gm, "exports.$1 = $1; function $1");
  let run: Function;
  try {
    run = new Function("require", "exports", `"use strict";\n${script}`);
  } catch {
    const out = ts.transpileModule(text, {
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, jsx: ts.JsxEmit.React, jsxFactory: "h.jsx", jsxFragmentFactory: "h.Frag" },
      reportDiagnostics: true,
      fileName: "fuzz.js",
    });
    if (out.diagnostics?.length)
      throw new Error(`${what} does not parse: ${ts.flattenDiagnosticMessageText(out.diagnostics[0]!.messageText, "\n")}`);
    run = new Function("require", "exports", out.outputText);
  }
  run(require, exports);
  return exports;
}

/**
 * The module lowered as the plugin lowers it, and the lowering's reasons for leaving functions to the
 * run-time driver. A generator left in the output without such a reason is an error.
 */
export function lower(text: string): { text: string; left: string[] } {
  const { splices, prelude, preludeAt, diagnostics } = lowerText("fuzz.js", text, { typescript: ts });
  const messages = diagnostics.map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n"));
  const errors = diagnostics.filter((d) => d.category === ts.DiagnosticCategory.Error);
  if (errors.length > 0) throw new Error(`lowerText reported: ${ts.flattenDiagnosticMessageText(errors[0]!.messageText, "\n")}`);
  const s = new MagicString(text);
  for (const { start, end, text: t } of splices) s.overwrite(start, end, t);
  if (prelude !== "") s.appendLeft(preludeAt, prelude);
  const lowered = s.toString();
  // Every async call must lie in a splice (nested ones in their outer call's). A lowered generator that names
  // itself keeps a copy of the generator function for that name, so `function*` alone proves nothing.
  const outside = [...text.matchAll(/async\(function\*/g)].filter((m) => !splices.some((x) => x.start <= m.index && m.index < x.end));
  if (outside.length > 0 && messages.length === 0) throw new Error("lowerText left a generator function in its output and said nothing");
  return { text: lowered, left: messages };
}

/** Where two records first differ, or null when they are the same. */
export function difference(plain: Observed, lowered: Observed): string | null {
  for (const key of ["trace", "futures", "kept"] as const) {
    const a = plain[key];
    const b = lowered[key];
    const n = Math.max(a.length, b.length);
    for (let i = 0; i < n; i++)
      if (a[i] !== b[i]) return `${key}[${i}]: untransformed ${a[i] ?? "(none)"}, lowered ${b[i] ?? "(none)"}`;
  }
  if (plain.result !== lowered.result) return `result: untransformed ${plain.result}, lowered ${lowered.result}`;
  if (plain.steps !== lowered.steps) return `poll steps: untransformed ${plain.steps}, lowered ${lowered.steps}`;
  return null;
}

export interface Checked {
  /** The first difference found, or null. */
  divergence: string | null;
  /** Why the lowering left functions to the run-time driver. */
  left: string[];
}

/** Check a module of programs p0, p1, … */
export function checkModule(text: string, count: number): Checked {
  const plain = evaluate(text, "the program module");
  let lowered: { text: string; left: string[] };
  let made: Record<string, Make>;
  try {
    lowered = lower(text);
    made = evaluate(lowered.text, "the lowered module");
  } catch (e) {
    return { divergence: e instanceof Error ? e.message : String(e), left: [] };
  }
  for (let i = 0; i < count; i++) {
    const diff = difference(execute(plain[`p${i}`]!), execute(made[`p${i}`]!));
    if (diff !== null) return { divergence: `p${i}: ${diff}`, left: lowered.left };
  }
  return { divergence: null, left: lowered.left };
}

export interface Divergence {
  /** The seed of the batch that held the program. */
  seed: number;
  /** The shrunk program, as a module ready to store in test/fixtures/fuzz/. */
  source: string;
  message: string;
}

/** The seed of batch `b` of a run seeded `seed`: runs with different seeds share no batch. */
export function batchSeed(seed: number, b: number): number {
  return (Math.imul(seed ^ 0x5bd1e995, 0x9e3779b1) + Math.imul(b, 0x85ebca6b)) >>> 1;
}

/**
 * Check `count` random programs of batch seed `seed`: the first divergence, shrunk, and the lowering's
 * reasons for leaving functions to the driver. The same seed generates the same programs.
 */
export function fuzzBatch(seed: number, count: number): { divergence: Divergence | null; left: string[] } {
  const ps = fc.sample(programArb, { seed, numRuns: count });
  const batch = checkModule(printModule(ps), ps.length);
  if (batch.divergence === null) return { divergence: null, left: batch.left };
  const diverges = (p: Program) => checkModule(printModule([p]), 1).divergence !== null;
  // fc.check with the same seed regenerates the same programs; `path` replays the failing one and shrinks it.
  const index = Math.max(ps.findIndex(diverges), 0);
  const out = fc.check(fc.property(programArb, (p) => !diverges(p)), { seed, numRuns: count, path: String(index) });
  const source = printModule([out.failed ? out.counterexample![0] : ps[index]!]);
  const message = checkModule(source, 1).divergence ?? `the batch diverged (${batch.divergence}), but none of its programs does alone`;
  return { divergence: { seed, source, message }, left: batch.left };
}
