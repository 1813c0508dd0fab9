/** Workload 2: awaits of pending futures completed from the callback queue, vs promises resolved from microtasks. */
import { caseFile } from "../lib/builds.js";
import { count, expectValue } from "../lib/check.js";
import { workerSide } from "../lib/worker.js";
import type { Scale, Workload } from "../lib/workload.js";

export async function awaitQueued(scale: Scale): Promise<Workload> {
  const n = scale.n(1e6, 1e4);
  const want = (n * (n - 1)) / 2;
  const side = (name: string, file: string, fn: string) => workerSide(name, file, fn, [n], (v) => expectValue(name, v, want));
  const sides = [
    side("chronots", caseFile("lowered", "queued"), "chronots"),
    side("native", caseFile("plain", "queued"), "native"),
    side("untransformed", caseFile("plain", "queued"), "chronots"),
  ];
  return {
    id: "2",
    title: `await of a pending future completed via callSoon, ${count(n)} times, driven by waitFor`,
    metric: "time",
    unit: "ms",
    sides,
    comparisons: [
      { over: "native", under: "chronots", goal: { op: ">=", value: 2 } },
      { over: "untransformed", under: "chronots" },
    ],
    close: () => sides.forEach((s) => s.close()),
  };
}
