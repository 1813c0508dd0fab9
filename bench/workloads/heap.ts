/**
 * Workload 6: heap bytes per suspended coroutine. Each sample is a fresh child process, so one
 * side's heap layout and garbage never reach the other's figure.
 */
import { fileURLToPath } from "node:url";
import { caseFile } from "../lib/builds.js";
import { runNode } from "../lib/child.js";
import { count } from "../lib/check.js";
import type { Scale, Side, Workload } from "../lib/workload.js";

const child = fileURLToPath(new URL("./heap-child.js", import.meta.url));

export async function heap(scale: Scale): Promise<Workload> {
  const n = scale.n(1e5, 1e4);
  caseFile("lowered", "parked");
  caseFile("plain", "parked");
  const side = (name: string): Side => ({
    name,
    run: async () => (JSON.parse((await runNode(["--expose-gc", child, name, String(n)])).stdout) as { bytesPerCoroutine: number }).bytesPerCoroutine,
  });
  return {
    id: "6",
    title: `heap bytes per suspended coroutine, ${count(n)} parked at once (heapUsed delta after gc)`,
    metric: "bytes",
    unit: "B",
    sides: [side("chronots"), side("native"), side("untransformed")],
    comparisons: [
      { over: "chronots", under: "native", goal: { op: "<=", value: 0.7 } },
      { over: "chronots", under: "untransformed" },
    ],
    maxRounds: 5,
    warmup: 0,
  };
}
