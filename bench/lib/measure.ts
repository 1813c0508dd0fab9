/**
 * Runs one workload: each side a few times to warm up, then round after round with every side
 * once per round, interleaved (A B C, then C B A, …) so drift in machine load falls on all sides
 * alike. A ratio is reported as the ratio of the sides' medians, with the min–max of the same
 * ratio taken round by round. Sides that allocate run in processes of their own, so one side's
 * garbage is never collected on another side's clock.
 */
import type { Comparison, Metric, Scale, Side, Workload } from "./workload.js";

export interface SideResult {
  name: string;
  median: number;
  samples: number[];
}

export interface RatioResult extends Comparison {
  median: number;
  min: number;
  max: number;
  /** Whether the median meets the goal; absent when the comparison has none. */
  met?: boolean;
}

export interface Result {
  id: string;
  title: string;
  metric: Metric;
  unit: string;
  sides: SideResult[];
  ratios: RatioResult[];
}

export async function measure(w: Workload, scale: Scale, progress: (line: string) => void): Promise<Result> {
  const samples = new Map<string, number[]>(w.sides.map((s) => [s.name, []]));
  for (let i = 0; i < scale.warmup; i++) for (const s of w.sides) await sample(w.metric, s);
  for (let r = 0; r < scale.rounds; r++) {
    const order = r % 2 === 0 ? w.sides : [...w.sides].reverse();
    for (const s of order) samples.get(s.name)!.push(await sample(w.metric, s));
    progress(`${w.id}: round ${r + 1}/${scale.rounds}`);
  }
  const sides = w.sides.map((s) => ({ name: s.name, median: median(samples.get(s.name)!), samples: samples.get(s.name)! }));
  const ratios = w.comparisons.map((c) => ratio(c, samples));
  return { id: w.id, title: w.title, metric: w.metric, unit: w.unit, sides, ratios };
}

async function sample(metric: Metric, side: Side): Promise<number> {
  if (metric !== "time") {
    const v = await side.run();
    if (typeof v !== "number" || !Number.isFinite(v)) throw new TypeError(`side '${side.name}' must return a finite number for a ${metric} workload, got ${String(v)}`);
    return v;
  }
  const t0 = performance.now();
  const own = await side.run();
  const elapsed = performance.now() - t0;
  return typeof own === "number" ? own : elapsed;
}

function ratio(c: Comparison, samples: Map<string, number[]>): RatioResult {
  const over = samples.get(c.over);
  const under = samples.get(c.under);
  if (over === undefined || under === undefined) throw new RangeError(`comparison ${c.over}/${c.under} names a side the workload does not have`);
  const perRound = over.map((v, i) => v / under[i]!);
  const value = median(over) / median(under);
  const met = c.goal === undefined ? undefined : c.goal.op === ">=" ? value >= c.goal.value : value <= c.goal.value;
  return { ...c, median: value, min: Math.min(...perRound), max: Math.max(...perRound), ...(met === undefined ? {} : { met }) };
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
