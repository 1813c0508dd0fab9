/**
 * Workload 5: compiling a generated project with `tspc` and the chronots transformer vs plain `tsc`,
 * each a child process. The figure is the compiler process's CPU time (user + system, all threads):
 * on a shared machine wall time mostly measures waiting for a core. On Linux each sample also gives
 * the main thread's share, which leaves out V8's helper threads (optimizing compiler, parallel GC)
 * and is the closest to what an idle machine's wall clock would show. A third side, `tspc` with no plugin, splits
 * the ratio into ts-patch's own cost (it loads and patches a second copy of TypeScript on every run)
 * and the transformer's. Two more sides compile the project's native twin (`async`/`await`, see
 * project.ts) with plain `tsc`, targeting ES2022 and ES5: their ratio, no goal, is what TypeScript's
 * own lowering of the same functions to state machines costs. A last side runs the plugin through
 * ts-patch's other mode: a copy of TypeScript patched once (`ts-patch install`), whose plain `tsc`
 * applies the same plugin entry without tspc's start-up. The project is generated once into a temp
 * dir and removed at the end; before timing, the tspc run and the patched tsc's run must have
 * lowered the output and one ES5 run must have given TypeScript's state machines, or the
 * comparisons would be meaningless.
 */
import { cpSync, existsSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { hasGenerators, NotReady, repoRoot } from "../lib/builds.js";
import { cpuTimeOf, runNode } from "../lib/child.js";
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
  const patched = path.join(project.dir, "patched/node_modules/typescript");
  const patchedArgs = (config: string) => [path.join(patched, "bin/tsc"), "-p", config];
  const lowered = (what: string) => {
    if (hasGenerators(readFileSync(path.join(project.dir, "out-tspc/m0.js"), "utf8")))
      throw new NotReady(`${what} with the transformer left generator functions in the generated project's output`);
    rmSync(path.join(project.dir, "out-tspc"), { recursive: true });
  };
  try {
    cpSync(path.join(repoRoot, "node_modules/typescript"), patched, { recursive: true });
    await runNode([path.join(repoRoot, "node_modules/ts-patch/bin/ts-patch.js"), "install", "--silent", "--dir", patched]);
    await cpuTimeOf(tspcArgs(project.tspcConfig));
    lowered("tspc");
    await cpuTimeOf(patchedArgs(project.tspcConfig));
    lowered("tsc patched by ts-patch install");
    await cpuTimeOf(tscArgs(project.nativeEs5Config));
    if (!readFileSync(path.join(project.dir, "native/out-es5/m0.js"), "utf8").includes("__generator"))
      throw new NotReady("tsc targeting ES5 gave no state machines (__generator) for the native twin of the project");
  } catch (e) {
    rmSync(project.dir, { recursive: true, force: true });
    throw e;
  }
  return {
    id: "5",
    title: `compile a generated ${files}-file project: tspc with the plugin vs plain tsc, and tspc alone; its native async/await twin with tsc to ES2022 and to ES5; the plugin through a tsc patched once by ts-patch install (CPU time of each compiler process)`,
    metric: "time",
    unit: "CPU ms",
    figures: perThread ? [MAIN] : [],
    sides: [
      { name: "tspc", run: () => sample(tspcArgs(project.tspcConfig)) },
      { name: "tsc", run: () => sample(tscArgs(project.tscConfig)) },
      { name: "tspc-alone", run: () => sample(tspcArgs(project.patchConfig)) },
      { name: "native-es5", run: () => sample(tscArgs(project.nativeEs5Config)) },
      { name: "native", run: () => sample(tscArgs(project.nativeConfig)) },
      { name: "tsc-patched", run: () => sample(patchedArgs(project.tspcConfig)) },
    ],
    comparisons: [
      { over: "tspc", under: "tsc", goal: { op: "<=", value: 1.25 } },
      { over: "tspc-alone", under: "tsc" },
      { over: "tspc", under: "tspc-alone" },
      { over: "native-es5", under: "native" },
      { over: "tsc-patched", under: "tsc" },
      ...(perThread ? [{ over: "tspc", under: "tsc", figure: MAIN }] : []),
    ],
    maxRounds: 5,
    warmup: 0,
    close: () => rmSync(project.dir, { recursive: true, force: true }),
  };
}
