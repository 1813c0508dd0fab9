/**
 * chronots/vite: what the plugin's transform hook gives Vite. (That Vite really runs it is shown by
 * the "transformed" project of this suite, see test/modes.test.ts.)
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { SourceMap } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { decode } from "@jridgewell/sourcemap-codec";
import ts from "typescript";
import { describe, expect, it, vi } from "vitest";
import chronots, { type ChronotsViteOptions } from "../transformer/vite.js";

function transform(code: string, id = "/proj/src/a.ts", options?: ChronotsViteOptions, root = "/proj", config: object = {}) {
  const plugin = chronots(options);
  plugin.configResolved({ root, ...config });
  const warnings: string[] = [];
  const error = (m: string): never => {
    throw new Error(m);
  };
  const out = plugin.transform.call({ warn: (m: string) => void warnings.push(m), error }, code, id);
  return { out, warnings };
}

const head = `// a header   with odd   spacing\nimport { async, type Future } from "chronots";\nconst   untouched = [1,2 ,3];;\n\nexport const inc = `;
const call = `async(function* (f: Future<number>) {
  const x = yield* f;
  trace.push("marker");
  return x + untouched.length;
})`;
const tail = `;\n/* trailing */ export const   other = ( untouched ) ;\n`;

describe("chronots/vite", () => {
  it("lowers async functions and keeps every other byte as it was", () => {
    const { out, warnings } = transform(head + call + tail);
    expect(warnings).toEqual([]);
    expect(out).not.toBeNull();
    const code = out!.code;
    expect(code).not.toContain("function*");
    expect(code.endsWith(tail)).toBe(true);
    // The prelude's import lines come after the comment the file starts with, the rest as it was.
    const comment = head.slice(0, head.indexOf("\n") + 1);
    expect(code.startsWith(comment)).toBe(true);
    const at = code.indexOf(head.slice(comment.length));
    expect(code.slice(comment.length, at)).toMatch(/^(import [^\n]*\n)+$/);
  });

  const declared = `import { async } from "chronots";\nconst trace: string[] = [];\nexport const run = async(worker);\n\nfunction* worker(f: Future<number>) {\n  yield* f;\n  trace.push("marker");\n}\n`;
  it.each([
    ["written in the call", head + call + tail],
    ["declared by name", declared],
  ])("maps a line inside a lowered body back to its original line: a generator %s", (_, code) => {
    const { out } = transform(code);
    expect(out!.code).not.toContain("function*");
    const lines = out!.code.split("\n");
    const line = lines.findIndex((l) => l.includes(`"marker"`));
    const entry = new SourceMap(out!.map as never).findEntry(line, lines[line]!.indexOf(`"marker"`)) as { originalLine: number; originalColumn: number };
    const original = code.split("\n").findIndex((l) => l.includes(`"marker"`));
    expect(entry.originalLine).toBe(original);
    expect(entry.originalColumn).toBe(code.split("\n")[original]!.indexOf(`"marker"`));
  });

  it("maps every copy of every statement of a lowered body to its own place, as tspc's map does", () => {
    const code = [
      `import { async, sleepAsync } from "chronots";`,
      `declare function chk(k: number): number;`,
      `export const f = async(function* (xs: number[]) {`,
      `  chk(1);`,
      `  for (let i = 0; i < xs.length; i++) {`,
      `    chk(2);`,
      `    yield* sleepAsync(xs[i]!);`,
      `    chk(3);`,
      `  }`,
      `  try {`,
      `    chk(4) + (yield* sleepAsync(0));`,
      `  } finally {`,
      `    chk(5);`,
      `  }`,
      `  const g = async(function* () {`,
      `    yield* sleepAsync(0);`,
      `    chk(6);`,
      `  });`,
      `  return chk(7) + (yield* g());`,
      `});`,
      ``,
    ].join("\n");
    const { out } = transform(code);
    const map = new SourceMap(out!.map as never);
    const lines = out!.code.split("\n");
    const found: string[] = [];
    lines.forEach((l, i) => {
      for (const m of l.matchAll(/chk\((\d)\)/g)) {
        const e = map.findEntry(i, m.index) as { originalLine: number; originalColumn: number };
        const line = code.split("\n")[e.originalLine]!;
        found.push(`${m[0]} -> ${line.slice(e.originalColumn, e.originalColumn + m[0].length)}`);
      }
    });
    // The loop runs both as itself (its structured copy) and as states: each copy maps home.
    expect(found.filter((x) => x.startsWith("chk(2)")).length).toBe(2);
    for (const x of found) expect(x).toMatch(/^(chk\(\d\)) -> \1$/);
    expect(new Set(found).size).toBe(7);
  });

  // A yield of a non-Future throws from a line the lowering adds, which the printer maps nowhere.
  const yields = (from: string) =>
    `import { async, sleepAsync } from "${from}";\n\nexport const f = async(function* (n: any) {\n  for (let i = 0; i < n; i++) yield* sleepAsync(0);\n  yield n;\n  return 1;\n});\nexport const after = 1;\n`;

  it("maps every line of a lowered body, from its first column, into the generator", () => {
    const code = yields("chronots");
    const { out } = transform(code);
    const lines = out!.code.split("\n");
    const map = decode(out!.map.mappings);
    const first = lines.findIndex((l) => l.startsWith("export const f"));
    const last = lines.findIndex((l, i) => i > first && l.endsWith("})[\"\"]);"));
    expect(last - first).toBeGreaterThan(10);
    // Vite chains this map under oxc's, looking each position up on its own line: each must hit.
    for (let l = first; l <= last; l++) {
      expect(map[l]?.[0]?.[0], `line ${l}: ${lines[l]}`).toBe(0);
      for (const seg of map[l]!) expect(seg[2], `line ${l}: ${lines[l]}`).toSatisfy((o: number) => o >= 2 && o <= 6);
    }
  });

  /** The generated lines with a mapping (past the column withSplices fills) from each original position asked. */
  function mappedFrom(code: string, positions: Record<string, [line: number, column: number]>): Record<string, number[]> {
    const map = decode(transform(code).out!.map.mappings);
    const lines = (line: number, column: number) => map.flatMap((segs, l) => (segs.some((s) => s[0] > 0 && s[2] === line && s[3] === column) ? [l] : []));
    return Object.fromEntries(Object.entries(positions).map(([k, [line, column]]) => [k, lines(line, column)]));
  }

  it("maps the machine's test of a loop or an if from the statement's keyword, as the structured copy's, and both copies' switch from its discriminant", () => {
    const code = `import { async, sleepAsync } from "chronots";

export const f = async(function* (n: number) {
  let i = 0;
  while (i < n) {
    yield* sleepAsync(1);
    i++;
  }
  for (let j = 0; j < n; j++) {
    if (j > 1) {
      yield* sleepAsync(1);
    }
  }
  while (i++ < n + (yield* sleepAsync(1))) n--;
  switch (n % 2) {
    case 0:
      yield* sleepAsync(1);
  }
});
`;
    // DevTools sets a line's breakpoint at the first position mapped on it, then at every generated place
    // mapped from that position: each copy must have one, or after a suspension the breakpoint never fires.
    // A switch's from its discriminant, the first piece of the machine's.
    const found = mappedFrom(code, { while: [4, 2], for: [8, 2], if: [9, 4], suspending: [13, 2], switch: [14, 10] });
    for (const [k, lines] of Object.entries(found)) expect(new Set(lines).size, k).toBeGreaterThanOrEqual(2);
    // Those are the first positions mapped on their lines.
    const map = decode(transform(code).out!.map.mappings).flat();
    for (const [k, [line, column]] of Object.entries({ while: [4, 2], for: [8, 2], if: [9, 4], suspending: [13, 2], switch: [14, 10] }))
      expect(Math.min(...map.filter((seg) => seg[0] > 0 && seg[2] === line).map((seg) => seg[3]!)), k).toBe(column);
  });

  it("maps the handler that settles a failed body to the generator's first line, not to the body's last", () => {
    const code = `import { async, sleepAsync } from "chronots";

export const f = async(function* (n: number) {
  yield* sleepAsync(1);
  if (n > 0) throw new Error("x");
  return n;
});
`;
    const { out } = transform(code);
    const lines = out!.code.split("\n");
    const map = decode(out!.map.mappings);
    const handlers = lines.flatMap((l, i) => (/^ *catch \(\$e\) \{$/.test(l) ? [i] : []));
    // The first step's, in the lowered function, then the machine's, which takes over at the pending await.
    const [first, machine] = handlers.map((at, i) => lines.slice(at, at + [3, 4][i]!).map((l) => l.trim()));
    expect(first).toEqual(["catch ($e) {", 'return $c.failed("", $e);', "}"]);
    expect(machine).toEqual(["catch ($e) {", "if ($r._child !== null)", "throw $e;", "return $c.settle($r, $e);"]);
    // Run whenever the body throws, these lines mapped to \`return n\` made coverage count it run; so did the hand-over.
    const handOver = lines.findIndex((l) => l.includes("return f.call(this, $s, void 0, n);"));
    expect(lines[handOver + 1]!.trim()).toBe("function f($s, $a, n) {");
    for (const l of [handlers[0]!, handlers[0]! + 1, handOver, handOver + 1, ...[0, 1, 2, 3].map((k) => handlers[1]! + k)]) expect(map[l]!.map((s) => s[2]), lines[l]).toEqual(map[l]!.map(() => 2));
  });

  /**
   * The stack of the error that `run` (an expression of `f`, the module's exports) fails with, `f` the
   * module `source(runtime)` imported through a Vite server with this plugin: Vite's module runner maps
   * the trace through the map Vite chains (its transform's under this plugin's), in a process of its own
   * (Vite's transform keeps native threads open, which this file's fd check would count). With `mine`,
   * the plugin's 'modules' lists instead mine.ts, written beside with that text.
   */
  function stackThroughVite(name: string, source: (runtime: string) => string, run: string, mine?: (runtime: string) => string): { stdout: string; file: string } {
    const root = fileURLToPath(new URL("..", import.meta.url));
    const runtime = join(root, "runtime/index.ts");
    const dir = mkdtempSync(join(tmpdir(), "chronots-vite-"));
    const file = join(dir, name);
    writeFileSync(file, source(runtime));
    if (mine) writeFileSync(join(dir, "mine.ts"), mine(runtime));
    const script = `
      import { createServer, createServerModuleRunner, runnerImport } from "vite";
      const [plugin, runtime, file, listed] = process.argv.slice(1);
      const { default: chronots } = (await runnerImport(plugin, { configFile: false, logLevel: "silent" })).module;
      const server = await createServer({ configFile: false, root: ${JSON.stringify(dir)}, logLevel: "silent", server: { middlewareMode: true, hmr: false, watch: null }, plugins: [chronots({ modules: [listed] })] });
      const runner = createServerModuleRunner(server.environments.ssr, { hmr: false, sourcemapInterceptor: "prepareStackTrace" });
      const { waitFor } = await runner.import(runtime);
      try { const f = await runner.import(file); console.log(${run}.error.stack); } catch (e) { console.log(e.stack); }
      await runner.close();
      await server.close();`;
    try {
      const r = spawnSync(process.execPath, ["--input-type=module", "-e", script, join(root, "transformer/vite.ts"), runtime, file, mine ? "./mine.ts" : runtime], { cwd: root, encoding: "utf8" });
      return { stdout: r.stdout, file };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it("gives a stack trace through Vite the original line of a yield of a non-Future", () => {
    // n = 0: no sleep, the body fails in the call
    const { stdout, file } = stackThroughVite("y5.ts", yields, "f.f(0)");
    expect(stdout).toMatch(/^TypeError: yield of a non-Future value \(number 0\)/);
    expect(stdout.split("\n").find((l) => l.includes(file))).toMatch(/^ +at \S+ \(.*\/y5\.ts:5:\d+\)$/);
  });

  it("gives the load-time TypeError of a listed module that lacks chronots' runtime the line where the prelude stands", () => {
    const source = () => `// a header\nimport { async } from "./mine.ts";\nexport const f = async(function* () { return 1; });\n`;
    const { stdout, file } = stackThroughVite("pre.ts", source, "f.f()", (runtime) => `export { async } from "${runtime}";\n`);
    expect(stdout).toMatch(/^TypeError: chronots: '\.\/mine\.ts', listed in 'modules', must re-export all of chronots/);
    // Unmapped, the prelude's line read as line 9 of this 3-line file.
    expect(stdout.split("\n").find((l) => l.includes(file))).toMatch(/\/pre\.ts:2:1\)?$/);
  });

  it("maps of the prelude only a listed module's load-time check, so coverage does not count the runtime's own code as the file's", () => {
    const code = (spec: string) => `// a header\nimport { async } from "${spec}";\nexport const f = async(function* () { return 1; });\n`;
    const cases: [string, ChronotsViteOptions | undefined][] = [["chronots", undefined], ["./mine.js", { modules: ["./src/mine.js"] }]];
    for (const [spec, options] of cases) {
      const { out } = transform(code(spec), "/proj/src/a.ts", options);
      const lines = out!.code.split("\n");
      const at = lines.findIndex((l) => l.includes("function $cinit()"));
      const mapped = decode(out!.map.mappings)[at]!.filter((seg) => seg.length > 1);
      if (spec === "chronots") expect(mapped, spec).toEqual([]);
      else {
        // The check alone, mapped to the line the prelude stands on (line 2, the import's).
        expect(mapped.map((seg) => [lines[at]!.slice(seg[0], seg[0] + 6), seg[2]]), spec).toEqual([["if (!$", 1]]);
        const end = decode(out!.map.mappings)[at]!.find((seg) => seg.length === 1)!;
        expect(lines[at]!.slice(end[0])).toMatch(/^ ?function \$cinit\(\)/);
      }
    }
  });

  // A loop whose condition calls with a suspending argument: the machine's and the copy's `if (!c) break` have no node of the program's.
  const condition = (from: string) => `import { async, sleepAsync } from "${from}";

function check(x: unknown): boolean {
  throw new Error("check " + String(x));
}
export const f = async(function* (n: number) {
  for (let i = 0; i < 2; i++) yield* sleepAsync(0);
  while (check(
    yield* sleepAsync(n),
  )) n++;
});
`;

  it("gives a stack trace through Vite the line of a call in a suspending loop condition", () => {
    const { stdout, file } = stackThroughVite("w8.ts", condition, "waitFor(f.f(0))");
    expect(stdout).toMatch(/^Error: check undefined/);
    // The frame below check's is the body's, at the call (untransformed: w8.ts:8:9), not at the yield on line 9.
    expect(stdout.split("\n").filter((l) => l.includes(file))[1]).toMatch(/^ +at \S+ \(.*\/w8\.ts:8:\d+\)$/);
  });

  it("numbers lines as JavaScript does through Vite, after a lone CR, a U+2028 or a U+2029 in the file", () => {
    // Line 2 holds both separators in a string, every line ends in a lone CR: the throw stands on line 7.
    const source = (runtime: string) => [`import { async, sleepAsync } from "${runtime}";`, `const sep = "\u2028\u2029";`, `export const f = async(function* () {`, `  yield* sleepAsync(1);`, `  throw new Error(sep);`, `});`, ``].join("\r");
    const { stdout, file } = stackThroughVite("cr.ts", source, "waitFor(f.f())");
    expect(stdout.split("\n").find((l) => l.includes(file))).toMatch(/^ +at \S+ \(.*\/cr\.ts:7:9\)$/);
  });

  it("keeps a call starting a statement after a line without a semicolon its own statement, and an if's body its body", () => {
    const source = (runtime: string) => [
      `import { async, sleepAsync, waitFor } from "${runtime}"`,
      `const log: string[] = []`,
      `let x = 1`,
      `async(function* () { yield* sleepAsync(0); log.push("statement") })().addCallback(() => log.push("done"))`,
      // Until both are in: a step whose timers both fall due runs the resumption only in the next step.
      `while (log.length < 2) waitFor(sleepAsync(1))`,
      `if (!x)`,
      `  async(function* () { log.push("if's body") })()`,
      `export const result = async(function* () { throw new Error("log: " + log.join(",")) })`,
      ``,
    ].join("\n");
    const { stdout } = stackThroughVite("asi.ts", source, "f.result()");
    expect(stdout).toMatch(/^Error: log: statement,done\n/);
    // The splice of the call starting a statement begins with a `;`; the if's body stays the if's.
    const { out } = transform(source("chronots"), "/proj/src/asi.ts");
    expect(out!.code).toMatch(/\nlet x = 1\n;\(0, /);
    expect(out!.code).toMatch(/\nif \(!x\)\n {2}\(0, /);
  });

  // Ten runs, each a process of its own through Vite: some 20 s on a loaded 2-core machine.
  it("places the frame of a call or new whose arguments suspend at the call, as written", { timeout: 60_000 }, () => {
    const source = (runtime: string) => `import { async, sleepAsync } from "${runtime}";
const boom = (_: unknown): number => { throw new Error("boom"); };
const o = { m: boom };
export const call = async(function* () {
  return [1,
    boom(yield* sleepAsync(1))];
});
export const method = async(function* () {
  return [1,
    o.m(yield* sleepAsync(1), 3)];
});
export const make = async(function* () {
  return [1,
    new (boom as any)(yield* sleepAsync(1))];
});
export const optional = async(function* () {
  return [1,
    boom?.(
      yield* sleepAsync(1))];
});
export const keyed = async(function* () {
  const k = "m";
  return [1,
    o[k
    ](yield* sleepAsync(1))];
});
function* starts(): Generator<never, number> {
  throw new Error("starts");
}
export const delegated = async(function* () {
  yield* sleepAsync(1);
  return (yield* starts(
  ));
});
export const uncallable = async(function* () {
  const p: any = {};
  return [p.n(yield* sleepAsync(1))];
});
export const wrapped = async(function* () {
  return [1,
    (o.m
    )(yield* sleepAsync(1))];
});
const tag = (_: TemplateStringsArray, ...__: unknown[]): number => { throw new Error("tag"); };
export const tagged = async(function* () {
  return [1,
    tag
      \`a\${yield* sleepAsync(1)}\`];
});
export const maybeMethod = async(function* () {
  return [1,
    o.m?.(
      yield* sleepAsync(1))];
});
`;
    // The error's line, then the frames' places in the file; "(not first)" when a frame outside it comes first.
    const frames = (run: string) => {
      const { stdout, file } = stackThroughVite("calls.ts", source, run);
      const lines = stdout.split("\n");
      return [lines[0], ...(lines[1]!.includes(file) ? [] : ["(not first)"]), ...lines.filter((l) => l.includes(file)).map((l) => /calls\.ts:(\d+:\d+)\)$/.exec(l)?.[1])];
    };
    // As untransformed: 6:5 (boom), 10:7 (m), 14:5 (new), below boom's own frame (2:46); the lowered code called them from a line before.
    expect(frames("waitFor(f.call())")).toEqual(["Error: boom", "2:46", "6:5"]);
    expect(frames("waitFor(f.method())")).toEqual(["Error: boom", "2:46", "10:7"]);
    expect(frames("waitFor(f.make())")).toEqual(["TypeError: boom is not a constructor", "14:5"]);
    // V8 places an optional call's frame at its `(`, a keyed one's too; a generator failing as it starts at the operand of its `yield*`.
    expect(frames("waitFor(f.optional())")).toEqual(["Error: boom", "2:46", "18:11"]);
    expect(frames("waitFor(f.keyed())")).toEqual(["Error: boom", "2:46", "25:6"]);
    expect(frames("waitFor(f.wrapped())")).toEqual(["Error: boom", "2:46", "42:6"]);
    // A tagged template's at the template, an optional call of a method at its `(`.
    expect(frames("waitFor(f.tagged())")).toEqual(["Error: tag", "44:76", "48:7"]);
    expect(frames("waitFor(f.maybeMethod())")).toEqual(["Error: boom", "2:46", "52:10"]);
    expect(frames("waitFor(f.delegated())")).toEqual(["Error: starts", "28:9", "32:18"]);
    // No frame of the runtime's stand-in above the body's, as the engine's own TypeError has none.
    expect(frames("waitFor(f.uncallable())")).toEqual(["TypeError: p.n is not a function", "37:13"]);
  });

  it("keeps anonymous functions anonymous through vite build, whose bundler folds '(0, f)' into 'f'", { timeout: 120_000 }, () => {
    const root = fileURLToPath(new URL("..", import.meta.url));
    const dir = mkdtempSync(join(tmpdir(), "chronots-vite-build-"));
    try {
      mkdirSync(join(dir, "node_modules"));
      symlinkSync(root, join(dir, "node_modules/chronots"), "dir");
      writeFileSync(
        join(dir, "names.ts"),
        `import { async, sleepAsync, waitFor } from "chronots";
const names = (...fs: unknown[]) => fs.map((f) => JSON.stringify((f as { name?: string } | undefined)?.name)).join(" ");
const f = async(function* () { return names(() => 0, yield* sleepAsync(1), function () {}, class {}); });
export const handler = async(function* (x: number) { return x; });
const table = { run: async(function* () { return 0; }) };
console.log(waitFor(f()), JSON.stringify(handler.name), JSON.stringify(table.run.name));
`,
      );
      const script = `
        import { build, runnerImport } from "vite";
        const [plugin, dir] = process.argv.slice(1);
        const { default: chronots } = (await runnerImport(plugin, { configFile: false, logLevel: "silent" })).module;
        for (const [out, plugins] of [["plain", []], ["lowered", [chronots()]]])
          await build({ configFile: false, root: dir, logLevel: "silent", plugins, ssr: { external: ["chronots"] }, build: { ssr: "names.ts", outDir: out, minify: false } });`;
      const built = spawnSync(process.execPath, ["--input-type=module", "-e", script, join(root, "transformer/vite.ts"), dir], { cwd: root, encoding: "utf8" });
      expect(built.stderr).toBe("");
      const run = (out: string) => spawnSync(process.execPath, [join(dir, out, "names.mjs")], { encoding: "utf8" });
      expect(readFileSync(join(dir, "lowered/names.mjs"), "utf8")).toMatch(/\.(coroutine|handoff)\(/);
      const plain = run("plain");
      expect(plain.stdout).toBe('""  "" "" "" ""\n');
      expect(run("lowered")).toMatchObject({ stdout: plain.stdout, stderr: "" });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("leaves alone files without async calls, without a marking import, or outside include", () => {
    const lowered = head + call + tail;
    expect(transform("export const x = 1;\n").out).toBeNull();
    expect(transform(lowered.replace(`from "chronots"`, `from "other"`)).out).toBeNull();
    expect(transform(lowered, "/proj/src/a.css").out).toBeNull();
    expect(transform(lowered, "/proj/node_modules/lib/a.js").out).toBeNull();
    expect(transform(lowered, "/proj/src/a.ts", { include: /\.mts$/ }).out).toBeNull();
    expect(transform(lowered, "/proj/src/a.ts?v=3").out).not.toBeNull();
    // JavaScript modules too: .jsx (React without TypeScript) and .mjs; not CommonJS files.
    const js = lowered.replace(", type Future", "").replace("(f: Future<number>)", "(f)");
    expect(transform(js, "/proj/src/a.jsx").out?.code).not.toContain("function*");
    expect(transform(js, "/proj/src/a.mjs").out?.code).not.toContain("function*");
    expect(transform(js, "/proj/src/a.cjs").out).toBeNull();
  });

  it("leaves a call alone where a namespace, an `import x = …` or an enum may shadow the import, and lowers despite a type's parameter of its name", () => {
    const inner = (decl: string) => `import { async } from "chronots";\nnamespace Mine { export function wrap(g: unknown) { return g; } }\nexport namespace N {\n  ${decl}\n  export const f = async(function* () { return 6; });\n}\n`;
    expect(transform(inner("import async = Mine.wrap;")).out).toBeNull();
    expect(transform(inner("export namespace async { export const x = 1; }")).out).toBeNull();
    expect(transform(inner("enum async { A }")).out).toBeNull();
    // What one block of a namespace exports is in scope in every block it merges with (TypeScript compiles the call to `NS.async(…)`).
    const call = "async(function* () { return 12; })";
    const merged = [
      `namespace NS { export const async = (g: unknown) => "ns"; }\nnamespace NS { export const r = ${call}; }`,
      `namespace NS { export const r = ${call}; }\nnamespace NS { export function async(g: unknown) { return g; } }`,
      `namespace NS { export let { async } = { async: 1 }; }\nnamespace NS { export const r = ${call}; }`,
      `namespace NS { export enum async { A } }\nnamespace NS { export const r = ${call}; }`,
      `namespace NS { export import async = Mine.wrap; }\nnamespace NS { export const r = ${call}; }`,
      `declare namespace NS { const async: (g: unknown) => string; }\nnamespace NS { export const r = ${call}; }`,
      `namespace A { export const async = 1; }\nnamespace A.B { export const r = ${call}; }`,
      `namespace A.B { export const async = 1; }\nnamespace A { export namespace B { export const r = ${call}; } }`,
      `namespace A { export namespace B { export const async = 1; } }\nnamespace A.B { export const r = ${call}; }`,
      `export namespace O { export namespace NS { export class async {} } }\nexport namespace O { export namespace NS { export const r = ${call}; } }`,
    ];
    const file = (decls: string) => `import { async } from "chronots";\nnamespace Mine { export function wrap(g: unknown) { return g; } }\n${decls}\n`;
    for (const decls of merged) expect(transform(file(decls)).out, decls).toBeNull();
    // Not a merge: a block's own declaration, a local namespace of another block, an enum's member (in no namespace's scope).
    const apart = [
      `namespace NS { const async = 1; }\nnamespace NS { export const r = ${call}; }`,
      `namespace I { namespace J { export const async = 1; } }\nnamespace I { namespace J { export const r = ${call}; } }`,
      `namespace K { namespace J { export const async = 1; } }\nnamespace K.J { export const r = ${call}; }`,
      `namespace M { export const async = 1; }\nnamespace N { export const r = ${call}; }`,
      `enum E { async = 1 }\nnamespace E { export const r = ${call}; }`,
    ];
    for (const decls of apart) expect(transform(file(decls)).out?.code, decls).not.toContain("function*");
    const typed = `import { async } from "chronots";\ntype Options = { done: (async: boolean) => void };\nexport const f = async(function* () { return 6; });\n`;
    expect(transform(typed).out?.code).not.toContain("function*");
  });

  it("takes each file alike through an include or exclude RegExp with the g or y flag", () => {
    const code = head + call + tail;
    for (const options of [{ include: /\.ts$/g }, { include: /.*\.ts$/y }, { exclude: /\.skip\.ts$/g }]) {
      const plugin = chronots(options);
      plugin.configResolved({ root: "/proj" });
      const context = {
        warn: () => {},
        error: (m: string): never => {
          throw new Error(m);
        },
      };
      const lowered = ["a", "b", "c", "d"].map((n) => plugin.transform.call(context, code, `/proj/src/${n}.ts`) !== null);
      expect(lowered, String(Object.values(options)[0])).toEqual([true, true, true, true]);
      if (options.exclude)
        expect(["a.skip", "b.skip"].map((n) => plugin.transform.call(context, code, `/proj/src/${n}.ts`))).toEqual([null, null]);
    }
  });

  it("matches relative imports by the file they resolve to", () => {
    const modules = ["./runtime/index.ts"];
    const file = (spec: string) => `import { async } from "${spec}";\nexport const g = async(function* () { return 1; });\n`;
    for (const spec of ["../runtime/index.js", "../runtime/index.ts", "../runtime", "/proj/runtime/index.js"])
      expect(transform(file(spec), "/proj/test/a.test.ts", { modules }).out?.code, spec).not.toContain("function*");
    for (const spec of ["../runtime/async.js", "./runtime/index.js", "chronots"])
      expect(transform(file(spec), "/proj/test/a.test.ts", { modules }).out, spec).toBeNull();
  });

  it("warns with file:line:col where it cannot lower, and leaves that function to the run-time driver", () => {
    const code = `import { async } from "chronots";\nexport const g = async(function* () {\n  return eval("1");\n});\n`;
    const { out, warnings } = transform(code);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^\/proj\/src\/a\.ts:3:10: TS99301: chronots: .*eval/);
    expect(out?.code ?? code).toContain("function*");
  });

  it("leaves a file with a syntax error as it is, for Vite's parser to report, and says where", () => {
    for (const body of ["() { return 1 +; }", "() { if (x) { }", "() { const = 1; }"]) {
      const code = `import { async } from "chronots";\nexport const g = async(function* ${body});\n`;
      const { out, warnings } = transform(code);
      expect(out, body).toBeNull();
      expect(warnings, body).toEqual([expect.stringMatching(/^\/proj\/src\/a\.ts:2:\d+: .*left this file to the run-time driver: TypeScript reports a syntax error here \(.+\)/)]);
    }
  });

  it("leaves a generator with a yield in a parameter's default, a syntax error, to the driver", () => {
    const { out, warnings } = transform(`import { async } from "chronots";\nexport const g = async(function* (a = yield* x) {});\n`);
    expect(out).toBeNull();
    expect(warnings).toEqual([expect.stringMatching(/^\/proj\/src\/a\.ts:2:39: .*a yield in a parameter's default \(a syntax error\)/)]);
  });

  it('follows "unlowered": an error fails the file with every place named, "off" says nothing; a bad value is named', () => {
    const code = `import { async } from "chronots";\nfunction* gen() {}\nexport const f = async(gen);\nexport const g = async(function* () {\n  return eval("1");\n});\n`;
    expect(transform(code).warnings).toEqual([expect.stringMatching(/a\.ts:3:24: .*'gen', a generator in a file with a direct eval/), expect.stringMatching(/a\.ts:5:10: .*eval/)]);
    expect(() => transform(code, undefined, { unlowered: "error" })).toThrow(/a\.ts:3:24: .*'gen', a generator in a file with a direct eval.*\n.*a\.ts:5:10: .*eval/);
    const off = transform(code, undefined, { unlowered: "off" });
    expect(off.warnings).toEqual([]);
    expect(off.out).toBeNull();
    expect(transform(`import { async } from "chronots";\nexport const h = async(function* () {});\n`, undefined, { unlowered: "error" }).out!.code).not.toContain("function*");
    // Named as the other options of the Vite plugin are, not as a tsconfig entry's.
    expect(() => chronots({ unlowered: "loud" as never })).toThrow(`chronots/vite: 'unlowered' must be "error", "warning" or "off", got "loud"`);
    for (const [bad, got] of [[null, "null"], [1n, "1"], [Symbol("s"), "Symbol(s)"], [{ a: 1 }, '{"a":1}'], [() => "error", "a function"]] as const)
      expect(() => chronots({ unlowered: bad as never }), String(got)).toThrow(`chronots/vite: 'unlowered' must be "error", "warning" or "off", got ${got}`);
  });

  it("warns at a call through an alias of async or of its namespace, which the lowering does not follow", () => {
    const code = [
      `import * as C from "chronots";`,
      `import { async } from "chronots";`,
      `const run = async;`,
      `const { async: run2 } = C;`,
      `const ns = C;`,
      `const again = run;`,
      `function* worker() {}`,
      `export const f = run(function* () {});`,
      `export const g = run2(function* () {});`,
      `export const h = ns.async(function* () {});`,
      `export const k = again(worker);`,
      `export const direct = async(function* () {});`,
    ].join("\n");
    const why = (at: string, alias: string) => expect.stringMatching(new RegExp(`^/proj/src/a\\.ts:${at}: .*left to the run-time driver: an alias of chronots' async \\('${alias}'\\), which the lowering does not follow`));
    const { out, warnings } = transform(code);
    expect(warnings).toEqual([why("11:18", "again"), why("8:18", "run"), why("9:18", "run2"), why("10:18", "ns.async")]);
    expect(out!.code.match(/function\*/g)).toHaveLength(4);
    expect(() => transform(code, undefined, { unlowered: "error" })).toThrow(/a\.ts:11:18: .*'again'/);
    // A name declared twice may not be the import: as a call through it, an alias of it is left alone.
    const shadowed = `import { async } from "chronots";\nexport const local = ((async: (g: unknown) => unknown) => {\n  const run = async;\n  return run(function* () {});\n})(String);\n`;
    expect(transform(shadowed).warnings).toEqual([]);
  });

  it("warns about an internal error (TS99303) whatever 'unlowered' says, and leaves that function to the run-time driver", () => {
    const code = `import { async, type Future } from "chronots";\nexport const g = async(function* (f: Future<number>) {\n  return yield* f;\n});\n`;
    // A lowering bug, staged: the node factory fails while building the state machine's switch.
    const broken = vi.spyOn(ts.factory, "createCaseBlock").mockImplementation(() => {
      throw new Error("factory broke");
    });
    try {
      for (const unlowered of ["warning", "error", "off"] as const) {
        const { out, warnings } = transform(code, undefined, { unlowered });
        expect(warnings, unlowered).toEqual([expect.stringMatching(/^\/proj\/src\/a\.ts:2:24: .*left to the run-time driver: the lowering failed with an internal error \(factory broke\)/)]);
        expect(out?.code ?? code).toContain("function*");
      }
    } finally {
      broken.mockRestore();
    }
    expect(transform(code).warnings).toEqual([]);
  });

  const keyCode = (head = "") =>
    `${head}import { async, sleepAsync } from "chronots";\ndeclare const t: (s: string) => string;\nexport const f = async(function* () {\n  return <i key={t("key")} id={(yield* sleepAsync(0), t("id"))} />;\n});\n`;
  // Classic: the key, evaluated first, is held in a temp across the suspension.
  const keyFirst = (text: string, id: string, config: object = {}) => /= t\("key"\)/.test(transform(text, id, undefined, "/proj", config).out!.code);
  /** A temporary folder holding `files` (name → JSON), removed after `run`. */
  function withFiles(files: Record<string, object>, run: (dir: string) => void): void {
    const dir = mkdtempSync(join(tmpdir(), "chronots-vite-tsconfig-"));
    try {
      for (const [name, json] of Object.entries(files)) {
        mkdirSync(join(dir, name, ".."), { recursive: true });
        writeFileSync(join(dir, name), JSON.stringify(json));
      }
      run(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it("evaluates a key last where Vite's transform uses the automatic runtime: by a pragma, else its oxc.jsx, else the file's tsconfig.json, else by default", () => {
    const dir = mkdtempSync(join(tmpdir(), "chronots-vite-jsx-"));
    try {
      const classic = { oxc: { jsx: { runtime: "classic" } } };
      expect(keyFirst(keyCode(), "/proj/src/a.tsx")).toBe(false);
      expect(keyFirst(keyCode(), "/proj/src/a.tsx", classic)).toBe(true);
      expect(keyFirst(keyCode("/** @jsxRuntime automatic */\n"), "/proj/src/a.tsx", classic)).toBe(false);
      writeFileSync(join(dir, "tsconfig.json"), JSON.stringify({ compilerOptions: { jsx: "react", jsxFactory: "h" } }));
      mkdirSync(join(dir, "src"));
      const file = join(dir, "src/a.tsx");
      expect(keyFirst(keyCode(), file)).toBe(true);
      expect(keyFirst(keyCode(), file, { oxc: { jsx: { runtime: "automatic" } } })).toBe(false);
      expect(keyFirst(keyCode("/** @jsxRuntime automatic */\n"), file)).toBe(false);
      // The tsconfig's factory, which oxc calls, is one a local must not shadow.
      expect(transform(keyCode().replace("return <i", "const h = 1;\n  return <i"), file).warnings).toEqual([expect.stringMatching(/JSX next to a local named 'h'/)]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('evaluates a key last under a tsconfig.json\'s "jsx": "react-native", which oxc compiles with the automatic runtime', () => {
    withFiles({ "tsconfig.json": { compilerOptions: { jsx: "react-native" } } }, (dir) => expect(keyFirst(keyCode(), join(dir, "a.tsx"))).toBe(false));
  });

  /**
   * The output of `main.tsx` among `files` in `dir` (a tsconfig.json, say), run by a Vite dev server
   * without and with the plugin, in a process of its own; JSX goes to a runtime that prints elements.
   */
  function runThroughVite(files: Record<string, string>): { plain: string; lowered: string; warnings: string } {
    const root = fileURLToPath(new URL("..", import.meta.url));
    const dir = mkdtempSync(join(tmpdir(), "chronots-vite-run-"));
    const runtime = `export const Fragment = "";\nexport const jsx = (type, props, key) => [type, key, props];\nexport const jsxs = jsx;\nexport const jsxDEV = jsx;\n`;
    const all = { ...files, "node_modules/react/package.json": `{"name":"react","type":"module"}`, "node_modules/react/jsx-runtime.js": runtime, "node_modules/react/jsx-dev-runtime.js": runtime };
    try {
      for (const [name, text] of Object.entries(all)) {
        mkdirSync(join(dir, name, ".."), { recursive: true });
        writeFileSync(join(dir, name), text);
      }
      symlinkSync(root, join(dir, "node_modules/chronots"), "dir");
      const script = `
        import { createServer, createServerModuleRunner, runnerImport } from "vite";
        const [plugin, dir] = process.argv.slice(1);
        const { default: chronots } = (await runnerImport(plugin, { configFile: false, logLevel: "silent" })).module;
        for (const plugins of [[], [chronots()]]) {
          const server = await createServer({ configFile: false, root: dir, logLevel: "warn", server: { middlewareMode: true, hmr: false, watch: null }, plugins });
          const runner = createServerModuleRunner(server.environments.ssr, { hmr: false });
          try { await runner.import(dir + "/main.tsx"); } catch (e) { console.log("threw", e.message); }
          console.log("--");
          await runner.close();
          await server.close();
        }`;
      const r = spawnSync(process.execPath, ["--input-type=module", "-e", script, join(root, "transformer/vite.ts"), dir], { cwd: root, encoding: "utf8" });
      const [plain, lowered] = r.stdout.split("--\n");
      return { plain: plain!, lowered: lowered!, warnings: r.stderr };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  /** A file logging, for each of `bodies` (an async function's, `S()` a suspension), what it makes and what it evaluates, in order. */
  const logging = (...bodies: string[]) => `import { async, sleepAsync, waitFor } from "chronots";
declare global { namespace JSX { interface IntrinsicElements { [tag: string]: any } } }
const log: string[] = [];
const t = (s: string) => (log.push(s), s);
const S = () => sleepAsync(1);
const run = (f: () => any) => { log.length = 0; console.log(JSON.stringify(waitFor(f())), log.join(",")); };
${bodies.map((b) => `run(async(function* () { ${b} }));`).join("\n")}
`;

  it("passes an element's last key apart, as oxc does, and evaluates none before it", { timeout: 60_000 }, () => {
    const { plain, lowered, warnings } = runThroughVite({
      "main.tsx": logging(`return <i key={t("k1")} key={t("k2")}>{(yield* S(), t("c"))}</i>;`, `return <i key={(yield* S(), t("k1"))} id={t("id")} key={t("k2")} />;`),
    });
    expect(plain).toBe(`["i","k2",{"children":"c"}] c,k2\n["i","k2",{"id":"id"}] id,k2\n`);
    expect(lowered).toBe(plain);
    // A suspension oxc drops, which the lowering cannot, is left to the driver.
    expect(warnings).toMatch(/main\.tsx:8:\d+: TS99301: .*: a suspension in a `key` the JSX transform drops \(oxc passes an element's last `key`\) is not lowered/);
  });

  it("reads the tsconfig oxc reads for a file: of the nearest tsconfig.json, the first reference holding it, else itself if it does, else one above", () => {
    const files = {
      "tsconfig.json": { compilerOptions: { jsx: "react-jsx" } },
      "app/tsconfig.json": { compilerOptions: { jsx: "react" }, files: [], references: [{ path: "./tsconfig.app.json" }, { path: "./node" }] },
      "app/tsconfig.app.json": { compilerOptions: { jsx: "react", jsxFactory: "h" }, include: ["src"], exclude: ["src/gen"] },
      "app/node/tsconfig.json": { compilerOptions: { jsx: "react-jsx" }, include: ["../*.tsx"] },
    };
    withFiles(files, (dir) => {
      const at = (file: string) => join(dir, "app", file);
      expect(keyFirst(keyCode(), at("src/a.tsx"))).toBe(true);
      expect(transform(keyCode().replace("return <i", "const h = 1;\n  return <i"), at("src/a.tsx")).warnings).toEqual([expect.stringMatching(/JSX next to a local named 'h'/)]);
      expect(keyFirst(keyCode(), at("b.tsx"))).toBe(false);
      expect(keyFirst(keyCode(), at("src/gen/c.tsx"))).toBe(false);
      expect(keyFirst(keyCode(), at("other/c.tsx"))).toBe(false);
    });
    // Without an exclude, a file in outDir is held, as oxc holds it (TypeScript itself would leave it out).
    withFiles({ "tsconfig.json": { compilerOptions: { jsx: "react-jsx" } }, "sub/tsconfig.json": { compilerOptions: { jsx: "react", outDir: "gen" } } }, (dir) => {
      expect(keyFirst(keyCode(), join(dir, "sub/gen/a.tsx"))).toBe(true);
    });
  });

  it("leaves a function holding JSX to the driver where a tsconfig.json oxc would read cannot be read", () => {
    withFiles({ "tsconfig.json": { files: [], references: [{ path: "./missing.json" }] } }, (dir) => {
      expect(transform(keyCode(), join(dir, "a.tsx")).warnings).toEqual([expect.stringMatching(/a\.tsx:3:24: .*JSX whose runtime and factory are unknown/)]);
      expect(transform(keyCode(), join(dir, "a.tsx"), undefined, "/proj", { oxc: { jsx: "preserve" } }).warnings).toEqual([]);
    });
  });

  it("reads a tsconfig again once it or a file it extends has changed", () => {
    withFiles({ "tsconfig.json": { extends: "./base.json" }, "base.json": { compilerOptions: { jsx: "react" } } }, (dir) => {
      const plugin = chronots();
      plugin.configResolved({ root: dir });
      const keyFirst = () => /= t\("key"\)/.test(plugin.transform.call({ warn() {}, error: () => undefined as never }, keyCode(), join(dir, "a.tsx"))!.code);
      expect(keyFirst()).toBe(true);
      writeFileSync(join(dir, "base.json"), JSON.stringify({ compilerOptions: { jsx: "react-jsx" } }));
      utimesSync(join(dir, "base.json"), new Date(), new Date(Date.now() + 10_000));
      expect(keyFirst()).toBe(false);
    });
  });

  it("keeps a solution-style tsconfig's referenced jsxFactory from being shadowed", { timeout: 60_000 }, () => {
    const { plain, lowered, warnings } = runThroughVite({
      "tsconfig.json": JSON.stringify({ files: [], references: [{ path: "./tsconfig.app.json" }] }),
      "tsconfig.app.json": JSON.stringify({ compilerOptions: { jsx: "react", jsxFactory: "h" }, include: ["*.tsx"] }),
      "main.tsx": `${logging(`let r = "";\n  { const h = (s: string) => "inner " + s; r = h(t("a")); yield* S(); }\n  return [r, <b />];`)}function h(tag: string) { return "h made " + tag; }\n`,
    });
    expect(plain).toBe(`["inner a","h made b"] a\n`);
    expect(lowered).toBe(plain);
    expect(warnings).toMatch(/main\.tsx:8:\d+: TS99301: .*JSX next to a local named 'h'/);
  });

  it("takes the JSX factory Vite's own transform is set to, and keeps a file's pragmas leading it", () => {
    const code = `/** @jsxFrag F */\nimport { async, sleepAsync } from "chronots";\nexport const f = async(function* () {\n  const h = 1;\n  yield* sleepAsync(0);\n  return <p>{h}</p>;\n});\n`;
    const id = "/proj/src/a.tsx";
    expect(transform(code, id).warnings).toEqual([]);
    expect(transform(code, id).out!.code.startsWith("/** @jsxFrag F */\nimport * as $cns")).toBe(true);
    for (const config of [{ oxc: { jsx: { pragma: "h" } } }, { esbuild: { jsxFactory: "h.make" } }])
      expect(transform(code, id, undefined, "/proj", config).warnings).toEqual([expect.stringMatching(/a\.tsx:4:9: .*JSX next to a local named 'h'/)]);
  });

  it("survives malformed input", () => {
    const inputs = [
      `import { async } from "chronots";\nasync(function* (`,
      `import { async } from "chronots";\nconst f = async(function* () { yield* ; });`,
      `import { async } from "chronots";\nasync(function* () { "unterminated });`,
      `import { async } from "chronots";\nasync();\nasync(1, 2);\nasync(() => 1);`,
      `import { async } from "chronots"\u0000\uffff async(function* () {}`,
      `#!/usr/bin/env node\nimport { async } from "chronots";\nexport const f = async(function* () { return 1; });\n`,
    ];
    for (const input of inputs) {
      const { out } = transform(input);
      if (out !== null) expect(typeof out.code).toBe("string");
    }
    const shebang = transform(inputs[5]!).out!.code;
    expect(shebang.startsWith("#!/usr/bin/env node\n")).toBe(true);
  });

  it("rejects bad options with a TypeError naming the option", () => {
    expect(() => chronots({ modules: "chronots" as never })).toThrow(/'modules'/);
    expect(() => chronots({ include: "*.ts" as never })).toThrow(/'include'/);
    expect(() => chronots(null as never)).toThrow("chronots/vite: the options must be an object, got null");
    expect(() => chronots([] as never)).toThrow("chronots/vite: the options must be an object, got an array");
    expect(() => chronots({ modules: [] })).toThrow(`chronots/vite: 'modules' must be an array of one or more non-empty strings, got []`);
    // Each value named without JSON's own errors; null is no absent option, as in the tsconfig entry.
    const cyclic: unknown[] = [];
    cyclic.push(cyclic);
    // eslint-disable-next-line no-sparse-arrays
    for (const [bad, got] of [[1n, "1"], [[1n, Symbol("s")], "[1,Symbol(s)]"], [[() => 1], "[a function]"], [null, "null"], [cyclic, "[…]"], [[, "x"], '[undefined,"x"]'], [new Date(0), "a Date"], [{ m: [undefined] }, '{"m":[undefined]}']] as const)
      expect(() => chronots({ modules: bad as never }), got).toThrow(`chronots/vite: 'modules' must be an array of one or more non-empty strings, got ${got}`);
    expect(() => chronots({ include: null as never })).toThrow("chronots/vite: 'include' must be a RegExp or a function of the file name, got null");
    for (const odd of [" chronots", "chronots/"]) expect(() => chronots({ modules: [odd] })).toThrow(`chronots/vite: 'modules' entry ${JSON.stringify(odd)} matches no import (a space around it, or a '/' ending it)`);
    expect(() => chronots({ module: ["chronots"] } as never)).toThrow("chronots/vite: unknown option 'module'; did you mean 'modules'? (the options are 'modules', 'include', 'exclude', 'unlowered')");
    expect(() => chronots({ target: "es5" } as never)).toThrow("chronots/vite: unknown option 'target' (the options are 'modules', 'include', 'exclude', 'unlowered')");
    // ts-patch, given the Vite plugin as a tsconfig entry, calls it with a program.
    expect(() => chronots(ts.createProgram([], {}) as never)).toThrow(`chronots: chronots/vite is the Vite plugin, for the plugins of a vite.config; a tsconfig's entries are { "transform": "chronots/transformer" }`);
  });
});
