/**
 * The ts-patch entry for real: the transformer compiled to CommonJS as ts-patch requires it, a
 * project built by `tspc` with it as plugin, and the output run by node with source maps on. An
 * error thrown inside a lowered body must point at the original file and line.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { decode } from "@jridgewell/sourcemap-codec";
import ts from "typescript";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import transformer, { ENTRY_CODE } from "../transformer/index.js";
import { NESTING } from "../transformer/lower.js";
import * as runtime from "../runtime/index.js";
import { buildTransformer } from "./helpers/transformer.js";

const root = resolve(__dirname, "..");
const tspc = join(root, "node_modules/ts-patch/bin/tspc.js");
const tmp = mkdtempSync(join(tmpdir(), "chronots-tspc-"));
const cjs = join(tmp, "transformer");
const esm = join(tmp, "transformer-esm");

const main = `import { async as run, sleepAsync, waitFor } from "./runtime/index.js";
import * as C from "./runtime/index.js"; import { checked, early, fails } from "./declared.js";

const leaf = run(function* (i: number) {
  return i;
});
const work = C.async(function* (n: number) {
  let s = 0;
  for (let i = 0; i < n; i++) s += yield* leaf(i);
  yield* sleepAsync(1);
  if (s > 0) {
    throw new Error("boom at line 12");
  }
  return s;
});
const kept = run(function* () {
  const fns: (() => number)[] = [];
  void eval("0");
  for (let i = 0; i < 2; i++) {
    yield* sleepAsync(0);
    fns.push(() => i);
  }
  return fns.map((f) => f()).join();
});
function async(x: unknown) {
  return x;
}
const notOurs = async(function* () {
  yield 1;
});
const tagged = run(function* (x: number) {
  const t = (s: TemplateStringsArray, ...v: unknown[]) => s.raw.join("|") + v.join();
  return t\`a\${yield* leaf(x)}b\`;
});
const spaced = run(function /* a comment before the star */ * () {
  return 1;
});
function* counted() {
  return yield* leaf(7);
}
const byName = C.async(counted);
console.log(String(work).includes("function*"), String(kept).includes("function*"), typeof notOurs, waitFor(kept()), waitFor(tagged(5)), String(spaced).includes("*"), waitFor(byName()));
try {
  waitFor(fails(0));
} catch (e) {
  console.error(String((e as Error).stack));
}
try {
  waitFor(early(0));
} catch (e) {
  console.error(String((e as Error).stack));
}
try {
  waitFor(checked(0));
} catch (e) {
  console.error(String((e as Error).stack));
}
waitFor(work(10));
`;

/** A generator declared beside its one async() call, in a file with no direct eval (main.ts has one): lowered in place. */
const declared = `import { async, sleepAsync } from "./runtime/index.js";
// A comment the declaration keeps.
function* failing(n: number) {
  yield* sleepAsync(n);
  throw new Error("boom at line 5");
}
export const fails = async(failing);
export const early = async(function* early(n: number) {
  if (n === 0) throw new Error("early at line 9");
  yield* sleepAsync(n);
});
export const checked = async(function* checked(n: number) {
  for (let i = 0; i < 2; i++) yield* sleepAsync(0);
  while (check(
    yield* sleepAsync(n),
  )) n++;
});
function check(x: unknown): boolean {
  throw new Error("check at line 19 " + String(x));
}
export const loops = async(function* (n: number) {
  let i = 0;
  while (i < n) {
    yield* sleepAsync(1);
    i++;
  }
  if (i > 0) {
    yield* sleepAsync(1);
  }
  return i;
});
`;

function project(name: string, module: "NodeNext" | "CommonJS"): string {
  const dir = join(tmp, name);
  mkdirSync(dir);
  symlinkSync(join(root, "runtime"), join(dir, "runtime"));
  symlinkSync(join(root, "node_modules"), join(dir, "node_modules"));
  writeFileSync(join(dir, "package.json"), JSON.stringify({ type: module === "NodeNext" ? "module" : "commonjs" }));
  writeFileSync(join(dir, "main.ts"), main);
  writeFileSync(join(dir, "declared.ts"), declared);
  const compilerOptions = {
    target: "ES2022",
    module,
    moduleResolution: module === "NodeNext" ? "NodeNext" : "node10",
    esModuleInterop: true,
    strict: true,
    sourceMap: true,
    outDir: "dist",
    rootDir: ".",
    skipLibCheck: true,
    types: ["node"],
    plugins: [{ transform: join(cjs, "index.js") }],
  };
  writeFileSync(join(dir, "tsconfig.json"), JSON.stringify({ compilerOptions, files: ["main.ts"] }));
  return dir;
}

beforeAll(() => {
  buildTransformer(cjs, "commonjs");
  buildTransformer(esm, "module");
}, 120_000);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("a real tspc build", { timeout: 120_000 }, () => {
  for (const module of ["NodeNext", "CommonJS"] as const) {
    it(`lowers, warns about what it leaves, and maps errors to the source (${module})`, () => {
      const dir = project(module, module);
      const build = spawnSync(process.execPath, [tspc, "-p", dir, "--pretty", "false"], { cwd: root, encoding: "utf8" });
      expect(build.stdout).toMatch(/main\.ts\(18,8\).*left to the run-time driver: a direct eval is not lowered/);
      // main.ts's direct eval could name \`counted\`, so that generator stays one.
      expect(build.stdout).toMatch(/main\.ts\(41,24\).*left to the run-time driver: 'counted', a generator in a file with a direct eval, which could read it by name, is not lowered/);
      expect(build.stdout.match(/TS99301/g)).toHaveLength(2);
      expect(readFileSync(join(dir, "dist/declared.js"), "utf8")).toMatch(/^\/\/ A comment the declaration keeps\.\nfunction failing\(n\) \{$/m);
      const out = readFileSync(join(dir, "dist/main.js"), "utf8");
      // CommonJS output reads the runtime object with require(): an import would bring interop helpers.
      expect(out).toMatch(module === "CommonJS" ? /= require\("\.\/runtime\/index\.js"\)\.__chronots;/ : /^import \* as (\$+c)ns from "\.\/runtime\/index\.js";\nvar \1 = \1ns\.__chronots;/m);
      const ran = spawnSync(process.execPath, ["--enable-source-maps", join(dir, "dist/main.js")], { encoding: "utf8" });
      expect(ran.stdout.trim()).toBe("false true function 0,1 a|b5 false 7");
      expect(ran.stderr).toContain("Error: boom at line 12");
      expect(ran.stderr).toMatch(/main\.ts:12:\d+/);
      expect(ran.stderr).toContain("Error: boom at line 5");
      // Frames of a body are named as the driver names them; the first step runs in the call's own frame, called from its caller.
      expect(ran.stderr).toMatch(/at failing \(.*declared\.ts:5:\d+\)/);
      expect(ran.stderr).toMatch(/Error: early at line 9\n\s+at early \(.*declared\.ts:9:\d+\)\n\s+at (?:Object\.)?<anonymous> \(.*main\.ts:\d+:\d+\)/);
      // A call in a suspending loop condition is on its line (the one of \`while (check(\`), not on the yield's.
      expect(ran.stderr).toMatch(/Error: check at line 19 undefined\n\s+at check \(.*declared\.ts:19:\d+\)\n\s+at checked \(.*declared\.ts:14:\d+\)/);
      // DevTools sets a line's breakpoint at the first position mapped on it, then at every generated place mapped
      // from that position: the machine's test of a loop or an if maps from its keyword as the copy's does.
      const map = JSON.parse(readFileSync(join(dir, "dist/declared.js.map"), "utf8")) as { mappings: string };
      const segments = decode(map.mappings);
      const from = (line: number, column: number) => new Set(segments.flatMap((segs, l) => (segs.some((s) => s[2] === line && s[3] === column) ? [l] : [])));
      expect(from(22, 2).size, "while").toBeGreaterThanOrEqual(2);
      expect(from(26, 2).size, "if").toBeGreaterThanOrEqual(2);
      expect(ran.stderr).not.toContain("$step");
      expect(ran.status).not.toBe(0);
    });
  }
});

it("reads the runtime object where a module of the user's re-exporting async lets it, and leaves the call to the driver where none does", { timeout: 120_000 }, () => {
  const dir = join(tmp, "barrels");
  mkdirSync(join(dir, "node_modules"), { recursive: true });
  symlinkSync(join(root, "runtime"), join(dir, "runtime"));
  for (const dep of readdirSync(join(root, "node_modules"))) symlinkSync(join(root, "node_modules", dep), join(dir, "node_modules", dep));
  // The package as installed: "chronots" resolves to the built package, a runtime of its own.
  symlinkSync(root, join(dir, "node_modules/chronots"));
  writeFileSync(join(dir, "package.json"), JSON.stringify({ type: "module" }));
  writeFileSync(join(dir, "star.ts"), `export * from "./runtime/index.js";\n`);
  writeFileSync(join(dir, "named.ts"), `export { async } from "./runtime/index.js";\n`);
  writeFileSync(join(dir, "pkg.ts"), `export { async } from "chronots";\n`);
  writeFileSync(
    join(dir, "main.ts"),
    `import * as local from "./runtime/index.js";
import * as pkg from "chronots";
import { async as viaStar } from "./star.js";
import { async as viaNamed } from "./named.js";
import { async as viaPkg } from "./pkg.js";
const a = viaStar(function* (x: number) { yield* local.sleepAsync(1); return x + 1; });
const b = viaNamed(function* (x: number) { yield* local.sleepAsync(1); return x + 2; });
const c = viaPkg(function* (x: number) { yield* pkg.sleepAsync(1); return x + 3; });
console.log(local.waitFor(a(1)), local.waitFor(b(1)), pkg.waitFor(c(1)));
`,
  );
  const compilerOptions = { target: "ES2022", module: "NodeNext", moduleResolution: "NodeNext", strict: true, outDir: "dist", skipLibCheck: true, types: ["node"], plugins: [{ transform: join(cjs, "index.js") }] };
  writeFileSync(join(dir, "tsconfig.json"), JSON.stringify({ compilerOptions, files: ["main.ts"] }));
  const build = spawnSync(process.execPath, [tspc, "-p", dir, "--pretty", "false"], { cwd: dir, encoding: "utf8" });
  expect(build.stdout.trim().split("\n")).toEqual([
    `main.ts(7,11): warning TS99301: chronots: this async function is left to the run-time driver: an async imported from './named.js', which re-exports it without chronots' runtime (import it from 'chronots', or re-export with \`export * from "chronots"\`), is not lowered`,
  ]);
  const out = readFileSync(join(dir, "dist/main.js"), "utf8");
  expect(out).toMatch(/^import \* as (\$+c)ns from "\.\/star\.js";\nvar \1 = \1ns\.__chronots;/m);
  expect(out).toMatch(/^import \* as (\$+c1)ns from "chronots";\nvar \1 = \1ns\.__chronots;/m);
  expect(out.match(/\.(coroutine|handoff)\(/g)).toHaveLength(2);
  expect(out).toContain("const b = viaNamed(function* (x)");
  const ran = spawnSync(process.execPath, [join(dir, "dist/main.js")], { encoding: "utf8" });
  expect(ran.stderr).toBe("");
  expect(ran.stdout.trim()).toBe("2 3 4");
});

/**
 * A project of one module, `main.ts`, and the modules it imports (`others`, by file name), beside a
 * link to the package; `build(outDir, options, plugins)` compiles it with tsc (no plugins) or tspc and
 * runs the result: what the compiler printed, the run's output and the emitted code of main.ts.
 */
function oneModule(name: string, source: string, others: Record<string, string> = {}) {
  const dir = join(tmp, name);
  mkdirSync(join(dir, "node_modules"), { recursive: true });
  symlinkSync(root, join(dir, "node_modules/chronots"), "dir");
  writeFileSync(join(dir, "main.ts"), source);
  for (const [file, text] of Object.entries(others)) writeFileSync(join(dir, file), text);
  const build = (outDir: string, options: { module?: string; [option: string]: unknown }, plugins: object[]) => {
    const compilerOptions = { module: "NodeNext", moduleResolution: "NodeNext", strict: true, outDir, skipLibCheck: true, types: [], ...options, plugins };
    writeFileSync(join(dir, "package.json"), JSON.stringify({ type: options.module === "CommonJS" ? "commonjs" : "module" }));
    writeFileSync(join(dir, "tsconfig.json"), JSON.stringify({ compilerOptions, files: ["main.ts"] }));
    const compiled = spawnSync(process.execPath, [plugins.length ? tspc : join(root, "node_modules/typescript/bin/tsc"), "-p", dir, "--pretty", "false"], { cwd: dir, encoding: "utf8" });
    const ran = spawnSync(process.execPath, [join(dir, outDir, "main.js")], { encoding: "utf8" });
    return { compiled: compiled.stdout + compiled.stderr, stdout: ran.stdout, stderr: ran.stderr, js: readFileSync(join(dir, outDir, "main.js"), "utf8") };
  };
  return build;
}

it("runs a lowered function an import cycle calls before its module's code has run, as an ES module and as CommonJS", { timeout: 120_000 }, () => {
  const fixture = (file: string) => readFileSync(join(root, "test/fixtures/cycle", file), "utf8").replaceAll("../../../runtime/index.js", "chronots");
  const build = oneModule("cycle", `import { fromCycle } from "./first.js";\nconsole.log(fromCycle);\n`, { "first.ts": fixture("first.ts"), "second.ts": fixture("second.ts") });
  for (const options of [{ target: "ES2022" }, { target: "ES2022", module: "CommonJS", moduleResolution: "node10" }]) {
    const plain = build("plain", options, []);
    expect(plain.compiled).toBe("");
    expect(plain.stdout).toBe("v|w1\n");
    const lowered = build("lowered", options, [{ transform: join(cjs, "index.js") }]);
    expect(lowered.compiled).toBe("");
    expect(readFileSync(join(tmp, "cycle/lowered/first.js"), "utf8")).not.toMatch(/function\*/);
    expect([lowered.stdout, lowered.stderr]).toEqual(["v|w1\n", ""]);
  }
});

it("names a callee in an optional chain that is no function as the engine sees it: with ?. from ES2020 on, with plain dots below, where TypeScript lowers the chain", { timeout: 120_000 }, () => {
  const build = oneModule(
    "optional-callee",
    `import { async, sleepAsync, waitFor } from "chronots";
const f = async(function* () {
  const a: any = { b: {} };
  const k = "m";
  const out: string[] = [];
  try { a?.n(yield* sleepAsync(0)); } catch (e) { out.push((e as Error).message); }
  try { a?.[k](yield* sleepAsync(0)); } catch (e) { out.push((e as Error).message); }
  try { a?.["s"](yield* sleepAsync(0)); } catch (e) { out.push((e as Error).message); }
  return out;
});
console.log(waitFor(f()).join("|"));
`,
  );
  for (const target of ["ES2015", "ES2019", "ES2020", "ES2022"]) {
    const plain = build("plain", { target }, []);
    const lowered = build("lowered", { target }, [{ transform: join(cjs, "index.js") }]);
    expect([lowered.compiled, lowered.js.includes("function*")], target).toEqual(["", false]);
    expect([lowered.stdout, lowered.stderr], target).toEqual([plain.stdout, ""]);
  }
});

it("converts a field's computed key where the class fields of the target convert it: at the class in ES2022, where it assigns the field below", { timeout: 120_000 }, () => {
  const build = oneModule(
    "field-keys",
    `// @ts-nocheck: keys of type any make index signatures the members do not match; the emit is what counts.
import { async, sleepAsync, waitFor } from "chronots";
const later = <T,>(v: T) => async(function* () { yield* sleepAsync(0); return v; })();
const log: string[] = [];
const key = (n: string): any => ({ toString() { log.push("toString " + n); return n; } });
const f = async(function* () {
  const a = key("a"), b = key("b"), c = key("c");
  class K { [a] = 1; static [b] = 2; [c]!: number; static [yield* later("m")]() {} }
  log.push("defined");
  new K();
  new K();
  return log.join(", ");
});
console.log(waitFor(f()));
`,
  );
  for (const target of ["ES2022", "ES2020"]) {
    const plain = build(`plain-${target}`, { target }, []);
    expect(plain.compiled).toBe("");
    const lowered = build(`lowered-${target}`, { target }, [{ transform: join(cjs, "index.js") }]);
    expect(lowered.compiled).toBe("");
    expect(lowered.js).not.toMatch(/function\*/);
    expect([lowered.stdout, lowered.stderr], target).toEqual([plain.stdout, ""]);
  }
  // What each target does, so that the comparison above compares something.
  expect(build("plain-ES2020", { target: "ES2020" }, []).stdout).toBe("toString b, defined, toString a, toString a\n");
});

it("keeps a class's references to its own name and private names in the static fields TypeScript moves out of it below ES2022, also in a loop", { timeout: 120_000 }, () => {
  const build = oneModule(
    "static-fields",
    `import { async, sleepAsync, waitFor } from "chronots";
const f = async(function* () {
  class K { static a = 1; static b = K.a + 1; static { K.c = K.b * 10; } static c?: number; }
  yield* sleepAsync(0);
  return [K.b, K.c];
});
// In a loop that suspends, whose body the lowering would also copy as it is written.
const g = async(function* () {
  const out: unknown[] = [];
  let n = 0;
  while (n < 2) {
    n++;
    class P { static tag = "p" + n; static same = P.tag; static #count = 0; static next() { return ++P.#count; } }
    yield* sleepAsync(0);
    out.push(P.same, P.next());
  }
  return out;
});
console.log(JSON.stringify([waitFor(f()), waitFor(g())]));
`,
  );
  const plain = build("plain", { target: "ES2019" }, []);
  expect(plain.compiled).toBe("");
  expect(plain.stdout.trim()).toBe('[[2,20],["p1",1,"p2",1]]');
  const lowered = build("lowered", { target: "ES2019" }, [{ transform: join(cjs, "index.js") }]);
  expect(lowered.compiled).toBe("");
  expect(lowered.js).not.toMatch(/function\*/);
  expect(lowered.stderr).toBe("");
  expect(lowered.stdout.trim()).toBe('[[2,20],["p1",1,"p2",1]]');
});

it("fails a `using` of a value that is not disposable with the TypeError tsc's helper throws, word for word", { timeout: 120_000 }, () => {
  const build = oneModule(
    "using-bad",
    `import { async, sleepAsync, waitFor } from "chronots";
const hold = async(function* (v: unknown) {
  using r = v as Disposable;
  yield* sleepAsync(0);
  return r === null ? "null" : "held";
});
for (const v of [7, "s", {}, { [Symbol.dispose]: 1 }, () => {}, null]) {
  try {
    console.log(waitFor(hold(v)));
  } catch (e) {
    console.log(String(e));
  }
}
`,
  );
  const options = { target: "ES2022", lib: ["ES2022", "DOM", "esnext.disposable"] };
  const expected = ["TypeError: Object expected.", "TypeError: Object expected.", ...Array(3).fill("TypeError: Object not disposable."), "null", ""].join("\n");
  const plain = build("plain", options, []);
  expect([plain.compiled, plain.stdout]).toEqual(["", expected]);
  const lowered = build("lowered", options, [{ transform: join(cjs, "index.js") }]);
  expect(lowered.compiled).toBe("");
  expect(lowered.js).not.toMatch(/function\*/);
  expect([lowered.stdout, lowered.stderr]).toEqual([expected, ""]);
});

it("leaves generators and async functions nested in a lowered body to TypeScript's downlevel as tsc does: caught errors, arguments, below ES2017 and in ES5", { timeout: 120_000 }, () => {
  const build = oneModule(
    "nested-downlevel",
    `import { async, Future, sleepAsync, waitFor } from "chronots";
const finished = new Future<void>();
finished.complete();
const promised: Promise<unknown>[] = [];
const loop = async(function* (_a: number, _b: number) {
  const out: unknown[] = [];
  let i = 0;
  while (i < 3) {
    const g = function* () { try { yield 1; throw new Error("caught"); } catch (e) { yield String(e); } };
    const it = g();
    it.next();
    out.push(it.next().value);
    const count = async () => arguments.length;
    promised.push(count());
    yield* i++ === 0 ? finished : sleepAsync(0);
  }
  return out;
});
const declared = async(function* () {
  async function count(..._: number[]) { return arguments.length; }
  yield* sleepAsync(0);
  return count(1, 2, 3);
});
const outcome = [waitFor(loop(1, 2)), waitFor(declared())];
Promise.all([...promised, ...outcome.slice(1) as Promise<number>[]]).then((r) => console.log(JSON.stringify([outcome[0], r])));
`,
  );
  for (const target of ["ES2015", "ES5"]) {
    const options = { target, lib: ["ES2015", "DOM"], downlevelIteration: true };
    // In ES5 TypeScript's own output reads the async arrow's `arguments` wrongly (0): the lowered build must do the same.
    const plain = build(`plain-${target}`, options, []);
    expect(plain.stdout.trim(), target).toBe(`[["Error: caught","Error: caught","Error: caught"],[${target === "ES5" ? "0,0,0" : "2,2,2"},3]]`);
    const lowered = build(`lowered-${target}`, options, [{ transform: join(cjs, "index.js") }]);
    // In ES5 both report TS2496 at the arrow's `arguments`, and emit; the function reading them is left to the driver there.
    const left = target === "ES5" ? ["main.ts(13,31): warning TS99301: chronots: this async function is left to the run-time driver: arguments, in ES5 output, is not lowered"] : [];
    expect(lowered.compiled.split("\n").filter((l) => l.includes("TS99301")), target).toEqual(left);
    expect(lowered.compiled.split("\n").filter((l) => !l.includes("TS99301")).join("\n"), target).toBe(plain.compiled);
    expect(lowered.js).toMatch(/\.(coroutine|handoff)\(/);
    expect(lowered.stderr, target).toBe("");
    expect(lowered.stdout.trim(), target).toBe(plain.stdout.trim());
  }
});

it("keeps a captured block-scoped binding hoisted across a suspension one binding per call in ES5, where TypeScript renames such bindings", { timeout: 120_000 }, () => {
  const build = oneModule(
    "es5-block-bindings",
    `import { async, sleepAsync, waitFor } from "chronots";
const f = async(function* (v: string, ms: number) {
  {
    let y = v;
    if (ms > 0) {
      const c = v + "!";
      yield* sleepAsync(ms);
      return () => y + c;
    }
  }
  return () => "none";
});
const a = f("a", 5), b = f("b", 1);
console.log(waitFor(a)(), waitFor(b)());
`,
  );
  const options = { target: "ES5", lib: ["ES2015"], downlevelIteration: true };
  const plain = build("plain", options, []);
  expect(plain.stdout.trim()).toBe("aa! bb!");
  const lowered = build("lowered", options, [{ transform: join(cjs, "index.js") }]);
  expect(lowered.compiled).toBe(plain.compiled);
  expect(lowered.js).toMatch(/\.(coroutine|handoff)\(/);
  expect(lowered.stderr).toBe("");
  expect(lowered.stdout.trim()).toBe("aa! bb!");
});

it("names functions as tsc does in ES5, and leaves to the driver there a body holding a class, a self-naming generator that catches, a binding named __proto__ or a block's binding a closure captures in a loop that suspends", { timeout: 120_000 }, () => {
  const build = oneModule(
    "es5-state",
    `import { async, Future, sleepAsync, waitFor } from "chronots";
const later = () => sleepAsync(1);
const named = async(function* () {
  const names: string[] = [];
  for (let j = 0; j < 2; j++) {
    const f = function () { return j; };
    names.push(f.name);
    yield* later();
  }
  function fn() { fn = () => 1; return 0; }
  yield* later();
  return names.concat(fn.name);
});
const classes = async(function* () {
  const kept: (() => number)[] = [];
  for (let j = 0; j < 2; j++) {
    class R { static x = 5 + j; m() { return R.x; } }
    kept.push(() => new R().m());
    yield* later();
  }
  const c = { kc: class {} }.kc;
  return [...kept.map((k) => k()), c.name];
});
const self = async(function* f0(): Generator<Future<unknown>, string, unknown> {
  try { yield* later(); throw new Error("caught"); } catch (e) { return (e as Error).message + " " + f0.name; }
});
const proto = async(function* () {
  let __proto__ = function () {};
  yield* later();
  { let __proto__ = 1; yield* later(); }
  return __proto__.name;
});
const args = async(function* (_a: number, _b: number) {
  yield* later();
  return [arguments.length, String(arguments[0])];
});
const one = async(function* (n: number) { return n; });
const blocks = async(function* () {
  const fns: (() => number)[] = [];
  for (let n = 0; n < 3; n++) {
    yield* one(n);
    { const k = n; fns.push(() => k); }
  }
  return fns.map((g) => g());
});
console.log(JSON.stringify([waitFor(named()), waitFor(classes()), waitFor(self()), waitFor(proto()), waitFor(args(1, 2)), waitFor(blocks())]));
`,
  );
  const options = { target: "ES5", lib: ["ES2015"], downlevelIteration: true };
  const plain = build("plain", options, []);
  // TypeScript's own ES5 generator reads the arguments of the function it runs the body in (1, its state).
  expect(plain.stdout.trim()).toBe('[["f","f","fn"],[5,6,"kc"],"caught f0","__proto__",[1,"[object Object]"],[0,1,2]]');
  const lowered = build("lowered", options, [{ transform: join(cjs, "index.js") }]);
  expect(lowered.compiled.match(/TS99301: .*/g)).toEqual([
    expect.stringContaining("a class, in ES5 output, is not lowered"),
    expect.stringContaining("a generator naming itself and catching, in ES5 output, is not lowered"),
    expect.stringContaining("a binding named __proto__, in ES5 output, is not lowered"),
    // The step arrow becomes a function with its own arguments object.
    expect.stringContaining("arguments, in ES5 output, is not lowered"),
    // TypeScript gives each iteration its own `k` only in a loop its checker flagged: not the lowering's.
    expect.stringContaining("a closure capturing 'k', declared in a block of a loop that suspends, in ES5 output, is not lowered"),
  ]);
  expect(lowered.js.match(/\.(coroutine|handoff)\(/g)).toHaveLength(1);
  expect([lowered.stdout, lowered.stderr]).toEqual([plain.stdout, ""]);
});

it("leaves to the driver, below ES2022, a self-naming generator holding a class: its kept copy would share the class's alias", { timeout: 120_000 }, () => {
  const build = oneModule(
    "es2020-self-class",
    `import { async, Future, sleepAsync, waitFor } from "chronots";
const f0 = async(function* f0(n: number): Generator<Future<unknown>, string[] | undefined, any> {
  class A { static n = "A"; m() { return A.n; } }
  const B = class { static n = "B"; };
  if (n === 0) return [new A().m(), B.n];
  yield* sleepAsync(1);
  return yield* f0(0);
});
const plain = async(function* () {
  class C { static n = "C"; m() { return C.n; } }
  yield* sleepAsync(1);
  return new C().m();
});
console.log(JSON.stringify([waitFor(f0(1)), waitFor(plain())]));
`,
  );
  const options = { target: "ES2020", lib: ["ES2022"] };
  const plain = build("plain", options, []);
  expect(plain.stdout.trim()).toBe('[["A","B"],"C"]');
  const lowered = build("lowered", options, [{ transform: join(cjs, "index.js") }]);
  expect([lowered.stdout, lowered.stderr]).toEqual([plain.stdout, ""]);
  expect(lowered.compiled.match(/TS99301: .*/g)).toEqual([expect.stringContaining("a generator naming itself and holding what TypeScript lowers again for this target")]);
  expect(lowered.js.match(/\.(coroutine|handoff)\(/g)).toHaveLength(1);
});

describe("fixtures built by tspc leave the trace tsc's build leaves", () => {
  // `using` against tsc's own downlevel; JSX run through tsc's React transform after the lowering;
  // generators declared by name, rewritten in place by the checker-backed entry.
  for (const [name, file] of [["resources", "resources.ts"], ["jsx", "jsx.tsx"], ["declared", "declared.ts"]] as const) {
    it(name, { timeout: 120_000 }, () => {
      const dir = join(tmp, name);
      mkdirSync(dir);
      symlinkSync(join(root, "runtime"), join(dir, "runtime"));
      symlinkSync(join(root, "node_modules"), join(dir, "node_modules"));
      writeFileSync(join(dir, "package.json"), JSON.stringify({ type: "module" }));
      const fixture = readFileSync(join(root, "test/fixtures/lowering", file), "utf8");
      writeFileSync(join(dir, file), fixture.replace("../../../runtime/index.js", "./runtime/index.js"));
      writeFileSync(
        join(dir, "run.ts"),
        `import { waitFor } from "./runtime/index.js";\nimport { main } from "./${name}.js";\nconst trace: unknown[] = [];\nconsole.log(JSON.stringify([waitFor(main((x) => trace.push(x))), trace]));\n`,
      );
      const build = (outDir: string, plugins: object[]) => {
        const compilerOptions = { target: "ES2022", module: "NodeNext", moduleResolution: "NodeNext", lib: ["ES2022", "esnext.disposable"], jsx: "react", strict: true, outDir, skipLibCheck: true, types: ["node"], plugins };
        writeFileSync(join(dir, "tsconfig.json"), JSON.stringify({ compilerOptions, files: ["run.ts"] }));
        const r = spawnSync(process.execPath, [plugins.length ? tspc : join(root, "node_modules/typescript/bin/tsc"), "-p", dir, "--pretty", "false"], { encoding: "utf8" });
        expect(r.stdout + r.stderr).toBe("");
        return spawnSync(process.execPath, [join(dir, outDir, "run.js")], { encoding: "utf8" }).stdout;
      };
      const plain = build("plain", []);
      const lowered = build("lowered", [{ transform: join(cjs, "index.js") }]);
      expect(readFileSync(join(dir, `plain/${name}.js`), "utf8")).toMatch(/function\*/);
      expect(readFileSync(join(dir, `lowered/${name}.js`), "utf8")).not.toMatch(/function\*/);
      expect(JSON.parse(plain)[0]).toBe("done");
      expect(lowered).toBe(plain);
    });
  }
});

it("evaluates a key last under the automatic JSX runtime, as its jsx(type, props, key) does, and keeps a literal spread inlinable", () => {
  const dir = join(tmp, "jsx-automatic");
  mkdirSync(join(dir, "node_modules/react"), { recursive: true });
  symlinkSync(join(root, "runtime"), join(dir, "runtime"));
  for (const m of ["@types", "koffi"]) symlinkSync(join(root, "node_modules", m), join(dir, "node_modules", m));
  // A runtime without createElement: an element that fell back to it would fail to load.
  const react = join(dir, "node_modules/react");
  writeFileSync(join(react, "package.json"), JSON.stringify({ name: "react", type: "module", exports: { ".": "./index.js", "./jsx-runtime": "./jsx-runtime.js" } }));
  writeFileSync(join(react, "jsx-runtime.js"), `export const jsx = (t, p, k) => [t, k, ...Object.keys(p)].join(" "); export const jsxs = jsx; export const Fragment = "F";\n`);
  writeFileSync(join(react, "index.js"), `export const createElement = (t, p) => ["ce", t, ...Object.keys(p)].join(" ");\n`);
  writeFileSync(join(react, "jsx-runtime.d.ts"), `export const jsx: any, jsxs: any, Fragment: any;\n`);
  writeFileSync(join(react, "index.d.ts"), `export const createElement: any;\n`);
  writeFileSync(join(dir, "package.json"), JSON.stringify({ type: "module" }));
  writeFileSync(
    join(dir, "main.tsx"),
    `import { async, sleepAsync, waitFor } from "./runtime/index.js";
declare global { namespace JSX { interface IntrinsicElements { [tag: string]: any } } }
const log: string[] = [];
const t = (s: string) => (log.push(s), s);
const o = { s: 1 };
const main = async(function* () {
  const els = [
    <i key={t("k1")} id={(yield* sleepAsync(1), t("id1"))}>{t("c1")}</i>,
    <i key={(yield* sleepAsync(1), t("k2"))} id={t("id2")} />,
    <i {...o} key={t("k3")} id={(yield* sleepAsync(1), t("id3"))} />,
    <i {...{ a: t("a4") }} key={t("k4")} id={(yield* sleepAsync(1), t("id4"))} />,
  ];
  return [els, log];
});
console.log(JSON.stringify(waitFor(main())));
`,
  );
  const build = (outDir: string, plugins: object[]) => {
    const compilerOptions = { target: "ES2022", module: "NodeNext", moduleResolution: "NodeNext", jsx: "react-jsx", strict: true, outDir, skipLibCheck: true, types: ["node"], plugins };
    writeFileSync(join(dir, "tsconfig.json"), JSON.stringify({ compilerOptions, files: ["main.tsx"] }));
    const r = spawnSync(process.execPath, [plugins.length ? tspc : join(root, "node_modules/typescript/bin/tsc"), "-p", dir, "--pretty", "false"], { encoding: "utf8" });
    expect(r.stdout + r.stderr).toBe("");
    return spawnSync(process.execPath, [join(dir, outDir, "main.js")], { encoding: "utf8" });
  };
  const plain = build("plain", []);
  expect(JSON.parse(plain.stdout)).toEqual([
    ["i k1 id children", "i k2 id", "ce i s key id", "i k4 a id"],
    ["id1", "c1", "k1", "id2", "k2", "k3", "id3", "a4", "id4", "k4"],
  ]);
  const lowered = build("lowered", [{ transform: join(cjs, "index.js") }]);
  expect(readFileSync(join(dir, "lowered/main.js"), "utf8")).not.toMatch(/function\*/);
  expect(lowered).toMatchObject({ stdout: plain.stdout, stderr: "" });
});

it("loads the typescript package only for a host that gives no compiler; an ES module caller is asked for one", () => {
  const node = (type: string, script: string) => {
    const r = spawnSync(process.execPath, [`--input-type=${type}`, "-e", script], { cwd: root, encoding: "utf8" });
    expect(r.stderr).toBe("");
    return JSON.parse(r.stdout);
  };
  const given = node(
    "commonjs",
    `const transformer = require(${JSON.stringify(join(cjs, "index.js"))}).default;
     // A host's compiler and a program, as far as the transformer looks at them before any file.
     const hostCompiler = { createSourceFile() {}, transform() {}, factory: {} };
     const program = { getSourceFile: () => undefined, getTypeChecker: () => ({}), getCompilerOptions: () => ({}) };
     const withHost = typeof transformer(program, {}, { ts: hostCompiler });
     const loaded = () => Object.keys(require.cache).some((k) => /typescript[\\/]lib[\\/]typescript\.js$/.test(k));
     const before = loaded();
     const withoutHost = typeof transformer(program);
     console.log(JSON.stringify([withHost, before, withoutHost, loaded()]));`,
  );
  expect(given).toEqual(["function", false, "function", true]);
  const asked = node(
    "module",
    `const { default: transformer } = await import(${JSON.stringify(join(esm, "index.js"))});
     let message = "";
     try { transformer({ getSourceFile: () => undefined, getTypeChecker: () => ({}) }); } catch (e) { message = e.message; }
     console.log(JSON.stringify(message));`,
  );
  expect(asked).toMatch(/no TypeScript compiler was given; pass it as `ts`/);
});

it("answers ts-patch's call of it as a program transformer, with or without a compiler host, with a program whose emit says the entry is wrong", () => {
  const program = ts.createProgram([], { noEmit: false });
  const entry = { transform: "chronots/transformer", transformProgram: true };
  // ts-patch passes createProgram's host, undefined when its caller gave none, then the entry.
  for (const host of [ts.createCompilerHost({}), undefined]) {
    const given = (transformer as unknown as (...args: unknown[]) => ts.Program)(program, host, entry, { ts });
    expect(typeof given.emit, String(host)).toBe("function");
    expect(given.emit(undefined, () => {}).diagnostics.map((d) => d.code), String(host)).toEqual([ENTRY_CODE]);
  }
});

it("program.emit with the factory as a before transformer reports through addDiagnostic", () => {
  const dir = project("emit", "NodeNext");
  const config = ts.getParsedCommandLineOfConfigFile(join(dir, "tsconfig.json"), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} })!;
  const program = ts.createProgram(config.fileNames, config.options);
  const added: ts.Diagnostic[] = [];
  const written = new Map<string, string>();
  const factory = transformer(program, {}, { ts, addDiagnostic: (d) => void added.push(d) });
  program.emit(undefined, (name, text) => written.set(name, text), undefined, false, { before: [factory] });
  const js = [...written].find(([name]) => name.endsWith("main.js"))![1];
  // One runtime call names each lowered function: a pending result made first, or the failed one the catch of a body that
  // runs its first step itself (one without suspension, or a lazy one) makes.
  expect(js.match(/\.(coroutine|failed)\(/g)).toHaveLength(4);
  expect(js).toContain("const notOurs = async(function* ()");
  expect(added.map((d) => [d.category, ts.getLineAndCharacterOfPosition(d.file!, d.start!).line + 1])).toEqual([
    [ts.DiagnosticCategory.Warning, 18],
    [ts.DiagnosticCategory.Warning, 41],
  ]);
});

/** Compiler options of the in-process emits below: an ES module for a bundler, or CommonJS. */
const bundler = { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Bundler, strict: true, skipLibCheck: true, types: [] };
const commonjs = { ...bundler, module: ts.ModuleKind.CommonJS, moduleResolution: ts.ModuleResolutionKind.Node10 };

/**
 * `files`, written into a folder of their own beside a link to the runtime, emitted by `program.emit`
 * with the transformer as a `before` (or `after`) transformer: the output by file name, and what it reported.
 */
function emitWith(name: string, files: Record<string, string>, options: ts.CompilerOptions, where: "before" | "after" = "before") {
  const dir = join(tmp, name);
  mkdirSync(dir);
  symlinkSync(join(root, "runtime"), join(dir, "runtime"));
  for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, file), text);
  const program = ts.createProgram(Object.keys(files).map((file) => join(dir, file)), { ...options, outDir: join(dir, "out") });
  const written = new Map<string, string>();
  const added: ts.Diagnostic[] = [];
  program.emit(undefined, (file, text) => written.set(file.slice(file.lastIndexOf("/") + 1), text), undefined, false, {
    [where]: [transformer(program, {}, { ts, addDiagnostic: (d) => void added.push(d) })],
  });
  return { written, added };
}

it("reads the runtime object with require() only in files emitted as CommonJS (.mts under module commonjs stays an ES module)", () => {
  const body = `import { async, sleepAsync } from "./runtime/index.js";\nexport const f = async(function* () {\n  yield* sleepAsync(1);\n});\n`;
  const { written } = emitWith("formats", { "esm.mts": body, "cjs.ts": body }, commonjs);
  expect(written.get("esm.mjs")).toMatch(/^import \* as (\$+c)ns from "\.\/runtime\/index\.js";\nvar \1 = \1ns\.__chronots;/m);
  expect(written.get("esm.mjs")).not.toContain("require(");
  expect(written.get("cjs.js")).toMatch(/^var \$+c = require\("\.\/runtime\/index\.js"\)\.__chronots;/m);
  expect(written.get("cjs.js")).not.toContain("__importStar");
});

it("reads the runtime object through an import = require() in AMD, UMD and System output, which their transforms bind without interop helpers", () => {
  const body = `import { async, sleepAsync } from "./runtime/index.js";\nexport const f = async(function* () {\n  yield* sleepAsync(1);\n});\n`;
  for (const module of [ts.ModuleKind.AMD, ts.ModuleKind.UMD, ts.ModuleKind.System]) {
    // Under esModuleInterop a namespace import became tslib's __importStar with importHelpers, which the program need not have.
    const out = emitWith(`format-${module}`, { "m.ts": body }, { ...bundler, module, moduleResolution: ts.ModuleResolutionKind.Node10, esModuleInterop: true, importHelpers: true }).written.get("m.js")!;
    const [, , ns] = /(\$+c) = (\$+cns)\.__chronots;/.exec(out) ?? [];
    expect(ns, String(module)).toBeDefined();
    expect(out, String(module)).not.toMatch(/tslib|__importStar/);
    // The module is the factory's parameter, a require's result, or set by System's setter.
    expect(out.includes(`, ${ns})`) || out.includes(`const ${ns} = require(`) || out.includes(`${ns} = `), String(module)).toBe(true);
  }
});

it("writes the runtime object's require() as TypeScript writes imports under rewriteRelativeImportExtensions (./rt.ts as ./rt.js)", () => {
  const rt = `export * from "./runtime/index.js";\n`;
  const body = (spec: string) => `import { async, sleepAsync } from "${spec}";\nexport const f = async(function* () {\n  yield* sleepAsync(1);\n});\n`;
  const { written } = emitWith("rewrite-ext", { "rt.ts": rt, "rtm.mts": rt, "main.ts": body("./rt.ts"), "other.ts": body("./rtm.mts") }, { ...commonjs, rewriteRelativeImportExtensions: true });
  expect(written.get("main.js")).toMatch(/^var \$+c = require\("\.\/rt\.js"\)\.__chronots;/m);
  expect(written.get("other.js")).toMatch(/^var \$+c = require\("\.\/rtm\.mjs"\)\.__chronots;/m);
  for (const out of [written.get("main.js"), written.get("other.js")]) expect(out).not.toMatch(/\.m?ts"/);
});

it("writes an exported variable that a compound or logical assignment taken apart targets through CommonJS's exports, its comment printed once", () => {
  const text = `import { async, sleepAsync } from "./runtime/index.js";\nexport let count: number | undefined;\nexport let total = 1;\nexport const f = async(function* () {\n  /* fill */ count ??= 5 + (yield* sleepAsync(1), 0);\n  total += (yield* sleepAsync(1), 2);\n  return [count, total];\n});\n`;
  const { written } = emitWith("exported", { "ex.ts": text }, commonjs);
  const out = written.get("ex.js")!;
  expect(out.split("/* fill */")).toHaveLength(2);
  expect(out).toMatch(/\/\* fill \*\/ \$+t0 = exports\.count;/);
  expect(out).toMatch(/exports\.count = 5 \+/);
  expect(out).toMatch(/exports\.total = \$+t0 \+/);
});

it("reads the runtime object with require() in a file that stays CommonJS where TypeScript keeps imports as written (preserve, a JavaScript file's require under esnext)", () => {
  const cts = `import C = require("./runtime/index.js");\nexport = C.async(function* () {\n  yield* C.sleepAsync(1);\n});\n`;
  const js = `const { async, sleepAsync } = require("./runtime/index.js");\nmodule.exports = async(function* () {\n  yield* sleepAsync(1);\n});\n`;
  const esm = `import { async, sleepAsync } from "./runtime/index.js";\nexport const f = async(function* () {\n  yield* sleepAsync(1);\n});\n`;
  const preserve = emitWith("preserve", { "req.cts": cts, "esm.ts": esm }, { ...bundler, module: ts.ModuleKind.Preserve }).written;
  const esnext = emitWith("js-require", { "req.js": js }, { ...bundler, allowJs: true }).written;
  for (const out of [preserve.get("req.cjs"), esnext.get("req.js")]) {
    expect(out).toMatch(/^var \$+c = require\("\.\/runtime\/index\.js"\)\.__chronots;/m);
    expect(out).not.toMatch(/^import /m);
    expect(out).toMatch(/\.(coroutine|handoff)\(/);
  }
  expect(preserve.get("esm.js")).toMatch(/^import \* as (\$+c)ns from "\.\/runtime\/index\.js";/m);
});

it("recognizes async through `import C = require(…)`", () => {
  const { written } = emitWith("import-equals", { "req.ts": `import C = require("./runtime/index.js");\nexport const f = C.async(function* () {\n  yield* C.sleepAsync(1);\n});\n` }, commonjs);
  expect(written.get("req.js")).toMatch(/^var \$+c = require\("\.\/runtime\/index\.js"\)\.__chronots;/m);
  expect(written.get("req.js")).toMatch(/\.(coroutine|handoff)\(/);
  expect(written.get("req.js")).not.toContain("function*");
});

it("recognizes async taken with require() in a JavaScript file, and warns where a TypeScript file types it any", () => {
  const dir = join(tmp, "require");
  mkdirSync(join(dir, "node_modules"), { recursive: true });
  symlinkSync(join(root, "runtime"), join(dir, "runtime"));
  // The package as installed, for the TypeScript file's require("chronots").
  symlinkSync(root, join(dir, "node_modules/chronots"));
  writeFileSync(
    join(dir, "req.js"),
    `const { async: run, sleepAsync } = require("./runtime/index.js");\nconst C = require("./runtime/index.js");\nexports.f = run(function* () {\n  yield* sleepAsync(1);\n});\nexports.g = C.async(function* () {\n  yield* C.sleepAsync(1);\n});\n`,
  );
  writeFileSync(join(dir, "other.ts"), "export const async = (f: unknown) => f;\n");
  writeFileSync(
    join(dir, "typed.ts"),
    `declare const require: (m: string) => any;\nconst { async } = require("chronots");\nconst C = require("chronots");\nconst other = require("./other.js");\nexport const f = async(function* () {});\nexport const g = C.async(function* () {});\nexport const h = other.async(function* () {});\n`,
  );
  const options = { allowJs: true, target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.CommonJS, moduleResolution: ts.ModuleResolutionKind.Node10, strict: true, skipLibCheck: true, types: [], outDir: join(dir, "out") };
  const program = ts.createProgram([join(dir, "req.js"), join(dir, "typed.ts")], options);
  const written = new Map<string, string>();
  const added: ts.Diagnostic[] = [];
  program.emit(undefined, (name, text) => written.set(name.slice(name.lastIndexOf("/") + 1), text), undefined, false, {
    before: [transformer(program, {}, { ts, addDiagnostic: (d) => void added.push(d) })],
  });
  expect(written.get("req.js")).toMatch(/^var \$+c = require\("\.\/runtime\/index\.js"\)\.__chronots;/m);
  expect(written.get("req.js")!.match(/\.(coroutine|handoff)\(/g)).toHaveLength(2);
  expect(written.get("req.js")).not.toContain("function*");
  expect(written.get("typed.js")!.match(/function\*/g)).toHaveLength(3);
  const why = `an async taken with require('chronots') in a TypeScript file, which types it any (write \`import { async } from "chronots"\` or \`import C = require("chronots")\`)`;
  expect(added.map((d) => [d.file!.fileName.slice(dir.length + 1), ts.getLineAndCharacterOfPosition(d.file!, d.start!).line + 1, d.messageText])).toEqual([
    ["typed.ts", 5, `chronots: this async function is left to the run-time driver: ${why}, is not lowered`],
    ["typed.ts", 6, `chronots: this async function is left to the run-time driver: ${why}, is not lowered`],
  ]);
});

it("warns at a call of async through an alias, which the lowering does not follow", () => {
  const aliased = `import * as C from "./runtime/index.js";
import { async, sleepAsync } from "./runtime/index.js";
const run = async;
const { async: run2 } = C;
const ns = C;
function* worker() {}
export const f = run(function* () {});
export const g = run2(function* () {});
export const h = ns.async(function* () {});
export const k = run(worker);
export const direct = async(function* () {
  yield* sleepAsync(1);
});
const other = (g: () => Generator) => g;
export const notOurs = other(function* () {});
`;
  const required = `import C = require("./runtime/index.js");\nconst { async } = C;\nexport const f = async(function* () {});\n`;
  const { written, added } = emitWith("aliases", { "aliased.ts": aliased, "required.ts": required }, commonjs);
  expect(written.get("aliased.js")!.match(/function\*/g)).toHaveLength(5);
  expect(written.get("aliased.js")).toMatch(/\.(coroutine|handoff)\(/);
  expect(written.get("required.js")).toContain("function*");
  const why = (alias: string) =>
    `chronots: this async function is left to the run-time driver: an alias of chronots' async ('${alias}'), which the lowering does not follow (call async through its import: \`import { async } from "chronots"\` or a namespace import's \`C.async\`), is not lowered`;
  // The call of a declared generator first: those are tried before the visit.
  expect(added.map((d) => [d.file!.fileName.slice(d.file!.fileName.lastIndexOf("/") + 1), ts.getLineAndCharacterOfPosition(d.file!, d.start!).line + 1, d.category, d.messageText])).toEqual([
    ["aliased.ts", 10, ts.DiagnosticCategory.Warning, why("run")],
    ["aliased.ts", 7, ts.DiagnosticCategory.Warning, why("run")],
    ["aliased.ts", 8, ts.DiagnosticCategory.Warning, why("run2")],
    ["aliased.ts", 9, ts.DiagnosticCategory.Warning, why("ns.async")],
    ["required.ts", 3, ts.DiagnosticCategory.Warning, why("async")],
  ]);
});

it("leaves a directive prologue first, above the runtime object's import", () => {
  const { written } = emitWith("directives", { "client.ts": `"use client";\nimport { async, sleepAsync } from "./runtime/index.js";\nexport const f = async(function* () {\n  yield* sleepAsync(1);\n});\n` }, bundler);
  expect(written.get("client.js")).toMatch(/^"use client";\nimport \{ async, sleepAsync \} from "\.\/runtime\/index\.js";\nimport \* as (\$+c)ns from "\.\/runtime\/index\.js";\nvar \1 = \1ns\.__chronots;/);
});

it("leaves to the driver the early errors TypeScript's checker reports and still emits, which the lowering would erase", () => {
  const cases: [string, string][] = [["switch (p) {\n    default: yield* sleepAsync(0); break;\n    default: break;\n  }", "more than one default clause in a switch (a syntax error)"],
    ["const o = { a = yield* sleepAsync(0) };\n  return o;", "a shorthand property with an initializer in an object literal (a syntax error)"],
    ["for (let i of [1]) {\n    var i;\n    yield* sleepAsync(0);\n  }", "a `var` redeclaring 'i', which a block around it declares with let (a syntax error)"],
    ["export const x = yield* sleepAsync(0);", "the modifier 'export' on a declaration in a function (a syntax error)"],
    ["declare let q: number;\n  yield* sleepAsync(0);\n  return q;", "the modifier 'declare' on a declaration in a function (an error TypeScript reports)"],
    ["import z = p.a;\n  yield* sleepAsync(0);\n  return z;", "an import alias (import x = …) in a function (an error TypeScript reports)"],
    ["yield* sleepAsync(0);\n  new.target = 1;", "new.target as an assignment target (a syntax error)"],
    ["let a;\n  ([a]) = yield* sleepAsync(0);", "a destructuring pattern in parentheses (a syntax error)"],
  ];
  const text = `import { async, sleepAsync } from "./runtime/index.js";\n${cases.map(([body], i) => `export const f${i} = async(function* (p: any) {\n  ${body}\n});\n`).join("")}`;
  const { written, added } = emitWith("early-errors", { "early.ts": text }, bundler);
  expect(added.map((d) => `${d.messageText}`.replace(/^.*driver: /, ""))).toEqual(cases.map(([, why]) => `${why} is not lowered`));
  expect(written.get("early.js")!.match(/function\*/g)).toHaveLength(cases.length);
});

it("leaves a function another transform already rebuilt (an \"after\" entry) to the driver, warned at the call", () => {
  // TypeScript's own transform has stripped `ms: number` by the time an "after" transformer runs,
  // and the file it hands on is a rebuilt tree, in which no declaration is rewritten in place.
  const typed = `import { async, sleepAsync } from "./runtime/index.js";\nexport const f = async(function* (ms: number) {\n  yield* sleepAsync(ms);\n});\nfunction* worker(ms: number) {\n  yield* sleepAsync(ms);\n}\nexport const g = async(worker);\n`;
  const { written, added } = emitWith("after", { "typed.ts": typed }, bundler, "after");
  expect(written.get("typed.js")).toContain("export const f = async(function* (ms) {");
  expect(written.get("typed.js")).not.toContain("__chronots");
  expect(added.map((d) => [ts.getLineAndCharacterOfPosition(d.file!, d.start!).line + 1, d.messageText])).toEqual([
    [2, `chronots: this async function is left to the run-time driver: a function a transform that ran first rewrote (TypeScript's own, for a transformer run after it, or a plugin listed before chronots) is not lowered`],
    [8, "chronots: this async function is left to the run-time driver: a generator function neither written in the async() call nor declared in a block around it is not lowered"],
  ]);
  expect(written.get("typed.js")).toContain("function* worker(ms) {");
});

it("rewrites a generator declared beside its call in place, however the call is written", () => {
  // The text test that finds calls to lower (`async(`) misses the first two; the declarations are rewritten all the same.
  const calls = `import { async, waitFor } from "./runtime/index.js";\nfunction* a() { return 1; }\nfunction* b() { return 2; }\nfunction* c() { return 3; }\nexport const A = async /* the worker */ (a);\nexport const B = async?.(b);\nexport const C = async(c);\nexport const sum = waitFor(A()) + waitFor(B!()) + waitFor(C());\n`;
  const { written, added } = emitWith("declared-calls", { "calls.ts": calls }, bundler);
  expect(added).toEqual([]);
  const out = written.get("calls.js")!;
  expect(out).not.toContain("function*");
  expect(out).toMatch(/^export const A = a;\nexport const B = b;\nexport const C = c;$/m);
  // Such a call, inside a function given up on after it was tried, is still warned about, by the visit that goes on into that function.
  const kept = `import { async, sleepAsync } from "./runtime/index.js";\nfunction* w() {}\nexport const named = () => w;\nexport const outer = async(function* (o: any) {\n  yield* sleepAsync(0);\n  const x = async?.(w);\n  delete o?.[yield* sleepAsync(0)];\n});\n`;
  const given = emitWith("declared-kept", { "kept.ts": kept }, bundler);
  expect(given.added.map((d) => ts.getLineAndCharacterOfPosition(d.file!, d.start!).line + 1).sort()).toEqual([6, 7]);
});

it("keeps the comments of a function the lowering gave up on after taking part of it apart", () => {
  const dir = join(tmp, "comments");
  mkdirSync(dir);
  const file = join(dir, "main.ts");
  // The first statement is taken apart (its first operand goes to a temp) before the second makes the lowering give up.
  writeFileSync(
    file,
    `import { async, sleepAsync } from ${JSON.stringify(join(root, "runtime/index.js"))};
declare function foo(...a: unknown[]): number;
declare let bar: number;
declare let o: { p?: Record<string, number> } | undefined;
export const kept = async(function* () {
  foo(/* keep me */ bar, yield* sleepAsync(1));
  delete o?.p?.[(yield* sleepAsync(2), "q")];
});
`,
  );
  const program = ts.createProgram([file], { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ES2022, strict: true, skipLibCheck: true, types: [], outDir: join(dir, "out") });
  const warnings: ts.Diagnostic[] = [];
  let out = "";
  program.emit(undefined, (name, text) => void (name.endsWith("main.js") && (out = text)), undefined, false, { before: [transformer(program, {}, { ts, addDiagnostic: (d) => void warnings.push(d) })] });
  expect(warnings.map((d) => d.code)).toEqual([99301]);
  expect(out).toContain("foo(/* keep me */ bar, yield* sleepAsync(1));");
});

it("lowers sloppy JavaScript as the driver runs it: arguments unmapped where the parameters are not simple, delete of a binding held per iteration, bindings named arguments; a parameter named arguments or let bound from arguments, and its strict code's syntax errors, are left to the driver", () => {
  const fns = [
    // Unmapped, as a function's whose parameters are not simple: its callee throws; reads, writes and length as the call's.
    `function* (a, { x } = {}, c) {\n  const k = "callee";\n  let callee;\n  try { callee = typeof arguments[k]; } catch (e) { callee = e.name; }\n  arguments[0] = 10;\n  yield sleepAsync(0);\n  arguments[2] = 30;\n  return [callee, typeof Object.getOwnPropertyDescriptor(arguments, "callee").get, a, x, c, arguments.length, arguments[0], arguments[2]];\n}`,
    `function* (a = 0, b) {\n  try { return arguments["call" + "ee"].name; } catch (e) { return e.name; }\n}`,
    // Sloppy code may delete a name: false for a binding, which stays.
    `function* () {\n  const seen = [];\n  const fs = [];\n  for (let i = 0; i < 2; i++) {\n    fs.push(() => i);\n    yield sleepAsync(0);\n    seen.push(delete i, delete (i), i);\n  }\n  return [seen, fs.map((f) => f())];\n}`,
    // A binding named arguments is not the arguments object.
    `function* (...arguments) {\n  return arguments.callee;\n}`,
    `function* () {\n  const named = function arguments() {};\n  yield sleepAsync(0);\n  return named.name;\n}`,
  ];
  const left = [`function* (arguments, b = 1) {\n  yield sleepAsync(0);\n  return [arguments, b];\n}`, `function* ({ x: arguments }) {\n  return arguments;\n}`, `function* (let, b = 2) {\n  return [let, b];\n}`, `function* () {\n  {\n    function inner() {}\n  }\n  yield sleepAsync(0);\n  return typeof inner;\n}`];
  const args = "(1, undefined, 3, 4)";
  const text = `const { async, sleepAsync } = require("./runtime/index.js");\n${[...fns, ...left].map((fn, i) => `exports.f${i} = () => async(${fn})${args};\n`).join("")}`;
  const { written, added } = emitWith("sloppy", { "sloppy.js": text }, { ...commonjs, allowJs: true, strict: false, alwaysStrict: false });
  const out = written.get("sloppy.js")!;
  expect(out).not.toContain("use strict");
  expect(out.match(/function\*/g)).toHaveLength(left.length);
  expect(added.map((d) => `${d.messageText}`.replace(/^.*driver: /, ""))).toEqual([
    "a parameter named arguments in a function with defaults or patterns in its parameters (sloppy code) is not lowered",
    "a parameter named arguments in a function with defaults or patterns in its parameters (sloppy code) is not lowered",
    "a parameter named let in a function with defaults or patterns in its parameters (sloppy code) is not lowered",
    "a function declared in a block and named outside it ('inner'), which sloppy code binds in the whole function, is not lowered",
  ]);
  const run = (code: string) => {
    const exports: Record<string, () => runtime.Future<unknown>> = {};
    new Function("require", "exports", code)(() => runtime, exports);
    return Object.values(exports).map((f) => runtime.waitFor(f()));
  };
  const driver = run(text);
  expect(driver).toEqual([["TypeError", "function", 1, undefined, 3, 4, 10, 30], "TypeError", [[false, false, 0, false, false, 1], [0, 1]], undefined, "arguments", [1, 1], undefined, [1, 2], "function"]);
  expect(run(out)).toEqual(driver);
  // Each lowered function has its generator's length.
  const lengths = (code: string) => {
    const exports: Record<string, () => { length: number }> = {};
    new Function("require", "exports", code.replace(/\(1, undefined, 3, 4\);/g, ";"))(() => runtime, exports);
    return Object.values(exports).map((f) => f().length);
  };
  expect(lengths(out)).toEqual(lengths(text));
  // Strict code in the sloppy file, a class's and a function's with "use strict", where those are syntax errors.
  const strict = `const { async, sleepAsync } = require("./runtime/index.js");\nexports.f = async(function* () {\n  class K { m() { let x; return delete x; } }\n});\nexports.g = async(function* () {\n  "use strict";\n  let static = 1;\n});\n`;
  const warned = emitWith("sloppy-strict", { "strict.js": strict }, { ...commonjs, allowJs: true, strict: false, alwaysStrict: false }).added;
  expect(warned.map((d) => `${d.messageText}`.replace(/^.*driver: /, ""))).toEqual(["delete of a plain name in strict code (a syntax error) is not lowered", "a binding named static in strict code (a syntax error) is not lowered"]);
});

it("leaves to the driver, in sloppy code, a class whose extends or computed names suspend: moved out of the class they would run as sloppy code", () => {
  const cls = `class A extends (function () { return this === undefined ? Object : Array; })() {\n    [(function () { return this === undefined ? "strict" : "sloppy"; })()]() {}\n    [(yield sleepAsync(0), "k")]() {}\n  }\n  return [Object.getPrototypeOf(A).name, Object.getOwnPropertyNames(A.prototype).join()];`;
  const text = `const { async, sleepAsync } = require("./runtime/index.js");\nexports.f = async(function* () {\n  ${cls}\n});\nexports.g = async(function* () {\n  "use strict";\n  ${cls}\n});\n`;
  const { written, added } = emitWith("sloppy-class", { "sloppy.js": text }, { ...commonjs, allowJs: true, strict: false, alwaysStrict: false });
  const out = written.get("sloppy.js")!;
  expect(added.map((d) => `${d.messageText}`.replace(/^.*driver: /, ""))).toEqual(["a class whose 'extends' or computed member names suspend, in sloppy code (a class's own code is strict) is not lowered"]);
  // The one with "use strict" is lowered.
  expect(out.match(/function\*/g)).toHaveLength(1);
  const run = (code: string) => {
    const exports: Record<string, () => runtime.Future<unknown>> = {};
    new Function("require", "exports", code)(() => runtime, exports);
    return Object.values(exports).map((f) => runtime.waitFor(f()));
  };
  const strictly = ["Object", "constructor,strict,k"];
  expect(run(text)).toEqual([strictly, strictly]);
  expect(run(out)).toEqual([strictly, strictly]);
});

it("keeps sloppy code's global named let an expression where the lowering starts a statement with it (let[0]++ would declare); a for-in assigning it is left to the driver", () => {
  const text = `const { async, sleepAsync } = require("./runtime/index.js");\nvar let = [0];\nexports.f = async(function* () {\n  for (; let[0] < 2; let[0]++) yield sleepAsync(0);\n  yield sleepAsync(0), let[0] = 5;\n  return let[0];\n});\nexports.g = async(function* () {\n  const seen = [];\n  for (let in { k: 1, j: 2 }) seen.push(yield sleepAsync(0), let);\n  return seen.length;\n});\n`;
  const { written, added } = emitWith("sloppy-let", { "let.js": text }, { ...commonjs, allowJs: true, strict: false, alwaysStrict: false });
  expect(added.map((d) => `${d.messageText}`.replace(/^.*driver: /, ""))).toEqual(["a for-in or for-of loop assigning a variable named let (sloppy code) is not lowered"]);
  const out = written.get("let.js")!;
  expect(out.match(/function\*/g)).toHaveLength(1);
  const run = (code: string) => {
    const exports: Record<string, () => runtime.Future<unknown>> = {};
    new Function("require", "exports", code)(() => runtime, exports);
    return [runtime.waitFor(exports.f!()), runtime.waitFor(exports.g!())];
  };
  expect([run(text), run(out)]).toEqual([[5, 4], [5, 4]]);
});

it("builds a file of 50 async functions each nested in the one before, as tsc does: those more than NESTING deep in lowered ones are left to the driver, with a warning at each", { timeout: 120_000 }, () => {
  let inner = "return yield* F(50);";
  for (let i = 49; i >= 0; i--) inner = `const g${i} = co(function* () {\n${inner}\n});\nreturn (yield* F(${i})) + (yield* g${i}());`;
  const build = oneModule(
    "nested-async",
    `import { async as co, Future, waitFor } from "chronots";\nfunction F(v: number): Future<number> { const f = new Future<number>(); f.complete(v); return f; }\nconst p0 = co(function* () {\n${inner}\n});\nconsole.log(waitFor(p0()));\n`,
  );
  const plain = build("plain", { target: "ES2022" }, []);
  expect([plain.compiled, plain.stdout.trim()]).toEqual(["", "1275"]);
  // Lowered, each level nested the output some 15 nodes deeper: TypeScript's printer overflowed the stack, and tspc wrote nothing.
  const lowered = build("lowered", { target: "ES2022" }, [{ transform: join(cjs, "index.js") }]);
  const warnings = lowered.compiled.split("\n").filter(Boolean);
  expect(warnings).toEqual(Array.from({ length: 50 - NESTING }, (_, i) => `main.ts(${i + NESTING + 4},16): warning TS99301: chronots: this async function is left to the run-time driver: an async function nested more than ${NESTING} deep in other lowered async functions is not lowered`));
  expect(lowered.js.match(/\.(coroutine|handoff)\(/g)).toHaveLength(NESTING + 1);
  expect([lowered.stdout.trim(), lowered.stderr]).toEqual(["1275", ""]);
});

it("builds an else-if chain of 600 links that suspend, a flat chain once lowered, and leaves to the driver, with a warning, statements the lowering would nest much deeper than written", { timeout: 120_000 }, () => {
  const links = 600;
  const chain = Array.from({ length: links }, (_, i) => `if (v === ${i}) { s += yield* leaf(${i}); }`).join(" else ");
  const loops = Array.from({ length: 450 }, (_, i) => `for (let i${i} = 0; i${i} < 1; i${i}++) `).join("");
  const build = oneModule(
    "deep-statements",
    `import { async, sleepAsync, waitFor } from "chronots";
const leaf = async(function* (i: number) {
  if (i % 7 === 0) yield* sleepAsync(0);
  return i;
});
const chain = async(function* () {
  let s = 0;
  for (let k = 0; k < 50; k++) {
    const v: number = (k * 13) % ${links};
    ${chain}
  }
  return s;
});
const loops = async(function* () {
  let s = 0;
  ${loops}s += yield* leaf(7);
  return s;
});
console.log(waitFor(chain()), waitFor(loops()));
`,
  );
  const plain = build("plain", { target: "ES2022" }, []);
  expect(plain.compiled).toBe("");
  expect(plain.stdout).toBe(`${Array.from({ length: 50 }, (_, k) => (k * 13) % links).reduce((a, b) => a + b, 0)} 7\n`);
  // Each link lowered as `else { if … }`, TypeScript's printer overflowed the stack: tspc ended with its RangeError and wrote nothing.
  // Each of the loops lowered takes a block: the printer overflowed from some 400 of them; now left to the driver.
  const lowered = build("lowered", { target: "ES2022" }, [{ transform: join(cjs, "index.js") }]);
  expect(lowered.compiled).toMatch(/^main\.ts\(14,21\): warning TS99301: chronots: this async function is left to the run-time driver: code nested more than 1000 deep once lowered \(counting an if, a loop or a statement 1, a block, a literal or a call's arguments 2\.5: TypeScript's printer may overflow\), is not lowered\n$/);
  expect(lowered.js.match(/\.(coroutine|handoff)\(/g)).toHaveLength(2);
  expect(lowered.js.match(/\n\s+else if \(v === \d+\) \{\n/g)).toHaveLength(links - 1);
  expect(lowered.js).not.toMatch(/else \{\s+if/);
  expect([lowered.stdout, lowered.stderr]).toEqual([plain.stdout, ""]);
});

it("lowers nothing in a file whose own code nests past PRINT_DEPTH, with a warning at each function: printing lowered code first, TypeScript's printer overflowed on the rest", () => {
  const body = `import { async, sleepAsync } from "./runtime/index.js";\nexport const data = ${"{ a: ".repeat(300)}1${" }".repeat(300)};\nexport const f = async(function* () {\n  yield* sleepAsync(1);\n});\n`;
  const { written, added } = emitWith("file-too-deep", { "deep.ts": body }, commonjs);
  expect(added.map((d) => [d.code, d.start, String(d.messageText)])).toEqual([
    [99301, body.indexOf("function* ()"), expect.stringMatching(/^chronots: this async function is left to the run-time driver: a file holding code nested more than 1000 deep \(at 2:\d+: TypeScript's printer may overflow printing it around lowered code\), is not lowered$/)],
  ]);
  expect(written.get("deep.js")).toContain("(0, index_js_1.async)(function* () {");
  expect(written.get("deep.js")).not.toMatch(/\.(coroutine|handoff)\(/);
});

it("counts a chain of ?? below ES2020, and of ** below ES2016, as the conditionals and calls each in the next that TypeScript prints them as", () => {
  // The printer loops over a chain of binary expressions as written; downlevelled, each link nests the rest. Lowered
  // around such a chain (tsc itself prints 258 links of ?? at ES2017, 620 of ** at ES2015), tspc's printer overflowed.
  const chain = (op: string, links: number) =>
    `import { async, sleepAsync } from "./runtime/index.js";\nconst z = 2 as number | null;\nexport const f = async(function* () {\n  yield* sleepAsync(1);\n  return ${Array.from({ length: links }, () => "z").join(` ${op} `)};\n});\n`;
  for (const [op, links, target] of [["??", 240, ts.ScriptTarget.ES2017], ["**", 560, ts.ScriptTarget.ES2015]] as const) {
    const body = chain(op, links);
    const below = emitWith(`chain-${links}-below`, { "chain.ts": body }, { ...commonjs, target });
    expect(below.added.map((d) => [d.code, d.start]), op).toEqual([[99301, body.indexOf("function* ()")]]);
    expect(below.written.get("chain.js"), op).not.toMatch(/\.(coroutine|handoff)\(/);
    const modern = emitWith(`chain-${links}-es2022`, { "chain.ts": body }, commonjs);
    expect(modern.added, op).toEqual([]);
    expect(modern.written.get("chain.js"), op).toMatch(/\.(coroutine|handoff)\(/);
  }
});

it("counts an object's spreads as the calls each in the next that TypeScript prints them as below ES2018", () => {
  // Printed as 400 Object.assign calls each in the next, the literal is as deep as 400 nested calls: at ES2017 the file's depth
  // is past PRINT_DEPTH and nothing is lowered; at ES2022 it prints as written, and the function is lowered.
  const body = `import { async, sleepAsync } from "./runtime/index.js";\nconst p = { a: 1 };\nexport const data = { ${"...p, ".repeat(400)}z: 1 };\nexport const f = async(function* () {\n  yield* sleepAsync(1);\n});\n`;
  const below = emitWith("spreads-es2017", { "spreads.ts": body }, { ...commonjs, target: ts.ScriptTarget.ES2017 });
  expect(below.added.map((d) => [d.code, d.start])).toEqual([[99301, body.indexOf("function* ()")]]);
  expect(below.written.get("spreads.js")).toContain("Object.assign(Object.assign(");
  expect(below.written.get("spreads.js")).not.toMatch(/\.(coroutine|handoff)\(/);
  const modern = emitWith("spreads-es2022", { "spreads.ts": body }, commonjs);
  expect(modern.added).toEqual([]);
  expect(modern.written.get("spreads.js")).toMatch(/\.(coroutine|handoff)\(/);
});
