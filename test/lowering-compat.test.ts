/**
 * The package as a user gets it: `npm pack` of this repository installed into an empty project,
 * once with TypeScript 5.9 + ts-patch 3 and once with TypeScript 6 + ts-patch 4 (needs the npm
 * registry). Each project compiles the examples with `tspc` and the plugin, and with plain `tsc`;
 * both builds must print the same, and the plugin's build must hold no generator function. A
 * CommonJS project on the classic `node10` resolution then builds and runs with the plugin too,
 * `chronots check` runs on that TypeScript, and a project without @types/node type-checks chronots'
 * declarations (no `skipLibCheck`). Beside TypeScript 7 npm refuses to install it, and forced, each
 * entry point names the problem instead of failing somewhere inside.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = resolve(__dirname, "..");
const tmp = mkdtempSync(join(tmpdir(), "chronots-pack-"));
const examples = ["quickstart.ts", "pipeline.ts", "render.tsx", "with-node.ts"];
let tarball = "";

beforeAll(() => {
  const out = execFileSync("npm", ["pack", "--pack-destination", tmp, "--silent"], { cwd: root, encoding: "utf8" });
  tarball = join(tmp, out.trim().split("\n").at(-1)!);
}, 300_000);

// Three installed projects: on a busy machine removing them takes longer than the default 10 s hook timeout.
afterAll(() => rmSync(tmp, { recursive: true, force: true }), 120_000);

function run(cmd: string, args: string[], cwd: string): string {
  const r = spawnSync(cmd, args, { cwd, encoding: "utf8", timeout: 300_000 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed in ${cwd}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

function buildAndRun(dir: string, compiler: "tsc" | "tspc", outDir: string): string {
  const plugins = compiler === "tspc" ? [{ transform: "chronots/transformer" }] : [];
  const config = {
    compilerOptions: { target: "ES2022", module: "NodeNext", moduleResolution: "NodeNext", jsx: "react", strict: true, skipLibCheck: true, types: ["node"], outDir, plugins },
    include: examples,
  };
  writeFileSync(join(dir, "tsconfig.json"), JSON.stringify(config));
  run(process.execPath, [join(dir, "node_modules/typescript/bin/tsc").replace("typescript/bin/tsc", compiler === "tsc" ? "typescript/bin/tsc" : "ts-patch/bin/tspc.js"), "-p", "."], dir);
  return examples.map((e) => run(process.execPath, [join(dir, outDir, e.replace(/\.tsx?$/, ".js"))], dir)).join("");
}

describe.each([
  { typescript: "5.9", tsPatch: "3.3" },
  { typescript: "6.0", tsPatch: "4" },
])("installed package with TypeScript $typescript and ts-patch $tsPatch", ({ typescript, tsPatch }) => {
  it(
    "compiles the examples with tspc into generator-free code that prints what the untransformed build prints",
    () => {
      const dir = join(tmp, `ts${typescript}`);
      mkdirSync(dir);
      writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }));
      run("npm", ["install", "--no-audit", "--no-fund", "--silent", tarball, `typescript@~${typescript}`, `ts-patch@^${tsPatch}`, "@types/node@20"], dir);
      for (const e of examples) copyFileSync(join(root, "examples", e), join(dir, e));

      const plain = buildAndRun(dir, "tsc", "plain");
      const lowered = buildAndRun(dir, "tspc", "lowered");
      expect(plain).toContain("fetchTwice:");
      expect(plain).toContain("<h2>Ada &#60;admin&#62;</h2>");
      expect(lowered).toBe(plain);
      for (const f of readdirSync(join(dir, "lowered")).filter((f) => f.endsWith(".js"))) {
        const code = readFileSync(join(dir, "lowered", f), "utf8");
        expect(code, f).not.toMatch(/function\s*\*/);
        expect(code, f).toContain("__chronots");
      }

      // A CommonJS project on the classic resolution, which reads `types`/`typesVersions`, not `exports`.
      const cjs = join(dir, "cjs");
      mkdirSync(cjs);
      writeFileSync(join(cjs, "package.json"), JSON.stringify({ type: "commonjs" }));
      writeFileSync(
        join(cjs, "main.ts"),
        `import { async, sleepAsync, waitFor } from "chronots";\nimport { TransportError } from "chronots/net";\n` +
          `const f = async(function* (x: number) {\n  yield* sleepAsync(1);\n  return x + 1;\n});\nconsole.log(waitFor(f(41)), new TransportError("EX", "x") instanceof Error);\n`,
      );
      const compilerOptions = { target: "ES2022", module: "CommonJS", moduleResolution: "node10", ignoreDeprecations: typescript === "6.0" ? "6.0" : undefined, strict: true, skipLibCheck: true, types: ["node"], outDir: "out", plugins: [{ transform: "chronots/transformer" }] };
      writeFileSync(join(cjs, "tsconfig.json"), JSON.stringify({ compilerOptions, files: ["main.ts"] }));
      run(process.execPath, [join(dir, "node_modules/ts-patch/bin/tspc.js"), "-p", "."], cjs);
      expect(readFileSync(join(cjs, "out/main.js"), "utf8")).toMatch(/= require\("chronots"\)\.__chronots;/);
      expect(run(process.execPath, [join(cjs, "out/main.js")], cjs)).toBe("42 true\n");

      // The same CommonJS project under `"module": "node16"`, which refuses to require an ES module: the
      // `require` condition of chronots/vite and chronots/transformer must give CommonJS declarations that
      // describe what require() returns, while an ES module file still gets the ES module ones.
      writeFileSync(
        join(cjs, "require.ts"),
        `import v = require("chronots/vite");\nimport t = require("chronots/transformer");\nimport type { TransformerConfig } from "chronots/transformer";\n` +
          `const p: { name: string } = v.default();\nconst config: TransformerConfig = {};\nconst make: (program: import("typescript").Program) => unknown = (program) => t.default(program, config);\n` +
          `console.log(p.name, typeof make, typeof t.ENTRY_CODE);\n`,
      );
      writeFileSync(join(cjs, "import.mts"), `import chronots from "chronots/vite";\nimport transformer from "chronots/transformer";\nconst p: { name: string } = chronots();\nexport const uses = [p, transformer];\n`);
      const node16Options = { target: "ES2022", module: "node16", strict: true, skipLibCheck: false, skipDefaultLibCheck: true, types: [], outDir: "out16" };
      writeFileSync(join(cjs, "tsconfig.node16.json"), JSON.stringify({ compilerOptions: node16Options, files: ["require.ts", "import.mts"] }));
      run(process.execPath, [join(dir, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.node16.json"], cjs);
      expect(run(process.execPath, [join(cjs, "out16/require.js")], cjs)).toBe("chronots function number\n");

      // `chronots check` on this TypeScript: a discarded Future, a yield of a non-Future, and (the build lowers) a function left to the driver.
      const checked = join(dir, "checked");
      mkdirSync(checked);
      writeFileSync(join(checked, "package.json"), JSON.stringify({ type: "module" }));
      writeFileSync(join(checked, "main.ts"), `import { async, sleepAsync } from "chronots";\nexport function* gen() {}\nexport const f = async(gen);\nsleepAsync(1);\nexport const g = async(function* (): Generator<any, void, any> {\n  yield 1;\n});\n`);
      const checkOptions = { target: "ES2022", module: "NodeNext", moduleResolution: "NodeNext", strict: true, skipLibCheck: true, types: ["node"], noEmit: true, plugins: [{ transform: "chronots/transformer" }] };
      writeFileSync(join(checked, "tsconfig.json"), JSON.stringify({ compilerOptions: checkOptions, files: ["main.ts"] }));
      const check = spawnSync(process.execPath, [join(dir, "node_modules/chronots/bin/chronots.js"), "check", "-p", "."], { cwd: checked, encoding: "utf8" });
      expect(check.stdout.split("\n").filter(Boolean).sort()).toEqual([
        expect.stringMatching(/^main\.ts\(3,24\): warning TS99301: chronots: this async function is left to the run-time driver: 'gen', a generator declared `export`, is not lowered$/),
        expect.stringMatching(/^main\.ts\(4,1\): error TS90001: chronots: Future returned by 'sleepAsync\(1\)' is discarded;/),
        expect.stringMatching(/^main\.ts\(6,3\): error TS90002: chronots: yield of a non-Future value of type 'number';/),
      ]);
      expect(check.status).toBe(1);

      // chronots' declarations check on their own: no @types/node in scope, no skipLibCheck.
      const bare = join(dir, "bare");
      mkdirSync(bare);
      writeFileSync(
        join(bare, "main.ts"),
        `import { addSignal, async, sleepAsync, type SignalName } from "chronots";\nimport { createStreamServer } from "chronots/net";\nimport transformer from "chronots/transformer";\n` +
          `const sig: SignalName = "SIGUSR2";\nexport const f = async(function* () { yield* sleepAsync(1); });\nexport const uses = [addSignal, sig, createStreamServer, transformer];\n`,
      );
      const bareOptions = { target: "ES2022", module: "NodeNext", moduleResolution: "NodeNext", strict: true, skipLibCheck: false, types: [], noEmit: true };
      writeFileSync(join(bare, "tsconfig.json"), JSON.stringify({ compilerOptions: bareOptions, files: ["main.ts"] }));
      run(process.execPath, [join(dir, "node_modules/typescript/bin/tsc"), "-p", "."], bare);
    },
    600_000,
  );
});

describe("installed beside TypeScript 7, which has no JavaScript compiler API", () => {
  it(
    "npm refuses the pair; forced, chronots check, the Vite plugin and the transformer say what is wrong",
    () => {
      const dir = join(tmp, "ts7");
      mkdirSync(dir);
      writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }));
      const install = (...flags: string[]) =>
        spawnSync("npm", ["install", "--no-audit", "--no-fund", "--omit=optional", ...flags, tarball, "typescript@7"], { cwd: dir, encoding: "utf8", timeout: 300_000 });
      const refused = install();
      expect(refused.status).not.toBe(0);
      // An optional peer (a runtime-only install needs no compiler), refused all the same where it is installed.
      expect(refused.stderr).toMatch(/ERESOLVE[\s\S]*peerOptional typescript@">=5\.9 <7" from chronots/);
      expect(install("--legacy-peer-deps").status).toBe(0);
      const version = JSON.parse(readFileSync(join(dir, "node_modules/typescript/package.json"), "utf8")).version as string;
      expect(version).toMatch(/^7\./);
      const says = `chronots needs TypeScript's JavaScript compiler API, which TypeScript ${version} does not have`;
      writeFileSync(join(dir, "tsconfig.json"), JSON.stringify({ compilerOptions: { plugins: [{ transform: "chronots/transformer" }] } }));
      const check = spawnSync(process.execPath, [join(dir, "node_modules/chronots/bin/chronots.js"), "check"], { cwd: dir, encoding: "utf8" });
      expect(check.stdout).toContain(`chronots check: ${says}`);
      expect(check.status).toBe(2);
      const vite = spawnSync(process.execPath, ["--input-type=module", "-e", 'import chronots from "chronots/vite";\ntry { chronots(); } catch (e) { console.log(e.constructor.name, e.message); }'], { cwd: dir, encoding: "utf8" });
      expect(vite.stdout).toContain(`TypeError chronots/vite: ${says}`);
      const transformer = spawnSync(process.execPath, ["-e", 'try { require("chronots/transformer").default({ getSourceFile() {}, getTypeChecker() {} }); } catch (e) { console.log(e.constructor.name, e.message); }'], { cwd: dir, encoding: "utf8" });
      expect(transformer.stdout).toContain(`TypeError chronots/transformer: ${says}`);
    },
    600_000,
  );
});
