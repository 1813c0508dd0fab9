/**
 * Runs one workload: each side a few times to warm up, then round after round with every side
 * once per round, interleaved (A B C, then C B A, …) so drift in machine load falls on all sides
 * alike. A ratio is reported as the ratio of the sides' medians, with the min–max of the same
 * ratio taken round by round. Sides that allocate run in processes of their own, so one side's
 * garbage is never collected on another side's clock.
 */
import type { Comparison, Metric, Sample, Scale, Side, Workload } from "./workload.js";

export interface SideResult {
  name: string;
  median: number;
  samples: number[];
  /** Secondary figures by name, when the workload has any. */
  figures?: Record<string, { median: number; samples: number[] }>;
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
  figures?: string[];
  sides: SideResult[];
  ratios: RatioResult[];
}

export async function measure(w: Workload, scale: Scale, progress: (line: string) => void): Promise<Result> {
  const samples = new Map<string, Sample[]>(w.sides.map((s) => [s.name, []]));
  for (let i = 0; i < scale.warmup; i++) for (const s of w.sides) await sample(w, s);
  for (let r = 0; r < scale.rounds; r++) {
    const order = r % 2 === 0 ? w.sides : [...w.sides].reverse();
    for (const s of order) samples.get(s.name)!.push(await sample(w, s));
    progress(`${w.id}: round ${r + 1}/${scale.rounds}`);
  }
  const sides = w.sides.map((s): SideResult => {
    const own = samples.get(s.name)!;
    const values = own.map((x) => x.value);
    if (w.figures === undefined) return { name: s.name, median: median(values), samples: values };
    const figures = Object.fromEntries(w.figures.map((f) => [f, summary(own.map((x) => x.figures[f]!))]));
    return { name: s.name, median: median(values), samples: values, figures };
  });
  const ratios = w.comparisons.map((c) => ratio(c, samples));
  return { id: w.id, title: w.title, metric: w.metric, unit: w.unit, ...(w.figures ? { figures: w.figures } : {}), sides, ratios };
}

function summary(xs: number[]): { median: number; samples: number[] } {
  return { median: median(xs), samples: xs };
}

async function sample(w: Workload, side: Side): Promise<Sample> {
  if (w.metric !== "time") return check(w, side, await side.run());
  const t0 = performance.now();
  const own = await side.run();
  const elapsed = performance.now() - t0;
  return own === undefined ? { value: elapsed, figures: {} } : check(w, side, own);
}

/** The side's figures as a Sample, every one a finite number and every declared secondary present. */
function check(w: Workload, side: Side, v: number | Sample | void): Sample {
  const s = typeof v === "number" ? { value: v, figures: {} } : v;
  const bad = (what: string, x: unknown) => new TypeError(`side '${side.name}' of workload ${w.id} must report ${what} as a finite number, got ${String(x)}`);
  if (s === undefined || typeof s.value !== "number" || !Number.isFinite(s.value)) throw bad(`its ${w.metric}`, s?.value ?? s);
  for (const f of w.figures ?? []) if (!Number.isFinite(s.figures[f])) throw bad(`'${f}'`, s.figures[f]);
  return s;
}

function ratio(c: Comparison, samples: Map<string, Sample[]>): RatioResult {
  const pick = (name: string) => {
    const own = samples.get(name);
    if (own === undefined) throw new RangeError(`comparison ${c.over}/${c.under} names a side the workload does not have`);
    return own.map((x) => (c.figure === undefined ? x.value : x.figures[c.figure]!));
  };
  const over = pick(c.over);
  const under = pick(c.under);
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
