/**
 * The public types, checked by the compiler itself: test/fixtures/types.ts marks each line that
 * must fail to type-check with `// @type-error`; every other line must check clean. Each test builds a
 * whole program over the published declarations, seconds each, and more on a loaded machine: hence
 * their timeout.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import ts from "typescript";
import { expect, it } from "vitest";

/** Run `body` in a new folder of the system's temp folder, removed after. */
function inTemp(prefix: string, body: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  try {
    body(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A program of a user's `file` using the published declarations (dist/): strict, ES2022, NodeNext unless `options` say otherwise. */
function consumer(file: string, options: ts.CompilerOptions): ts.Program {
  const typeRoots = [resolve(__dirname, "../node_modules/@types")];
  return ts.createProgram([file], { strict: true, target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, types: ["node"], typeRoots, ...options });
}

it("the public types: async() (generics, this:, yield and yield*), the combinators and transport handlers", { timeout: 120_000 }, () => {
  const file = "test/fixtures/types.ts";
  const program = ts.createProgram([file], {
    strict: true,
    noEmit: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    types: ["node"],
    skipLibCheck: true,
  });
  const sf = program.getSourceFile(file)!;
  const reported = ts
    .getPreEmitDiagnostics(program, sf)
    .map((d) => sf.getLineAndCharacterOfPosition(d.start!).line + 1)
    .sort((a, b) => a - b);
  const marked = readFileSync(file, "utf8")
    .split("\n")
    .flatMap((l, i) => (l.includes("// @type-error") ? [i + 1] : []));
  expect(marked.length).toBeGreaterThan(0);
  expect(reported).toEqual(marked);
});

it("the published declarations: no public constructor where the library makes the instances, handlers without a this, read-only async() methods", { timeout: 120_000 }, () => {
  const file = "test/fixtures/published-types.ts";
  // The declarations themselves are checked by the next test: skipping them here halves the time.
  const program = consumer(file, { noEmit: true, skipLibCheck: true });
  const sf = program.getSourceFile(file)!;
  const reported = ts.getPreEmitDiagnostics(program).map((d) => `${d.file === sf ? sf.getLineAndCharacterOfPosition(d.start!).line + 1 : d.file?.fileName} TS${d.code}`);
  const marked = readFileSync(file, "utf8")
    .split("\n")
    .flatMap((l, i) => {
      const m = /\/\/ @type-error (TS\d+)$/.exec(l);
      return m ? [`${i + 1} ${m[1]}`] : [];
    });
  expect(marked.length).toBeGreaterThan(0);
  const byLine = (a: string, b: string) => parseInt(a) - parseInt(b) || a.localeCompare(b);
  expect(reported.sort(byLine)).toEqual(marked.sort(byLine));
});

it("the published declarations check clean without skipLibCheck, and leave the runtime's internals out", { timeout: 120_000 }, () => {
  inTemp("chronots-dts-", (dir) => {
    const dist = resolve(__dirname, "../dist/runtime");
    const file = join(dir, "consumer.ts");
    writeFileSync(
      file,
      [
        `import { newFuture, type Future } from ${JSON.stringify(join(dist, "index.js"))};`,
        `import { connect } from ${JSON.stringify(join(dist, "net/index.js"))};`,
        `const f: Future<number> = newFuture<number>("f");`,
        `export const seen = [f.pending, f.name, connect];`,
        `export const hidden = [f._state, f._result, f._suspend, f._finish];`,
      ].join("\n"),
    );
    const program = consumer(file, { noEmit: true });
    const errors = ts.getPreEmitDiagnostics(program).map((d) => `${d.file ? `${d.file.fileName.slice(d.file.fileName.lastIndexOf("/") + 1)}:${d.file.getLineAndCharacterOfPosition(d.start!).line + 1}` : "-"} TS${d.code}`);
    // Only the four reads of internals fail, all on the consumer's last line: no such property (or "did you mean").
    expect(errors).toEqual(Array(4).fill(expect.stringMatching(/^consumer\.ts:5 TS(2339|2551)$/)));
  });
});

it("the transformer's and the Vite plugin's declarations load in a CommonJS project without esModuleInterop", { timeout: 120_000 }, () => {
  inTemp("chronots-dts-cjs-", (dir) => {
    const dist = resolve(__dirname, "../dist/transformer");
    const file = join(dir, "consumer.ts");
    writeFileSync(file, `import transformer = require(${JSON.stringify(join(dist, "index.js"))});\nimport vite = require(${JSON.stringify(join(dist, "vite.js"))});\nexport const both = [transformer, vite];\n`);
    const program = consumer(file, { noEmit: true, module: ts.ModuleKind.CommonJS, moduleResolution: ts.ModuleResolutionKind.Node10 });
    // A default import of typescript in them would be TS1259 ("can only be default-imported using the 'esModuleInterop' flag").
    expect(ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n"))).toEqual([]);
  });
});

it("a user's library declares what returns the published types' helpers (ValueOf, PollerKind): each can be named, TS2742 otherwise", { timeout: 120_000 }, () => {
  inTemp("chronots-dts-names-", (dir) => {
    // A copy, not a link: a link resolves outside node_modules, where any file may be named by its path.
    const installed = join(dir, "node_modules/chronots");
    cpSync(resolve(__dirname, "../package.json"), join(installed, "package.json"));
    cpSync(resolve(__dirname, "../dist"), join(installed, "dist"), { recursive: true });
    const file = join(dir, "lib.ts");
    writeFileSync(
      file,
      `import { async, Dispatcher, Future, wait, waitFor } from "chronots";
export const within = <F extends Future<any>>(f: F) => wait(f, 1000);
export const now = <F extends Future<any>>(f: F) => waitFor(f);
export const retry = async(function* <F extends Future<any>>(make: () => F) { return yield* wait(make(), 10); });
export const kind = new Dispatcher().pollerKind;
export function keysOf<V>(_v: V) { return async(function* <K extends keyof V>(k: K) { return k; }); }
export const keys = keysOf({ a: 1 });
`,
    );
    const program = consumer(file, { declaration: true, emitDeclarationOnly: true, outDir: join(dir, "out") });
    const emitted = program.emit();
    expect([...ts.getPreEmitDiagnostics(program), ...emitted.diagnostics].map((d) => `TS${d.code}: ${ts.flattenDiagnosticMessageText(d.messageText, " ")}`)).toEqual([]);
    // What was declared must check too: an outer type parameter left in it would be TS2304, "Cannot find name 'V'".
    const declared = consumer(join(dir, "out/lib.d.ts"), { noEmit: true });
    expect(ts.getPreEmitDiagnostics(declared).map((d) => `TS${d.code}: ${ts.flattenDiagnosticMessageText(d.messageText, " ")}`)).toEqual([]);
    expect(readFileSync(join(dir, "out/lib.d.ts"), "utf8")).toContain('keys: <K extends "a">(this: unknown, k: K) => Future<K>;');
  });
});

it("options take an explicit undefined, as the runtime does, under exactOptionalPropertyTypes", { timeout: 120_000 }, () => {
  inTemp("chronots-dts-exact-", (dir) => {
    const dist = resolve(__dirname, "../dist/runtime");
    const file = join(dir, "options.ts");
    writeFileSync(
      file,
      `import { async, Dispatcher } from ${JSON.stringify(join(dist, "index.js"))};
import { createStreamServer, newDatagramTransport } from ${JSON.stringify(join(dist, "net/index.js"))};
declare const backlog: number | undefined;
export const d = new Dispatcher({ poller: undefined });
export const open = () => [createStreamServer("127.0.0.1:0", async(function* () {}), { backlog, onError: undefined }), newDatagramTransport("127.0.0.1:0", () => {}, { onError: undefined })];
`,
    );
    const program = consumer(file, { noEmit: true, exactOptionalPropertyTypes: true });
    expect(ts.getPreEmitDiagnostics(program).map((d) => `TS${d.code}: ${ts.flattenDiagnosticMessageText(d.messageText, " ")}`)).toEqual([]);
  });
});

it("a user's library declares an anonymous subclass of the published Future (a mixin's), no private member of it in the way", { timeout: 120_000 }, () => {
  inTemp("chronots-dts-mixin-", (dir) => {
    const dist = resolve(__dirname, "../dist/runtime");
    const file = join(dir, "mixin.ts");
    writeFileSync(file, `import { Future } from ${JSON.stringify(join(dist, "index.js"))};\nexport function factory() { return class extends Future<number> { extra = 1; }; }\nexport const Anon = class extends Future<string> {};\n`);
    const program = consumer(file, { declaration: true, emitDeclarationOnly: true, outDir: join(dir, "out") });
    // A private member would be TS4094, "Property of exported anonymous class type may not be private or protected".
    const emitted = program.emit();
    expect([...ts.getPreEmitDiagnostics(program), ...emitted.diagnostics].map((d) => `TS${d.code}`)).toEqual([]);
  });
});

/**
 * Exports and public members of exports that have no documentation on purpose, each with its reason.
 * An entry that gains a documentation comment, or no longer exists, fails the test as well.
 */
const undocumented: Record<string, string> = {
  ...Object.fromEntries(
    ["FutureDefect", "FuturePendingError", "CancelledError", "AsyncTimeoutError", "DeadlockError", "OSError"].map((c) => [`${c}.name`, "an Error's `name`: the class's own name, as for every Error"]),
  ),
};

it("every export of chronots, and every public member of an exported class or interface, has a documentation comment that a hover shows", { timeout: 120_000 }, () => {
  const dist = resolve(__dirname, "../dist/runtime/index.d.ts");
  // What an editor shows: quick info on each name imported into a user's file, through the language service.
  // The file first imports nothing, to list the exports; then every one of them.
  const user = join(tmpdir(), "chronots-docs-consumer.ts");
  const from = JSON.stringify(dist.replace(/\.d\.ts$/, ".js"));
  let text = `import {} from ${from};\n`;
  let version = 0;
  const options: ts.CompilerOptions = { strict: true, noEmit: true, target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, types: [] };
  const service = ts.createLanguageService({
    getScriptFileNames: () => [user],
    getScriptVersion: (f) => (f === user ? String(version) : "0"),
    getScriptSnapshot: (f) => {
      const t = f === user ? text : ts.sys.readFile(f);
      return t === undefined ? undefined : ts.ScriptSnapshot.fromString(t);
    },
    getCurrentDirectory: () => resolve(__dirname, ".."),
    getCompilationSettings: () => options,
    getDefaultLibFileName: ts.getDefaultLibFilePath,
    fileExists: (f) => f === user || ts.sys.fileExists(f),
    readFile: (f) => (f === user ? text : ts.sys.readFile(f)),
    directoryExists: ts.sys.directoryExists,
    getDirectories: ts.sys.getDirectories,
  });
  const exportsOf = () => {
    const program = service.getProgram()!;
    const checker = program.getTypeChecker();
    return { checker, exported: checker.getExportsOfModule(checker.getSymbolAtLocation(program.getSourceFile(dist)!)!) };
  };
  const names = exportsOf().exported.map((s) => s.name);
  expect(names).toContain("waitFor");
  text = `import { ${names.join(", ")} } from ${from};\n`;
  version++;
  const docs = new Map<string, string>();
  let at = text.indexOf("{") + 2;
  for (const name of names) {
    docs.set(name, ts.displayPartsToString(service.getQuickInfoAtPosition(user, at)?.documentation).trim());
    at += name.length + 2;
  }

  // Members: what a hover on `f.read` or `new Future(…)` shows, declared by chronots and not private.
  const { checker, exported } = exportsOf();
  const ours = (d: ts.Node) => d.getSourceFile().fileName.startsWith(dirname(dist));
  const hidden = (d: ts.Declaration) => (ts.getCombinedModifierFlags(d) & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)) !== 0;
  for (const e of exported) {
    const s = e.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(e) : e;
    if (!(s.flags & (ts.SymbolFlags.Class | ts.SymbolFlags.Interface))) continue;
    const statics = s.flags & ts.SymbolFlags.Class ? checker.getPropertiesOfType(checker.getTypeOfSymbol(s)).filter((m) => m.name !== "prototype") : [];
    for (const m of [...checker.getPropertiesOfType(checker.getDeclaredTypeOfSymbol(s)), ...statics]) {
      const decls = m.declarations ?? [];
      if (!decls.some(ours) || decls.every(hidden)) continue;
      const key = `${s.name}.${m.name.startsWith("__@") ? `[Symbol.${m.name.slice(3, m.name.lastIndexOf("@"))}]` : m.name}`;
      docs.set(key, ts.displayPartsToString(m.getDocumentationComment(checker)).trim());
    }
    if (s.flags & ts.SymbolFlags.Class)
      for (const sig of checker.getSignaturesOfType(checker.getTypeOfSymbol(s), ts.SignatureKind.Construct))
        if (sig.declaration && ts.isConstructorDeclaration(sig.declaration) && ours(sig.declaration) && !hidden(sig.declaration)) docs.set(`new ${s.name}`, ts.displayPartsToString(sig.getDocumentationComment(checker)).trim());
  }
  expect(docs.get("Future.read")).toBeDefined();
  expect(docs.get("new Future")).toBeDefined();

  const missing = [...docs].filter(([k, d]) => d === "" && !(k in undocumented)).map(([k]) => k);
  const stale = Object.keys(undocumented).filter((k) => docs.get(k) !== "");
  expect({ missing, stale }).toEqual({ missing: [], stale: [] });
});
