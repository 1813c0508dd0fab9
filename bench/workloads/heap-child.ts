/**
 * Child process of workload 6 (run with --expose-gc): parks n coroutines of one side, reports the
 * heap growth per coroutine as JSON on stdout, then wakes them and checks their results. A small
 * batch parks and wakes first so that compiled code and lazily made structures are not counted.
 */
import { loadCase, type Build } from "../lib/builds.js";
import { expectValue } from "../lib/check.js";

type Case = typeof import("../cases/parked.js");

const sides: Record<string, Build> = { chronots: "lowered", untransformed: "plain", native: "plain" };

const [side = "", count = ""] = process.argv.slice(2);
const build = sides[side];
const n = Number(count);
if (build === undefined) throw new RangeError(`heap-child: side must be one of ${Object.keys(sides).join(", ")}, got '${side}'`);
if (!Number.isInteger(n) || n < 1) throw new RangeError(`heap-child: count must be a positive integer, got '${count}'`);
const gc = globalThis.gc;
if (gc === undefined) throw new Error("heap-child: run it with node --expose-gc");

const c = await loadCase<Case>(build, "parked");
const park = side === "native" ? c.native : c.chronots;
const warm = 1000;
expectValue(`${side} warm-up`, await park(warm).wake(), warm + (warm * (warm - 1)) / 2);

gc();
gc();
const before = process.memoryUsage().heapUsed;
const parked = park(n);
gc();
gc();
const after = process.memoryUsage().heapUsed;
expectValue(side, await parked.wake(), n + (n * (n - 1)) / 2);
process.stdout.write(JSON.stringify({ side, n, bytesPerCoroutine: (after - before) / n }) + "\n");
