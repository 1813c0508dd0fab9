/** Workload 3: many concurrent sleeps with spread deadlines — sleepAsync vs setTimeout promises. */
import { loadCase } from "../lib/builds.js";
import { count } from "../lib/check.js";
import type { Scale, Workload } from "../lib/workload.js";

type Case = typeof import("../cases/sleepers.js");

/** Deadlines spread over 1..SPREAD ms: short, so the timers' own cost dominates the wall time. */
const SPREAD = 20;

export async function sleepers(scale: Scale): Promise<Workload> {
  const n = scale.n(1e5, 1e4);
  const lowered = await loadCase<Case>("lowered", "sleepers");
  const plain = await loadCase<Case>("plain", "sleepers");
  return {
    id: "3",
    title: `${count(n)} concurrent coroutines sleeping once, deadlines spread over 1–${SPREAD} ms`,
    metric: "time",
    unit: "ms",
    sides: [
      { name: "chronots", run: () => lowered.chronots(n, SPREAD) },
      { name: "native", run: () => plain.native(n, SPREAD) },
      { name: "untransformed", run: () => plain.chronots(n, SPREAD) },
    ],
    comparisons: [
      { over: "native", under: "chronots", goal: { op: ">=", value: 1.5 } },
      { over: "untransformed", under: "chronots" },
    ],
  };
}
