/**
 * Promises into futures. `fromPromise(p)` is a future that finishes as `p` settles: completed with
 * its value, failed with its reason. Only Node's event loop settles a promise, and that loop stands
 * still while `waitFor` blocks, so a program waiting on such futures drives chronots with
 * `await waitForAsync(f)` (dispatcher.ts), which lets Node's loop run between steps. Each bridge is
 * counted while it is open, so that `waitFor` can say why it would wait forever.
 */
import { getGlobalDispatcher } from "./dispatcher.js";
import { Future } from "./future.js";

/**
 * A future that finishes as `p` settles: completed with its value, failed with its reason. Only Node's
 * event loop settles a promise, so wait for it with `waitForAsync` (`waitFor` would throw
 * `DeadlockError`). Cancelled, it stops waiting, and the promise's later result is dropped.
 *
 * Typed as `await p` is (Awaited), so that a union of promises gives a future of the union of their values.
 */
export function fromPromise<P extends PromiseLike<any>>(p: P, name = "fromPromise"): Future<Awaited<P>> {
  if (p === null || (typeof p !== "object" && typeof p !== "function") || typeof p.then !== "function")
    throw new TypeError(`fromPromise: expected a promise, got ${p === null ? "null" : typeof p}`);
  const f = new Future<Awaited<P>>(name);
  const settle = getGlobalDispatcher().openBridge();
  // A promise keeps its reactions until it settles, which a long-lived one (a shutdown signal) never
  // does: they reach the future through `held`, dropped once it is cancelled, or every cancelled future
  // and its error would live as long as the promise. The promise's later result is then ignored.
  let held: Future<Awaited<P>> | undefined = f;
  const release = () => {
    held = undefined;
    settle();
  };
  f.cancelCallback = release;
  try {
    p.then(
      (v) => {
        const waiting = held;
        release();
        waiting?.complete(v);
      },
      (e: unknown) => {
        const waiting = held;
        release();
        waiting?.fail(e);
      },
    );
  } catch (e) {
    // A thenable whose `then` throws is a rejected promise (as `Promise.resolve` makes it), and its bridge closes.
    release();
    if (f.pending) f.fail(e);
  }
  return f;
}
