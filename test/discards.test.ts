/**
 * The asyncCheck rule against test/fixtures/diagnostics: each line marked `// @discarded 'a' 'b'` must get
 * exactly those reports (named by the expression text, positioned on it), and no other line any report.
 * Then the three ways users meet the rule — the ts-patch transformer (through emit and through a real
 * `tspc`), the tsserver plugin, and the `chronots check` CLI — must print identical diagnostics.
 */
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useCompiler } from "../transformer/compiler.js";
import { DISCARDED_CODE, discardedFutures } from "../transformer/discards.js";
import { hiddenProblem, NOT_A_PROGRAM, type Severity, severityOption } from "../transformer/entry.js";
import transformer from "../transformer/index.js";
import { UNSUPPORTED_CODE } from "../transformer/lower.js";
import init from "../transformer/service.js";
import { badYields } from "../transformer/yields.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const fixtures = join(root, "test/fixtures/diagnostics");
// The rule's functions run on the compiler an entry point names; here, as in `chronots check`, the package.
useCompiler(ts);
const fixtureConfig = join(fixtures, "tsconfig.json");

function parseConfig(file: string): ts.ParsedCommandLine {
  const host = { ...ts.sys, onUnRecoverableConfigFileDiagnostic: (d: ts.Diagnostic) => { throw new Error(ts.flattenDiagnosticMessageText(d.messageText, "\n")); } };
  return ts.getParsedCommandLineOfConfigFile(file, {}, host)!;
}

function fixtureProgram(overrides: ts.CompilerOptions = {}): ts.Program {
  const cfg = parseConfig(fixtureConfig);
  return ts.createProgram(cfg.fileNames, { ...cfg.options, ...overrides });
}

const formatHost: ts.FormatDiagnosticsHost = { getCanonicalFileName: (f) => f, getCurrentDirectory: () => root, getNewLine: () => "\n" };

/** tsc's plain one-line form, sorted: what every entry point is compared by. */
function lines(diags: readonly ts.Diagnostic[]): string[] {
  return ts.formatDiagnostics(diags, formatHost).split("\n").filter(Boolean).sort();
}

/** `file:line 'name'` for each marker in the fixtures. */
function expectedMarks(): string[] {
  const out: string[] = [];
  for (const name of readdirSync(fixtures).filter((f) => /\.tsx?$/.test(f))) {
    readFileSync(join(fixtures, name), "utf8").split("\n").forEach((text, i) => {
      const mark = text.match(/\/\/ @discarded (.*)$/);
      if (mark) for (const [, expr] of mark[1]!.matchAll(/'(.*?)'(?= '|$)/g)) out.push(`${name}:${i + 1} '${expr}'`);
    });
  }
  return out.sort();
}

function actualMarks(diags: readonly ts.Diagnostic[]): string[] {
  return diags
    .map((d) => {
      const named = ts.flattenDiagnosticMessageText(d.messageText, "\n").match(/^chronots: Futures? (?:returned by |in )?'(.*)' (?:is|are) discarded[; ]/)![1]!;
      const line = d.file!.getLineAndCharacterOfPosition(d.start!).line + 1;
      return `${basename(d.file!.fileName)}:${line} '${named}'`;
    })
    .sort();
}

function ruleOver(program: ts.Program, severity: Severity, under = fixtures): ts.Diagnostic[] {
  return program
    .getSourceFiles()
    .filter((sf) => sf.fileName.startsWith(under))
    .flatMap((sf) => discardedFutures(program, sf, severity));
}

describe("the rule on the fixtures", () => {
  const program = fixtureProgram();
  const found = ruleOver(program, "error");

  it("the fixtures are valid TypeScript", () => {
    const own = ts.getPreEmitDiagnostics(program).filter((d) => d.file?.fileName.startsWith(fixtures));
    expect(lines(own)).toEqual([]);
  });

  it("reports exactly the marked expressions", () => {
    const marks = expectedMarks();
    expect(marks.length).toBeGreaterThan(40);
    expect(actualMarks(found)).toEqual(marks);
  });

  it("positions each report on the expression it names", () => {
    for (const d of found) {
      const span = d.file!.text.slice(d.start!, d.start! + d.length!).replace(/\/\/.*$/gm, "").replace(/\s+/g, " ");
      const named = (d.messageText as string).match(/'(.*)' (?:is|are) discarded/)![1]!;
      expect(named.endsWith("…") ? span.startsWith(named.slice(0, -1)) : span === named).toBe(true);
    }
  });

  it("names a dropped Future as itself, and a call's or a callback's as what it returns", () => {
    const text = (name: string) => found.map((d) => d.messageText as string).find((m) => m.includes(`'${name}' is discarded`));
    expect(text("job()")).toMatch(/^chronots: Future returned by 'job\(\)'/);
    expect(text("job")).toMatch(/^chronots: Future returned by 'job'/);
    const values = found.map((d) => d.messageText as string).filter((m) => m.startsWith("chronots: Future ") && !m.startsWith("chronots: Future returned by "));
    expect(values.length).toBeGreaterThan(0);
    for (const m of values) expect(m).toMatch(/^chronots: Future '[^(']*' is discarded;/);
  });

  it("says what to do where the Future is dropped, with a stable code", () => {
    const at = (file: string, line: string) =>
      found.filter((x) => x.file!.fileName.endsWith(file) && x.file!.text.split("\n")[x.file!.getLineAndCharacterOfPosition(x.start!).line]!.trim() === line).map((x) => x.messageText);
    const rest = "hand it to 'asyncCheck(…)', or drop it on purpose with 'asyncDiscard(…)'";
    expect(found.every((d) => d.code === DISCARDED_CODE && d.category === ts.DiagnosticCategory.Error)).toBe(true);
    const statements = found.filter((x) => x.file!.fileName.endsWith("statements.ts")).map((x) => x.messageText);
    // In a generator, in a plain function, in an async function, and at an await.
    expect(statements).toContain(`chronots: Future returned by 'job()' is discarded; wait for it with 'yield* …', ${rest}`);
    expect(at("statements.ts", "conn.read(1); // @discarded 'conn.read(1)'")).toEqual([`chronots: Future returned by 'conn.read(1)' is discarded; wait for it with 'waitFor(…)', ${rest}`]);
    expect(at("statements.ts", "job(); // @discarded 'job()'")).toContain(`chronots: Future returned by 'job()' is discarded; wait for it with 'await waitForAsync(…)', ${rest}`);
    const jobs = at("statements.ts", "job(); // @discarded 'job()'");
    // In the async function and the async generator; at the top, in a plain arrow and in a class's static block inside a generator.
    expect(jobs.filter((m) => m === `chronots: Future returned by 'job()' is discarded; wait for it with 'await waitForAsync(…)', ${rest}`)).toHaveLength(2);
    expect(jobs.filter((m) => m === `chronots: Future returned by 'job()' is discarded; wait for it with 'waitFor(…)', ${rest}`)).toHaveLength(3);
    const all = "hand each to 'asyncCheck(…)', or drop them on purpose with 'asyncDiscard(…)'";
    expect(at("statements.ts", "[1, 2].map(() => job()); // @discarded '[1, 2].map(() => job())'")).toEqual([`chronots: Futures returned by '[1, 2].map(() => job())' are discarded; wait for them with 'waitFor(allFutures(…))', ${all}`]);
    expect(at("statements.ts", "pair; // @discarded 'pair'")).toEqual([`chronots: Futures in 'pair' are discarded; wait for them with 'waitFor(allFutures(…))', ${all}`]);
    expect(at("statements.ts", "ids.map(() => job()); // @discarded 'ids.map(() => job())'")).toEqual([`chronots: Futures returned by 'ids.map(() => job())' are discarded; wait for them with 'yield* allFutures(…)', ${all}`]);
    // In a callback inside a generator, twice.
    expect(jobs.filter((m) => m === `chronots: Future returned by 'job()' is discarded; wait for it with 'yield* …' in the function around this one, ${rest}`)).toHaveLength(1);
    expect(at("statements.ts", "ids.forEach(() => job()); // @discarded 'job()'")).toEqual([`chronots: Future returned by 'job()' is discarded; wait for it with 'yield* …' in the function around this one, ${rest}`]);
    expect(at("statements.ts", "const x = await job(); // @discarded 'job()'")).toEqual([
      `chronots: Future returned by 'job()' is discarded by 'await', which does not wait for a chronots Future; wait for it with 'await waitForAsync(…)', ${rest}`,
    ]);
    expect(at("statements.ts", "for await (const f of jobs) f.cancel(); // @discarded 'jobs'")).toEqual([
      `chronots: Futures in 'jobs' are discarded by 'for await', which does not wait for a chronots Future; wait for them with 'await waitForAsync(allFutures(…))', ${all}`,
    ]);
  });

  it("reports nothing in clean.ts and lookalike.ts", () => {
    expect(lines(found.filter((d) => /(clean|lookalike)\.ts$/.test(d.file!.fileName)))).toEqual([]);
  });

  it("follows the severity", () => {
    const warnings = ruleOver(program, "warning");
    expect(warnings.length).toBe(found.length);
    expect(warnings.every((d) => d.category === ts.DiagnosticCategory.Warning)).toBe(true);
    expect(ruleOver(program, "off")).toEqual([]);
  });

  it("leaves tests for truth alone without strictNullChecks, where a lookup's type does not say it may be absent", () => {
    const loose = fixtureProgram({ strict: false, strictNullChecks: false });
    const statements = loose.getSourceFiles().find((f) => f.fileName.endsWith("/statements.ts"))!;
    const reported = discardedFutures(loose, statements, "error").map((d) => ts.getLineAndCharacterOfPosition(statements, d.start!).line + 1);
    const text = statements.text.split("\n");
    const at = (line: string) => text.indexOf(line) + 1;
    // A fresh Future tested is not told from a lookup there: map.get(k) types as Future.
    expect(reported).not.toContain(at("if (job()) Math.random(); // @discarded 'job()'"));
    expect(reported).not.toContain(at("const both = job() && cond; // @discarded 'job()'"));
    // What is dropped outright still is.
    expect(reported).toContain(at("job(); // @discarded 'job()'"));
    expect(reported).toContain(at("cond && job(); // @discarded 'job()'"));
  });

  it("reads the severity from a plugin entry and rejects a bad one by name", () => {
    expect(severityOption(undefined, "discarded", "error")).toBe("error");
    expect(severityOption({}, "discarded", "error")).toBe("error");
    expect(severityOption({ discarded: "warning" }, "discarded", "error")).toBe("warning");
    expect(() => severityOption({ discarded: "loud" }, "discarded", "error")).toThrow(/"discarded" must be "error", "warning" or "off", got "loud"/);
  });
});

describe("the project's own code", { timeout: 120_000 }, () => {
  it("type-checks clean, drops no Future and yields nothing but Futures anywhere (runtime, transformer, tests, bench, examples)", () => {
    const config = parseConfig(join(root, "tsconfig.json"));
    expect(config.fileNames.length).toBeGreaterThan(50);
    const program = ts.createProgram(config.fileNames, config.options);
    const typeErrors = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n"));
    expect(typeErrors).toEqual([]);
    const found = ["runtime", "transformer", "test", "bench", "examples"].flatMap((dir) => ruleOver(program, "error", join(root, dir)));
    expect(lines(found)).toEqual([]);
    // The tests yield non-Futures on purpose only through `any`, which the yield rule leaves alone.
    const own = program.getSourceFiles().filter((sf) => sf.fileName.startsWith(root) && !sf.fileName.includes("/node_modules/") && !sf.fileName.includes("/test/fixtures/"));
    expect(lines(own.flatMap((sf) => badYields(program, sf)))).toEqual([]);
  });
});

/**
 * The package as it is installed: node_modules/chronots with the CommonJS build of transformer/, the
 * tsserver shim and the `chronots` launcher, built here from the sources under test.
 */
let tmp: string;
let pkg: string;

/** A module project in `tmp/name` whose main.ts drops a Future on its last line. */
function dropping(name: string): { dir: string; file: string } {
  const dir = join(tmp, name);
  mkdirSync(dir);
  const file = join(dir, "main.ts");
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "dropping", type: "module" }));
  writeFileSync(file, 'import { sleepAsync } from "chronots";\nsleepAsync(1);\n');
  return { dir, file };
}

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), "chronots-discards-"));
  pkg = join(tmp, "node_modules/chronots");
  const sources = ["index.ts", "check.ts", "discards.ts", "service.ts"].map((f) => join(root, "transformer", f));
  // Type errors elsewhere in transformer/ (tsc exits 2 but still emits) must not hide this file's results.
  const built = spawnSync(process.execPath, [
    join(root, "node_modules/typescript/bin/tsc"), ...sources,
    "--outDir", join(pkg, "dist/cjs/transformer"), "--rootDir", join(root, "transformer"),
    "--module", "commonjs", "--moduleResolution", "node10", "--esModuleInterop", "--skipLibCheck",
    "--target", "es2022", "--types", "node",
  ], { encoding: "utf8" });
  for (const f of sources) {
    const out = join(pkg, "dist/cjs/transformer", basename(f).replace(/\.ts$/, ".js"));
    if (!existsSync(out)) throw new Error(`building ${out} failed:\n${built.stdout}${built.stderr}`);
  }
  execFileSync(process.execPath, [
    join(root, "node_modules/typescript/bin/tsc"), join(root, "runtime/index.ts"),
    "--declaration", "--emitDeclarationOnly", "--outDir", join(pkg, "dist/runtime"), "--rootDir", join(root, "runtime"),
    "--module", "nodenext", "--moduleResolution", "nodenext", "--skipLibCheck", "--target", "es2022", "--types", "node", "--strict",
  ]);
  const exports = { ".": { types: "./dist/runtime/index.d.ts" } };
  writeFileSync(join(pkg, "package.json"), JSON.stringify({ name: "chronots", version: "0.0.0-test", type: "module", exports }));
  writeFileSync(join(pkg, "dist/cjs/package.json"), JSON.stringify({ type: "commonjs" }));
  for (const f of ["service/index.cjs", "service/package.json", "bin/chronots.js"]) {
    mkdirSync(join(pkg, f, ".."), { recursive: true });
    copyFileSync(join(root, f), join(pkg, f));
  }
  symlinkSync(join(root, "node_modules/typescript"), join(tmp, "node_modules/typescript"));
}, 120_000);

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A tsconfig in the temp dir extending the fixtures' one (type roots do not follow `extends`). */
function config(name: string, extra: { files?: string[]; compilerOptions?: object }): string {
  const file = join(tmp, name);
  const compilerOptions = { typeRoots: [join(root, "node_modules/@types")], ...extra.compilerOptions };
  writeFileSync(file, JSON.stringify({ extends: fixtureConfig, ...extra, compilerOptions }));
  return file;
}

function chronots(...args: string[]) {
  const r = spawnSync(process.execPath, [join(pkg, "bin/chronots.js"), ...args], { cwd: root, encoding: "utf8" });
  return { status: r.status, out: r.stdout.split("\n").filter(Boolean).sort(), err: r.stderr };
}

/** The TS99301 lines a build gives the fixtures: what the transformer reports while emitting them. */
function unloweredLines(): string[] {
  // Nothing is written: the emit's files go to a callback that drops them.
  const program = fixtureProgram({ noEmit: false, outDir: join(fixtures, "out") });
  const added: ts.Diagnostic[] = [];
  program.emit(undefined, () => {}, undefined, false, { before: [transformer(program, {}, { ts, addDiagnostic: (d) => void added.push(d) })] });
  return lines(added.filter((d) => d.code === UNSUPPORTED_CODE));
}

describe("every entry point reports the same diagnostics", { timeout: 120_000 }, () => {
  // The fixtures' tsconfig has a build entry, so the editor and the check report functions left to the driver too.
  const expected = [...lines(ruleOver(fixtureProgram(), "error")), ...yieldLines(), ...unloweredLines()].sort();

  it("the fixtures hold yields of non-Futures (TS90002) for every entry point to report", () => {
    expect(yieldLines()).toEqual([12, 14, 15].map((line) => expect.stringMatching(new RegExp(`yields\\.ts\\(${line},3\\): error TS90002: `))));
  });

  it("the build reports the function unlowered.ts leaves to the driver, and only that", () => {
    expect(unloweredLines()).toEqual([expect.stringMatching(/unlowered\.ts\(10,29\): warning TS99301: .*'counted', a name the file uses elsewhere too \(a generator lowered in place is named only by its declaration and the call\), is not lowered$/)]);
  });

  it("the language service plugin, through getSemanticDiagnostics", () => {
    const cfg = parseConfig(fixtureConfig);
    const host: ts.LanguageServiceHost = {
      getCompilationSettings: () => cfg.options,
      getScriptFileNames: () => cfg.fileNames,
      getScriptVersion: () => "1",
      getScriptSnapshot: (f) => (ts.sys.fileExists(f) ? ts.ScriptSnapshot.fromString(ts.sys.readFile(f)!) : undefined),
      getCurrentDirectory: () => fixtures,
      getDefaultLibFileName: ts.getDefaultLibFilePath,
      fileExists: ts.sys.fileExists,
      readFile: ts.sys.readFile,
      readDirectory: ts.sys.readDirectory,
      directoryExists: ts.sys.directoryExists,
      getDirectories: ts.sys.getDirectories,
    };
    const plain = ts.createLanguageService(host);
    const entry = (cfg.options.plugins as ts.PluginImport[]).find((p) => p.name === "chronots/service");
    const info = { languageService: plain, languageServiceHost: host, config: entry } as unknown as ts.server.PluginCreateInfo;
    const ls = init({ typescript: ts }).create(info);
    expect(lines(cfg.fileNames.flatMap((f) => ls.getSemanticDiagnostics(f)))).toEqual(expected);
    expect(ls.getQuickInfoAtPosition(cfg.fileNames[0]!, 0)).toEqual(plain.getQuickInfoAtPosition(cfg.fileNames[0]!, 0));
  });

  it("tsserver, loading chronots/service from an installed package", async () => {
    const server = spawnTsserver(["--pluginProbeLocations", tmp]);
    try {
      const found: string[] = [];
      for (const file of parseConfig(fixtureConfig).fileNames) {
        server.send("open", { file });
        const diags = (await server.request("semanticDiagnosticsSync", { file })) as ProtocolDiagnostic[];
        for (const d of diags) {
          const category = d.category === "error" ? "error" : "warning";
          found.push(`${relative(root, file)}(${d.start.line},${d.start.offset}): ${category} TS${d.code}: ${d.text}`);
        }
      }
      expect(found.sort()).toEqual(expected);
    } finally {
      await server.close();
    }
  });

  it("tsserver, reloading an edited tsconfig: the plugin reports once, with the entry as it is now, and not at all once it is removed", async () => {
    const { dir, file } = dropping("reload");
    const write = (plugins: object[], indent?: number) =>
      writeFileSync(join(dir, "tsconfig.json"), JSON.stringify({ compilerOptions: { module: "nodenext", strict: true, skipLibCheck: true, types: [], plugins }, files: ["main.ts"] }, null, indent));
    const shown = async (server: ReturnType<typeof spawnTsserver>) => {
      server.send("reloadProjects", {});
      const diags = (await server.request("semanticDiagnosticsSync", { file })) as ProtocolDiagnostic[];
      return diags.map((d) => `${d.category} TS${d.code}`);
    };
    const server = spawnTsserver(["--pluginProbeLocations", tmp]);
    try {
      write([{ name: "chronots/service" }]);
      server.send("open", { file });
      expect(await shown(server)).toEqual(["error TS90001"]);
      write([{ name: "chronots/service" }], 2);
      expect(await shown(server)).toEqual(["error TS90001"]);
      write([{ name: "chronots/service", discarded: "warning" }]);
      expect(await shown(server)).toEqual(["warning TS90001"]);
      write([]);
      expect(await shown(server)).toEqual([]);
    } finally {
      await server.close();
    }
    // A global plugin has no entry in the tsconfig.
    const global = spawnTsserver(["--pluginProbeLocations", tmp, "--globalPlugins", "chronots/service"]);
    try {
      global.send("open", { file });
      expect(await shown(global)).toEqual(["error TS90001"]);
      expect(await shown(global)).toEqual(["error TS90001"]);
    } finally {
      await global.close();
    }
  });

  it("tsserver, reloading a tsconfig where another plugin wraps ours: the plugin reports once, with the entry as it is now", async () => {
    const { dir, file } = dropping("reload-under");
    // A plugin that, as many do, copies the service it is given into an object of its own.
    const other = join(tmp, "node_modules/copying-plugin");
    mkdirSync(other, { recursive: true });
    writeFileSync(
      join(other, "index.js"),
      "module.exports = () => ({ create(info) { const ls = info.languageService, o = {}; for (const k of Object.keys(ls)) o[k] = typeof ls[k] === 'function' ? ls[k].bind(ls) : ls[k]; return o; } });\n",
    );
    const write = (service: object, indent?: number) =>
      writeFileSync(join(dir, "tsconfig.json"), JSON.stringify({ compilerOptions: { module: "nodenext", strict: true, skipLibCheck: true, types: [], plugins: [{ name: "chronots/service", ...service }, { name: "copying-plugin" }] }, files: ["main.ts"] }, null, indent));
    const server = spawnTsserver(["--pluginProbeLocations", tmp]);
    const shown = async () => {
      server.send("reloadProjects", {});
      const diags = (await server.request("semanticDiagnosticsSync", { file })) as ProtocolDiagnostic[];
      return diags.map((d) => `${d.category} TS${d.code}`);
    };
    try {
      write({});
      server.send("open", { file });
      expect(await shown()).toEqual(["error TS90001"]);
      write({}, 2);
      expect(await shown()).toEqual(["error TS90001"]);
      write({ discarded: "warning" });
      expect(await shown()).toEqual(["warning TS90001"]);
    } finally {
      await server.close();
    }
  });

  it("two chronots/service entries: tsserver and chronots check read the first and report the second", async () => {
    const { dir, file } = dropping("twice");
    const project = join(dir, "tsconfig.json");
    const plugins = [{ name: "chronots/service" }, { name: "chronots/service", discarded: "warning" }];
    writeFileSync(project, JSON.stringify({ compilerOptions: { module: "nodenext", strict: true, skipLibCheck: true, types: [], plugins }, files: ["main.ts"] }));
    const message = `chronots: a second "chronots/service" entry: the editor and chronots check read the first one only: remove this one`;
    const text = readFileSync(project, "utf8");
    const c = spawnSync(process.execPath, [join(pkg, "bin/chronots.js"), "check"], { cwd: dir, encoding: "utf8" });
    expect(c.stdout.split("\n").filter(Boolean).map((l) => l.replace(/: chronots: Future .*/, ""))).toEqual([
      `main.ts(2,1): error TS90001`,
      `tsconfig.json(1,${text.lastIndexOf('"name"') + 1}): error TS99302: ${message}`,
    ]);
    const diags = await editorShows(file);
    expect(diags.map((d) => `${d.category} TS${d.code}: ${d.text}`)).toEqual([`error TS99302: ${message} (in ${project})`, expect.stringMatching(/^error TS90001: /)]);
  });

  it("tsserver, an entry naming the plugin by a path into the package: the plugin reports as for its package name", async () => {
    for (const [i, name] of ["chronots/service/index.cjs", "chronots/service/"].entries()) {
      const { dir, file } = dropping(`spelled-${i}`);
      writeFileSync(join(dir, "tsconfig.json"), JSON.stringify({ compilerOptions: { module: "nodenext", strict: true, skipLibCheck: true, types: [], plugins: [{ name }] }, files: ["main.ts"] }));
      const diags = await editorShows(file);
      expect(diags.map((d) => `${d.category} TS${d.code}`), name).toEqual(["error TS90001"]);
    }
  });

  it("chronots check, run through the installed bin", () => {
    const r = chronots("check", "-p", fixtureConfig);
    expect(r.out).toEqual(expected);
    expect(r.status).toBe(1);
  });
});

/** The transformer also lowers and may warn about that: compare only its TS90001 lines on the fixtures. */
function discardLines(text: string[]): string[] {
  return text.filter((l) => l.startsWith("test/fixtures/diagnostics/") && l.includes(` TS${DISCARDED_CODE}: `));
}

describe("the transformer's hook", { timeout: 120_000 }, () => {
  it("chronots/transformer reports through extras.addDiagnostic while emitting", () => {
    const program = fixtureProgram({ noEmit: false, outDir: join(tmp, "emit") });
    const added: ts.Diagnostic[] = [];
    const factory = transformer(program, { discarded: "error" }, { addDiagnostic: (d) => void added.push(d) });
    expect(program.emit(undefined, () => {}, undefined, false, { before: [factory] }).emitSkipped).toBe(false);
    expect(discardLines(lines(added))).toEqual(expected());
  });

  it("makes a bad severity in the entry an error of the build, not a crash, and keeps reporting errors", () => {
    const program = fixtureProgram({ noEmit: false, outDir: join(tmp, "emit-bad-entry") });
    const added: ts.Diagnostic[] = [];
    const factory = transformer(program, { discarded: "loud" as never }, { ts, addDiagnostic: (d) => void added.push(d) });
    expect(added.map((d) => [d.file, d.category, d.code, d.messageText])).toEqual([
      [undefined, ts.DiagnosticCategory.Error, 99302, `chronots: plugin option "discarded" must be "error", "warning" or "off", got "loud"`],
    ]);
    program.emit(undefined, () => {}, undefined, false, { before: [factory] });
    expect(discardLines(lines(added.slice(1)))).toEqual(expected());
  });

  it("a real tspc run prints them and fails", () => {
    const plugins = [{ transform: join(pkg, "dist/cjs/transformer/index.js"), discarded: "error" }];
    const project = config("tspc.json", { compilerOptions: { noEmit: false, outDir: join(tmp, "tspc-out"), plugins } });
    const r = spawnSync(process.execPath, [join(root, "node_modules/ts-patch/bin/tspc.js"), "-p", project, "--pretty", "false"], { cwd: root, encoding: "utf8" });
    expect(discardLines(r.stdout.split("\n")).sort()).toEqual(expected());
    expect(r.stdout.split("\n").filter((l) => l.includes(" TS90002: ")).sort()).toEqual(yieldLines());
    expect(r.status).not.toBe(0);
  });

  it("tspc and chronots check print the same lines in the same order: by file, then position", () => {
    const plugins = [{ transform: join(pkg, "dist/cjs/transformer/index.js"), discarded: "error" }];
    const project = config("tspc-order.json", { compilerOptions: { noEmit: false, outDir: join(tmp, "tspc-order"), plugins } });
    const printed = (r: { stdout: string }) => r.stdout.split("\n").filter(Boolean);
    const built = printed(spawnSync(process.execPath, [join(root, "node_modules/ts-patch/bin/tspc.js"), "-p", project, "--pretty", "false"], { cwd: root, encoding: "utf8" }));
    expect(built).toHaveLength(expected().length + yieldLines().length + unloweredLines().length);
    expect(printed(spawnSync(process.execPath, [join(pkg, "bin/chronots.js"), "check", "-p", project], { cwd: root, encoding: "utf8" }))).toEqual(built);
  });

  it("a tspc entry naming the editor's plugin is an entry error of the build, not ts-patch's crash", () => {
    const plugins = [{ transform: join(pkg, "dist/cjs/transformer/service.js") }];
    const project = config("tspc-service.json", { compilerOptions: { noEmit: false, outDir: join(tmp, "tspc-service"), plugins } });
    const r = spawnSync(process.execPath, [join(root, "node_modules/ts-patch/bin/tspc.js"), "-p", project, "--pretty", "false"], { cwd: root, encoding: "utf8" });
    expect(r.stderr).not.toMatch(/Invalid plugin result|TsPatchError/);
    expect(r.stdout.split("\n").filter((l) => l.includes("TS99302"))).toEqual([
      `error TS99302: chronots: chronots/service is the editor's plugin, which tsserver loads through "name": { "transform": "chronots/transformer" } for the build, { "name": "chronots/service" } for the editor`,
    ]);
    expect(r.status).not.toBe(0);
  });

  it('a tspc entry with "afterDeclarations": true is an entry error at that option, not a build that checks and lowers nothing', () => {
    const plugins = [{ transform: join(pkg, "dist/cjs/transformer/index.js"), afterDeclarations: true }];
    const project = config("tspc-after.json", { compilerOptions: { noEmit: false, outDir: join(tmp, "tspc-after"), plugins } });
    const r = spawnSync(process.execPath, [join(root, "node_modules/ts-patch/bin/tspc.js"), "-p", project, "--pretty", "false"], { cwd: root, encoding: "utf8" });
    const at = readFileSync(project, "utf8").indexOf('"afterDeclarations"') + 1;
    const message = `chronots: chronots/transformer is a source transformer; "afterDeclarations": true has ts-patch run it on the declaration files it emits, which lowers and checks nothing: remove the option`;
    expect(r.stdout.split("\n").filter((l) => l.includes("TS99302"))).toEqual([`${relative(root, project)}(1,${at}): error TS99302: ${message}`]);
    expect(r.status).not.toBe(0);
    // Another plugin's entry with the same options and "afterDeclarations" does not make chronots' wrong.
    expect(hiddenProblem([{ transform: "typescript-transform-paths", afterDeclarations: true }, { transform: "chronots/transformer" }], project, {})).toBeUndefined();
  });

  it('a tspc entry with "after": true is an entry error at that option, not a warning at every function TypeScript rewrote first', () => {
    const plugins = [{ transform: join(pkg, "dist/cjs/transformer/index.js"), after: true }];
    const project = config("tspc-after-ts.json", { compilerOptions: { noEmit: false, outDir: join(tmp, "tspc-after-ts"), plugins } });
    const r = spawnSync(process.execPath, [join(root, "node_modules/ts-patch/bin/tspc.js"), "-p", project, "--pretty", "false"], { cwd: root, encoding: "utf8" });
    const at = readFileSync(project, "utf8").indexOf('"after"') + 1;
    const message = `chronots: chronots/transformer is a source transformer, which must run before TypeScript's own transforms; "after": true has ts-patch run it after them, on code they rewrote, which it cannot lower: remove the option`;
    expect(r.stdout.split("\n").filter((l) => / TS993\d\d: /.test(l))).toEqual([`${relative(root, project)}(1,${at}): error TS99302: ${message}`]);
    expect(r.status).not.toBe(0);
  });

  it('"after" and "afterDeclarations" count as set when truthy, as ts-patch reads them: the same entry error from tspc, chronots check and tsserver', async () => {
    for (const [option, value] of [["after", "true"], ["afterDeclarations", 1]] as const) {
      const { dir, file } = dropping(`truthy-${option}`);
      const plugins = [{ name: "chronots/service" }, { transform: join(pkg, "dist/cjs/transformer/index.js"), [option]: value }];
      const project = join(dir, "tsconfig.json");
      writeFileSync(project, JSON.stringify({ compilerOptions: { module: "nodenext", strict: true, skipLibCheck: true, types: [], outDir: "out", plugins }, files: ["main.ts"] }));
      const at = readFileSync(project, "utf8").indexOf(`"${option}"`) + 1;
      const message =
        option === "after"
          ? `chronots: chronots/transformer is a source transformer, which must run before TypeScript's own transforms; "after": "true" has ts-patch run it after them, on code they rewrote, which it cannot lower: remove the option`
          : `chronots: chronots/transformer is a source transformer; "afterDeclarations": 1 has ts-patch run it on the declaration files it emits, which lowers and checks nothing: remove the option`;
      const line = `tsconfig.json(1,${at}): error TS99302: ${message}`;
      const r = spawnSync(process.execPath, [join(root, "node_modules/ts-patch/bin/tspc.js"), "-p", project, "--pretty", "false"], { cwd: dir, encoding: "utf8" });
      expect(r.stdout.split("\n").filter((l) => / TS9\d{4}: /.test(l))).toEqual([line]);
      expect(r.status).not.toBe(0);
      const c = spawnSync(process.execPath, [join(pkg, "bin/chronots.js"), "check"], { cwd: dir, encoding: "utf8" });
      expect(c.stdout.split("\n").filter((l) => l.includes(" TS99302: "))).toEqual([line]);
      const diags = await editorShows(file);
      expect(diags.map((d) => `${d.category} TS${d.code}: ${d.text}`)).toEqual([`error TS99302: ${message} (in ${project})`, expect.stringMatching(/^error TS90001: /)]);
    }
  });

  it('a "type" other than "program" stops tspc saying what to do, and is an entry error at that option in chronots check', () => {
    for (const type of ["checker", "config", "compilerOptions", "raw"]) {
      const { dir } = dropping(`plugin-type-${type}`);
      const plugins = [{ transform: join(pkg, "dist/cjs/transformer/index.js"), type }];
      const project = join(dir, "tsconfig.json");
      writeFileSync(project, JSON.stringify({ compilerOptions: { module: "nodenext", strict: true, skipLibCheck: true, types: [], outDir: "out", plugins }, files: ["main.ts"] }));
      const r = spawnSync(process.execPath, [join(root, "node_modules/ts-patch/bin/tspc.js"), "-p", project, "--pretty", "false"], { cwd: dir, encoding: "utf8" });
      // ts-patch hands such a plugin a checker, the options or the entry: no program, nothing to report through.
      expect(r.stderr, type).toContain(NOT_A_PROGRAM);
      expect(r.status, type).not.toBe(0);
      const at = readFileSync(project, "utf8").indexOf('"type"') + 1;
      const c = spawnSync(process.execPath, [join(pkg, "bin/chronots.js"), "check"], { cwd: dir, encoding: "utf8" });
      expect(c.stdout.split("\n").filter((l) => l.includes(" TS99302: ")), type).toEqual([
        `tsconfig.json(1,${at}): error TS99302: chronots: chronots/transformer takes the program, which ts-patch passes for its default plugin type "program"; "type": "${type}" has it pass something else, and the build stops: remove the option`,
      ]);
      expect(c.status, type).toBe(1);
    }
  });

  it("an entry naming chronots' plugin under a misspelt key, which no host reads, is an entry error at that key in chronots check", () => {
    const { dir } = dropping("misspelt-key");
    const project = join(dir, "tsconfig.json");
    writeFileSync(project, JSON.stringify({ compilerOptions: { module: "nodenext", strict: true, skipLibCheck: true, types: [], outDir: "out", plugins: [{ transfrom: "chronots/transformer" }] }, files: ["main.ts"] }));
    const at = readFileSync(project, "utf8").indexOf('"transfrom"') + 1;
    const c = spawnSync(process.execPath, [join(pkg, "bin/chronots.js"), "check"], { cwd: dir, encoding: "utf8" });
    expect(c.stdout.split("\n").filter((l) => l.includes(" TS99302: "))).toEqual([
      `tsconfig.json(1,${at}): error TS99302: chronots: "transfrom" is a key no host reads, so the entry loads nothing: { "transform": "chronots/transformer" } for the build, { "name": "chronots/service" } for the editor`,
    ]);
    expect(c.status).toBe(1);
  });

  it('"discarded" set on the build entry only: tspc, chronots check and tsserver all report at its severity', async () => {
    for (const discarded of ["off", "warning"] as const) {
      const { dir, file } = dropping(`build-severity-${discarded}`);
      const plugins = [{ name: "chronots/service" }, { transform: join(pkg, "dist/cjs/transformer/index.js"), discarded }];
      writeFileSync(join(dir, "tsconfig.json"), JSON.stringify({ compilerOptions: { module: "nodenext", strict: true, skipLibCheck: true, types: [], outDir: "out", plugins }, files: ["main.ts"] }));
      const want = discarded === "off" ? [] : ["warning TS90001"];
      const shown = (stdout: string) => stdout.split("\n").filter((l) => l.includes(" TS90001: ")).map((l) => l.replace(/^.*?: (\w+) (TS\d+): .*$/, "$1 $2"));
      const built = spawnSync(process.execPath, [join(root, "node_modules/ts-patch/bin/tspc.js"), "-p", dir, "--pretty", "false"], { cwd: dir, encoding: "utf8" });
      expect(shown(built.stdout), `tspc, ${discarded}`).toEqual(want);
      const c = spawnSync(process.execPath, [join(pkg, "bin/chronots.js"), "check"], { cwd: dir, encoding: "utf8" });
      expect({ status: c.status, shown: shown(c.stdout) }, `check, ${discarded}`).toEqual({ status: 0, shown: want });
      const diags = await editorShows(file);
      expect(diags.map((d) => `${d.category} TS${d.code}`), `tsserver, ${discarded}`).toEqual(want);
    }
  });

  it("an incremental tspc build reports them again for files it does not emit again", () => {
    const plugins = [{ transform: join(pkg, "dist/cjs/transformer/index.js") }];
    const out = join(tmp, "tspc-incremental");
    const project = config("tspc-incremental.json", { compilerOptions: { noEmit: false, incremental: true, outDir: out, plugins } });
    const build = () =>
      spawnSync(process.execPath, [join(root, "node_modules/ts-patch/bin/tspc.js"), "-p", project, "--pretty", "false", "--listEmittedFiles"], { cwd: root, encoding: "utf8" });
    const emitted = (stdout: string) => stdout.split("\n").filter((l) => l.startsWith("TSFILE: ") && l.endsWith(".js"));
    const first = build();
    expect(emitted(first.stdout)).not.toEqual([]);
    const second = build();
    // The diagnostics come from the .tsbuildinfo, which keeps each file's emit diagnostics.
    expect(emitted(second.stdout)).toEqual([]);
    expect(discardLines(second.stdout.split("\n")).sort()).toEqual(expected());
    expect(second.stdout.split("\n").filter((l) => l.includes(" TS90002: ")).sort()).toEqual(yieldLines());
    expect(second.status).not.toBe(0);
  });


  it("an incremental tspc build reports each file's discards as it now stands: a fixed file's no more, none twice", () => {
    const dir = join(tmp, "edited");
    mkdirSync(dir);
    const write = (file: string, drops: boolean) =>
      writeFileSync(join(dir, file), `import { async, asyncCheck, sleepAsync } from "chronots";\nexport const job = async(function* (n: number) {\n  yield* sleepAsync(n);\n});\nexport function run(): void {\n  ${drops ? "job(1);" : "asyncCheck(job(1));"}\n}\n`);
    write("a.ts", true);
    write("b.ts", true);
    const plugins = [{ transform: join(pkg, "dist/cjs/transformer/index.js") }];
    const options = { target: "ES2022", module: "ES2022", moduleResolution: "Bundler", strict: true, skipLibCheck: true, types: [], incremental: true, outDir: "out", plugins };
    writeFileSync(join(dir, "tsconfig.json"), JSON.stringify({ compilerOptions: options, include: ["*.ts"] }));
    const build = () => {
      const r = spawnSync(process.execPath, [join(root, "node_modules/ts-patch/bin/tspc.js"), "-p", dir, "--pretty", "false"], { cwd: dir, encoding: "utf8" });
      return { failed: r.status !== 0, at: r.stdout.split("\n").filter((l) => l.includes(` TS${DISCARDED_CODE}: `)).map((l) => l.slice(0, l.indexOf(":"))) };
    };
    expect(build()).toEqual({ failed: true, at: ["a.ts(6,3)", "b.ts(6,3)"] });
    write("a.ts", false);
    expect(build()).toEqual({ failed: true, at: ["b.ts(6,3)"] });
    expect(build()).toEqual({ failed: true, at: ["b.ts(6,3)"] });
    write("b.ts", false);
    expect(build()).toEqual({ failed: false, at: [] });
  });

  it("a bad entry in an incremental build is an error of the build, not TypeScript's crash writing its .tsbuildinfo, and stays one", () => {
    const dir = join(tmp, "bad-entry-incremental");
    mkdirSync(dir);
    writeFileSync(join(dir, "a.ts"), `import { async, sleepAsync } from "chronots";\nexport const job = async(function* (n: number) {\n  yield* sleepAsync(n);\n});\n`);
    const plugins = [{ transform: join(pkg, "dist/cjs/transformer/index.js"), discarded: "warn" }];
    const options = { target: "ES2022", module: "ES2022", moduleResolution: "Bundler", strict: true, skipLibCheck: true, types: [], incremental: true, outDir: "out", plugins };
    writeFileSync(join(dir, "tsconfig.json"), JSON.stringify({ compilerOptions: options, include: ["*.ts"] }));
    const message = `error TS99302: chronots: plugin option "discarded" must be "error", "warning" or "off", got "warn"`;
    for (const build of ["first", "again"]) {
      const r = spawnSync(process.execPath, [join(root, "node_modules/ts-patch/bin/tspc.js"), "-p", dir, "--pretty", "false"], { cwd: dir, encoding: "utf8" });
      expect(r.stderr, build).toBe("");
      expect(r.stdout.split("\n").filter((l) => l.includes("TS99302")).map((l) => l.slice(l.indexOf("error"))), build).toEqual([message]);
      expect(r.status, build).toBe(1);
    }
    expect(existsSync(join(dir, "out/a.js"))).toBe(true);
  });

  it("places an entry error at its option in the tsconfig the entry is inherited from through extends", () => {
    const dir = join(tmp, "inherited-entry");
    mkdirSync(dir);
    writeFileSync(join(dir, "a.ts"), `export const n = 1;\n`);
    writeFileSync(join(dir, "base2.json"), JSON.stringify({ compilerOptions: { plugins: [{ transform: join(pkg, "dist/cjs/transformer/index.js"), unlowerd: "error" }] } }));
    writeFileSync(join(dir, "base1.json"), JSON.stringify({ extends: "./base2.json", compilerOptions: { strict: true } }));
    writeFileSync(join(dir, "tsconfig.json"), JSON.stringify({ extends: "./base1.json", compilerOptions: { target: "ES2022", module: "ES2022", types: [], outDir: "out" }, include: ["*.ts"] }));
    const at = readFileSync(join(dir, "base2.json"), "utf8").indexOf('"unlowerd"') + 1;
    const r = spawnSync(process.execPath, [join(root, "node_modules/ts-patch/bin/tspc.js"), "-p", dir, "--pretty", "false"], { cwd: dir, encoding: "utf8" });
    expect(r.stdout.split("\n").filter(Boolean)).toEqual([`base2.json(1,${at}): error TS99302: chronots: unknown plugin option "unlowerd"; did you mean "unlowered"?`]);
  });

  it("reports through addDiagnostic while emitting, once per file, even after an earlier transformer rewrote it", () => {
    const program = fixtureProgram({ noEmit: false, outDir: join(tmp, "emit") });
    const added: ts.Diagnostic[] = [];
    const rewrite: ts.TransformerFactory<ts.SourceFile> = (ctx) => (sf) =>
      ctx.factory.updateSourceFile(sf, [ctx.factory.createExpressionStatement(ctx.factory.createNumericLiteral(0)), ...sf.statements]);
    const hook = transformer(program, {}, { ts, addDiagnostic: (d) => void added.push(d) });
    const written: string[] = [];
    const result = program.emit(undefined, (file) => written.push(file), undefined, false, { before: [rewrite, hook] });
    expect(result.emitSkipped).toBe(false);
    expect(written.some((f) => f.endsWith("statements.js"))).toBe(true);
    expect(discardLines(lines(added))).toEqual(expected());
  });
});

describe("chronots check", { timeout: 120_000 }, () => {
  it("the command line: no command or an unknown one is a usage error (2), --help is not", () => {
    for (const [args, status, err] of [[[], 2, "chronots: no command given"], [["chek"], 2, "chronots: unknown command 'chek'"], [["--help"], 0, ""]] as const) {
      const r = spawnSync(process.execPath, [join(pkg, "bin/chronots.js"), ...args], { encoding: "utf8" });
      expect(r.status).toBe(status);
      expect(r.stderr.split("\n")[0]).toBe(err);
      expect(r.stdout + r.stderr).toContain("Usage: chronots check");
    }
  });

  it("without the typescript package, says to install it, and still prints its version and its help", () => {
    const bare = mkdtempSync(join(tmpdir(), "chronots-bare-"));
    try {
      const installed = join(bare, "node_modules/chronots");
      cpSync(pkg, installed, { recursive: true });
      const r = spawnSync(process.execPath, [join(installed, "bin/chronots.js"), "check"], { cwd: bare, encoding: "utf8" });
      expect(r).toMatchObject({ status: 2, stdout: "" });
      expect(r.stderr).toBe("chronots: the typescript package is not installed here, and chronots check runs TypeScript's checker (5.9 or 6): npm install -D typescript@~5.9\n");
      expect(spawnSync(process.execPath, [join(installed, "bin/chronots.js"), "-v"], { encoding: "utf8" })).toMatchObject({ status: 0, stdout: "0.0.0-test\n" });
      // Help, the first thing a runtime-only user runs, needs no compiler.
      for (const args of [["--help"], ["check", "--help"], ["check", "-h"]]) {
        const help = spawnSync(process.execPath, [join(installed, "bin/chronots.js"), ...args], { encoding: "utf8" });
        expect(help, args.join(" ")).toMatchObject({ status: 0, stderr: "" });
        expect(help.stdout, args.join(" ")).toContain("Usage: chronots check");
      }
    } finally {
      rmSync(bare, { recursive: true, force: true });
    }
  });

  it("stops quietly when its reader closes the pipe (chronots check | head), with the exit status of the check", async () => {
    const child = spawn(process.execPath, [join(pkg, "bin/chronots.js"), "check", "-p", fixtureConfig, "--pretty"], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
    // Closed before the first write: every write then fails with EPIPE.
    child.stdout.destroy();
    let err = "";
    child.stderr.on("data", (d: Buffer) => (err += d));
    const status = await new Promise<number | null>((done) => child.on("close", (code) => done(code)));
    expect(err).toBe("");
    expect(status).toBe(1);
  });

  it("--version and -v print the version of the package the command is in", () => {
    for (const flag of ["--version", "-v"]) expect(spawnSync(process.execPath, [join(pkg, "bin/chronots.js"), flag], { encoding: "utf8" })).toMatchObject({ status: 0, stdout: "0.0.0-test\n", stderr: "" });
  });

  it("knows chronots' Future from the installed package's declarations, and not a project's own runtime/future.ts", () => {
    const app = join(tmp, "app");
    mkdirSync(join(app, "runtime"), { recursive: true });
    writeFileSync(join(app, "package.json"), JSON.stringify({ name: "app", type: "module" }));
    writeFileSync(join(app, "runtime/future.ts"), "export class Future<T> {\n  constructor(readonly value: T) {}\n}\n");
    writeFileSync(
      join(app, "main.ts"),
      'import { sleepAsync } from "chronots";\nimport { Future } from "./runtime/future.js";\nsleepAsync(1);\nnew Future(1);\n',
    );
    const compilerOptions = { module: "nodenext", strict: true, noEmit: true, skipLibCheck: true, types: ["node"], typeRoots: [join(root, "node_modules/@types")] };
    writeFileSync(join(app, "tsconfig.json"), JSON.stringify({ compilerOptions, files: ["main.ts"] }));
    const r = chronots("check", "-p", app);
    expect(r.out).toEqual([expect.stringMatching(/main\.ts\(3,1\): error TS90001: chronots: Future returned by 'sleepAsync\(1\)' is discarded;/)]);
    expect(r.status).toBe(1);
  });

  it("without -p, checks the nearest tsconfig.json from the current folder up, as tsc does", () => {
    const dir = join(tmp, "nearest");
    mkdirSync(join(dir, "src/deeper"), { recursive: true });
    writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "nearest", type: "module" }));
    writeFileSync(join(dir, "tsconfig.json"), JSON.stringify({ compilerOptions: { module: "nodenext", strict: true, noEmit: true, skipLibCheck: true, types: [] }, include: ["src"] }));
    writeFileSync(join(dir, "src/main.ts"), 'import { sleepAsync } from "chronots";\nsleepAsync(1);\n');
    const r = spawnSync(process.execPath, [join(pkg, "bin/chronots.js"), "check"], { cwd: join(dir, "src/deeper"), encoding: "utf8" });
    expect({ status: r.status, out: r.stdout.split("\n").filter(Boolean) }).toEqual({ status: 1, out: [expect.stringMatching(/^\.\.\/main\.ts\(2,1\): error TS90001: /)] });
  });

  it("--pretty prints tsc's colored form with the source line and a count", () => {
    const r = chronots("check", "-p", fixtureConfig, "--pretty");
    const text = r.out.join("\n");
    expect(text).toContain(`Found ${expected().length + yieldLines().length} errors.`);
    expect(text).toContain("\u001b[");
    expect(text).toContain("items.forEach(job);");
    expect(r.status).toBe(1);
  });

  it("fails on a tsconfig that is not valid JSON, saying where, as tsc does", () => {
    const broken = join(tmp, "broken.json");
    const typeRoots = JSON.stringify([join(root, "node_modules/@types")]);
    writeFileSync(broken, `{\n  "extends": ${JSON.stringify(fixtureConfig)},\n  "compilerOptions": { "typeRoots": ${typeRoots} }\n  "files": [${JSON.stringify(join(fixtures, "clean.ts"))}]\n}\n`);
    const r = chronots("check", "-p", broken);
    expect(r.status).toBe(1);
    expect(r.out).toEqual([expect.stringMatching(/broken\.json\(4,3\): error TS1005: ',' expected\./)]);
  });

  it("checks each project a solution-style tsconfig references, as tspc -b builds them", () => {
    const dirty = config("ref-dirty.json", { files: [join(fixtures, "statements.ts")] });
    const clean = config("ref-clean.json", { files: [join(fixtures, "clean.ts")] });
    const solution = join(tmp, "solution.json");
    writeFileSync(solution, JSON.stringify({ files: [], references: [{ path: clean }, { path: dirty }, { path: clean }] }));
    const r = chronots("check", "-p", solution);
    const alone = chronots("check", "-p", dirty);
    expect(alone.out.some((l) => l.includes(" TS90001: "))).toBe(true);
    expect(r).toMatchObject({ status: 1, out: alone.out });
  });

  it("checks every project tspc -b builds, references of references too, each once and from its sources, built or not", () => {
    const dir = join(tmp, "transitive");
    const compilerOptions = { module: "nodenext", strict: true, composite: true, skipLibCheck: true, types: [] };
    const write = (file: string, text: string) => {
      mkdirSync(join(dir, file, ".."), { recursive: true });
      writeFileSync(join(dir, file), text);
    };
    write("package.json", JSON.stringify({ name: "transitive", type: "module" }));
    write("tsconfig.json", JSON.stringify({ files: [], references: [{ path: "./a" }] }));
    write("a/tsconfig.json", JSON.stringify({ compilerOptions, files: ["main.ts"], references: [{ path: "../c" }] }));
    write("a/main.ts", 'import { sleepAsync } from "chronots";\nimport { x } from "../c/lib.js";\nsleepAsync(x);\n');
    write("c/tsconfig.json", JSON.stringify({ compilerOptions, files: ["lib.ts"] }));
    write("c/lib.ts", 'import { sleepAsync } from "chronots";\nsleepAsync(1);\nexport const x = 1;\nexport const bad: number = "x";\n');
    // In the build order: c, which a references, first; each project's lines by position, as tsc sorts them.
    const expected = [
      expect.stringMatching(/transitive\/c\/lib\.ts\(2,1\): error TS90001: chronots: Future returned by 'sleepAsync\(1\)' is discarded;/),
      expect.stringMatching(/transitive\/c\/lib\.ts\(4,14\): error TS2322: /),
      expect.stringMatching(/transitive\/a\/main\.ts\(3,1\): error TS90001: chronots: Future returned by 'sleepAsync\(x\)' is discarded;/),
    ];
    const check = (config: string) => {
      const r = spawnSync(process.execPath, [join(pkg, "bin/chronots.js"), "check", "-p", config], { cwd: root, encoding: "utf8" });
      return { status: r.status, out: r.stdout.split("\n").filter(Boolean) };
    };
    expect(check(dir)).toEqual({ status: 1, out: expected });
    // Built, a's program could read c's declarations: c is still checked, and a does not report c's files again.
    spawnSync(process.execPath, [join(root, "node_modules/typescript/bin/tsc"), "-b", dir]);
    expect(existsSync(join(dir, "c/lib.d.ts"))).toBe(true);
    expect(check(dir)).toEqual({ status: 1, out: expected });
    // A solution whose own tsconfig has an error reports it, and still checks what it references.
    write("bad.json", JSON.stringify({ compilerOptions: { strictt: true }, files: [], references: [{ path: "./a" }] }));
    expect(check(join(dir, "bad.json"))).toEqual({ status: 1, out: [...expected, expect.stringMatching(/bad\.json\(1,\d+\): error TS5025: Unknown compiler option 'strictt'/)] });
  });

  it("reports a cycle of project references as tspc -b does (TS6202), and checks a cycle marked circular without going round it", () => {
    const dir = join(tmp, "cycle");
    const write = (file: string, json: object) => {
      mkdirSync(join(dir, file, ".."), { recursive: true });
      writeFileSync(join(dir, file), JSON.stringify(json));
    };
    const project = (files: string[], references: object[]) => ({ compilerOptions: { module: "nodenext", composite: true, strict: true, skipLibCheck: true, types: [] }, files, references });
    write("package.json", { name: "cycle", type: "module" });
    write("tsconfig.json", { files: [], references: [{ path: "./a" }, { path: "./self" }] });
    write("a/tsconfig.json", project(["a.ts"], [{ path: "../b" }]));
    write("b/tsconfig.json", project(["b.ts"], [{ path: "../a" }]));
    write("self/tsconfig.json", project(["s.ts"], [{ path: "." }]));
    for (const f of ["a/a.ts", "b/b.ts", "self/s.ts"]) writeFileSync(join(dir, f), `import { sleepAsync } from "chronots";\nsleepAsync(1);\n`);
    const run = (...args: string[]) => spawnSync(process.execPath, args, { cwd: root, encoding: "utf8" });
    for (const p of [dir, join(dir, "a"), join(dir, "self")]) {
      const built = run(join(root, "node_modules/typescript/bin/tsc"), "-b", p, "--pretty", "false");
      expect(built.stdout).toMatch(/error TS6202: /);
      expect(run(join(pkg, "bin/chronots.js"), "check", "-p", p)).toMatchObject({ status: 1, stdout: built.stdout, stderr: "" });
    }
    // tspc -b builds such a cycle: each project is checked once, its own files in its own check.
    write("b/tsconfig.json", project(["b.ts"], [{ path: "../a", circular: true }]));
    const checked = run(join(pkg, "bin/chronots.js"), "check", "-p", join(dir, "a"));
    expect({ status: checked.status, stderr: checked.stderr, out: checked.stdout.split("\n").filter(Boolean) }).toEqual({
      status: 1,
      stderr: "",
      out: ["b/b.ts", "a/a.ts"].map((f) => expect.stringMatching(new RegExp(`cycle/${f}\\(2,1\\): error TS90001: `))),
    });
  });

  it("checks a file holding an expression nested deeper than a recursive walk goes: the Future dropped after it is reported, and nothing fails", () => {
    const long = join(tmp, "long.ts");
    const terms = Array.from({ length: 3000 }, (_, i) => `"p${i}"`).join(" + ");
    writeFileSync(long, `import { sleepAsync } from "chronots";\nexport const s = ${terms};\nsleepAsync(1);\n`);
    const r = chronots("check", "-p", config("long.json", { files: [long] }));
    expect(r.out).toEqual([expect.stringMatching(/long\.ts\(3,1\): error TS90001: chronots: Future returned by 'sleepAsync\(1\)' is discarded;/)]);
    expect(r.status).toBe(1);
  });

  it("reports nothing in a file TypeScript does not check: // @ts-nocheck, JavaScript without checkJs, --noCheck", () => {
    const { dir } = dropping("unchecked");
    const drop = 'import { sleepAsync } from "chronots";\nsleepAsync(1);\n';
    writeFileSync(join(dir, "nocheck.ts"), `// @ts-nocheck\n${drop}`);
    writeFileSync(join(dir, "plain.js"), drop);
    writeFileSync(join(dir, "checked.js"), `// @ts-check\n${drop}`);
    const compilerOptions = { module: "nodenext", strict: true, allowJs: true, noEmit: true, skipLibCheck: true, types: [] };
    writeFileSync(join(dir, "tsconfig.json"), JSON.stringify({ compilerOptions, files: ["main.ts", "nocheck.ts", "plain.js", "checked.js"] }));
    const r = spawnSync(process.execPath, [join(pkg, "bin/chronots.js"), "check"], { cwd: dir, encoding: "utf8" });
    expect(r.stdout.split("\n").filter(Boolean).map((l) => l.slice(0, l.indexOf(":")))).toEqual(["checked.js(3,1)", "main.ts(2,1)"]);
    // Nor where the build skips the type check.
    writeFileSync(join(dir, "tsconfig.json"), JSON.stringify({ compilerOptions: { ...compilerOptions, noCheck: true }, files: ["main.ts"] }));
    expect(spawnSync(process.execPath, [join(pkg, "bin/chronots.js"), "check"], { cwd: dir, encoding: "utf8" }).stdout).toBe("");
  });

  it("exits 0 on a clean project", () => {
    const clean = config("clean.json", { files: [join(fixtures, "clean.ts")] });
    expect(chronots("check", "-p", clean)).toMatchObject({ status: 0, out: [] });
  });

  it("prints warnings and exits 0 when the severity is warning", () => {
    const warn = config("warn.json", { files: withoutYields(), compilerOptions: { plugins: [{ name: "chronots/service", discarded: "warning" }] } });
    const r = chronots("check", "-p", warn);
    expect(r.status).toBe(0);
    expect(r.out).toEqual(expected().map((l) => l.replace(": error TS90001:", ": warning TS90001:")));
  });

  it("reports nothing when the rule is off, but still the program's own errors", () => {
    const off = config("off.json", { files: withoutYields(), compilerOptions: { plugins: [{ transform: "chronots/transformer", discarded: "off" }] } });
    // The build entry still lowers: its functions left to the driver are still reported.
    expect(chronots("check", "-p", off)).toMatchObject({ status: 0, out: unloweredLines() });
    const broken = join(tmp, "broken.ts");
    writeFileSync(broken, "const n: number = 'x';\n");
    const r = chronots("check", "-p", config("broken.json", { files: [broken] }));
    expect(r.status).toBe(1);
    expect(r.out.join("\n")).toMatch(/broken\.ts\(1,7\): error TS2322/);
  });

  it("reports a bad entry at its option, as an error, and goes on; rejects bad arguments by name", () => {
    const bad = join(tmp, "bad.json");
    // Written by hand, one option a line, so the errors have places to point at.
    writeFileSync(
      bad,
      `{\n  "extends": ${JSON.stringify(fixtureConfig)},\n  "compilerOptions": {\n    "typeRoots": [${JSON.stringify(join(root, "node_modules/@types"))}],\n    "plugins": [\n      {\n        "name": "chronots/service",\n        "discarded": "loud",\n        "discard": "warning"\n      }\n    ]\n  }\n}\n`,
    );
    const r = chronots("check", "-p", bad);
    expect(r.status).toBe(1);
    const name = relative(root, bad);
    expect(r.out).toEqual(
      [
        `${name}(8,9): error TS99302: chronots: plugin option "discarded" must be "error", "warning" or "off", got "loud"`,
        `${name}(9,9): error TS99302: chronots: unknown plugin option "discard"; did you mean "discarded"?`,
        ...expected(),
        ...yieldLines(),
      ].sort(),
    );
    expect(chronots("check", "--fast")).toMatchObject({ status: 2, out: expect.arrayContaining(["chronots check: unknown argument '--fast'"]) });
    expect(chronots("verify").status).toBe(2);
  });
});

function expected(): string[] {
  return lines(ruleOver(fixtureProgram(), "error"));
}

/** The yields of non-Futures (TS90002, always errors) in the fixtures: reported beside the rule's lines by every entry point. */
function yieldLines(): string[] {
  const program = fixtureProgram();
  return lines(program.getSourceFiles().filter((sf) => sf.fileName.startsWith(fixtures)).flatMap((sf) => badYields(program, sf)));
}

/** The fixtures without yields.ts, for a check whose exit status only the rule's severity decides. */
const withoutYields = () => parseConfig(fixtureConfig).fileNames.filter((f) => !f.endsWith("yields.ts"));

interface ProtocolDiagnostic {
  start: { line: number; offset: number };
  text: string;
  code: number;
  category: string;
}

/** What the editor shows for `file`: a tsserver with chronots' plugin opens it and asks for its semantic diagnostics. */
async function editorShows(file: string): Promise<ProtocolDiagnostic[]> {
  const server = spawnTsserver(["--pluginProbeLocations", tmp]);
  try {
    server.send("open", { file });
    return (await server.request("semanticDiagnosticsSync", { file })) as ProtocolDiagnostic[];
  } finally {
    await server.close();
  }
}

/** A real tsserver over its stdio protocol: Content-Length framed JSON responses. */
function spawnTsserver(args: string[]) {
  const child = spawn(process.execPath, [join(root, "node_modules/typescript/lib/tsserver.js"), "--disableAutomaticTypingAcquisition", ...args], { stdio: "pipe" });
  let seq = 0;
  let buffer = "";
  const waiting = new Map<number, (body: unknown) => void>();
  child.stdout.setEncoding("utf8");
  child.stdout.on("data", (chunk: string) => {
    buffer += chunk;
    for (;;) {
      const m = buffer.match(/^Content-Length: (\d+)\r\n\r\n/);
      if (!m || Buffer.byteLength(buffer) < m[0].length + Number(m[1])) return;
      const body = Buffer.from(buffer.slice(m[0].length)).subarray(0, Number(m[1])).toString("utf8");
      buffer = buffer.slice(m[0].length + body.length);
      const msg = JSON.parse(body);
      if (msg.type === "response") waiting.get(msg.request_seq)?.(msg.success ? msg.body : new Error(msg.message));
    }
  });
  const send = (command: string, args: object) => {
    child.stdin.write(`${JSON.stringify({ seq: ++seq, type: "request", command, arguments: args })}\n`);
    return seq;
  };
  return {
    send,
    request: (command: string, args: object) =>
      new Promise<unknown>((resolve, reject) => waiting.set(send(command, args), (b) => (b instanceof Error ? reject(b) : resolve(b)))),
    /** Resolves once the child has exited and its pipes are closed, so no fd outlives the test. */
    close: () =>
      new Promise<void>((resolve) => {
        child.once("close", () => resolve());
        child.stdin.end();
        child.kill();
      }),
  };
}
