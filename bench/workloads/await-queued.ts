/** Workload 2: awaits of pending futures completed from the callback queue, vs promises resolved from microtasks. */
import { loadCase } from "../lib/builds.js";
import { count, expectValue } from "../lib/check.js";
import type { Scale, Workload } from "../lib/workload.js";

type Case = typeof import("../cases/queued.js");

export async function awaitQueued(scale: Scale): Promise<Workload> {
  const n = scale.n(1e6, 1e4);
  const want = (n * (n - 1)) / 2;
  const lowered = await loadCase<Case>("lowered", "queued");
  const plain = await loadCase<Case>("plain", "queued");
  return {
    id: "2",
    title: `await of a pending future completed via callSoon, ${count(n)} times, driven by waitFor`,
    metric: "time",
    unit: "ms",
    sides: [
      { name: "chronots", run: () => expectValue("chronots", lowered.chronots(n), want) },
      { name: "native", run: async () => expectValue("native", await plain.native(n), want) },
      { name: "untransformed", run: () => expectValue("untransformed", plain.chronots(n), want) },
    ],
    comparisons: [
      { over: "native", under: "chronots", goal: { op: ">=", value: 2 } },
      { over: "untransformed", under: "chronots" },
    ],
  };
}
