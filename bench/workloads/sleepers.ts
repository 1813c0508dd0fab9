/** Workload 3: many concurrent sleeps with spread deadlines — sleepAsync vs setTimeout promises. */
import { caseFile } from "../lib/builds.js";
import { count, expectValue } from "../lib/check.js";
import { workerSide } from "../lib/worker.js";
import type { Scale, Workload } from "../lib/workload.js";

/** Deadlines spread over 1..SPREAD ms: short, so the timers' own cost dominates the wall time. */
const SPREAD = 20;

export async function sleepers(scale: Scale): Promise<Workload> {
  const n = scale.n(1e5, 1e4);
  const side = (name: string, file: string, fn: string) => workerSide(name, file, fn, [n, SPREAD], (v) => expectValue(name, v, n));
  const sides = [
    side("chronots", caseFile("lowered", "sleepers"), "chronots"),
    side("native", caseFile("plain", "sleepers"), "native"),
    side("untransformed", caseFile("plain", "sleepers"), "chronots"),
  ];
  return {
    id: "3",
    title: `${count(n)} concurrent coroutines sleeping once, deadlines spread over 1–${SPREAD} ms`,
    metric: "time",
    unit: "ms",
    sides,
    comparisons: [
      { over: "native", under: "chronots", goal: { op: ">=", value: 1.5 } },
      { over: "untransformed", under: "chronots" },
    ],
    close: () => sides.forEach((s) => s.close()),
  };
}
