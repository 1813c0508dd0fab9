/**
 * Workload 2: n awaits of pending futures, each completed from the callback queue (callSoon), the
 * whole loop driven by waitFor; `native` awaits promises resolved from microtasks.
 */
import { async, callSoon, Future, waitFor } from "chronots";

/** A pending future that a queued callback completes with `v`. */
function soon(v: number): Future<number> {
  const f = new Future<number>();
  callSoon(() => f.complete(v));
  return f;
}

const loop = async(function* (n: number) {
  let s = 0;
  for (let i = 0; i < n; i++) s += yield* soon(i);
  return s;
});

export function chronots(n: number): number {
  return waitFor(loop(n));
}

/** A pending promise that a microtask resolves with `v`. */
function nativeSoon(v: number): Promise<number> {
  return new Promise<number>((resolve) => queueMicrotask(() => resolve(v)));
}

async function nativeLoop(n: number): Promise<number> {
  let s = 0;
  for (let i = 0; i < n; i++) s += await nativeSoon(i);
  return s;
}

export function native(n: number): Promise<number> {
  return nativeLoop(n);
}
