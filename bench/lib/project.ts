/**
 * Generates the project that workload 5 compiles: `files` modules of ordinary chronots code (loops
 * over awaits, try/catch/finally, `yield f`, an async method, a switch, asyncCheck) importing each
 * other and `chronots`, which node_modules/chronots, a link to this repository, provides as an
 * installed package would. Three tsconfigs share every option but the plugin and the output folder.
 *
 * Beside it, in native/, the same modules written with native `async`/`await` and promises, and two
 * tsconfigs that differ in the target only: ES2022, which keeps `async` functions as they are, and
 * ES5, where TypeScript lowers them to state machines of its own. Their ratio is a reference for
 * what a state-machine lowering costs inside `tsc` (it overstates it: ES5 also lowers classes,
 * arrows, `let` and the rest).
 */
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";

export interface Project {
  dir: string;
  /** tsconfig for plain `tsc`, output in out-tsc/. */
  tscConfig: string;
  /** tsconfig for `tspc` with the chronots transformer, output in out-tspc/. */
  tspcConfig: string;
  /** tsconfig for `tspc` without any plugin (ts-patch's own cost), output in out-patch/. */
  patchConfig: string;
  /** tsconfigs for plain `tsc` on the native twin, targeting ES2022 and ES5. */
  nativeConfig: string;
  nativeEs5Config: string;
}

export function generateProject(files: number, repo: string): Project {
  const dir = mkdtempSync(path.join(os.tmpdir(), "chronots-bench-project-"));
  mkdirSync(path.join(dir, "src"));
  mkdirSync(path.join(dir, "native/src"), { recursive: true });
  mkdirSync(path.join(dir, "node_modules"));
  symlinkSync(repo, path.join(dir, "node_modules", "chronots"), "dir");
  for (let i = 0; i < files; i++) {
    writeFileSync(path.join(dir, "src", `m${i}.ts`), moduleText(i, chronots));
    writeFileSync(path.join(dir, "native/src", `m${i}.ts`), moduleText(i, native));
  }
  const base = {
    compilerOptions: {
      target: "ES2022",
      module: "NodeNext",
      moduleResolution: "NodeNext",
      lib: ["ES2022"],
      types: ["node"],
      typeRoots: [path.join(repo, "node_modules/@types")],
      strict: true,
      skipLibCheck: true,
    },
    include: ["src"],
  };
  const config = (file: string, options: object) => {
    writeFileSync(path.join(dir, file), JSON.stringify({ ...base, compilerOptions: { ...base.compilerOptions, ...options } }, null, 2));
    return path.join(dir, file);
  };
  return {
    dir,
    tscConfig: config("tsconfig.tsc.json", { outDir: "out-tsc" }),
    tspcConfig: config("tsconfig.tspc.json", { outDir: "out-tspc", plugins: [{ transform: "chronots/transformer" }] }),
    patchConfig: config("tsconfig.patch.json", { outDir: "out-patch" }),
    nativeConfig: config("native/tsconfig.json", { outDir: "out" }),
    nativeEs5Config: config("native/tsconfig.es5.json", { outDir: "out-es5", target: "ES5", downlevelIteration: true }),
  };
}

/** How a module says each async thing: chronots' generators and futures, or native `async`/`await` and promises. */
interface Dialect {
  imports: string;
  /** The start of an async function expression, up to its parameter list. */
  fn: string;
  /** What closes it after the body's `}`. */
  end: string;
  await: string;
  future: string;
  /** Statements waiting for the future `f` without throwing, then `continue` when it failed, else `item` set to its value. */
  settle: (item: string) => string;
  check: (call: string) => string;
}

const chronots: Dialect = {
  imports: `import { async, asyncCheck, sleepAsync, type Future } from "chronots";`,
  fn: "async(function* ",
  end: ")",
  await: "yield* ",
  future: "Future",
  settle: (item) => `yield f;
      if (f.failed) continue;
      const ${item} = f.read();`,
  check: (call) => `asyncCheck(${call})`,
};

const native: Dialect = {
  imports: `const sleepAsync = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));`,
  fn: "async function ",
  end: "",
  await: "await ",
  future: "Promise",
  settle: (item) => `const r = await f.then((v) => ({ ok: true as const, v }), () => ({ ok: false as const }));
      if (!r.ok) continue;
      const ${item} = r.v;`,
  check: (call) => `void ${call}`,
};

function moduleText(i: number, d: Dialect): string {
  const dep = i > 0 ? i - 1 : -1;
  return `${d.imports}
${dep >= 0 ? `import { step${dep}, type Item${dep} } from "./m${dep}.js";\n` : ""}
export interface Item${i} {
  id: number;
  name: string;
  tags: string[];
}

export function label${i}(item: Item${i}): string {
  return item.tags.length > 0 ? \`\${item.name} [\${item.tags.join(", ")}]\` : item.name;
}

export const fetch${i} = ${d.fn}(id: number) {
  if (id % 3 === 0) ${d.await}sleepAsync(0);
  const item: Item${i} = { id, name: \`item \${id}\`, tags: id % 2 === 0 ? ["even"] : [] };
  return item;
}${d.end};

export const step${i} = ${d.fn}(n: number) {
  let total = 0;
  for (let k = 0; k < n; k++) {
    const item = ${d.await}fetch${i}(k);
    total += item.id + item.tags.length;
  }
  try {
    ${dep >= 0 ? `total += ${d.await}step${dep}(n > 0 ? n - 1 : 0);` : `${d.await}sleepAsync(1);`}
  } catch (e) {
    total = e instanceof Error ? -e.message.length : -1;
  } finally {
    total++;
  }
  return total;
}${d.end};

export class Service${i} {
  handled = 0;
  names: string[] = [];

  handle = ${d.fn}(this: Service${i}, ids: number[]) {
    const seen = new Map<number, Item${i}>();
    for (const id of ids) {
      const f: ${d.future}<Item${i}> = fetch${i}(id);
      ${d.settle("item")}
      seen.set(item.id, item);
      this.names.push(label${i}(item));
      this.handled++;
    }
    switch (seen.size) {
      case 0:
        return "none";
      case 1:
        return "one";
      default:
        return \`\${seen.size} items\`;
    }
  }${d.end};
}

export type Pair${i} = [Item${i}, ${dep >= 0 ? `Item${dep}` : "null"}];

export function start${i}(pair: Pair${i}): void {
  ${d.check(`step${i}(pair[0].id)`)};
}
`;
}
