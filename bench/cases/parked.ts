/**
 * Workload 6: n coroutines suspended at once, each waiting on its own pending leaf that the caller
 * keeps (as a pending read or timer is kept by whatever will finish it). `park` starts them and
 * returns `wake`, which finishes them all and returns the sum of their results.
 */
import { allFutures, async, Future, waitFor } from "chronots";

export interface Parked {
  wake(): number | Promise<number>;
}

const parked = async(function* (leaves: Future<number>[], i: number) {
  const f = new Future<number>();
  leaves.push(f);
  const v = yield* f;
  return v + i;
});

export function chronots(n: number): Parked {
  const leaves: Future<number>[] = [];
  const results: Future<number>[] = new Array(n);
  for (let i = 0; i < n; i++) results[i] = parked(leaves, i);
  return {
    wake() {
      for (const f of leaves) f.complete(1);
      waitFor(allFutures(results));
      return results.reduce((s, r) => s + r.read(), 0);
    },
  };
}

async function nativeParked(resolvers: ((v: number) => void)[], i: number): Promise<number> {
  const v = await new Promise<number>((resolve) => resolvers.push(resolve));
  return v + i;
}

export function native(n: number): Parked {
  const resolvers: ((v: number) => void)[] = [];
  const results: Promise<number>[] = new Array(n);
  for (let i = 0; i < n; i++) results[i] = nativeParked(resolvers, i);
  return {
    async wake() {
      for (const r of resolvers) r(1);
      const vs = await Promise.all(results);
      return vs.reduce((s, v) => s + v, 0);
    },
  };
}
