/**
 * Future<T>: a value that arrives later, as in chronos' `asyncfutures`.
 *
 * A future is pending, then completed, failed or cancelled, once. Callbacks never run inside
 * `complete`/`fail`/`cancel`: finishing a future queues each of its callbacks, with the future as
 * argument, on the dispatcher's callback queue, in the order they were added. The first callback
 * sits in a field of its own; only a second one allocates a list.
 *
 * Cancellation is a request. A leaf future (a timer, a read) runs its `cancelCallback` and becomes
 * cancelled. The result future of an async call is a coroutine future: it forwards the request to
 * the future its body waits on, and ends however the body ends, usually with the `CancelledError`
 * that the awaited future now throws. A request that arrives while the body is between a finished
 * wait and its resumption is kept and delivered at the body's next wait on a pending future.
 */
import { CancelledError, FutureDefect, FuturePendingError } from "./errors.js";
import { activeQueue, type Callback } from "./queue.js";

/** A future's `state`: `"pending"` until it finishes, once, as one of the other three. */
export type FutureState = "pending" | "completed" | "failed" | "cancelled";

/**
 * The states as `_state` holds them. Code in this file reads the const enum, which compiles to
 * literals: V8 does not elide a future that never escapes (an await of a call that finished at
 * once) when its constructor or `_finish` reads an exported binding.
 */
const enum S {
  Pending = 0,
  Completed = 1,
  Failed = 2,
  Cancelled = 3,
}
export const PENDING: 0 = S.Pending;
export const COMPLETED: 1 = S.Completed;
export const FAILED: 2 = S.Failed;
export const CANCELLED: 3 = S.Cancelled;
const STATES: FutureState[] = ["pending", "completed", "failed", "cancelled"];

/** Pending futures that have callbacks: what a leak check counts. */
let waiting = 0;
export function waitingFutures(): number {
  return waiting;
}

/** A property rather than a module `let`, for the same reason as the const enum above. */
const options = { debug: typeof process !== "undefined" && !!process.env?.CHRONOTS_DEBUG };
/** Record the creation site of every future (costs a stack capture each); also `CHRONOTS_DEBUG=1`. */
export function setDebug(on: boolean): void {
  options.debug = on;
}

/**
 * A value of type T that arrives later: pending, then completed, failed or cancelled, once.
 * In an async function, `yield* f` awaits it (its value, or its error thrown) and `yield f` waits
 * without throwing; elsewhere `waitFor(f)`. Its callbacks run from the dispatcher's callback queue,
 * never inside `complete`/`fail`/`cancel`.
 */
export class Future<T = void> {
  /** @internal */ _state = S.Pending;
  /** @internal the value, or the error */ _result: unknown = undefined;
  /** @internal */ _cb: Callback | null = null;
  /** @internal callbacks after the first */ _cbs: Callback[] | null = null;
  /** @internal the future a coroutine waits on; `undefined` for a leaf */ _child: Future<any> | null | undefined = undefined;
  /** @internal a cancel request not yet delivered */ _mustCancel = false;
  /** @internal the result settles itself after a cancel request (timeouts) */ _ownCancel = false;
  /**
   * Run once when cancellation of this pending leaf future is requested (to remove a timer, close a
   * handle); the future is then cancelled, unless the callback finished it itself. An error it throws
   * goes to the caller of `cancel()`, the future being cancelled all the same.
   */
  cancelCallback: ((fut: Future<any>) => void) | null = null;
  /** The name given at creation (`""` if none): errors and debug output name the future by it. */
  readonly name: string;
  /** Where the future was created, when debugging is on (`setDebug`, `CHRONOTS_DEBUG=1`). */
  readonly site: string | undefined;

  /** A pending future; `name` shows in errors and debug output. */
  constructor(name = "") {
    // Checked here: an error built from the name later (a cancellation's, a defect's) must not throw instead.
    if (typeof name !== "string") throw new TypeError(`Future: name must be a string, got ${typeName(name)}`);
    this.name = name;
    this.site = options.debug ? creationSite() : undefined;
  }

  /** `"pending"`, `"completed"`, `"failed"` or `"cancelled"`. */
  get state(): FutureState {
    return STATES[this._state]!;
  }
  /** Not finished yet. */
  get pending(): boolean {
    return this._state === S.Pending;
  }
  /** Completed, failed or cancelled: not pending. */
  get finished(): boolean {
    return this._state !== S.Pending;
  }
  /** Finished with a value, which `read()` returns. */
  get completed(): boolean {
    return this._state === S.Completed;
  }
  /** Finished with an error: `error` holds it, `read()` throws it. */
  get failed(): boolean {
    return this._state === S.Failed;
  }
  /** Finished by cancellation: `error` is a `CancelledError`, which `read()` throws. */
  get cancelled(): boolean {
    return this._state === S.Cancelled;
  }
  /** The error of a failed future (a `CancelledError` for a cancelled one), else `undefined`. */
  get error(): unknown {
    return this._state >= S.Failed ? this._result : undefined;
  }

  /**
   * Finish with `value`, queueing the callbacks (none runs inside this call). Ignored on a cancelled future.
   * @throws {FutureDefect} when the future has already completed or failed; the message names it.
   */
  complete(value: T): void {
    this._finish(S.Completed, value);
  }

  /**
   * Finish with `error`, queueing the callbacks (none runs inside this call). Ignored on a cancelled future.
   * @throws {FutureDefect} when the future has already completed or failed; the message names it.
   */
  fail(error: unknown): void {
    this._finish(S.Failed, error);
  }

  /**
   * Request cancellation; `false` when the future has already finished. The future of a pending async
   * call forwards the request to the future its body waits on, and ends as its body then ends (usually
   * cancelled, by the `CancelledError` that wait throws); a leaf future (`sleepAsync`, a read) runs its
   * `cancelCallback` and becomes cancelled. Callbacks are queued, never run inside this call.
   * @throws whatever the `cancelCallback` throws; the future is cancelled all the same.
   */
  cancel(): boolean {
    if (this._state !== S.Pending) return false;
    // Down the chain of pending async calls, each waiting on the next, in a loop: a recursive async
    // function builds chains thousands deep, which a call per level would overflow the stack on.
    // `slow` follows at half speed, so a cycle of calls waiting on each other (none can ever finish)
    // ends the walk instead of looping for ever.
    let f: Future<any> = this;
    let slow: Future<any> = this;
    for (let odd = false; f._child !== undefined; odd = !odd) {
      const child = f._child;
      if (child === null || child._state !== S.Pending) {
        if (child === null || child._state !== S.Cancelled) f._mustCancel = true;
        // Else the body is about to see that future cancelled (a CancelledError from `yield*`, `f.cancelled`
        // after `yield f`), which is the delivery (chronos' tryCancel): kept as well, a second cancel() would
        // also cancel the next wait, that of a body cleaning up after the first.
        return true;
      }
      f = child;
      if (odd) slow = slow._child!;
      if (f === slow) return true;
    }
    // A leaf below is asked through its own cancel(), which a subclass may extend; it has no chain to walk.
    if (f === this) cancelLeaf(f);
    else f.cancel();
    return true;
  }

  /**
   * The value of a completed future.
   * @throws its error if it failed, `CancelledError` if it was cancelled, `FuturePendingError` if it is pending.
   */
  read(): T {
    switch (this._state) {
      case S.Completed:
        return this._result as T;
      case S.Pending:
        throw new FuturePendingError(`${describe(this)} is still pending`);
      default:
        throw this._result;
    }
  }

  /**
   * Run `cb(fut)` once the future has finished, from the dispatcher's callback queue in the order added,
   * never inside `complete`/`fail`/`cancel`; added to a finished future, it is queued at once.
   */
  addCallback(cb: (fut: Future<T>) => void): void {
    if (typeof cb !== "function") throw new TypeError(`addCallback on ${describe(this)}: callback must be a function, got ${typeof cb}`);
    if (this._state !== S.Pending) activeQueue.push(cb, this);
    else this._addCallback(cb);
  }

  /** Remove one registration of `cb` while the future is pending; once it has finished, its callbacks are already queued and run. */
  removeCallback(cb: (fut: Future<T>) => void): void {
    if (typeof cb !== "function") throw new TypeError(`removeCallback on ${describe(this)}: callback must be a function, got ${cb === null ? "null" : typeof cb}`);
    if (this._cb === cb) {
      const rest = this._cbs;
      this._cb = rest !== null && rest.length > 0 ? rest.shift()! : null;
      if (this._cb === null) waiting--;
    } else if (this._cbs !== null) {
      const i = this._cbs.indexOf(cb);
      if (i >= 0) this._cbs.splice(i, 1);
    }
  }

  /** `yield* future`: the value once finished, or its error thrown. */
  [Symbol.iterator](): Iterator<Future<T>, T, unknown> {
    return new Await(this);
  }

  /** `Future 'name' (state)`, with the creation site when debugging is on. */
  toString(): string {
    return `${describe(this)} (${this.state})`;
  }

  /** @internal */
  _addCallback(cb: Callback): void {
    if (this._cb === null) {
      this._cb = cb;
      waiting++;
    } else if (this._cbs === null) this._cbs = [cb];
    else this._cbs.push(cb);
  }

  /** @internal a coroutine waits on `child` and resumes through `resume(child)` once it finishes. */
  _suspend(child: Future<any>, resume: Callback): void {
    this._child = child;
    child._addCallback(resume);
    if (this._mustCancel) {
      this._mustCancel = false;
      child.cancel();
    }
  }

  /** @internal finish and run the one callback now rather than from the queue (see Delegation in async.ts). */
  _finishInline(state: number, result: unknown): void {
    const cb = this._cb;
    if (cb !== null) {
      this._cb = null;
      waiting--;
    }
    this._finish(state, result);
    if (cb !== null) cb(this);
  }

  /** @internal */
  _finish(state: number, result: unknown): void {
    if (this._state !== S.Pending) {
      if (this._state === S.Cancelled) return;
      throw new FutureDefect(`${describe(this)} is already ${this.state}; it cannot become ${STATES[state]}`);
    }
    this._state = state;
    this._result = result;
    const cb = this._cb;
    if (cb === null) return;
    this._cb = null;
    waiting--;
    const q = activeQueue;
    q.push(cb, this);
    const rest = this._cbs;
    if (rest !== null) {
      this._cbs = null;
      for (let i = 0; i < rest.length; i++) q.push(rest[i]!, this);
    }
  }
}

/**
 * The result of a lowered call whose body ended without a suspension, made finished as a coroutine
 * future then `_finish` would make it, with less code: a caller awaiting several such calls gets them
 * all inlined, and V8 then elides the futures (the state a literal here, as above).
 */
export function finished<R>(name: string, value: R): Future<R> {
  const r = new Future<R>(name);
  if (r.site !== undefined) (r as { site: string | undefined }).site = creationSite(1);
  r._state = S.Completed;
  r._result = value;
  return r;
}

/** `finished` for a body that threw: failed, or cancelled by a `CancelledError`, as a coroutine's result would be. */
export function failed(name: string, e: unknown): Future<never> {
  const r = new Future<never>(name);
  if (r.site !== undefined) (r as { site: string | undefined }).site = creationSite(1);
  r._state = e instanceof CancelledError ? S.Cancelled : S.Failed;
  r._result = e;
  return r;
}

/** The iterator behind `yield* future`: yields the future while it is pending, then returns its value. */
class Await<T> implements Iterator<Future<T>, T, unknown> {
  private yielded = false;
  constructor(private readonly fut: Future<T>) {}
  next(): IteratorResult<Future<T>, T> {
    if (!this.yielded && this.fut._state === S.Pending) {
      this.yielded = true;
      return { done: false, value: this.fut };
    }
    return { done: true, value: this.fut.read() };
  }
  [Symbol.iterator](): this {
    return this;
  }
}

/**
 * The value of a future of type F, taken from each member of a union: a parameter `f: F` with `F extends
 * Future<any>` accepts `Future<number> | Future<string>`, where `f: Future<T>` would pick one T and reject the other.
 * Of `any`, `any` (as `Future<T>` inferred it), where the conditional alone would give `unknown`.
 */
export type ValueOf<F> = 0 extends 1 & F ? any : F extends Future<infer T> ? T : never;

/** A pending future, as `new Future<T>(name)`; `name` shows in errors and debug output. */
export function newFuture<T = void>(name?: string): Future<T> {
  return new Future<T>(name);
}

/** `Future 'name'` plus its creation site when known: how messages name a future. */
export function describe(f: Future<any>): string {
  const label = f.name ? `Future '${f.name}'` : "Future";
  return f.site ? `${label} created at ${f.site}` : label;
}

/** Throw a TypeError naming `what` unless `f` is a Future. */
export function checkFuture(f: unknown, what: string): asserts f is Future<any> {
  if (!(f instanceof Future)) throw new TypeError(`${what}: expected a Future, got ${typeName(f)}${promiseHint(f)}`);
}

/** What to do with a promise where a Future was wanted, or nothing for any other value. */
export function promiseHint(v: unknown): string {
  const then = v !== null && (typeof v === "object" || typeof v === "function") ? (v as { then?: unknown }).then : undefined;
  return typeof then === "function" ? "; a promise becomes a Future with fromPromise(p), which waitForAsync lets settle" : "";
}

/** A Future's methods: an object with them all that `instanceof Future` refuses is another copy's Future. */
const FUTURE_METHODS = ["read", "complete", "fail", "cancel", "addCallback", "removeCallback"];

/**
 * A future no body finishes (`sleepAsync`'s, a read's): its `cancelCallback` runs, and it ends cancelled unless
 * the callback finished it. Not a private method: a declaration emit of a user's anonymous subclass refuses one.
 */
function cancelLeaf(f: Future<any>): void {
  const cb = f.cancelCallback;
  f.cancelCallback = null;
  try {
    if (typeof cb === "function") cb(f);
    else if (cb !== null) throw new TypeError(`${describe(f)}: cancelCallback must be a function or null, got ${typeName(cb)}`);
  } finally {
    // Also when `cb` throws: its error goes to the caller, and the future does not stay pending for ever.
    if (!f._ownCancel && f._state === S.Pending) f._finish(S.Cancelled, new CancelledError(`${describe(f)} was cancelled`));
  }
}

export function typeName(v: unknown): string {
  if (v === null) return "null";
  if (typeof v === "object") {
    if (!(v instanceof Future) && FUTURE_METHODS.every((m) => typeof (v as Record<string, unknown>)[m] === "function"))
      return "a Future of another copy of chronots (two versions installed?)";
    // A generator's constructor is its function's prototype, which has no name.
    return v.constructor?.name || (Symbol.asyncIterator in v ? "an async generator" : "object");
  }
  return typeof v === "string" ? `string ${JSON.stringify(v.slice(0, 40))}` : typeof v === "number" ? `number ${v}` : typeof v;
}

/** The first frame outside the runtime, or with `callers` the one that many frames further out. */
export function creationSite(callers = 0): string | undefined {
  const stack = new Error().stack?.split("\n") ?? [];
  // Skip the Error line and the frames inside this file.
  const first = stack.findIndex((l, i) => i > 0 && !l.includes("/runtime/future.") && !l.includes("/runtime/async."));
  return first < 0 ? undefined : stack[first + callers]?.trim().replace(/^at /, "");
}
