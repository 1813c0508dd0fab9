/** Workload 1: await of an async call that finishes at once — lowered vs native vs untransformed. */
import { loadCase } from "../lib/builds.js";
import { count, expectValue } from "../lib/check.js";
import type { Scale, Workload } from "../lib/workload.js";

type Case = typeof import("../cases/ready.js");

export async function awaitReady(scale: Scale): Promise<Workload> {
  const n = scale.n(1e6, 1e5);
  const want = (n * (n - 1)) / 2;
  const lowered = await loadCase<Case>("lowered", "ready");
  const plain = await loadCase<Case>("plain", "ready");
  return {
    id: "1",
    title: `await of an async call that finishes at once, ${count(n)} times`,
    metric: "time",
    unit: "ms",
    sides: [
      { name: "chronots", run: () => expectValue("chronots", lowered.chronots(n), want) },
      { name: "native", run: async () => expectValue("native", await plain.native(n), want) },
      { name: "untransformed", run: () => expectValue("untransformed", plain.chronots(n), want) },
    ],
    comparisons: [
      { over: "native", under: "chronots", goal: { op: ">=", value: 4 } },
      { over: "untransformed", under: "chronots", goal: { op: ">=", value: 4 } },
    ],
  };
}
