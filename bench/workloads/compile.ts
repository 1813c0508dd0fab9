/**
 * Workload 5: compiling a generated project with `tspc` and the chronots transformer vs plain `tsc`,
 * each a child process. The figure is the compiler process's CPU time (user + system, all threads):
 * on a shared machine wall time mostly measures waiting for a core. On Linux each sample also gives
 * the main thread's share, which leaves out V8's helper threads (optimizing compiler, parallel GC)
 * and is the closest to what an idle machine's wall clock would show. A third side, `tspc` with no plugin, splits
 * the ratio into ts-patch's own cost (it loads and patches a second copy of TypeScript on every run)
 * and the transformer's. The project is generated once into a temp dir and removed at the end;
 * before timing, one tspc run must have lowered the output, or the comparison would be meaningless.
 */
import { existsSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { hasGenerators, NotReady, repoRoot } from "../lib/builds.js";
import { cpuTimeOf } from "../lib/child.js";
import { generateProject } from "../lib/project.js";
import type { Sample, Scale, Workload } from "../lib/workload.js";

const MAIN = "main-thread CPU ms";

export async function compile(scale: Scale): Promise<Workload> {
  const files = scale.n(200, 20);
  for (const f of ["dist/cjs/transformer/index.js", "dist/runtime/index.d.ts"])
    if (!existsSync(path.join(repoRoot, f))) throw new NotReady(`${f} is missing; build the package with: npm run build`);
  const project = generateProject(files, repoRoot);
  const tspcArgs = (config: string) => [path.join(repoRoot, "node_modules/ts-patch/bin/tspc.js"), "-p", config];
  // cpu-report.ts finds a thread's CPU in /proc, which Linux has.
  const perThread = process.platform === "linux";
  const sample = async (args: string[]): Promise<Sample> => {
    const { cpu, main } = await cpuTimeOf(args);
    return { value: cpu, figures: main === undefined ? {} : { [MAIN]: main } };
  };
  try {
    await cpuTimeOf(tspcArgs(project.tspcConfig));
    const out = readFileSync(path.join(project.dir, "out-tspc/m0.js"), "utf8");
    if (hasGenerators(out)) throw new NotReady("tspc with the transformer left generator functions in the generated project's output");
  } catch (e) {
    rmSync(project.dir, { recursive: true, force: true });
    throw e;
  }
  return {
    id: "5",
    title: `compile a generated ${files}-file project: tspc with the plugin vs plain tsc, and tspc alone (CPU time of each compiler process)`,
    metric: "time",
    unit: "CPU ms",
    figures: perThread ? [MAIN] : [],
    sides: [
      { name: "tspc", run: () => sample(tspcArgs(project.tspcConfig)) },
      { name: "tsc", run: () => sample([path.join(repoRoot, "node_modules/typescript/bin/tsc"), "-p", project.tscConfig]) },
      { name: "tspc-alone", run: () => sample(tspcArgs(project.patchConfig)) },
    ],
    comparisons: [
      { over: "tspc", under: "tsc", goal: { op: "<=", value: 1.25 } },
      { over: "tspc-alone", under: "tsc" },
      { over: "tspc", under: "tspc-alone" },
      ...(perThread ? [{ over: "tspc", under: "tsc", figure: MAIN }] : []),
    ],
    maxRounds: 5,
    warmup: 0,
    close: () => rmSync(project.dir, { recursive: true, force: true }),
  };
}
