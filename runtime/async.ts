/**
 * async(genFn): a generator function whose yields are futures becomes a function returning a Future.
 *
 * This is the run-time driver, used when the transformer has not lowered the function. It runs the
 * body synchronously; each yielded future that has already finished is sent straight back in the
 * same loop (no stack growth, no trip through the dispatcher), and the first pending one suspends
 * the body until that future's callback resumes it from the callback queue. `yield f` evaluates to
 * `f`; `yield* f` goes through `Future[Symbol.iterator]`, which returns `f`'s value or throws its
 * error. The lowered form keeps exactly these rules and shares `settle` and `notAFuture` with it.
 */
import { CancelledError } from "./errors.js";
import { CANCELLED, COMPLETED, FAILED, Future, PENDING, typeName } from "./future.js";

/** The future type an async function returns for a generator returning R. */
export type AsyncFunction<This, A extends unknown[], R> = unknown extends This
  ? (...args: A) => Future<R>
  : (this: This, ...args: A) => Future<R>;

export function async<This, A extends unknown[], R>(
  genFn: (this: This, ...args: A) => Generator<Future<any>, R, any>,
): AsyncFunction<This, A, R> {
  if (typeof genFn !== "function") throw new TypeError(`async: expected a generator function, got ${typeName(genFn)}`);
  const name = genFn.name;
  return function (this: This) {
    const r = coroutine<R>(name);
    let gen: Generator<Future<any>, R, any>;
    try {
      gen = genFn.apply(this, arguments as unknown as A);
    } catch (e) {
      settle(r, e);
      return r;
    }
    if (gen === null || typeof gen !== "object" || typeof gen.next !== "function")
      throw new TypeError(`async: '${name || "anonymous"}' must be a generator function (function*), it returned ${typeName(gen)}`);
    const resume = (f: Future<any>) => run(r, gen, f, resume);
    run(r, gen, undefined, resume);
    return r;
  } as AsyncFunction<This, A, R>;
}

function run<R>(r: Future<R>, gen: Generator<Future<any>, R, any>, sent: unknown, resume: (f: Future<any>) => void): void {
  r._child = null;
  let bad: TypeError | null = null;
  for (;;) {
    let step: IteratorResult<Future<any>, R>;
    try {
      step = bad === null ? gen.next(sent) : gen.throw(bad);
    } catch (e) {
      settle(r, e);
      return;
    }
    if (step.done) {
      r._finish(COMPLETED, step.value);
      return;
    }
    const f = step.value;
    if (!(f instanceof Future)) {
      bad = notAFuture(f);
      continue;
    }
    bad = null;
    if (f._state !== PENDING) {
      sent = f;
      continue;
    }
    r._suspend(f, resume);
    return;
  }
}

/** A pending result future of an async call: cancel requests go to the future it waits on. */
export function coroutine<R>(name: string): Future<R> {
  const r = new Future<R>(name);
  r._child = null;
  return r;
}

/** Finish an async call's result with the error its body threw; a `CancelledError` cancels it. */
export function settle(r: Future<any>, e: unknown): void {
  r._finish(e instanceof CancelledError ? CANCELLED : FAILED, e);
}

/** The error thrown at a `yield` of something that is not a Future. */
export function notAFuture(v: unknown): TypeError {
  return new TypeError(`yield of a non-Future value (${typeName(v)}) in an async function; only Futures can be yielded`);
}
