/** Workload 1: await of an async call that finishes at once — lowered vs native vs untransformed. */
import { caseFile } from "../lib/builds.js";
import { count, expectValue } from "../lib/check.js";
import { workerSide } from "../lib/worker.js";
import type { Scale, Workload } from "../lib/workload.js";

export async function awaitReady(scale: Scale): Promise<Workload> {
  const n = scale.n(1e6, 1e5);
  const want = (n * (n - 1)) / 2;
  const side = (name: string, file: string, fn: string) => workerSide(name, file, fn, [n], (v) => expectValue(name, v, want));
  const sides = [
    side("chronots", caseFile("lowered", "ready"), "chronots"),
    side("native", caseFile("plain", "ready"), "native"),
    side("untransformed", caseFile("plain", "ready"), "chronots"),
  ];
  return {
    id: "1",
    title: `await of an async call that finishes at once, ${count(n)} times`,
    metric: "time",
    unit: "ms",
    sides,
    comparisons: [
      { over: "native", under: "chronots", goal: { op: ">=", value: 4 } },
      { over: "untransformed", under: "chronots", goal: { op: ">=", value: 2 } },
    ],
    close: () => sides.forEach((s) => s.close()),
  };
}
