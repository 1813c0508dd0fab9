/**
 * `npm run bench`: times each workload against its peer, side by side in one run, and prints the
 * medians, the ratios with their round-by-round min–max, the goals, and the machine.
 *
 *   --quick         small sizes and 2 rounds: proves the suite runs (CI), says nothing about speed
 *   --json[=FILE]   the same results as JSON, on stdout (the table then goes to stderr) or into FILE
 *   --only=1,5      run only these workloads
 *
 * A workload whose dependency is not built (NotReady) is skipped with the reason; any other error
 * is reported and makes the exit code 1, after the remaining workloads have run. Speed never does.
 */
import { writeFileSync } from "node:fs";
import { NotReady } from "./lib/builds.js";
import { machine } from "./lib/machine.js";
import { measure } from "./lib/measure.js";
import { formatResult, formatSkipped, header, type Report } from "./lib/report.js";
import type { Scale, Workload } from "./lib/workload.js";
import { awaitQueued } from "./workloads/await-queued.js";
import { awaitReady } from "./workloads/await-ready.js";
import { compile } from "./workloads/compile.js";
import { echo } from "./workloads/echo.js";
import { heap } from "./workloads/heap.js";
import { sleepers } from "./workloads/sleepers.js";

const workloads: { id: string; title: string; make: (s: Scale) => Promise<Workload> }[] = [
  { id: "1", title: "await of an async call that finishes at once", make: awaitReady },
  { id: "2", title: "await of pending futures completed from the queue", make: awaitQueued },
  { id: "3", title: "concurrent sleeps with spread deadlines", make: sleepers },
  { id: "4", title: "TCP echo, 1 KiB messages, 50 connections", make: echo },
  { id: "5", title: "tspc with the plugin vs plain tsc", make: compile },
  { id: "6", title: "heap bytes per suspended coroutine", make: heap },
];

interface Options {
  quick: boolean;
  json: string | true | undefined;
  only: Set<string> | undefined;
}

function parseArgs(args: string[]): Options {
  const o: Options = { quick: false, json: undefined, only: undefined };
  for (const a of args) {
    if (a === "--quick") o.quick = true;
    else if (a === "--json") o.json = true;
    else if (a.startsWith("--json=")) o.json = a.slice("--json=".length);
    else if (a.startsWith("--only=")) {
      o.only = new Set(a.slice("--only=".length).split(","));
      for (const id of o.only)
        if (!workloads.some((w) => w.id === id)) throw new RangeError(`--only: no workload '${id}'; the workloads are ${workloads.map((w) => w.id).join(", ")}`);
    } else throw new RangeError(`unknown argument '${a}'; expected --quick, --json, --json=FILE or --only=ID,…`);
  }
  return o;
}

let options: Options;
try {
  options = parseArgs(process.argv.slice(2));
} catch (e) {
  process.stderr.write(`bench: ${(e as Error).message}\n`);
  process.exit(2);
}
const scale: Scale = {
  quick: options.quick,
  rounds: options.quick ? 2 : 10,
  warmup: options.quick ? 1 : 3,
  n: (full, quick) => (options.quick ? quick : full),
};
const out = options.json === true ? process.stderr : process.stdout;
const say = (text: string) => out.write(text + "\n");
const progress = (line: string) => process.stderr.isTTY && process.stderr.write(`\r${line}\x1b[K`);
const clearProgress = () => process.stderr.isTTY && process.stderr.write("\r\x1b[K");

const report: Report = { machine: machine(), mode: options.quick ? "quick" : "full", rounds: scale.rounds, warmup: scale.warmup, results: [], skipped: [] };
say(header(report.machine, scale));
let failed = false;

for (const entry of workloads) {
  if (options.only !== undefined && !options.only.has(entry.id)) continue;
  let w: Workload | undefined;
  try {
    w = await entry.make(scale);
    const rounds = Math.min(scale.rounds, w.maxRounds ?? Infinity);
    const result = await measure(w, { ...scale, rounds, warmup: w.warmup ?? scale.warmup }, progress);
    // A quick run's sizes are too small to say anything about speed: report the ratios, judge none.
    if (scale.quick) for (const r of result.ratios) delete r.met;
    clearProgress();
    report.results.push(result);
    say(formatResult(result));
  } catch (e) {
    clearProgress();
    const reason = e instanceof NotReady ? e.message : `failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`;
    if (!(e instanceof NotReady)) failed = true;
    report.skipped.push({ id: entry.id, title: entry.title, reason });
    say(formatSkipped(report.skipped.at(-1)!));
  } finally {
    await w?.close?.();
  }
}

if (options.json !== undefined) {
  const json = JSON.stringify(report, null, 2) + "\n";
  if (options.json === true) process.stdout.write(json);
  else writeFileSync(options.json, json);
}
process.exitCode = failed ? 1 : 0;
