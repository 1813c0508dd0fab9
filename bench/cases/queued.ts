/**
 * Workload 2: n awaits of pending futures, each completed from the callback queue (callSoon), the
 * whole loop driven by waitFor; `native` awaits promises resolved from microtasks.
 */
import { async, callSoon, Future, waitFor } from "chronots";

const loop = async(function* (n: number) {
  let s = 0;
  for (let i = 0; i < n; i++) {
    const f = new Future<number>();
    callSoon(() => f.complete(i));
    s += yield* f;
  }
  return s;
});

export function chronots(n: number): number {
  return waitFor(loop(n));
}

async function nativeLoop(n: number): Promise<number> {
  let s = 0;
  for (let i = 0; i < n; i++) s += await new Promise<number>((resolve) => queueMicrotask(() => resolve(i)));
  return s;
}

export function native(n: number): Promise<number> {
  return nativeLoop(n);
}
