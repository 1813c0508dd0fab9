/**
 * Workload 1: an async call that finishes at once, awaited n times in a loop. This file is compiled
 * twice (lowered and untransformed); `native` is the same loop with async/await.
 */
import { async, waitFor } from "chronots";

const leaf = async(function* (i: number) {
  return i;
});

const loop = async(function* (n: number) {
  let s = 0;
  for (let i = 0; i < n; i++) s += yield* leaf(i);
  return s;
});

export function chronots(n: number): number {
  return waitFor(loop(n));
}

async function nativeLeaf(i: number): Promise<number> {
  return i;
}

async function nativeLoop(n: number): Promise<number> {
  let s = 0;
  for (let i = 0; i < n; i++) s += await nativeLeaf(i);
  return s;
}

export function native(n: number): Promise<number> {
  return nativeLoop(n);
}
