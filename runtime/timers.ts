/**
 * Time: `sleepAsync`, and the two timeouts `withTimeout` and `wait`.
 *
 * A timeout never abandons its input: when time runs out it cancels `f` and settles only once `f`
 * has finished, so whatever `f` held is released before the caller goes on. Cancelling the timeout's
 * own result does the same and then ends it cancelled.
 */
import { getGlobalDispatcher } from "./dispatcher.js";
import { AsyncTimeoutError, CancelledError } from "./errors.js";
import { CANCELLED, checkFuture, COMPLETED, describe, FAILED, Future, PENDING, typeName, type ValueOf } from "./future.js";
import type { TimerHandle } from "./timerheap.js";

/** `ms` must be a non-negative number of milliseconds; `Infinity`, chronos' InfiniteDuration, only for a timeout, where it means none. */
function checkDelay(ms: unknown, what: string, infinite = false): asserts ms is number {
  if (typeof ms !== "number") throw new TypeError(`${what}: ms must be a number of milliseconds, got ${typeName(ms)}`);
  if (!(ms >= 0) || (ms === Infinity && !infinite))
    throw new RangeError(`${what}: ms must be a ${infinite ? "" : "finite, "}non-negative number of milliseconds${infinite ? " (Infinity for no timeout)" : ""}, got ${String(ms)}`);
}

function wake(f: Future<void>): void {
  if (f._state === PENDING) f._finish(COMPLETED, undefined);
}

/** A pending sleep keeps its timer in `_result` (overwritten when it finishes), so it needs no field of its own. */
function unsleep(f: Future<void>): void {
  const t = f._result as TimerHandle;
  t.heap.remove(t);
}

/**
 * A future that completes `ms` milliseconds from now (on the global dispatcher); cancelling it
 * removes its timer. `ms` is finite and non-negative, else a RangeError.
 */
export function sleepAsync(ms: number): Future<void> {
  checkDelay(ms, "sleepAsync");
  const f = new Future<void>("sleepAsync");
  f._result = getGlobalDispatcher().timers.add(performance.now() + ms, wake, f);
  f.cancelCallback = unsleep;
  return f;
}

/**
 * Race `f` against `ms`: the result settles once `f` has finished, with `onTime(f)` if it finished
 * before the deadline, `late(f)` if the deadline cancelled it. An `f` finished already is on time at
 * once, as in chronos: no timer, no callback, and an await of the result takes the fast path.
 */
function race<T, R>(f: Future<T>, ms: number, name: string, onTime: (f: Future<T>) => [number, unknown], late: () => [number, unknown]): Future<R> {
  const r = new Future<R>(name);
  if (f._state !== PENDING) {
    const [state, result] = onTime(f);
    r._finish(state, result);
    return r;
  }
  const d = getGlobalDispatcher();
  r._ownCancel = true;
  let timedOut = false;
  let cancelRequested = false;
  const deadline = () => {
    // `f` may have finished in this very step, its callback to `done` still queued: then it was on time.
    // Decided before cancelling: a cancelCallback that throws still leaves `f` cancelled, and late.
    timedOut = f._state === PENDING;
    if (timedOut) f.cancel();
  };
  const timer = ms === Infinity ? null : d.timers.add(performance.now() + ms, deadline, undefined);
  const done = () => {
    if (timer) d.timers.remove(timer);
    if (r._state !== PENDING) return;
    const [state, result] = cancelRequested
      ? [CANCELLED, new CancelledError(`${describe(r)} was cancelled`)]
      : timedOut
        ? late()
        : onTime(f);
    r._finish(state, result);
  };
  r.cancelCallback = () => {
    cancelRequested = true;
    if (timer) d.timers.remove(timer);
    f.cancel();
  };
  f.addCallback(done);
  return r;
}

/**
 * `true` if `f` finishes within `ms`, however it ends (never late with `Infinity`); otherwise `f` is
 * cancelled and, once it has finished, `false`. Cancelling the result cancels `f`, and the result
 * ends cancelled once `f` has finished.
 */
export function withTimeout(f: Future<any>, ms: number): Future<boolean> {
  checkFuture(f, "withTimeout");
  checkDelay(ms, "withTimeout", true);
  return race(f, ms, "withTimeout", () => [COMPLETED, true], () => [COMPLETED, false]);
}

/**
 * Finishes like `f`; after `ms` (never with `Infinity`), `f` is cancelled and, once it has finished,
 * this fails with `AsyncTimeoutError`. Cancelling the result cancels `f`, and the result ends
 * cancelled once `f` has finished.
 */
export function wait<F extends Future<any>>(f: F, ms: number): Future<ValueOf<F>> {
  checkFuture(f, "wait");
  checkDelay(ms, "wait", true);
  return race(
    f,
    ms,
    "wait",
    (g) => [g._state, g._result],
    () => [FAILED, new AsyncTimeoutError(`wait: ${describe(f)} did not finish within ${ms} ms`)],
  );
}
