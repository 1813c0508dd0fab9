/**
 * Waiting for several futures at once. None of these cancels its inputs when its own result is
 * cancelled: they only stop listening.
 */
import { checkFuture, COMPLETED, Future, PENDING } from "./future.js";

function checkAll(fs: unknown, what: string): Future<any>[] {
  if (!Array.isArray(fs)) throw new TypeError(`${what}: expected an array of Futures, got ${fs === null ? "null" : typeof fs}`);
  // By index, not forEach: a hole is an element too (undefined), not one to skip.
  for (let i = 0; i < fs.length; i++) checkFuture(fs[i], `${what}: element ${i}`);
  return fs.slice();
}

/** Complete `r` with `value()` once every one of `fs` has finished. */
function whenAll<R>(fs: Future<any>[], name: string, value: () => R): Future<R> {
  const r = new Future<R>(name);
  let left = 0;
  const done = () => {
    if (--left === 0) r._finish(COMPLETED, value());
  };
  for (const f of fs) {
    if (f._state === PENDING) {
      left++;
      f._addCallback(done);
    }
  }
  if (left === 0) r._finish(COMPLETED, value());
  else r.cancelCallback = () => fs.forEach((f) => f.removeCallback(done));
  return r;
}

/**
 * Completes, with no value, once every one of `fs` has finished, however each ended: it never fails.
 * Cancelling it does not cancel the inputs.
 */
export function allFutures(fs: readonly Future<any>[]): Future<void> {
  return whenAll<void>(checkAll(fs, "allFutures"), "allFutures", () => undefined);
}

/**
 * The same futures, once all have finished, however each ended: a copy of the array, typed element
 * by element when `fs` is written as a literal (`const [a, b] = yield* allFinished([num(), str()])`).
 * It never fails; cancelling it does not cancel the inputs.
 */
export function allFinished<const F extends readonly Future<any>[]>(fs: F): Future<[...F]> {
  const list = checkAll(fs, "allFinished");
  return whenAll(list, "allFinished", () => list as [...F]);
}

/**
 * The first of `fs` to finish (the first in order, if some already have), however it ended; of futures
 * of different types, their union. Cancelling it does not cancel the inputs. An empty `fs` is a RangeError.
 */
export function one<F extends Future<any>>(fs: readonly F[]): Future<F> {
  const list = checkAll(fs, "one");
  if (list.length === 0) throw new RangeError("one: needs at least one future, got an empty array");
  const r = new Future<F>("one");
  const first = list.find((f) => f._state !== PENDING);
  if (first !== undefined) {
    r._finish(COMPLETED, first);
    return r;
  }
  // Inputs that finished in the same step as the first have their call queued already: they find `r` finished.
  const done = (f: Future<any>) => {
    if (r._state !== PENDING) return;
    stop();
    r._finish(COMPLETED, f);
  };
  const stop = () => list.forEach((f) => f.removeCallback(done));
  for (const f of list) f._addCallback(done);
  r.cancelCallback = stop;
  return r;
}
