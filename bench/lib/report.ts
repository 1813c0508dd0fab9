/** Prints results as a plain-text table, and the same content as JSON for `--json`. */
import type { Machine } from "./machine.js";
import { describeMachine } from "./machine.js";
import type { Result } from "./measure.js";
import type { Scale } from "./workload.js";

export interface Report {
  machine: Machine;
  mode: "full" | "quick";
  rounds: number;
  warmup: number;
  results: Result[];
  /** Workloads that could not run, with the reason (a dependency not built yet, a failed child…). */
  skipped: { id: string; title: string; reason: string }[];
}

export function header(m: Machine, scale: Scale): string {
  return [
    `chronots benchmarks, ${scale.quick ? "quick" : "full"} run: ${scale.rounds} rounds after ${scale.warmup} warm-up, sides interleaved`,
    `machine: ${describeMachine(m)}`,
    "",
  ].join("\n");
}

export function formatResult(r: Result): string {
  const lines = [`${r.id}. ${r.title} [${r.sides[0]?.samples.length ?? 0} rounds]`];
  const width = Math.max(...r.sides.map((s) => s.name.length), ...r.ratios.map((c) => c.over.length + c.under.length + 1)) + 2;
  for (const s of r.sides) {
    const figures = Object.entries(s.figures ?? {}).map(([name, f]) => `${fmt(f.median)} ${name}`);
    lines.push(`   ${s.name.padEnd(width)}${fmt(s.median)} ${r.unit}${figures.length > 0 ? `  (${figures.join(", ")})` : ""}`);
  }
  for (const c of r.ratios) {
    const verdict = c.met === undefined ? "(quick run: not judged)" : c.met ? "met" : "MISSED";
    const goal = c.goal === undefined ? "" : `goal ${c.goal.op === ">=" ? "≥" : "≤"} ${c.goal.value}×  ${verdict}`;
    const range = `(${fmt(c.min)}–${fmt(c.max)})`;
    const of = c.figure === undefined ? "" : ` ${c.figure}`;
    lines.push(`   ${`${c.over}/${c.under}`.padEnd(width)}${`${fmt(c.median)}×`.padEnd(8)}${range.padEnd(16)}${goal}${of}`);
  }
  return lines.join("\n") + "\n";
}

export function formatSkipped(s: Report["skipped"][number]): string {
  return `${s.id}. ${s.title}\n   not run: ${s.reason}\n`;
}

/** Three significant digits, without exponent notation. */
function fmt(v: number): string {
  if (v === 0) return "0";
  const digits = Math.max(0, 2 - Math.floor(Math.log10(Math.abs(v))));
  return v.toFixed(Math.min(digits, 3));
}
