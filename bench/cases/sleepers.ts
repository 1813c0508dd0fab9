/**
 * Workload 3: n coroutines alive at once, each sleeping once; deadlines spread over `spread`
 * whole milliseconds (whole, so setTimeout on the native side gets the same deadlines).
 */
import { allFutures, async, sleepAsync, waitFor, type Future } from "chronots";

export const deadline = (i: number, spread: number): number => 1 + ((i * 7919) % spread);

const nap = async(function* (ms: number) {
  yield* sleepAsync(ms);
});

/** Returns how many sleeps completed, for the runner to check. */
export function chronots(n: number, spread: number): number {
  const fs: Future<void>[] = new Array(n);
  for (let i = 0; i < n; i++) fs[i] = nap(deadline(i, spread));
  waitFor(allFutures(fs));
  return fs.filter((f) => f.completed).length;
}

async function nativeNap(ms: number): Promise<void> {
  await new Promise<void>((resolve) => setTimeout(resolve, ms));
}

export async function native(n: number, spread: number): Promise<number> {
  const ps: Promise<void>[] = new Array(n);
  for (let i = 0; i < n; i++) ps[i] = nativeNap(deadline(i, spread));
  return (await Promise.all(ps)).length;
}
