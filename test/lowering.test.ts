/**
 * The lowering, fixture by fixture: each program in test/fixtures/lowering runs untransformed (the
 * run-time driver) and lowered by `lowerText`; both runs must push the same trace and end the same.
 * The lowered text is kept as a readable snapshot next to the fixtures.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import ts from "typescript";
import { afterAll, describe, expect, it } from "vitest";
import { __chronots, async, Future, sleepAsync, waitFor } from "../runtime/index.js";
import { PRINT_DEPTH } from "../transformer/depth.js";
import { lowerText, NESTING, type Splice } from "../transformer/lower.js";

const dir = resolve(__dirname, "fixtures/lowering");
const runtimeSpec = "../../../runtime/index.js";
const out = mkdtempSync(join(tmpdir(), "chronots-lowering-"));
afterAll(() => rmSync(out, { recursive: true, force: true }));

export function applySplices(text: string, { splices, prelude, preludeAt }: { splices: Splice[]; prelude: string; preludeAt: number }): string {
  let r = text;
  for (const s of [...splices].sort((a, b) => b.start - a.start)) r = r.slice(0, s.start) + s.text + r.slice(s.end);
  return r.slice(0, preludeAt) + prelude + r.slice(preludeAt);
}

async function run(file: string, lowered: boolean): Promise<{ trace: unknown[]; end: unknown }> {
  const mod = (await import(file)) as { main(log: (x: unknown) => void): Future<unknown> };
  expect(/\.(coroutine|handoff)\(/.test(mod.main.toString())).toBe(lowered);
  const trace: unknown[] = [];
  try {
    return { trace, end: ["completed", waitFor(mod.main((x) => trace.push(x)))] };
  } catch (e) {
    return { trace, end: ["failed", String(e)] };
  }
}

/** The structured copy handing the rest of the call over to a state of the machine's (not a pending await, which hands over without clearing `$f`). */
const HANDS_OVER = /\$f = void 0;\s*\$s = \d+;\s*break \$fast;/;
const families = ["basics.ts", "declared.ts", "expressions.ts", "control.ts", "exceptions.ts", "delegation.ts", "bindings.ts", "patterns.ts", "chains.ts", "liveness.ts", "resources.ts", "structured.ts", "jsx.tsx"];

describe("lowered fixtures behave as the driver does", () => {
  for (const file of families) {
    const [family, suffix] = file.split(".") as [string, string];
    it(family, async () => {
      const source = join(dir, file);
      const text = readFileSync(source, "utf8");
      const result = lowerText(source, text, { typescript: ts, modules: [runtimeSpec] });
      expect(result.diagnostics.map((d) => d.messageText)).toEqual([]);
      const lowered = applySplices(text, result);
      expect(lowered).not.toMatch(/async\(function\*/);
      await expect(lowered).toMatchFileSnapshot(`fixtures/lowering/snapshots/${family}.lowered.${suffix}`);
      const target = join(out, file);
      writeFileSync(target, lowered.split(runtimeSpec).join(resolve(__dirname, "../runtime/index.js")));
      const driver = await run(source, false);
      const lowering = await run(target, true);
      expect(driver.end).toEqual(["completed", "done"]);
      expect(driver.trace.length).toBeGreaterThan(5);
      expect(lowering).toEqual(driver);
    });
  }
});

it("leaves an unsupported construct to the driver, with a warning at its position, and behaves the same", async () => {
  const source = join(dir, "unsupported.ts");
  const text = readFileSync(source, "utf8");
  const result = lowerText(source, text, { typescript: ts, modules: [runtimeSpec] });
  const { diagnostics } = result;
  expect(diagnostics).toHaveLength(1);
  expect(diagnostics[0]!.category).toBe(0);
  expect(String(diagnostics[0]!.messageText)).toMatch(/direct eval/);
  expect(text.slice(diagnostics[0]!.start!, diagnostics[0]!.start! + 12)).toBe('eval("i * 2"');
  const lowered = applySplices(text, result);
  expect(lowered).toMatch(/async\(function\*/);
  const target = join(out, "unsupported.ts");
  writeFileSync(target, lowered.split(runtimeSpec).join(resolve(__dirname, "../runtime/index.js")));
  expect(await run(target, false)).toEqual(await run(source, false));
});

it("inlines the state numbers the runtime defines", () => {
  expect([__chronots.PENDING, __chronots.COMPLETED]).toEqual([0, 1]);
});

describe("odd input", () => {
  const lower = (text: string) => lowerText("odd.ts", text, { typescript: ts });
  /**
   * The second lowered function of a module whose first is `leaf`, evaluated with the real runtime
   * standing in for the module. Its text has no type annotation left, so it runs as JavaScript as it is.
   */
  const evaluate = (splices: Splice[]): (() => Future<number>) =>
    new Function("$c", "leaf", `return ${splices[1]!.text};`)(__chronots, new Function("$c", `return ${ts.transpile(splices[0]!.text, { target: ts.ScriptTarget.ES2022 })};`)(__chronots));

  it("turns a body without suspension into a plain function returning a finished future", () => {
    const { splices, diagnostics } = lower(`import { async } from "chronots";\nexport const f = async(function* (a: number) { if (a) return a * 2; });\n`);
    expect(diagnostics).toEqual([]);
    expect(splices).toHaveLength(1);
    expect(splices[0]!.text).not.toMatch(/switch|\$step|function\*/);
    expect(splices[0]!.text).toContain(`.finished("", a * 2)`);
  });

  it("recognises renamed and namespace imports, and leaves a local 'async' and a shadowed name alone", () => {
    const text = [
      `import { async as run } from "chronots";`,
      `import * as C from "chronots";`,
      `const a = run(function* () { return 1; });`,
      `const b = C.async(function* () { return 2; });`,
      `const c = (function async(g: unknown) { return g; })(function* () { yield 3; });`,
    ].join("\n");
    const { splices, prelude } = lowerText("names.ts", text, { typescript: ts });
    expect(splices.map((s) => text.slice(s.start, s.end).slice(0, 8))).toEqual(["run(func", "C.async("]);
    expect(prelude).toBe(`import * as $cns from "chronots"; var $c = $cns.__chronots; function $cinit() { return $c = $cns.__chronots; }\n`);
    const shadowed = `import { async } from "chronots";\nfunction inner(async: (g: unknown) => unknown) { return async(function* () { yield 4; }); }\n`;
    expect(lowerText("shadow.ts", shadowed, { typescript: ts }).splices).toEqual([]);
    // A name declared again binds only where it stands: calls outside that code are the import's.
    const elsewhere = [
      `import { async } from "chronots";`,
      `export function cfg(o: { async: unknown }) { const { async } = o; return async; }`,
      `export function loop(xs: ((g: unknown) => unknown)[]) { for (const async of xs) async(function* () { yield 5; }); }`,
      `export const d = async(function* () { return 6; });`,
      `export const e = () => { var async = (g: unknown) => g; return async(function* () { yield 7; }); };`,
      `export enum E { async = 7, b = (() => { try { return async(function* () { return 8; }) as unknown as number; } catch { return -1; } })() }`,
    ].join("\n");
    const around = lowerText("elsewhere.ts", elsewhere, { typescript: ts });
    expect(around.diagnostics).toEqual([]);
    expect(around.splices.map((s) => elsewhere.slice(s.start, s.end).slice(0, 8))).toEqual(["async(fu"]);
    expect(around.splices[0]!.start).toBe(elsewhere.indexOf("async(function* () { return 6"));
  });

  it("warns at async() of a value that is no function, naming it, at the value", () => {
    const cases: [string, string, string][] = [
      [`export const Five = async(5 as any);`, "a numeric literal", "5 as any"],
      [`export const Nil = async((null)!);`, "'null'", "(null)!"],
      [`export const Obj = async({} as any);`, "an object literal expression", "{} as any"],
      [`export const Minus = async(-1 as any);`, "a prefix unary expression", "-1 as any"],
      [`export const Cls = async(class {} as any);`, "a class expression", "class {} as any"],
    ];
    for (const [body, what, at] of cases) {
      const text = `import { async } from "chronots";\n${body}`;
      const { diagnostics } = lowerText("values.ts", text, { typescript: ts });
      expect(diagnostics.map((d) => [d.messageText, text.slice(d.start, d.start! + d.length!)]), body).toEqual([
        [`chronots: this async function is left to the run-time driver: an argument that is no generator function (${what}; async() takes a function*) is not lowered`, at],
      ]);
    }
  });

  it("lowers a generator declared beside its one async() call in place, and warns at every other async(gen)", () => {
    const lowered = [
      `function* a() { return 1; }\nexport const A = async(a);`,
      `export const B = async(b);\nfunction* b() { return 2; }`,
      `export function mk() {\n  function* c() { return 3; }\n  if (mk.length === 0) return async(c);\n}`,
      `{\n  function* d() { return 4; }\n  var D = run(d);\n}`,
      `export const E = C.async((e as any));\nfunction* e(this: unknown, x: number) { return x; }`,
      `const v = function* () { return 5; };\nexport const V = async(v);`,
      `export function mv() {\n  let w = (function* (x: number) { return x; }) as any, W = run(w);\n  return W;\n}`,
      `/* a comment first */ function* commented() {}\nexport const Cm = async(commented);`,
      `// wrap it: async(\nfunction* afterComment() { return 1; }\nexport const Ac = async(afterComment);`,
    ];
    const named = "a name the file uses elsewhere too (a generator lowered in place is named only by its declaration and the call)";
    const warned: [string, string][] = [
      [`function* twice() {}\nexport const T1 = async(twice), T2 = async(twice);`, `'twice', ${named}`],
      [`export function* exported() {}\nexport const X = async(exported);`, "'exported', a generator declared `export`"],
      [`function* listed() {}\nexport const L = async(listed);\nexport { listed };`, `'listed', ${named}`],
      [`function* self(n: number): Generator<any, void, any> { if (n > 0) yield* self(n - 1); }\nexport const S = async(self);`, `'self', ${named}`],
      [`function* outside() {}\nexport function fresh() { return async(outside); }`, "'outside', a generator declared outside the function the call is in, which may run the call more than once for it"],
      [`function* looped() {}\nfor (let i = 0; i < 2; i++) async(looped);`, "'looped', a generator declared outside the loop the call is in, which may run the call more than once for it"],
      [`function* field() {}\nexport class K { m = async(field); }`, "'field', a generator declared outside the class the call is in, which may run the call more than once for it"],
      [`export async function* agen() {}\nexport const G = async(agen);`, "'agen', a generator declared `export async`"],
      [`function* over(a: number): Generator<never, number>;\nfunction* over(a: any) { return a; }\nexport const O = async(over);`, `'over', ${named}`],
      [`function plain() {}\nexport const P = async(plain);`, "a generator function neither written in the async() call nor declared in a block around it"],
      [`switch (0) {\n  case 0:\n    function* inCase() {}\n    async(inCase);\n}`, "a generator function neither written in the async() call nor declared in a block around it"],
      [`export const N = async(function* () {\n  function* inner() {}\n  return yield* async(inner)();\n});`, "'inner', a generator declared inside another generator"],
      [`function* React() {}\nexport const H = async(React);\nexport const el = <div />;`, "'React', a generator named as the JSX factory is"],
      [`export const Early = async(late);\nvar late = function* () {};`, "'late', a variable the call reads before its declaration"],
      [`const own = function* own2() {};\nexport const Own = async(own);`, "'own', a variable holding a generator function of another name"],
      [`export const ev = function* () {};\nexport const Ev = async(ev);`, "'ev', a variable declared `export`"],
      [`const made = [function* () {}][0]!;\nexport const Made = async(made);`, "a generator function neither written in the async() call nor declared in a block around it"],
      [`const arrow = () => 1;\nexport const Arrow = async(arrow);`, "a generator function neither written in the async() call nor declared in a block around it"],
      [`const av = async function* () {};\nexport const Av = async(av);`, "'av', a generator declared `async`"],
      [`const vo = function* () {};\nexport function again() { return async(vo); }`, "'vo', a generator declared outside the function the call is in, which may run the call more than once for it"],
      [`{\n  using uw = function* () {} as any;\n  var U = async(uw);\n}`, "'uw', a variable declared with `using`"],
    ];
    const imports = `import { async as run } from "chronots";\nimport * as C from "chronots";\nimport { async } from "chronots";\n`;
    for (const body of lowered) {
      const text = imports + body;
      const result = lowerText("declared.ts", text, { typescript: ts });
      expect(result.diagnostics, body).toEqual([]);
      const out = applySplices(text, result);
      expect(out, body).not.toContain("function*");
      expect(out.replace(/\/\/.*$/gm, ""), body).not.toMatch(/async\(|run\(/);
      expect(out, body).toMatch(/\.(coroutine|finished)\(/);
    }
    for (const [body, why] of warned) {
      const text = imports + body;
      const { diagnostics } = lowerText(body.includes("<div") ? "declared.tsx" : "declared.ts", text, { typescript: ts });
      // A reason naming the generator is set off by commas, as the other reasons that name a thing are.
      const message = `chronots: this async function is left to the run-time driver: ${why}${why.startsWith("'") ? "," : ""} is not lowered`;
      expect(diagnostics.length, body).toBe(body.split(/async\(|run\(/).length - 1 - (body.includes("async(function* ()") ? 1 : 0));
      for (const d of diagnostics) {
        expect(d.messageText, body).toBe(message);
        expect(text.slice(d.start, d.start! + d.length!)).toMatch(/^[a-zA-Z]+$/);
      }
    }
    // The call is found however it is written, and lowered with its declaration.
    for (const call of ["async /* the worker */ (w)", "async?.(w)", "async<() => Future<number>>(w)", "async((w satisfies unknown) as never)"]) {
      const text = `import { async, type Future } from "chronots";\nfunction* w() { return 1; }\nexport const W = ${call};\n`;
      const result = lowerText("call.ts", text, { typescript: ts });
      expect(result.diagnostics, call).toEqual([]);
      expect(applySplices(text, result), call).toMatch(/^function w\(\) \{$[\s\S]*^export const W = w;$/m);
    }
    // One it cannot lower is warned about once, at the reason.
    const enumText = `${imports}function* withEnum() {\n  enum E { A }\n  return E.A;\n}\nexport const W = async(withEnum);\n`;
    const gaveUp = lowerText("enum.ts", enumText, { typescript: ts });
    expect(gaveUp.diagnostics.map((d) => [d.messageText, enumText.slice(d.start, d.start! + 4)])).toEqual([[expect.stringMatching(/driver: an? .*enum.* is not lowered$/), "enum"]]);
    expect(gaveUp.splices).toEqual([]);
    // A direct eval anywhere in the file could read the generator by its name.
    const withEval = lowerText("eval.ts", `${imports}function* e1() {}\nexport const E1 = async(e1);\nexport function peek(s: string) { return eval(s); }\n`, { typescript: ts });
    expect(withEval.diagnostics.map((d) => d.messageText)).toEqual([expect.stringMatching(/'e1', a generator in a file with a direct eval, which could read it by name, is not lowered$/)]);
    // A call of someone else's async leaves the declaration alone, and says nothing.
    const mine = `import { async as run } from "chronots";\nfunction async(g: unknown) { return g; }\nfunction* gen() { return 1; }\nexport const m = async(gen);\nexport const r = run(function* () {});\n`;
    const other = lowerText("mine.ts", mine, { typescript: ts });
    expect(other.diagnostics).toEqual([]);
    expect(applySplices(mine, other)).toContain("function* gen() { return 1; }\nexport const m = async(gen);");
  });

  it("warns once about a function nested in one the lowering gives up on, and leaves a default that sees a body local to the driver", () => {
    // The outer function is given up on after its inner one was tried (and given up on) as part of it.
    const nested = `import { async, sleepAsync } from "chronots";\nexport const outer = async(function* (o: any) {\n  const inner = async(function* () {\n    delete o?.[yield* sleepAsync(0)];\n  });\n  delete o?.[yield* inner()];\n});\n`;
    const both = lowerText("nested.ts", nested, { typescript: ts }).diagnostics;
    expect(both.map((d) => nested.slice(0, d.start).split("\n").length).sort()).toEqual([4, 6]);
    // Parameters with defaults have a scope of their own: this `x` is the outer one under the driver.
    const defaults = `import { async } from "chronots";\nconst x = "outer";\nexport const w = async(function* (a = () => x) {\n  var x = "body";\n  return a();\n});\n`;
    const seen = lowerText("defaults.ts", defaults, { typescript: ts });
    expect(seen.diagnostics.map((d) => [d.messageText, defaults.slice(0, d.start).split("\n").length])).toEqual([
      ["chronots: this async function is left to the run-time driver: a parameter's default naming 'x', which the body declares, is not lowered", 3],
    ]);
    expect(seen.splices).toEqual([]);
    // Nor can it bind a parameter another one's default reads first, or one the body declares again.
    const left = (params: string, body = "return 0;") => {
      const text = `import { async } from "chronots";\nexport const w = async(function* (${params}) {\n  ${body}\n});\n`;
      return lowerText("params.ts", text, { typescript: ts }).diagnostics.map((d) => `${d.messageText}`.replace(/^.*driver: /, ""));
    };
    expect(left("a = b, b = 1")).toEqual(["a parameter's default reading 'b' before it is bound is not lowered"]);
    expect(left("{ [k]: v }: any, k = 'x'")).toEqual(["a parameter's default reading 'k' before it is bound is not lowered"]);
    // With defaults, a body `var` of a parameter's name is a copy of it (with plain parameters it is the parameter: bindings.ts).
    expect(left("opts: any, n = 1", "var opts = opts || {}; return opts;")).toEqual(["a `var` redeclaring the parameter 'opts' of a function with defaults, rest or patterns in its parameters is not lowered"]);
    expect(left("f: any", "function f() {}\n  return f;")).toEqual(["a function redeclaring the parameter 'f' is not lowered"]);
    expect(left("opts: any", "var opts = opts || {}; return opts;")).toEqual([]);
    expect(left("x = 1", '"use strict"; return x;')).toEqual(['"use strict" in a function with defaults, rest or patterns in its parameters (a syntax error) is not lowered']);
    // What JavaScript allows is lowered: a default reading one bound before it, or any, later, from a function.
    for (const ok of ["x = 1, y = x", "{ a, b = a }: any = {}, c = () => d, d = 1", "c = class { m() { return d; } }, d = 1", "x = 1, f = (x: number) => x"]) expect(left(ok), ok).toEqual([]);
  });

  it("reports a function left to the driver once, also from a loop's body, which its structured copy rewrites twice", () => {
    const text = `import { async, sleepAsync } from "chronots";\nconst o: any = {};\nexport const outer = async(function* () {\n  for (let i = 0; i < 2; i++) {\n    const fs = [async(function* () { return 1; }), async(function* () { delete o?.[yield* sleepAsync(0)]; })];\n    yield* sleepAsync(0);\n  }\n});\n`;
    const result = lowerText("loop.ts", text, { typescript: ts });
    expect(result.diagnostics).toHaveLength(1);
    expect(result.splices).toHaveLength(1);
  });

  it("reads a file of many comments in one pass (no pattern that finds calls or declarations backtracks)", () => {
    const text = Array.from({ length: 400 }, (_, i) => `/** Doc. */\n/* eslint-disable-next-line */\nexport const v${i} = ${i};\n`).join("") + `import { async } from "chronots";\nexport const f = async(function* () {});\n`;
    expect(lowerText("comments.ts", text, { typescript: ts }).splices).toHaveLength(1);
  });

  it("keeps a generator's directives first, so that \"use strict\" still makes the lowered function strict in a sloppy file", () => {
    const fns = [`function* () {\n  "use strict";\n  return typeof this;\n}`, `function* () {\n  return typeof this;\n}`];
    const text = `import { async } from "chronots";\n${fns.map((fn, i) => `export const f${i} = async(${fn});\n`).join("")}`;
    const { splices } = lowerText("sloppy.js", text, { typescript: ts });
    expect(splices).toHaveLength(2);
    // Evaluated as sloppy code, as a CommonJS file without "use strict" is.
    const sloppy = (list: string[]) => new Function("$c", "async", `return [${list.join(", ")}];`)(__chronots, async) as (() => Future<string>)[];
    const driver = sloppy(fns.map((fn) => `async(${fn})`)).map((f) => waitFor(f()));
    const lowered = sloppy(splices.map((s) => s.text)).map((f) => waitFor(f()));
    expect(driver).toEqual(["undefined", "object"]);
    expect(lowered).toEqual(driver);
  });

  it("hoists a function that replaces itself with a writable binding of its name, and a name declared twice once, with its last body", () => {
    const fn = `function* () {
  let runs = 0;
  function init() { init = () => "again"; runs++; return "first"; }
  function twice() { return 1; }
  const first = init();
  yield* sleepAsync(0);
  const second = init();
  function twice() { return 2; }
  let inBlock;
  {
    function inner() { inner = () => "inner again"; return "inner first"; }
    const a = inner();
    yield* sleepAsync(0);
    inBlock = [a, inner(), inner.name];
  }
  return [first, second, runs, init.name, twice(), twice.name, inBlock];
}`;
    const text = `import { async, sleepAsync } from "chronots";\nexport const f = async(${fn});\n`;
    const { splices, diagnostics } = lowerText("hoisted.js", text, { typescript: ts });
    expect(diagnostics).toEqual([]);
    expect(splices).toHaveLength(1);
    for (const mode of ["", '"use strict";']) {
      const run = (source: string) => waitFor((new Function("$c", "async", "sleepAsync", `${mode} return ${source};`)(__chronots, async, sleepAsync) as () => Future<unknown>)());
      const driver = run(`async(${fn})`);
      expect(driver, mode).toEqual(["first", "again", 1, "init", 2, "twice", ["inner first", "inner again", "inner"]]);
      expect(run(splices[0]!.text), mode).toEqual(driver);
    }
  });

  it("names the step function as the generator, or as the variable or plain key its call stands at, where that name is a safe constant", () => {
    const sites = [
      ["const work = async(GEN);", "work"],
      ["const o = { handle: async(GEN) };", "handle"],
      ["class K { run = async(GEN); }", "run"],
      ["const named = async(function* inner() { yield* sleepAsync(1); return 1; });", "inner"],
      ['const o = { "a-b": async(GEN), 1: async(GEN), default: async(GEN), exports: async(GEN), require: async(GEN), Object: async(GEN), [`k`]: async(GEN) };', undefined],
      ["class K { #h = async(GEN); static new = async(GEN); }", undefined],
      ["const rec = async(function* () { yield* sleepAsync(1); return rec; });", undefined],
    ] as const;
    for (const [site, name] of sites) {
      const text = `import { async, sleepAsync } from "chronots";\n${site.replaceAll("GEN", "function* () { yield* sleepAsync(1); return 1; }")}\n`;
      const { splices, diagnostics } = lowerText("names.ts", text, { typescript: ts });
      expect(diagnostics, site).toEqual([]);
      for (const sp of splices) {
        const js = ts.transpile(sp.text, { target: ts.ScriptTarget.ES2022 });
        expect(() => new Function("$c", "sleepAsync", `"use strict"; return ${js}`), site).not.toThrow();
        expect(/const (\S+) = \$a =>/.exec(sp.text)?.[1], site).toBe(name ?? "$step");
      }
    }
  });

  it("says at load when a module of the user's listed in 'modules' does not re-export chronots' runtime", () => {
    const text = `import { async } from "./mine.js";\nexport const f = async(function* () { return 1; });\n`;
    const { prelude } = lowerText("/proj/src/a.ts", text, { typescript: ts, modules: ["./mine.js"] });
    expect(prelude.split("\n")).toHaveLength(2);
    const load = (ns: string) => () => new Function(prelude.replace(/^import \* as (\S+) from "\.\/mine\.js";/, `const $1 = ${ns};`))();
    expect(load("{ async() {} }")).toThrow(new TypeError(`chronots: './mine.js', listed in 'modules', must re-export all of chronots (export * from "chronots"): the lowered code reads its runtime from it`));
    expect(load("{ __chronots: {} }")).not.toThrow();
    expect(lowerText("a.ts", text.replace("./mine.js", "chronots"), { typescript: ts }).prelude).not.toContain("throw");
  });

  it("keeps the comments around the generator in the call, before a taken-apart block's closing brace and before a case label, once each", () => {
    const text = `import { async, sleepAsync } from "chronots";
export const f = async(/* before */ function* (n: number) {
  for (let i = 0; i < n; i++) {
    yield* sleepAsync(0);
    // end of the loop body
  }
  switch (n) {
    case 1:
      yield* sleepAsync(1);
      break;
    // before default
    default:
      n++;
  }
  return n;
} /* after */);
`;
    const { splices, diagnostics } = lowerText("comments.ts", text, { typescript: ts });
    expect(diagnostics).toEqual([]);
    const out = splices[0]!.text;
    for (const c of ["/* before */ function", "// end of the loop body", "// before default", "} /* after */"]) expect(out.split(c), c).toHaveLength(2);
    // A generator naming itself is printed inside the lowered function as well, with its comments.
    const self = `import { async, sleepAsync } from "chronots";\nexport const g = async(/* S */ function* fact(n: number): Generator<any, number, any> {\n  yield* sleepAsync(0);\n  return n <= 1 ? 1 : n * (yield* fact(n - 1));\n} /* E */);\n`;
    const printed = lowerText("self.ts", self, { typescript: ts }).splices[0]!.text;
    for (const c of ["/* S */", "/* E */"]) expect(printed.split(c), c).toHaveLength(2);
    expect(out).toMatch(/\/\/ before default\n\s*case \d+: n\+\+;/);
  });

  it("leaves to the driver the syntax errors TypeScript's parser lets through: a redeclaration in one scope, a const without a value", () => {
    const cases: [string, string, string?][] = [
      ["let [a, a] = yield* sleepAsync(0);", "'a' declared twice in one scope (a syntax error)"],
      ["let p = 1;\n  yield* sleepAsync(0);", "'p' declared twice in one scope (a syntax error)"],
      ["switch (p) {\n    case 1: let x = 1; break;\n    case 2: let x = 2;\n  }\n  yield* sleepAsync(0);", "'x' declared twice in one scope (a syntax error)"],
      ["const x;\n  yield* sleepAsync(0);", "a const without a value (a syntax error)"],
      ["switch (p) {\n    default: yield* sleepAsync(0); break;\n    case 1: break;\n    default: break;\n  }", "more than one default clause in a switch (a syntax error)"],
      ["const o = { a = yield* sleepAsync(0) };\n  return o;", "a shorthand property with an initializer in an object literal (a syntax error)"],
      ["let a;\n  [a = { b = 1 }] = [yield* sleepAsync(0)];", "a shorthand property with an initializer in an object literal (a syntax error)"],
      ["for (let i of [1]) {\n    var i;\n    yield* sleepAsync(0);\n  }", "a `var` redeclaring 'i', which a block around it declares with let (a syntax error)"],
      ["{\n    let x;\n    {\n      var x = yield* sleepAsync(0);\n    }\n  }", "a `var` redeclaring 'x', which a block around it declares with let (a syntax error)"],
      ["switch (p) {\n    case 1: const y = 1; break;\n    case 2: for (var y of []);\n  }\n  yield* sleepAsync(0);", "a `var` redeclaring 'y', which a block around it declares with const (a syntax error)"],
      ["{\n    class C {}\n    var [C] = [yield* sleepAsync(0)];\n  }", "a `var` redeclaring 'C', which a block around it declares with class (a syntax error)"],
      ["{\n    function h() {}\n    var h;\n  }\n  yield* sleepAsync(0);", "a `var` redeclaring 'h', which a block around it declares with function (a syntax error)"],
      ["try {\n    yield* sleepAsync(0);\n  } catch ({ e }) {\n    var e;\n  }", "a `var` redeclaring 'e', which a block around it declares with its catch clause (a syntax error)"],
      // Declarations only a module's top level may have, or no statement in a function; TypeScript's own modifiers and import aliases, which its emit drops or makes a var, in a TypeScript file.
      ["export const x = yield* sleepAsync(0);\n  return x;", "the modifier 'export' on a declaration in a function (a syntax error)"],
      ["yield* sleepAsync(0);\n  export default function q() {}", "the modifier 'export' on a declaration in a function (a syntax error)"],
      ["async const w = yield* sleepAsync(0);\n  return w;", "the modifier 'async' on a declaration that is no function (a syntax error)"],
      ["static let w = yield* sleepAsync(0);\n  return w;", "the modifier 'static' on a declaration in a function (a syntax error)"],
      ["import x from \"node:fs\";\n  yield* sleepAsync(0);", "an import declaration in a function (a syntax error)"],
      ["yield* sleepAsync(0);\n  export { p };", "an export declaration in a function (a syntax error)"],
      ["declare let q: number;\n  yield* sleepAsync(0);\n  return q;", "the modifier 'declare' on a declaration in a function (an error TypeScript reports)", "errors.ts"],
      ["public const w = yield* sleepAsync(0);\n  return w;", "the modifier 'public' on a declaration in a function (an error TypeScript reports)", "errors.ts"],
      ["import z = p.a;\n  yield* sleepAsync(0);\n  return z;", "an import alias (import x = …) in a function (an error TypeScript reports)", "errors.ts"],
      // Assignment targets V8 rejects at load, and a call as a loop's target, whose ReferenceError the lowered loop words otherwise.
      ["yield* sleepAsync(0);\n  new.target = 1;", "new.target as an assignment target (a syntax error)"],
      ["let a;\n  ([a]) = yield* sleepAsync(0);", "a destructuring pattern in parentheses (a syntax error)"],
      ["let a;\n  ({ ...{ a } } = { a: yield* sleepAsync(0) });", "a destructuring pattern as an object rest's target (a syntax error)"],
      ["for (new.target of [1]) yield* sleepAsync(0);", "new.target as a for-in/of loop's target (a syntax error)"],
      ["let k = 0;\n  for (k++ of [1]) yield* sleepAsync(0);", "an expression that is no reference as a for-in/of loop's target (a syntax error)"],
      ["for (p() of [1]) yield* sleepAsync(0);", "a call as a for-in/of loop's target (a ReferenceError when the loop runs)"],
      // Strict code (a module), where these are syntax errors the lowering would hide: deleting a name an environment object holds is false, labels become states, a binding is renamed, a tag becomes a callee.
      ["for (let i = 0; i < 1; i++) {\n    (() => i);\n    yield* sleepAsync(0);\n    delete (i);\n  }", "delete of a plain name in strict code (a syntax error)"],
      ["a: a: {\n    yield* sleepAsync(0);\n    break a;\n  }", "a label 'a' inside a label of the same name (a syntax error)"],
      ["for (let static = 0; static < 2; static++) {\n    (() => static);\n    yield* sleepAsync(0);\n  }", "a binding named static in strict code (a syntax error)"],
      ["static: for (;;) {\n    yield* sleepAsync(0);\n    break static;\n  }", "a label named static in strict code (a syntax error)"],
      ["yield* sleepAsync(0);\n  return p?.tag`z`;", "a tagged template in an optional chain (a syntax error)"],
      // In a module, await too.
      ["for (let await = 0; await < 2; await++) {\n    (() => await);\n    yield* sleepAsync(0);\n  }", "a binding named await in a module (a syntax error)"],
    ];
    for (const [body, why, file = "errors.js"] of cases) {
      const text = `import { async, sleepAsync } from "chronots";\nexport const g = async(function* (p) {\n  ${body}\n});\n`;
      const { splices, diagnostics } = lowerText(file, text, { typescript: ts });
      expect(splices, body).toEqual([]);
      expect(diagnostics.map((d) => d.messageText), body).toEqual([`chronots: this async function is left to the run-time driver: ${why} is not lowered`]);
    }
    const valid = ["var x; var x;", "function f() {}\n  function f() {}", "let x = 1;\n  { let x = 2; }", "for (let i = 0; i < 1; i++) { let i = 5; }", "for (const k of [1]) {}", "(p?.tag)`z`;", "a: { b: { break a; } }\n  a: { const f = () => { a: { break a; } }; }", "const o = { static: 1, let: 2 };\n  o.static; o.let;", "let a, c;\n  ({ a = 1, b: { c = 2 } = {} } = {});\n  [{ a = 3 }] = [{}];\n  for ({ a = 4 } of [{}]);\n  (({ a = 5 }) => a)({});", "{\n    let v;\n    (function () { var v; });\n  }\n  function w(v) { { var v; } }", "async function a() {}\n  class K { static s = 1; async m() {} }", "let a, b;\n  [(a), ...[b]] = [1, [2]];\n  ({ x: (a), ...b } = { x: 1 });\n  (p.q) = 1;\n  if (!p) p() = 1, ++p();"];
    for (const body of valid) {
      const text = `import { async, sleepAsync } from "chronots";\nexport const g = async(function* (p) {\n  ${body}\n  yield* sleepAsync(0);\n});\n`;
      expect(lowerText("valid.js", text, { typescript: ts }), body).toMatchObject({ diagnostics: [], splices: [expect.anything()] });
    }
  });

  it("leaves sloppy code's arguments.callee, the generator under the driver, to the driver; a nested function's own is lowered (and a binding's named arguments in sloppy code: lowering-tspc.test.ts)", () => {
    const fns = ["function* () {\n  return arguments.callee.length;\n}", "function* () {\n  return (() => arguments.callee)();\n}", "function* () {\n  return function () { return arguments.callee; };\n}"];
    const text = `import { async } from "chronots";\n${fns.map((fn, i) => `export const f${i} = async(${fn});\n`).join("")}`;
    const { splices, diagnostics } = lowerText("callee.js", text, { typescript: ts });
    expect(diagnostics.map((d) => `${d.messageText}`.replace(/^.*driver: /, ""))).toEqual(["arguments.callee is not lowered", "arguments.callee is not lowered"]);
    expect(splices.map((s) => text.slice(s.start, s.end))).toEqual([`async(${fns[2]})`]);
  });

  it("gives no name of its own that the program holds: a `$` after a non-ASCII letter, or written as an escape", () => {
    const fn = `function* () {\n  let ä = 1;\n  yield* sleepAsync(0);\n  ä++;\n  yield* sleepAsync(0);\n  return [ä, ä$, \\u0024step];\n}`;
    const module = `const ä$ = "the module's a-umlaut";\nconst \\u0024step = "the module's step";\n`;
    const text = `import { async, sleepAsync } from "chronots";\n${module}export const f = async(${fn});\n`;
    const { splices, prelude } = lowerText("names.js", text, { typescript: ts });
    expect(splices).toHaveLength(1);
    const runtime = /var (\S+) = /.exec(prelude)![1]!;
    const run = (src: string) => waitFor(new Function(runtime, "async", "sleepAsync", `${module}return ${src};`)(__chronots, async, sleepAsync)());
    const driver = run(`async(${fn})`);
    expect(driver).toEqual([2, "the module's a-umlaut", "the module's step"]);
    expect(run(splices[0]!.text)).toEqual(driver);
  });

  it("warns at the argument of async(gen), a generator it cannot see, through any import, and not about other calls of that name", () => {
    const text = [
      `import { async as run } from "chronots";`,
      `import * as C from "chronots";`,
      `function* gen() { return 1; }`,
      `const a = run(gen);`,
      `const b = C.async(gen);`,
      `const c = run(function* () { return yield* run(gen)(); });`,
      `const d = ((async: (g: unknown) => unknown) => async(gen))(String);`,
    ].join("\n");
    const { splices, diagnostics } = lowerText("byname.ts", text, { typescript: ts });
    expect(splices.map((s) => text.slice(s.start, s.end).slice(0, 8))).toEqual(["run(func"]);
    const where = diagnostics.map((d) => [text.slice(0, d.start).split("\n").length, text.slice(d.start, d.start! + d.length!)]);
    expect(where).toEqual([[4, "gen"], [5, "gen"], [6, "gen"]]);
    for (const d of diagnostics) expect(d.messageText).toBe("chronots: this async function is left to the run-time driver: 'gen', a name the file uses elsewhere too (a generator lowered in place is named only by its declaration and the call), is not lowered");
    const superUse = lowerText("super.ts", `import { async } from "chronots";\nconst s = async(function* () {\n  return super.toString();\n});\nconst ok = async(function* () {\n  return { m() { return super.toString(); } }.m();\n});\n`, { typescript: ts });
    expect(superUse.diagnostics.map((d) => d.messageText)).toEqual(["chronots: this async function is left to the run-time driver: super, which no function expression can use (a syntax error TypeScript reports too), is not lowered"]);
    expect(superUse.splices).toHaveLength(1);
    const instantiation = lowerText("inst.ts", `import { async, sleepAsync } from "chronots";\nconst g = async(function* () {\n  return (yield* sleepAsync(0), Array)<number>;\n});\n`, { typescript: ts }).diagnostics;
    expect(instantiation.map((d) => d.messageText)).toEqual(["chronots: this async function is left to the run-time driver: a suspension inside an instantiation expression (f<T>) is not lowered"]);
    const asyncGenerator = lowerText("agen.ts", `import { async } from "chronots";\nconst g = async(async function* () {});\n`, { typescript: ts }).diagnostics;
    expect(asyncGenerator.map((d) => d.messageText)).toEqual([expect.stringMatching(/driver: an async generator function \(async\(\) takes a function\*\) is not lowered$/)]);
    const notGenerators = lowerText("plain.ts", `import { async } from "chronots";\nconst a = async((x: number) => x + 1);\nconst b = async(function () {});\n`, { typescript: ts }).diagnostics;
    expect(notGenerators.map((d) => d.messageText)).toEqual(Array(2).fill("chronots: this async function is left to the run-time driver: a function that is not a generator (async() takes a function*) is not lowered"));
  });

  it("leaves JSX to the driver next to a local named as its factory (pragma, option or React), which the JSX transform refers to by name", () => {
    const body = (local: string) => `import { async, sleepAsync } from "chronots";\nexport const f = async(function* () {\n  const ${local} = (...a: unknown[]) => a;\n  yield* sleepAsync(0);\n  return <p>{${local}.length}</p>;\n});\n`;
    const left = (text: string, jsxFactories?: string[]) => lowerText("f.tsx", text, { typescript: ts, jsxFactories }).diagnostics.map((d) => String(d.messageText));
    expect(left(`/** @jsx h */\n${body("h")}`)).toEqual([expect.stringMatching(/left to the run-time driver: JSX next to a local named 'h', as the JSX factory is,/)]);
    const pragma = `/** @jsx h */\n${body("h")}`;
    const at = lowerText("f.tsx", pragma, { typescript: ts }).diagnostics[0]!.start!;
    expect(pragma.slice(at, at + 8)).toBe("h = (...");
    expect(left(body("React"))).toHaveLength(1);
    expect(left(body("h"), ["h"])).toHaveLength(1);
    expect(left(body("h"))).toEqual([]);
    expect(left(`/** @jsx h */\n${body("g")}`)).toEqual([]);
  });

  it("puts the prelude after a hashbang, the comments and the directives a file starts with, before any other code", () => {
    const call = `import { async } from "chronots";\nexport const f = async(function* () { return 1; });\n`;
    const at = (text: string) => {
      const r = lowerText("p.tsx", text, { typescript: ts });
      return applySplices(text, r).slice(0, r.preludeAt + r.prelude.length);
    };
    const prelude = `import * as $cns from "chronots"; var $c = $cns.__chronots; function $cinit() { return $c = $cns.__chronots; }\n`;
    expect(at(`/** @jsx h */\n// more\n${call}`)).toBe(`/** @jsx h */\n// more\n${prelude}`);
    expect(at(`#!/usr/bin/env node\n${call}`)).toBe(`#!/usr/bin/env node\n${prelude}`);
    expect(at(call)).toBe(prelude);
    // Code after the comment on its line may use the runtime object: the prelude goes before it.
    expect(at(`/* c */ ${call}`)).toBe(`/* c */\n${prelude}`);
    expect(lowerText("p.tsx", `/* c */ const nothing = 1;`, { typescript: ts }).prelude).toBe("");
    // A directive prologue stays first, or it would stop being one ("use client" for a bundler, "use strict").
    expect(at(`// c\n"use client";\n'use strict'; // why\n${call}`)).toBe(`// c\n"use client";\n'use strict';\n${prelude}`);
    expect(at(`("not a directive");\n${call}`)).toBe(prelude);
  });

  it("keeps a statement's comments before its first piece, on a line of their own, not inside an operand taken out of it into a temp", () => {
    const text = `import { async, sleepAsync } from "chronots";
export const f = async(function* (n: number) {
  const sum = { s: 0 };
  for (let i = 0; i < n; i++) {
    // add the next one
    sum.s += yield* sleepAsync(i);
  }
  return sum.s;
});
`;
    const out = lower(text).splices[0]!.text;
    // Once in the structured copy, once in the states; each time on its own line before the assignment.
    expect(out.match(/\/\/ add the next one/g)).toHaveLength(2);
    expect(out).not.toMatch(/=\s*\/\/ add the next one/);
    expect(out).toMatch(/\/\/ add the next one\n\s*\$t0 = sum;/);
  });

  it("prints the comments before a statement split at a suspension once, before its first piece, and keeps the body's last", () => {
    const text = `import { async, sleepAsync } from "chronots";
export const f = async(function* (n: number) {
  // wait first
  yield* sleepAsync(n); // then
  /* and return */
  return n;
  // after the last statement
});
`;
    const out = lower(text).splices[0]!.text;
    // One written after the last statement ends the lowered function.
    expect(out).toMatch(/return \$r;\n\s*\}\n\s*\/\/ after the last statement\n\s*\} \}\)\[""\]\)$/);
    expect(out.match(/\/\/ wait first/g)).toHaveLength(1);
    expect(out).toMatch(/\/\/ wait first\n\s*\$f = sleepAsync\(n\);/);
    // What follows the suspension is printed twice, in the structured copy the call starts in and in the state it
    // resumes at, each with its comments once; the statement before it only in the copy (state 0 is the copy's).
    expect(out.match(/\/\/ then/g)).toHaveLength(2);
    // A declaration taken apart keeps what stands before its keyword.
    const declared = lower(`import { async, sleepAsync } from "chronots";\nexport const g = async(function* () {\n  /* istanbul ignore next */ const v = yield* sleepAsync(1);\n  return v;\n});\n`).splices[0]!.text;
    expect(declared).toMatch(/\/\* istanbul ignore next \*\/ \$f = sleepAsync\(1\);/);
    expect(out.match(/\/\* and return \*\//g)).toHaveLength(2);
  });

  it("prints the comments of a compound or logical assignment taken apart once each, and keeps the one after it when its last piece is dropped", () => {
    const text = `import { async, sleepAsync } from "chronots";
export const f = async(function* (o: { x?: number }) {
  let y: number | undefined;
  /* first */ y ??= yield* sleepAsync(1) /* operand */;
  o.x ||= yield* sleepAsync(2); // after the assignment
  /* third */ y += yield* sleepAsync(3);
  return y;
});
`;
    const out = lower(text).splices[0]!.text;
    for (const c of ["/* first */", "/* operand */", "// after the assignment", "/* third */"]) expect(out.split(c), c).toHaveLength(2);
    expect(out).toMatch(/\/\* first \*\/ \$t0 = y;/);
    expect(out).toMatch(/\$t\d = \$t\d\.x = \(\$f\._state === 1 \? \$f\._result : \$f\.read\(\)\); \/\/ after the assignment/);
  });

  it("leaves a function holding a decorated class to the driver: a lowered class declaration is a class expression, where legacy decorators are dropped", () => {
    const bodies = [
      `@deco("cls") class K {}`,
      `class K { @deco("m") m() {} }`,
      `class K { @deco("p") p = 1; }`,
      `class K { constructor(@deco("arg") a: number) {} }`,
      `const K = class { @deco(yield* sleepAsync(1)) static s = 1; };`,
    ];
    for (const body of bodies) {
      const text = `import { async, sleepAsync } from "chronots";\nconst deco = (tag: unknown) => (..._: unknown[]) => {};\nexport const f = async(function* () {\n  yield* sleepAsync(0);\n  ${body}\n  return K;\n});\n`;
      const { splices, diagnostics } = lowerText("deco.ts", text, { typescript: ts });
      expect(splices, body).toEqual([]);
      expect(diagnostics.map((d) => [d.messageText, text.slice(d.start, d.start! + 5)]), body).toEqual([[expect.stringMatching(/driver: a decorator is not lowered$/), "@deco"]]);
    }
  });

  it("leaves to the driver a class whose computed name using its own private names would be evaluated before the class", () => {
    const body = (keys: string) => `import { async, sleepAsync } from "chronots";\nexport const f = async(function* (o: object) {\n  class A {\n    #x = 1;\n    ${keys}\n  }\n  return Object.getOwnPropertyNames(A.prototype).join();\n});\n`;
    // Moved out of the class, `#x` would be a SyntaxError, or an enclosing class's `#x`.
    const before = body(`[#x in o ? "y" : "n"]() {}\n    [(yield* sleepAsync(0), "k")]() {}`);
    const refused = lowerText("private.ts", before, { typescript: ts });
    expect(refused.splices).toEqual([]);
    expect(refused.diagnostics.map((d) => [d.messageText, before.slice(d.start, d.start! + 7)])).toEqual([
      ["chronots: this async function is left to the run-time driver: a computed member name using its class's private names, evaluated before the class because it or a later name suspends is not lowered", "#x in o"],
    ]);
    // After the last name that suspends, it stays in the class; another class's private name is not this one's.
    const after = body(`[(yield* sleepAsync(0), "k")]() {}\n    [#x in o ? "y" : "n"]() {}`);
    const outer = `import { async, sleepAsync } from "chronots";\nclass B {\n  #y = 2;\n  static f = async(function* (o: object) {\n    class A {\n      [#y in o ? "y" : "n"]() {}\n      [(yield* sleepAsync(0), "k")]() {}\n    }\n    return Object.getOwnPropertyNames(A.prototype).join();\n  });\n}\n`;
    for (const text of [after, outer]) expect(lowerText("private.ts", text, { typescript: ts }), text).toMatchObject({ diagnostics: [], splices: [expect.anything()] });
  });

  it("sees the generator's arguments in the computed names of a named class expression: arguments.callee there is left to the driver", () => {
    const text = `import { async, sleepAsync } from "chronots";\nexport const f = async(function* () {\n  const C = class K { [arguments.callee.name]() {} };\n  yield* sleepAsync(0);\n  return C;\n});\n`;
    const { splices, diagnostics } = lowerText("callee.js", text, { typescript: ts });
    expect(splices).toEqual([]);
    expect(diagnostics.map((d) => [d.messageText, text.slice(d.start, d.start! + 16)])).toEqual([["chronots: this async function is left to the run-time driver: arguments.callee is not lowered", "arguments.callee"]]);
  });

  it("leaves to the driver a var JavaScript binds elsewhere, a block's function named outside it, and a write to the generator's own name", () => {
    const cases: [string, string][] = [
      [`try {\n    throw 1;\n  } catch (err) {\n    var err = 2;\n  }`, "a `var` redeclaring the catch parameter 'err'"],
      [`var arguments;`, "a declaration named arguments"],
      [`function arguments() {}`, "a declaration named arguments"],
      [`{\n    let arguments = 1;\n  }`, "a declaration named arguments"],
      [`(eval)("1");`, "a direct eval"],
      [`switch (log) {\n    case 1:\n      using s = null;\n      yield* sleepAsync(1);\n  }`, "a 'using' declaration in a case clause of a switch that suspends"],
      [`arguments["callee"];`, "arguments.callee"],
      [`h = 1;`, "an assignment to the generator's own name 'h'"],
      [`var let = 1;`, "a declaration named let (sloppy code)"],
      [`function let() {}`, "a declaration named let (sloppy code)"],
      [`for (var k = 1 in {}) log(k);`, "a for-in variable with an initializer (sloppy code, a syntax error in strict code)"],
    ];
    for (const [body, why] of cases) {
      const text = `import { async, sleepAsync } from "chronots";\nexport const h = async(function* h(log) {\n  yield* sleepAsync(0);\n  ${body}\n});\n`;
      const { splices, diagnostics } = lowerText("quirks.js", text, { typescript: ts });
      expect(splices, body).toEqual([]);
      expect(diagnostics.map((d) => d.messageText), body).toEqual([`chronots: this async function is left to the run-time driver: ${why} is not lowered`]);
    }
    // A block's function named only inside the block is lowered, and so are a switch's resources when it does not suspend (a function expression named arguments, in sloppy code: lowering-tspc.test.ts).
    const text = `import { async, sleepAsync } from "chronots";\nexport const g = async(function* () {\n  {\n    function helper() { return 1; }\n    yield* sleepAsync(0);\n    return helper();\n  }\n});\n`;
    expect(lowerText("block.js", text, { typescript: ts }).splices).toHaveLength(1);
    // So is one named outside too in strict code (a module's), where it binds in its block only (async.test.ts runs one).
    const strict = `import { async, sleepAsync } from "chronots";\nexport const g = async(function* () {\n  function helper() { return 0; }\n  {\n    function helper() { return 1; }\n    yield* sleepAsync(0);\n  }\n  return helper();\n});\n`;
    expect(lowerText("strict.js", strict, { typescript: ts })).toMatchObject({ diagnostics: [], splices: [expect.anything()] });
    const kept = `import { async, sleepAsync } from "chronots";\nexport const g = async(function* (k) {\n  yield* sleepAsync(0);\n  switch (k) {\n    case 1:\n      using r = null;\n  }\n});\n`;
    expect(lowerText("kept.js", kept, { typescript: ts })).toMatchObject({ diagnostics: [], splices: [expect.anything()] });
  });

  it("leaves a function holding a for await or an await using to the driver, with a warning at the construct, whether or not it suspends there", () => {
    const cases: [string, string, string][] = [
      ["for await (const x of log) log(x);", "a 'for await' loop", "for await"],
      ["for await (const x of log) {\n    yield* sleepAsync(x);\n  }", "a 'for await' loop", "for await"],
      ["await using r = log;", "an 'await using' declaration", "await using"],
    ];
    for (const [body, why, at] of cases) {
      const text = `import { async, sleepAsync } from "chronots";\nexport const f = async(function* (log) {\n  yield* sleepAsync(0);\n  ${body}\n});\n`;
      const { splices, diagnostics } = lowerText("awaits.js", text, { typescript: ts });
      expect(splices, body).toEqual([]);
      expect(diagnostics.map((d) => [d.messageText, text.slice(d.start, d.start! + at.length)]), body).toEqual([[`chronots: this async function is left to the run-time driver: ${why} is not lowered`, at]]);
    }
    // A real async function in the body may hold one: it is copied as it is.
    const nested = `import { async, sleepAsync } from "chronots";\nexport const f = async(function* (log) {\n  yield* sleepAsync(0);\n  return async function () { for await (const x of log) log(x); };\n});\n`;
    expect(lowerText("nested.js", nested, { typescript: ts })).toMatchObject({ diagnostics: [], splices: [expect.anything()] });
  });

  it("names an anonymous class a 'using' declaration holds, as the language and TypeScript's own downlevel do", () => {
    // Vite's transform does not name it, so the fixtures cannot compare this across modes.
    const holder = "using named = class { static [Symbol.dispose]() {} };";
    const { splices, diagnostics } = lower(
      `import { async } from "chronots";\nexport const p = async(function* () { ${holder} return named.name; });\nexport const m = async(function* (g: () => any) { ${holder} yield* g(); return named.name; });\n`,
    );
    expect(diagnostics).toEqual([]);
    const [plain, machine] = splices.map((x) => new Function("$c", `return ${ts.transpile(x.text, { target: ts.ScriptTarget.ES2022 })};`)(__chronots));
    const done = new Future<number>();
    done.complete(1);
    expect([waitFor(plain()), waitFor(machine(() => done))]).toEqual(["named", "named"]);
  });

  it("fails the call with a TypeError saying what a 'using' declaration was given", () => {
    const { splices } = lower(`import { async } from "chronots";\nexport const f = async(function* (v: any) { using r = v; return 1; });\n`);
    const fn = new Function("$c", `return ${ts.transpile(splices[0]!.text, { target: ts.ScriptTarget.ES2022 })};`)(__chronots);
    expect(() => waitFor(fn(7))).toThrow(new TypeError("Object expected."));
    expect(() => waitFor(fn({}))).toThrow(new TypeError("Object not disposable."));
    expect(waitFor(fn(null))).toBe(1);
  });

  it("does not throw on malformed TypeScript", () => {
    for (const text of [
      `import { async } from "chronots"; async(function* () { yield* ; if ( }`,
      `import { async } from "chronots"; async(function* (a = ) { for (const of) { yield* x } }`,
      `import { async } from "chronots"; async(function* () { try { yield* f } catch (`,
      `import { async } from "chronots"; async(function* () { break; continue nowhere; return yield* g; }`,
      "\u0000\uffff import async",
    ])
      expect(() => lower(text)).not.toThrow();
    for (const text of [
      `import { async } from "chronots"; async(function* () { return <div>{yield* }</div>; })`,
      `import { async } from "chronots"; async(function* () { return <A x={yield* f}><b></A>; })`,
      `import { async } from "chronots"; async(function* () { return <{yield* f} />; })`,
      `import { async } from "chronots"; async(function* () { return <a.b:c {...} />; })`,
    ])
      expect(() => lowerText("odd.tsx", text, { typescript: ts })).not.toThrow();
  });

  it("lowers a function of 5000 statements, and it computes what the driver computes", { timeout: 300_000 }, () => {
    const body = Array.from({ length: 5000 }, (_, i) => `  s += (yield* leaf(${i})) + ${i % 7};`).join("\n");
    const text = `import { async, waitFor } from "chronots";\nconst leaf = async(function* (i: number) { return i; });\nexport const big = async(function* () {\n  let s = 0;\n${body}\n  return s;\n});\n`;
    const result = lower(text);
    expect(result.diagnostics).toEqual([]);
    const js = applySplices(text, result);
    const big = evaluate(result.splices);
    const expected = Array.from({ length: 5000 }, (_, i) => i + (i % 7)).reduce((a, b) => a + b, 0);
    expect(waitFor(big())).toBe(expected);
    expect(js).toContain("var $c = $cns.__chronots;");
  });

  it("runs the first step of a body no nested function shares locals with in the lowered function itself, and makes the machine only when it must wait", () => {
    const head = `import { async } from "chronots";\nconst leaf = async(function* (i: number) { return i; });\n`;
    const lazy = lower(`${head}export const f = async(function* (n: number) {\n  let s = 0;\n  if (n > 2) s = yield* leaf(n);\n  return s + (yield* leaf(1));\n});\n`);
    expect(lazy.diagnostics).toEqual([]);
    const text = lazy.splices[1]!.text;
    expect(text).not.toContain(".coroutine(");
    // The first step returns finished futures; the function taking over is made after it, where the copy hands over.
    expect(text.indexOf('return $c.finished("", ')).toBeGreaterThan(0);
    expect(text.indexOf(".handoff(")).toBeGreaterThan(text.indexOf('return $c.finished("", '));
    // A pending await returns the call of the function that takes the call over, given the parameter and the locals.
    expect(text).toMatch(/if \(\$f\._state === 0\)\s*return f\.call\(this, \d+, \$f, n, s(, \$t0)?\);/);
    // Awaits that finish at once, and ones that wait (the machine takes the locals over at each).
    const run = (leaf: (i: number) => Future<number>, n: number) => waitFor((new Function("$c", "leaf", `return ${ts.transpile(text, { target: ts.ScriptTarget.ES2022 })};`)(__chronots, leaf) as (n: number) => Future<number>)(n));
    const waiting = async(function* (i: number) {
      yield* sleepAsync(0);
      return i;
    });
    const ready = (i: number) => __chronots.finished("", i);
    expect([run(ready, 1), run(ready, 3), run(waiting, 1), run(waiting, 3)]).toEqual([1, 4, 1, 4]);
    // A local a closure captures, or `arguments`, keeps the closure made first.
    for (const body of ["let s = 0;\n  const get = () => s;\n  s = yield* leaf(n);\n  return get();", "return (yield* leaf(n)) + arguments.length;"]) {
      const kept = lower(`${head}export const f = async(function* (n: number) {\n  ${body}\n});\n`);
      expect(kept.diagnostics).toEqual([]);
      expect(kept.splices[1]!.text).toContain(".coroutine(");
      expect(kept.splices[1]!.text).not.toContain(".handoff(");
    }
  });

  it("hands a call over to the machine where its callee is an optional chain in parentheses and its arguments suspend", () => {
    // The chain is taken apart link by link to keep `this`: branches of the machine's own, which the structured copy does not hold.
    const text = `import { async } from "chronots";\nconst leaf = async(function* (i: number) { return i; });\nexport const f = async(function* () {\n  const o: { m?(x: number): number; k: number } | undefined = { k: 2, m(x) { return x * this.k; } };\n  let s = 0;\n  for (let i = 0; i < 3; i++) s += (o?.m)!(yield* leaf(i));\n  return s;\n});\n`;
    const result = lower(text);
    expect(result.diagnostics).toEqual([]);
    expect(result.splices[1]!.text).toMatch(HANDS_OVER);
    expect(waitFor(evaluate(result.splices)())).toBe(6);
  });

  it("keeps a try in a loop in the structured copy, its catch and a throw's finally in the machine, and leaves the copy for the finally body on a jump through it", () => {
    const loop = (block: string, after = "") => `  for (let i = 0; i < 4; i++) {\n    try {\n      ${block}\n    } catch {\n      s--;\n    } finally {\n      s *= 2;\n    }${after}\n  }\n`;
    const text = `import { async } from "chronots";\nconst leaf = async(function* (i: number) { if (i === 2) throw new Error("two"); return i; });\nexport const kept = async(function* () {\n  let s = 0;\n${loop("s += yield* leaf(i);")}  return s;\n});\nexport const left = async(function* () {\n  let s = 0;\n${loop("s += yield* leaf(i);\n      if (i === 3) break;")}  return s;\n});\n`;
    const result = lower(text);
    expect(result.diagnostics).toEqual([]);
    const [kept, left] = [result.splices[1]!.text, result.splices[2]!.text].map((x) => x.slice(x.indexOf("$fast: {"), x.indexOf("$loop:")));
    expect(kept).toMatch(/for \(; i < 4; i\+\+\) \{\s*\$h = \d+;\s*\$f = leaf\(i\);[^]*\$ck0 = 0;\s*\$h = 0;\s*\{\s*s \*= 2;\s*\}\s*\}/);
    expect(kept).not.toMatch(HANDS_OVER);
    expect(kept).not.toContain("s--");
    // The break through the finally: its completion set, then on in the machine's finally body.
    expect(left).toMatch(/if \(i === 3\) \{\s*\$ck0 = \d+;\s*\$h = 0;\s*\$f = void 0;\s*\$s = \d+;\s*break \$fast;\s*\}/);
    const [leaf, keptFn, leftFn] = result.splices;
    expect([waitFor(evaluate([leaf!, keptFn!])()), waitFor(evaluate([leaf!, leftFn!])())]).toEqual([10, 10]);
  });

  it("keeps a for…of whose body suspends in the structured copy, its iterator closed on a break and a return as the machine closes it", () => {
    const text = `import { async } from "chronots";\nconst leaf = async(function* (i: number) { return i; });\nexport const f = async(function* () {\n  let s = 0;\n  for (const x of [1, 2, 3, 4]) {\n    s += yield* leaf(x);\n    if (x === 2) continue;\n    if (x === 3) break;\n  }\n  for (const y of [5, 6]) if ((yield* leaf(y)) === 6) return s + y;\n  return s;\n});\n`;
    const result = lower(text);
    expect(result.diagnostics).toEqual([]);
    expect(waitFor(evaluate(result.splices)())).toBe(12);
    const low = result.splices[1]!.text;
    const copy = low.slice(low.indexOf("$fast: {"), low.indexOf("$loop:"));
    expect(copy).not.toMatch(HANDS_OVER);
    expect(copy).toMatch(/\$t0 = \$c\.iterate\(\[1, 2, 3, 4\]\);\s*for \(;;\) \{\s*\$h = 0;\s*\$t1 = \$c\.step\(\$t0\);\s*if \(\$t1\.done\)\s*break;\s*x = \$t1\.value;\s*\$h = \d+;/);
    expect(copy).toMatch(/if \(x === 2\)\s*continue;\s*if \(x === 3\) \{\s*\$h = 0;\s*\$c\.closeIterator\(\$t0\);\s*break;\s*\}/);
    expect(copy).toMatch(/\$rv = s \+ y;\s*\$h = 0;\s*\$c\.closeIterator\(\$t0\);\s*return \$c\.finished\("", \$rv\);/);
  });

  it("keeps a switch whose case bodies suspend in the structured copy, as a switch, and hands over one whose case test suspends", () => {
    const sw = (test: string) =>
      `export const f = async(function* () {\n  let s = 0;\n  for (let i = 0; i < 6; i++) {\n    switch (i % 3) {\n      case ${test}:\n        s += yield* leaf(i);\n      case 1:\n        s -= yield* leaf(1);\n        break;\n      default:\n        s *= yield* leaf(2);\n    }\n  }\n  return s;\n});\n`;
    const head = `import { async } from "chronots";\nconst leaf = async(function* (i: number) { return i; });\n`;
    const copies = [sw("0"), sw("yield* leaf(0)")].map((body) => {
      const result = lower(head + body);
      expect(result.diagnostics).toEqual([]);
      expect(waitFor(evaluate(result.splices)())).toBe(-6);
      const text = result.splices[1]!.text;
      return text.slice(text.indexOf("$fast: {"), text.indexOf("$loop:"));
    });
    expect(copies[0]).toMatch(/switch \(\$t0\) \{\s*case 0:[^]*case 1:[^]*break;\s*default:[^]*\}/);
    expect(copies[0]).not.toMatch(HANDS_OVER);
    expect(copies[1]).not.toContain("switch");
    expect(copies[1]).toMatch(HANDS_OVER);
  });

  it("keeps an else-if chain whose links suspend a flat chain in the structured copy, as written, not each link in a block of the one before", () => {
    const chain = Array.from({ length: 4 }, (_, i) => `if (v === ${i}) s += yield* leaf(${i + 1});`).join(" else ");
    const text = `import { async } from "chronots";\nconst leaf = async(function* (i: number) { return i; });\nexport const f = async(function* () {\n  let s = 0;\n  for (let v = 0; v < 6; v++) {\n    ${chain}\n  }\n  return s;\n});\n`;
    const result = lower(text);
    expect(result.diagnostics).toEqual([]);
    const low = result.splices[1]!.text;
    expect(low).toContain("$fast: {");
    expect(low.match(/else if \(v === \d\)/g)).toEqual(["else if (v === 1)", "else if (v === 2)", "else if (v === 3)"]);
    expect(low).not.toMatch(/else\s*\{\s*if/);
    expect(waitFor(evaluate(result.splices)())).toBe(10);
  });

  it("leaves a function whose lowered code would nest deeper than TypeScript's printer goes to the driver, with a warning at it, and lowers an else-if chain as deep as written", () => {
    // The structured copy gives each loop a block: past some 400 such loops lowered, tspc overflowed TypeScript's printer
    // (where tsc prints 1,200 unbraced loops). An else-if chain stays a chain: 600 links lowered print as 600 written do.
    const loops = Array.from({ length: 400 }, (_, i) => `for (let i${i} = 0; i${i} < 1; i${i}++) `).join("");
    const chain = Array.from({ length: 600 }, (_, i) => `if (v === ${i}) s += yield* leaf(${i});`).join(" else ");
    const text = `import { async } from "chronots";\nconst leaf = async(function* (i: number) { return i; });\nexport const loops = async(function* () {\n  let s = 0;\n  ${loops}s += yield* leaf(1);\n  return s;\n});\nexport const chain = async(function* () {\n  let s = 0;\n  for (let v = 0; v < 650; v += 50) {\n    ${chain}\n  }\n  return s;\n});\n`;
    const result = lower(text);
    expect(result.diagnostics.map((d) => [d.code, d.start])).toEqual([[99301, text.indexOf("function* () {\n  let s = 0;\n  for (let i0")]]);
    expect(String(result.diagnostics[0]!.messageText)).toMatch(/^chronots: this async function is left to the run-time driver: code nested more than 1000 deep once lowered \(counting an if, a loop or a statement 1, a block, a literal or a call's arguments 2\.5: TypeScript's printer may overflow\), is not lowered$/);
    expect(result.splices).toHaveLength(2);
    expect(result.splices[1]!.text.match(/else if \(v === /g)).toHaveLength(599);
    expect(waitFor(evaluate(result.splices)())).toBe(3300);
  });

  it("counts the depth of code in a class's extends clause and in namespaces, and a chain of method calls as the printer walks it", () => {
    const loops = (n: number) => Array.from({ length: n }, (_, i) => `for (let i${i} = 0; i${i} < 1; i${i}++) `).join("");
    const body = (n: number) => `function* () {\n  let s = 0;\n  ${loops(n)}s += yield* leaf(7);\n  return s;\n}`;
    const head = `import { async } from "chronots";\nconst leaf = async(function* (i: number) { return i; });\n`;
    // A class's extends clause holds an expression, printed: its depth was not counted, and tspc's printer overflowed on 450 loops there.
    const inExtends = `${head}let loops: any;\nexport class A extends (loops = async(${body(450)}), Object) {}\n`;
    expect(lower(inExtends).diagnostics.map((d) => [d.code, d.start])).toEqual([[99301, inExtends.indexOf(body(450))]]);
    // Each level of a namespace prints as a function called around its body: 100 levels around 190 loops overflowed tspc's printer.
    const names = Array.from({ length: 100 }, (_, i) => `A${i}`).join(".");
    const inNamespace = `${head}namespace ${names} {\n  export const loops = async(${body(190)});\n}\n`;
    expect(lower(inNamespace).diagnostics.map((d) => [d.code, d.start])).toEqual([[99301, inNamespace.indexOf(body(190))]]);
    // A chain of 450 method calls is no deeper than 450 ifs for the printer (tsc prints 590), and an ambient namespace prints nothing.
    const chain = `${head}declare namespace ${names} { const x: number; }\nclass B { o(_: object) { return this; } }\nexport const cli = new B()${Array.from({ length: 450 }, (_, i) => `\n  .o({ key: "k${i}" })`).join("")};\nexport const f = async(${body(2)});\n`;
    const result = lower(chain);
    expect(result.diagnostics).toEqual([]);
    expect(result.splices).toHaveLength(2);
  });

  it("leaves a function nested deeper than the stack goes to the driver, with a warning at it, and lowers the rest of the file", () => {
    const deep = Array.from({ length: 4000 }, (_, i) => `(yield* leaf(${i}))`).join(" + ");
    const text = `import { async } from "chronots";\nconst leaf = async(function* (i: number) { return i; });\nexport const deep = async(function* () {\n  return ${deep};\n});\n`;
    const { splices, diagnostics } = lower(text);
    expect(diagnostics.map((d) => [d.code, String(d.messageText)])).toEqual([[99301, "chronots: this async function is left to the run-time driver: code nested this deeply (Maximum call stack size exceeded) is not lowered"]]);
    expect(text.slice(diagnostics[0]!.start!)).toMatch(/^function\* \(\) \{\n  return \(yield\* leaf\(0\)\)/);
    expect(splices.map((s) => text.slice(s.start, s.end))).toEqual(["async(function* (i: number) { return i; })"]);
  });

  it("lowers a declared generator in a file holding an expression nested deeper than a recursive walk goes", () => {
    const long = Array.from({ length: 3000 }, (_, i) => `"p${i}"`).join(" + ");
    const text = `import { async } from "chronots";\nexport const s = ${long};\nfunction* twice(n: number) { return 2 * (yield* leaf(n)); }\nconst leaf = async(function* (i: number) { return i; });\nexport const run = async(twice);\n`;
    const result = lower(text);
    expect(result.diagnostics).toEqual([]);
    expect(result.splices.map((s) => text.slice(s.start, s.end))).toEqual([expect.stringMatching(/^function\* twice/), "async(function* (i: number) { return i; })", "async(twice)"]);
  });

  /** `n` async functions each in the body of the one before, and around the innermost, `extra`; p0() sums 0…n. */
  const nestedAsync = (n: number, extra = "") => {
    let inner = `${extra}return yield* F(${n});`;
    for (let i = n - 1; i >= 0; i--) inner = `const g${i} = co(function* () {\n${inner}\n});\nreturn (yield* F(${i})) + (yield* g${i}());`;
    return `import { async as co, Future } from "chronots";\nfunction F(v: number): Future<number> { const f = new Future<number>(); f.complete(v); return f; }\nexport const p0 = co(function* () {\n${inner}\n});\n`;
  };
  /** What p0() of `text`, lowered, gives, run as a module with the real runtime. */
  const runLowered = async (text: string, result: ReturnType<typeof lower>, name: string) => {
    const target = join(out, `${name}.ts`);
    writeFileSync(target, applySplices(text, result).split('"chronots"').join(JSON.stringify(resolve(__dirname, "../runtime/index.js"))));
    return waitFor(((await import(target)) as { p0(): Future<number> }).p0());
  };

  it("leaves an async function nested more than NESTING deep in other lowered ones to the driver, with a warning at each, and lowers those around them", async () => {
    const text = nestedAsync(NESTING + 4);
    const result = lower(text);
    // p0 and g0…g15 are lowered; g16…g19 stand in more than 16 of them.
    expect(result.diagnostics.map((d) => [d.code, String(d.messageText), d.start])).toEqual(
      [16, 17, 18, 19].map((i) => [99301, `chronots: this async function is left to the run-time driver: an async function nested more than ${NESTING} deep in other lowered async functions is not lowered`, text.indexOf(`const g${i} = co(`) + `const g${i} = co(`.length]),
    );
    expect(result.splices).toHaveLength(1);
    expect(result.splices[0]!.text.match(/\.(coroutine|handoff)\(/g)).toHaveLength(NESTING + 1);
    expect(await runLowered(text, result, "nested-async")).toBe(((NESTING + 4) * (NESTING + 5)) / 2);
  });

  it("leaves a function whose lowered code nests deeper than TypeScript's printer goes to the driver, with a warning at it, and lowers the rest of the file", async () => {
    // Lowered, 16 levels of async functions around 300 nested arrows go past PRINT_DEPTH: tspc's printer might overflow,
    // which ends the build. The outer ones are left to the driver, and lowered alone, the inner ones are not as deep.
    const text = nestedAsync(NESTING, `const z = ${"() => ".repeat(300)}1;\n`);
    const result = lower(text);
    const left = result.diagnostics.length;
    expect(left).toBeGreaterThan(0);
    expect(left).toBeLessThan(NESTING + 1);
    expect(result.diagnostics.map((d) => [d.code, d.start])).toEqual(Array.from({ length: left }, (_, i) => [99301, text.indexOf(`function* () {\nconst g${i} = co(`)]));
    for (const d of result.diagnostics)
      expect(String(d.messageText)).toBe(`chronots: this async function is left to the run-time driver: code nested more than ${PRINT_DEPTH} deep once lowered (counting an if, a loop or a statement 1, a block, a literal or a call's arguments 2.5: TypeScript's printer may overflow), is not lowered`);
    expect(result.splices).toHaveLength(1);
    expect(result.splices[0]!.text.match(/\.(coroutine|handoff)\(/g)).toHaveLength(NESTING + 1 - left);
    expect(await runLowered(text, result, "printer-deep")).toBe((NESTING * (NESTING + 1)) / 2);
  });

  it("keeps code linear in the number of awaits when every result is read at the end", () => {
    // Saving each live local at each suspension would grow as n²: past a bound they live in the closure.
    const program = (n: number) => {
      const body = Array.from({ length: n }, (_, i) => `  const v${i} = yield* leaf(${i});`).join("\n");
      const sum = Array.from({ length: n }, (_, i) => `v${i}`).join(" + ");
      return `import { async } from "chronots";\nconst leaf = async(function* (i: number) { return i; });\nexport const wide = async(function* () {\n${body}\n  return ${sum};\n});\n`;
    };
    const size = (n: number) => {
      const { splices, diagnostics } = lower(program(n));
      expect(diagnostics).toEqual([]);
      return splices[1]!.text.length;
    };
    const [small, large] = [size(100), size(400)];
    expect(large / small).toBeLessThan(4.5);
    expect(waitFor(evaluate(lower(program(40)).splices)())).toBe((40 * 39) / 2);
  });

  it("saves no temp of an if's test or a switch's discriminant and case tests at the suspensions of the branches", () => {
    // Dead once the branch is chosen, they were saved at every suspension of the branches.
    const text = `import { async } from "chronots";
const leaf = async(function* (i: number) { return i; });
const g = (x: number) => x;
export const branches = async(function* (n: number) {
  let s = 0;
  if (g(yield* leaf(1)) < (yield* leaf(2))) s += yield* leaf(3);
  switch (g(n) + (yield* leaf(4))) {
    case yield* leaf(5):
      s += yield* leaf(6);
  }
  return s;
});
`;
    const lowered = lower(text).splices[1]!.text;
    const holds = [...lowered.matchAll(/return (.*), \$s = \d+, \$r\._suspend/g)].map(([, saved]) => /\$t\d/.test(saved!));
    // In source order: the tests' own suspensions hold operands (the left operand, the discriminant); the branches' none. The
    // first (the callee g held) is in state 0, which only the structured copy runs: it hands all its locals over.
    expect(holds).toEqual([true, false, true, true, false]);
  });

  it("saves a for…of's iterator at the suspensions of its body, not the step's result its target was read from", () => {
    const text = `import { async } from "chronots";\nconst leaf = async(function* (i: number) { return i; });\nexport const f = async(function* (o: Record<string, number>) {\n  let s = 0;\n  for (const x of [1, 2]) s += yield* leaf(x);\n  for (const [k, v] of Object.entries(o)) s += (yield* leaf(v)) + k.length;\n  for (const k in o) s += yield* leaf(o[k]!);\n  return s;\n});\n`;
    const result = lower(text);
    const saved = [...result.splices[1]!.text.matchAll(/return (.*), \$s = \d+, \$r\._suspend/g)].map(([, s]) => s!.match(/\$t\d+\$/g));
    // The structured copy hands all its locals over at a pending await: only the machine saves at each.
    expect(saved).toEqual(Array(3).fill(["$t0$"]));
    const [leaf, fn] = result.splices.map((x) => ts.transpile(x.text, { target: ts.ScriptTarget.ES2022 }));
    const run = new Function("$c", "leaf", `return ${fn};`)(__chronots, new Function("$c", `return ${leaf};`)(__chronots));
    expect(waitFor(run({ ab: 3, c: 4 }))).toBe(3 + 10 + 7);
  });

  it("keeps code linear in the number of awaits within one expression, a sum or a template", () => {
    // Each operand left of an await waits in a temp until the statement ends: saved at every later await, a sum of 500
    // awaits made 4 MB. Past a bound of awaits in one statement its temps live in the closure.
    const program = (n: number, template: boolean) => {
      const terms = Array.from({ length: n }, (_, i) => (template ? `\${yield* leaf(${i})}` : `Math.abs(yield* leaf(${i}))`));
      const value = template ? `\`${terms.join("-")}\`` : terms.join(" + ");
      return `import { async } from "chronots";\nconst leaf = async(function* (i: number) { return i; });\nexport const wide = async(function* () {\n  return ${value};\n});\n`;
    };
    for (const template of [false, true]) {
      const size = (n: number) => {
        const { splices, diagnostics } = lower(program(n, template));
        expect(diagnostics).toEqual([]);
        return splices[1]!.text.length;
      };
      const [small, large] = [size(100), size(400)];
      expect(large / small, template ? "template" : "sum").toBeLessThan(4.5);
    }
    // Emptied after the statement, what they held is not kept alive for the rest of the call; a return needs no emptying.
    const kept = program(20, false).replace("  return ", "  const sum = ").replace("\n});\n", "\n  yield* leaf(0);\n  return sum;\n});\n");
    const emptied = lower(kept).splices[1]!.text;
    expect(emptied).toMatch(/\$tc\d+ = void 0;\n\s+\$f = \(0, leaf\)\(0\)|\$tc\d+ = void 0;\n\s+\$f = leaf\(0\)/);
    expect(lower(program(20, false)).splices[1]!.text).not.toMatch(/\$tc\d+ = void 0/);
    // Below the bound as above it, the value is the untransformed one.
    for (const n of [10, 40]) {
      expect(waitFor(evaluate(lower(program(n, false)).splices)())).toBe((n * (n - 1)) / 2);
      expect(waitFor(evaluate(lower(program(n, true)).splices)())).toBe(Array.from({ length: n }, (_, i) => i).join("-"));
    }
  });
});
