/**
 * Generates the project that workload 5 compiles: `files` modules of ordinary chronots code (loops
 * over awaits, try/catch/finally, `yield f`, an async method, a switch, asyncCheck) importing each
 * other and `chronots`, which node_modules/chronots, a link to this repository, provides as an
 * installed package would. Three tsconfigs share every option but the plugin and the output folder.
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
}

export function generateProject(files: number, repo: string): Project {
  const dir = mkdtempSync(path.join(os.tmpdir(), "chronots-bench-project-"));
  mkdirSync(path.join(dir, "src"));
  mkdirSync(path.join(dir, "node_modules"));
  symlinkSync(repo, path.join(dir, "node_modules", "chronots"), "dir");
  for (let i = 0; i < files; i++) writeFileSync(path.join(dir, "src", `m${i}.ts`), moduleText(i));
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
  const tscConfig = path.join(dir, "tsconfig.tsc.json");
  const tspcConfig = path.join(dir, "tsconfig.tspc.json");
  writeFileSync(tscConfig, JSON.stringify({ ...base, compilerOptions: { ...base.compilerOptions, outDir: "out-tsc" } }, null, 2));
  writeFileSync(
    tspcConfig,
    JSON.stringify({ ...base, compilerOptions: { ...base.compilerOptions, outDir: "out-tspc", plugins: [{ transform: "chronots/transformer" }] } }, null, 2),
  );
  const patchConfig = path.join(dir, "tsconfig.patch.json");
  writeFileSync(patchConfig, JSON.stringify({ ...base, compilerOptions: { ...base.compilerOptions, outDir: "out-patch" } }, null, 2));
  return { dir, tscConfig, tspcConfig, patchConfig };
}

function moduleText(i: number): string {
  const dep = i > 0 ? i - 1 : -1;
  return `import { async, asyncCheck, sleepAsync, type Future } from "chronots";
${dep >= 0 ? `import { step${dep}, type Item${dep} } from "./m${dep}.js";\n` : ""}
export interface Item${i} {
  id: number;
  name: string;
  tags: string[];
}

export function label${i}(item: Item${i}): string {
  return item.tags.length > 0 ? \`\${item.name} [\${item.tags.join(", ")}]\` : item.name;
}

export const fetch${i} = async(function* (id: number) {
  if (id % 3 === 0) yield* sleepAsync(0);
  const item: Item${i} = { id, name: \`item \${id}\`, tags: id % 2 === 0 ? ["even"] : [] };
  return item;
});

export const step${i} = async(function* (n: number) {
  let total = 0;
  for (let k = 0; k < n; k++) {
    const item = yield* fetch${i}(k);
    total += item.id + item.tags.length;
  }
  try {
    ${dep >= 0 ? `total += yield* step${dep}(n > 0 ? n - 1 : 0);` : "yield* sleepAsync(1);"}
  } catch (e) {
    total = e instanceof Error ? -e.message.length : -1;
  } finally {
    total++;
  }
  return total;
});

export class Service${i} {
  handled = 0;
  names: string[] = [];

  handle = async(function* (this: Service${i}, ids: number[]) {
    const seen = new Map<number, Item${i}>();
    for (const id of ids) {
      const f: Future<Item${i}> = fetch${i}(id);
      yield f;
      if (f.failed) continue;
      const item = f.read();
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
  });
}

export type Pair${i} = [Item${i}, ${dep >= 0 ? `Item${dep}` : "null"}];

export function start${i}(pair: Pair${i}): void {
  asyncCheck(step${i}(pair[0].id));
}
`;
}
