/**
 * The fuzzing CLI: `npm run fuzz -- --runs 100000 --seed 7 [--batch 100] [--save]`.
 *
 * Runs random programs in batches (see diff.ts), prints progress, and for every divergent batch the
 * shrunk program and what differed; `--save` also stores it as test/fixtures/fuzz/seed-<seed>.ts, which
 * test/fuzz.test.ts replays from then on. Without `--seed` the seed is the clock, printed so a run can
 * be repeated. Exits 1 when anything diverged.
 *
 * Node cannot load TypeScript itself, so the npm script starts this file through Vite's module runner.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { fixtureDir, fixtureText } from "./corpus.js";
import { batchSeed, fuzzBatch } from "./diff.js";

const first = process.argv.findIndex((a) => a.startsWith("--"));
const { values } = parseArgs({
  args: first < 0 ? [] : process.argv.slice(first),
  options: {
    runs: { type: "string", default: "10000" },
    seed: { type: "string", default: String(Date.now() % 2 ** 31) },
    batch: { type: "string", default: "100" },
    save: { type: "boolean", default: false },
  },
});
const runs = count(values.runs, "--runs");
const seed = count(values.seed, "--seed");
const batch = count(values.batch, "--batch");

function count(v: string, name: string): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`${name} must be a non-negative integer, got '${v}'`);
  return n;
}

const started = performance.now();
let done = 0;
let failures = 0;
/** Why the lowering left functions to the run-time driver, with counts. */
const left = new Map<string, number>();
console.log(`fuzz: ${runs} programs, seed ${seed}, batches of ${batch}`);
for (let b = 0; done < runs; b++) {
  const n = Math.min(batch, runs - done);
  const s = batchSeed(seed, b);
  const { divergence: d, left: reasons } = fuzzBatch(s, n);
  done += n;
  // Reasons differ only by the names they quote; count them together.
  for (const r of reasons.map((r) => r.replace(/'[^']*'/g, "'…'"))) left.set(r, (left.get(r) ?? 0) + 1);
  if (d !== null) {
    failures++;
    console.log(`\nDIVERGENCE in batch seed ${s}: ${d.message}\n${d.source}`);
    if (values.save) {
      mkdirSync(fixtureDir, { recursive: true });
      const file = `${fixtureDir}/seed-${s}.ts`;
      writeFileSync(file, fixtureText(d));
      console.log(`saved ${file}`);
    }
  }
  if (b % 10 === 9 || done === runs)
    console.log(`${done} programs, ${failures} divergent batches, ${((performance.now() - started) / 1000).toFixed(1)} s`);
}
for (const [reason, n] of left) console.log(`left to the run-time driver ${n}×: ${reason}`);
process.exitCode = failures > 0 ? 1 : 0;
