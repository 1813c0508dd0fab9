/**
 * Workload 5: compiling a generated project with `tspc` and the chronots transformer vs plain `tsc`,
 * each a child process. The figure is the compiler process's CPU time (user + system, all threads):
 * on a shared machine wall time mostly measures waiting for a core. On Linux each sample also gives
 * the main thread's share, which leaves out V8's helper threads (optimizing compiler, parallel GC)
 * and is the closest to what an idle machine's wall clock would show. A third side, `tspc` with no plugin, splits
 * the ratio into ts-patch's own cost (it loads and patches a second copy of TypeScript on every run)
 * and the transformer's. Two more sides compile the project's native twin (`async`/`await`, see
 * project.ts) with plain `tsc`, targeting ES2022 and ES5: their ratio, no goal, is what TypeScript's
 * own lowering of the same functions to state machines costs. The project is generated once into a
 * temp dir and removed at the end; before timing, one tspc run must have lowered the output and one
 * ES5 run must have given TypeScript's state machines, or the comparisons would be meaningless.
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
  const tscArgs = (config: string) => [path.join(repoRoot, "node_modules/typescript/bin/tsc"), "-p", config];
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
    await cpuTimeOf(tscArgs(project.nativeEs5Config));
    if (!readFileSync(path.join(project.dir, "native/out-es5/m0.js"), "utf8").includes("__generator"))
      throw new NotReady("tsc targeting ES5 gave no state machines (__generator) for the native twin of the project");
  } catch (e) {
    rmSync(project.dir, { recursive: true, force: true });
    throw e;
  }
  return {
    id: "5",
    title: `compile a generated ${files}-file project: tspc with the plugin vs plain tsc, and tspc alone; its native async/await twin with tsc to ES2022 and to ES5 (CPU time of each compiler process)`,
    metric: "time",
    unit: "CPU ms",
    figures: perThread ? [MAIN] : [],
    sides: [
      { name: "tspc", run: () => sample(tspcArgs(project.tspcConfig)) },
      { name: "tsc", run: () => sample(tscArgs(project.tscConfig)) },
      { name: "tspc-alone", run: () => sample(tspcArgs(project.patchConfig)) },
      { name: "native-es5", run: () => sample(tscArgs(project.nativeEs5Config)) },
      { name: "native", run: () => sample(tscArgs(project.nativeConfig)) },
    ],
    comparisons: [
      { over: "tspc", under: "tsc", goal: { op: "<=", value: 1.25 } },
      { over: "tspc-alone", under: "tsc" },
      { over: "tspc", under: "tspc-alone" },
      { over: "native-es5", under: "native" },
      ...(perThread ? [{ over: "tspc", under: "tsc", figure: MAIN }] : []),
    ],
    maxRounds: 5,
    warmup: 0,
    close: () => rmSync(project.dir, { recursive: true, force: true }),
  };
}
