/**
 * Functions left to the run-time driver (TS99301) as each entry point reports them: a real `tspc`
 * build, the editor plugin (chronots/service) and `chronots check` must print the same lines for the
 * same project, and the entry's `"unlowered"` severity must turn them into errors or silence them.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { Writable } from "node:stream";
import ts from "typescript";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main as check } from "../transformer/check.js";
import { INTERNAL_CODE } from "../transformer/guard.js";
import transformer from "../transformer/index.js";
import init from "../transformer/service.js";
import { buildTransformer } from "./helpers/transformer.js";

const root = resolve(__dirname, "..");
const tmp = mkdtempSync(join(tmpdir(), "chronots-unlowered-"));
const cjs = join(tmp, "transformer");

const source = `import { async, sleepAsync } from "./runtime/index.js";
function* counted() {
  return 7;
}
export const byName = async(counted), plain = counted;
export const kept = async(function* () {
  void eval("0");
  yield* sleepAsync(0);
});
export const lowered = async(function* () {
  yield* sleepAsync(0);
  return 1;
});
`;
const evalWarning = "main.ts(7,8): warning TS99301: chronots: this async function is left to the run-time driver: a direct eval is not lowered";
const byNameWarning =
  "main.ts(5,29): warning TS99301: chronots: this async function is left to the run-time driver: 'counted', a name the file uses elsewhere too (a generator lowered in place is named only by its declaration and the call), is not lowered";

beforeAll(() => buildTransformer(cjs, "commonjs"), 120_000);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/**
 * A project holding main.ts, with two tsconfigs that differ in how the build entry names the
 * transformer: by path for `tspc` (this test's build of it), by package name for the editor and
 * `chronots check`, which read the entry and load nothing.
 */
function project(name: string, build: object | undefined, editor: object = {}): { dir: string; tspcConfig: string; editorConfig: string } {
  const dir = join(tmp, name);
  mkdirSync(dir);
  symlinkSync(join(root, "runtime"), join(dir, "runtime"));
  symlinkSync(join(root, "node_modules"), join(dir, "node_modules"));
  writeFileSync(join(dir, "package.json"), JSON.stringify({ type: "module" }));
  writeFileSync(join(dir, "main.ts"), source);
  const base = { target: "ES2022", module: "NodeNext", moduleResolution: "NodeNext", strict: true, outDir: "dist", skipLibCheck: true, types: ["node"] };
  const config = (file: string, plugins: object[]) => {
    writeFileSync(join(dir, file), JSON.stringify({ compilerOptions: { ...base, plugins }, files: ["main.ts"] }));
    return join(dir, file);
  };
  const service = { name: "chronots/service", ...editor };
  return {
    dir,
    tspcConfig: config("tsconfig.json", [{ transform: join(cjs, "index.js"), ...build }]),
    editorConfig: config("editor.json", build ? [service, { transform: "chronots/transformer", ...build }] : [service]),
  };
}

const ours = (lines: string[]) => lines.filter((l) => / TS993\d\d: /.test(l)).map((l) => l.replace(/^.*[\\/](?=main\.ts\()/, ""));

function tspc(p: { dir: string; tspcConfig: string }) {
  const r = spawnSync(process.execPath, [join(root, "node_modules/ts-patch/bin/tspc.js"), "-p", p.tspcConfig, "--pretty", "false"], { cwd: p.dir, encoding: "utf8" });
  return { status: r.status, lines: ours(r.stdout.split("\n")) };
}

function checked(p: { editorConfig: string }) {
  let text = "";
  const out = new Writable({ write: (chunk, _enc, done) => void ((text += String(chunk)), done()) });
  const status = check(["-p", p.editorConfig, "--no-pretty"], out);
  return { status, lines: ours(text.split("\n")), text };
}

/** The editor plugin over a language service of `p`'s editor config; `wrap` may stand between them. */
function editor(p: { dir: string; editorConfig: string }, wrap = (ls: ts.LanguageService) => ls, version = () => "1") {
  const cfg = ts.getParsedCommandLineOfConfigFile(p.editorConfig, {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} })!;
  const host: ts.LanguageServiceHost = {
    getCompilationSettings: () => cfg.options,
    getScriptFileNames: () => cfg.fileNames,
    getScriptVersion: version,
    getScriptSnapshot: (f) => (ts.sys.fileExists(f) ? ts.ScriptSnapshot.fromString(ts.sys.readFile(f)!) : undefined),
    getCurrentDirectory: () => p.dir,
    getDefaultLibFileName: ts.getDefaultLibFilePath,
    fileExists: ts.sys.fileExists,
    readFile: ts.sys.readFile,
  };
  const entry = (cfg.options.plugins as ts.PluginImport[]).find((e) => e.name === "chronots/service");
  const info = { languageService: wrap(ts.createLanguageService(host)), languageServiceHost: host, config: entry } as unknown as ts.server.PluginCreateInfo;
  const ls = init({ typescript: ts }).create(info);
  const formatHost = { getCanonicalFileName: (f: string) => f, getCurrentDirectory: () => p.dir, getNewLine: () => "\n" };
  const lines = () => ours(ts.formatDiagnostics(ls.getSemanticDiagnostics(cfg.fileNames[0]!), formatHost).split("\n"));
  return { lines: lines(), again: lines, ls, file: cfg.fileNames[0]!, plain: ts.createLanguageService(host) };
}

describe("functions left to the run-time driver, at every entry point", { timeout: 120_000 }, () => {
  it("tspc, the editor and chronots check report the same lines", () => {
    const p = project("same", {});
    const built = tspc(p);
    expect(built.lines).toEqual([byNameWarning, evalWarning]);
    // tsc exits 2 on any diagnostic it prints, warnings too; `chronots check` only on errors.
    expect(built.status).toBe(2);
    expect(editor(p).lines).toEqual(built.lines);
    expect(checked(p)).toMatchObject({ status: 0, lines: built.lines });
  });

  it("leaves the editor's tree as it was: quick info inside a lowered body, and the same warnings when asked again", () => {
    const p = project("quiet", {});
    const { ls, plain, file, again } = editor(p);
    for (const at of [source.indexOf("lowered"), source.lastIndexOf("sleepAsync"), source.indexOf("counted")])
      expect(ls.getQuickInfoAtPosition(file, at)).toEqual(plain.getQuickInfoAtPosition(file, at));
    expect(again()).toEqual([byNameWarning, evalWarning]);
  });

  it('"unlowered": "error" makes them errors of the build, of the check and in the editor', () => {
    const p = project("error", { unlowered: "error" });
    const asErrors = [byNameWarning, evalWarning].map((l) => l.replace(": warning TS99301:", ": error TS99301:"));
    const built = tspc(p);
    expect(built.lines).toEqual(asErrors);
    expect(built.status).toBe(2);
    expect(editor(p).lines).toEqual(asErrors);
    expect(checked(p)).toMatchObject({ status: 1, lines: asErrors });
  });

  it('"unlowered": "off" silences them everywhere; the editor entry may decide for itself', () => {
    const off = project("off", { unlowered: "off" });
    expect(tspc(off)).toEqual({ status: 0, lines: [] });
    expect(editor(off).lines).toEqual([]);
    expect(checked(off)).toMatchObject({ status: 0, lines: [] });
    const editorOnly = project("editor-off", {}, { unlowered: "off" });
    expect(editor(editorOnly).lines).toEqual([]);
    expect(checked(editorOnly).lines).toEqual([]);
  });

  it("a project whose build does not lower (no transform entry) hears nothing of the driver", () => {
    const p = project("untransformed", undefined);
    expect(editor(p).lines).toEqual([]);
    expect(checked(p)).toMatchObject({ status: 0, lines: [] });
    const asked = project("untransformed-asked", undefined, { unlowered: "warning" });
    expect(editor(asked).lines).toEqual([byNameWarning, evalWarning]);
  });

  it("the editor lowers a file again only when it, or what its calls' callees are, changed", () => {
    const p = project("cached", {});
    const main = source.replace('"./runtime/index.js"', '"./lib.js"');
    const reexport = 'export * from "./runtime/index.js";\n';
    const files = new Map<string, { text: string; version: number }>([
      [join(p.dir, "main.ts"), { text: main, version: 1 }],
      [join(p.dir, "lib.ts"), { text: reexport, version: 1 }],
      [join(p.dir, "other.ts"), { text: "export const n = 1;\n", version: 1 }],
    ]);
    const edit = (name: string, text: string) => files.set(join(p.dir, name), { text, version: files.get(join(p.dir, name))!.version + 1 });
    const cfg = ts.getParsedCommandLineOfConfigFile(p.editorConfig, {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} })!;
    const host: ts.LanguageServiceHost = {
      getCompilationSettings: () => cfg.options,
      getScriptFileNames: () => [...files.keys()],
      getScriptVersion: (f) => String(files.get(f)?.version ?? 1),
      getScriptSnapshot: (f) => {
        const text = files.get(f)?.text ?? ts.sys.readFile(f);
        return text === undefined ? undefined : ts.ScriptSnapshot.fromString(text);
      },
      getCurrentDirectory: () => p.dir,
      getDefaultLibFileName: ts.getDefaultLibFilePath,
      fileExists: (f) => files.has(f) || ts.sys.fileExists(f),
      readFile: (f) => files.get(f)?.text ?? ts.sys.readFile(f),
    };
    const entry = (cfg.options.plugins as ts.PluginImport[]).find((e) => e.name === "chronots/service");
    const ls = init({ typescript: ts }).create({ languageService: ts.createLanguageService(host), languageServiceHost: host, config: entry } as unknown as ts.server.PluginCreateInfo);
    const warnings = () => ls.getSemanticDiagnostics(join(p.dir, "main.ts")).filter((d) => d.code === 99301);
    const first = warnings();
    expect(first.map((d) => d.start)).toEqual([main.indexOf("counted)"), main.indexOf("eval")]);
    // Another file changed, main.ts did not: the same list, not a second lowering.
    edit("other.ts", "export const n = 2;\n");
    const again = warnings();
    expect(again).toHaveLength(2);
    again.forEach((d, i) => expect(d).toBe(first[i]));
    // lib.ts now gives a local `async`: main.ts is unchanged, but its calls are no longer chronots'.
    edit("lib.ts", `export function async<T>(g: T): T {\n  return g;\n}\n${reexport}`);
    expect(warnings()).toEqual([]);
    edit("lib.ts", reexport);
    expect(warnings().map((d) => d.start)).toEqual([main.indexOf("counted)"), main.indexOf("eval")]);
  });

  it("a part that fails on a file gives the editor a warning naming it, not an exception", () => {
    const p = project("broken-checker", {});
    writeFileSync(join(p.dir, "main.ts"), `${source}export const waits = async(function* () {\n  yield sleepAsync(0);\n});\n`);
    // A program whose checker fails chronots' type questions, as a compiler bug or an unknown TypeScript might.
    const broken = (program: ts.Program): ts.Program =>
      new Proxy(program, {
        get: (target, key) =>
          key === "getTypeChecker"
            ? () => new Proxy(target.getTypeChecker(), { get: (c, k) => (k === "getSymbolAtLocation" || k === "getTypeAtLocation" || k === "getContextualType" ? () => { throw new Error("checker broke"); } : Reflect.get(c, k)) })
            : Reflect.get(target, key),
      });
    const { ls, file } = editor(p, (ls) => new Proxy(ls, { get: (target, key) => (key === "getProgram" ? () => broken(target.getProgram()!) : Reflect.get(target, key)) }));
    const found = ls.getSemanticDiagnostics(file).filter((d) => d.source === "chronots");
    expect(found.slice(0, 2).map((d) => [d.category, d.code, d.messageText])).toEqual(
      ["discarded futures", "yields of non-Futures"].map((part) => [ts.DiagnosticCategory.Warning, INTERNAL_CODE, `chronots: ${file} was not checked for ${part}: internal error (checker broke)`]),
    );
    // The lowering asks the checker at each call, and leaves each of the four to the driver.
    const leftByError = "chronots: this async function is left to the run-time driver: the lowering failed with an internal error (checker broke)";
    expect(found.slice(2).map((d) => [d.category, d.code, d.messageText])).toEqual(Array(4).fill([ts.DiagnosticCategory.Warning, INTERNAL_CODE, leftByError]));
    // In the build too: an internal error is a warning, whatever "unlowered" says.
    for (const unlowered of ["off", "error"] as const) {
      const cfg = ts.getParsedCommandLineOfConfigFile(p.tspcConfig, {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} })!;
      const program = broken(ts.createProgram(cfg.fileNames, { ...cfg.options, noEmit: false, outDir: join(p.dir, "out") }));
      const added: ts.Diagnostic[] = [];
      program.emit(undefined, () => {}, undefined, false, { before: [transformer(program, { unlowered }, { ts, addDiagnostic: (d) => void added.push(d) })] });
      const lowering = added.filter((d) => d.messageText === leftByError);
      expect(lowering.map((d) => [d.category, d.code]), unlowered).toEqual(Array(4).fill([ts.DiagnosticCategory.Warning, INTERNAL_CODE]));
    }
  });

  it("knows a build entry written as a path to chronots' transformer, as ts-patch resolves it from the tsconfig's folder", () => {
    const byPath = project("by-path", undefined);
    const sourceEntry = relative(byPath.dir, join(root, "transformer/index.ts"));
    writeFileSync(byPath.editorConfig, readFileSync(byPath.editorConfig, "utf8").replace('"plugins":[', `"plugins":[{"transform":${JSON.stringify(sourceEntry)},"unlowered":"error"},`));
    const asErrors = [byNameWarning, evalWarning].map((l) => l.replace(": warning TS99301:", ": error TS99301:"));
    expect(editor(byPath).lines).toEqual(asErrors);
    expect(checked(byPath)).toMatchObject({ status: 1, lines: asErrors });
    // The CommonJS build, under the nameless package.json that marks dist/cjs as CommonJS: still chronots'.
    const pkg = join(tmp, "installed/chronots");
    mkdirSync(join(pkg, "dist/cjs/transformer"), { recursive: true });
    writeFileSync(join(pkg, "package.json"), JSON.stringify({ name: "chronots" }));
    writeFileSync(join(pkg, "dist/cjs/package.json"), JSON.stringify({ type: "commonjs" }));
    writeFileSync(join(pkg, "dist/cjs/transformer/index.js"), "");
    const byCjsPath = project("by-cjs-path", undefined);
    const cjsEntry = relative(byCjsPath.dir, join(pkg, "dist/cjs/transformer/index.js"));
    writeFileSync(byCjsPath.editorConfig, readFileSync(byCjsPath.editorConfig, "utf8").replace('"plugins":[', `"plugins":[{"transform":${JSON.stringify(cjsEntry)},"unlowered":"error"},`));
    expect(checked(byCjsPath)).toMatchObject({ status: 1, lines: asErrors });
    // A package that becomes chronots while the editor runs (renamed, installed over) is seen at its next program.
    const renamed = join(tmp, "renamed/chronots");
    mkdirSync(join(renamed, "dist/cjs/transformer"), { recursive: true });
    writeFileSync(join(renamed, "package.json"), JSON.stringify({ name: "other" }));
    writeFileSync(join(renamed, "dist/cjs/transformer/index.js"), "");
    const byRenamed = project("by-renamed-path", undefined);
    const renamedEntry = relative(byRenamed.dir, join(renamed, "dist/cjs/transformer/index.js"));
    writeFileSync(byRenamed.editorConfig, readFileSync(byRenamed.editorConfig, "utf8").replace('"plugins":[', `"plugins":[{"transform":${JSON.stringify(renamedEntry)},"unlowered":"error"},`));
    let version = 1;
    const { lines: before, again } = editor(byRenamed, (ls) => ls, () => String(version));
    expect(before).toEqual([]);
    writeFileSync(join(renamed, "package.json"), JSON.stringify({ name: "chronots" }));
    version++;
    expect(again()).toEqual(asErrors);
    // Another package's module is not the build entry, nor a path that resolves to nothing.
    const foreign = project("foreign", undefined);
    writeFileSync(foreign.editorConfig, readFileSync(foreign.editorConfig, "utf8").replace('"plugins":[', '"plugins":[{"transform":"typescript"},{"transform":"./missing.js"},'));
    expect(editor(foreign).lines).toEqual([]);
    expect(checked(foreign)).toMatchObject({ status: 0, lines: [] });
  });

  it("an entry naming a chronots plugin under the other host's key, as a program or declarations transformer, or the Vite plugin, is an error, not a build that silently lowers nothing", () => {
    const p = project("misplaced", undefined);
    const misplaced = [
      { name: "chronots/transformer" },
      { transform: "chronots/service" },
      { transform: "chronots/transformer", transformProgram: true },
      { transform: "chronots/vite" },
      { transform: "chronots/transformer", afterDeclarations: true },
      { transform: "chronots/transformer", after: true },
    ];
    const config = JSON.parse(readFileSync(p.editorConfig, "utf8"));
    config.compilerOptions.plugins.push(...misplaced);
    writeFileSync(p.editorConfig, JSON.stringify(config));
    const forms = `{ "transform": "chronots/transformer" } for the build, { "name": "chronots/service" } for the editor`;
    const messages = [
      `chronots: "name" loads an editor plugin, and chronots/transformer is the build's, which ts-patch loads through "transform": ${forms}`,
      `chronots: chronots/service is the editor's plugin, which tsserver loads through "name": ${forms}`,
      `chronots: chronots/transformer is a source transformer; "transformProgram": true has ts-patch run it as a program transformer, which lowers nothing: remove the option`,
      `chronots: chronots/vite is the Vite plugin, for the plugins of a vite.config; a tsconfig's entries are ${forms}`,
      `chronots: chronots/transformer is a source transformer; "afterDeclarations": true has ts-patch run it on the declaration files it emits, which lowers and checks nothing: remove the option`,
      `chronots: chronots/transformer is a source transformer, which must run before TypeScript's own transforms; "after": true has ts-patch run it after them, on code they rewrote, which it cannot lower: remove the option`,
    ];
    const c = checked(p);
    expect(c.status).toBe(1);
    const text = readFileSync(p.editorConfig, "utf8");
    const at = (key: string, from: string) => text.indexOf(key, text.indexOf(from)) + 1;
    expect(c.text.split("\n").filter((l) => l.includes("TS99302")).map((l) => l.replace(/^.*[\\/](?=editor\.json\()/, ""))).toEqual([
      `editor.json(1,${at('"name"', '"name":"chronots/transformer"')}): error TS99302: ${messages[0]}`,
      `editor.json(1,${at('"transform"', '"transform":"chronots/service"')}): error TS99302: ${messages[1]}`,
      `editor.json(1,${at('"transformProgram"', '"transformProgram"')}): error TS99302: ${messages[2]}`,
      `editor.json(1,${at('"transform"', '"transform":"chronots/vite"')}): error TS99302: ${messages[3]}`,
      `editor.json(1,${at('"afterDeclarations"', '"afterDeclarations"')}): error TS99302: ${messages[4]}`,
      `editor.json(1,${at('"after"', '"after":')}): error TS99302: ${messages[5]}`,
    ]);
    const shown = editor(p).ls.getSemanticDiagnostics(join(p.dir, "main.ts")).filter((d) => d.code === 99302);
    expect(shown.map((d) => [d.start, d.messageText])).toEqual(messages.map((m) => [0, `${m} (in ${p.editorConfig})`]));
    // tspc runs the entry as a program transformer: its emit gives the same words as an error, and nothing is lowered.
    writeFileSync(p.tspcConfig, readFileSync(p.tspcConfig, "utf8").replace('"plugins":[{', '"plugins":[{"transformProgram":true,'));
    const built = spawnSync(process.execPath, [join(root, "node_modules/ts-patch/bin/tspc.js"), "-p", p.tspcConfig, "--pretty", "false"], { cwd: p.dir, encoding: "utf8" });
    expect(built.status).not.toBe(0);
    expect(built.stdout.split("\n")).toContain(`error TS99302: ${messages[2]}`);
    expect(readFileSync(join(p.dir, "dist/main.js"), "utf8")).toMatch(/function\s*\*/);
    // The Vite plugin, called by ts-patch with a program, says what it is rather than naming the program's members as options.
    writeFileSync(p.tspcConfig, readFileSync(p.tspcConfig, "utf8").replace(/"plugins":\[.*?\]/, `"plugins":[{"transform":${JSON.stringify(join(cjs, "vite.js"))}}]`));
    const vite = spawnSync(process.execPath, [join(root, "node_modules/ts-patch/bin/tspc.js"), "-p", p.tspcConfig, "--pretty", "false"], { cwd: p.dir, encoding: "utf8" });
    expect(vite.status).not.toBe(0);
    expect(vite.stderr).toContain(`TypeError: ${messages[3]}`);
    expect(vite.stderr).not.toContain("getRootFileNames");
  });

  it("places a bad entry's errors at their option: in the build and the check; the editor shows them, its own entry's and the build entry's, on every file", () => {
    const p = project("bad", { unlowered: "loud", unlowerd: "off" }, { discard: "warning" });
    const bad = `tsconfig.json(1,`;
    const built = spawnSync(process.execPath, [join(root, "node_modules/ts-patch/bin/tspc.js"), "-p", p.tspcConfig, "--pretty", "false"], { cwd: p.dir, encoding: "utf8" });
    const lines = built.stdout.split("\n").filter((l) => l.includes("TS99302"));
    expect(lines).toEqual([
      expect.stringMatching(/^tsconfig\.json\(1,\d+\): error TS99302: chronots: plugin option "unlowered" must be "error", "warning" or "off", got "loud"$/),
      expect.stringMatching(/^tsconfig\.json\(1,\d+\): error TS99302: chronots: unknown plugin option "unlowerd"; did you mean "unlowered"\?$/),
    ]);
    // Each at its own option: the column is where that option's key starts.
    const text = readFileSync(p.tspcConfig, "utf8");
    expect(lines.map((l) => Number(l.slice(bad.length).split(")")[0]) - 1)).toEqual([text.indexOf('"unlowered"'), text.indexOf('"unlowerd"')]);
    const c = checked(p);
    expect(c.status).toBe(1);
    expect(c.text).toMatch(/editor\.json\(1,\d+\): error TS99302: chronots: unknown plugin option "discard"; did you mean "discarded"\?/);
    expect(c.text).toMatch(/editor\.json\(1,\d+\): error TS99302: chronots: plugin option "unlowered" must be/);
    const shown = editor(p).ls.getSemanticDiagnostics(join(p.dir, "main.ts")).filter((d) => d.code === 99302);
    expect(shown.map((d) => [d.start, d.category, d.messageText])).toEqual([
      [0, ts.DiagnosticCategory.Error, `chronots: unknown plugin option "discard"; did you mean "discarded"? (the "chronots/service" entry of ${p.editorConfig})`],
      [0, ts.DiagnosticCategory.Error, `chronots: plugin option "unlowered" must be "error", "warning" or "off", got "loud" (in ${p.editorConfig})`],
      [0, ts.DiagnosticCategory.Error, `chronots: unknown plugin option "unlowerd"; did you mean "unlowered"? (in ${p.editorConfig})`],
    ]);
  });
});
