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
import { CancelledError, FutureDefect } from "./errors.js";
import { dispose, Disposer, fail, use } from "./dispose.js";
import { CANCELLED, COMPLETED, creationSite, FAILED, failed, finished, Future, PENDING, promiseHint, typeName } from "./future.js";

/**
 * The function `async` makes of a generator returning R. A plain function type, not a conditional
 * one: TypeScript then carries a generic generator's type parameters over to it (`async(function*
 * <T>(x: T) …)` is a `<T>(x: T) => Future<T>`). Without a `this:` parameter `This` is `unknown`,
 * which any call satisfies. `async` itself spells the type out: through this alias TypeScript would
 * not instantiate the type parameters of a class or function around the generator.
 */
export type AsyncFunction<This, A extends unknown[], R> = (this: This, ...args: A) => Future<R>;

/**
 * Make an async function of a generator function whose yields are Futures: same parameters (an
 * explicit `this:` too), returning a `Future<R>`, R being the generator's return type. In the body
 * `yield* f` awaits `f`: its value, or its error thrown (`CancelledError` if cancelled); `yield f`
 * waits and evaluates to `f`, never throwing. A call runs the body synchronously until it waits on a
 * pending future, and resumes it from the dispatcher's callback queue once that one finishes.
 * Returning completes the result, throwing fails it, an escaping `CancelledError` cancels it; a
 * `yield` of anything but a Future throws a TypeError there. chronots/transformer lowers the function
 * to a state machine; untransformed, this function drives the generator, with the same behaviour.
 */
export function async<This, A extends unknown[], R>(
  genFn: (this: This, ...args: A) => Generator<Future<any>, R, Future<any>>,
): (this: This, ...args: A) => Future<R> {
  if (typeof genFn !== "function") throw new TypeError(`async: expected a generator function, got ${typeName(genFn)}`);
  if (Object.prototype.toString.call(genFn) === "[object AsyncGeneratorFunction]")
    throw new TypeError(`async: '${genFn.name || "anonymous"}' is an async generator function (async function*); async() takes a generator function (function*), which yields futures`);
  const name = genFn.name;
  const fn = function (this: This) {
    const r = coroutine<R>(name);
    let gen: Generator<Future<any>, R, any>;
    try {
      gen = genFn.apply(this, arguments as unknown as A);
    } catch (e) {
      settle(r, e);
      return r;
    }
    // An async generator's `next` returns promises, whose missing `done` would keep the driver stepping forever.
    if (gen === null || typeof gen !== "object" || typeof gen.next !== "function" || Symbol.asyncIterator in gen)
      throw new TypeError(`async: '${name || "anonymous"}' must be a generator function (function*), it returned ${typeName(gen)}`);
    const resume = (f: Future<any>) => run(r, gen, f, resume);
    run(r, gen, undefined, resume);
    return r;
  };
  // The generator's own name and length, as the lowered form has them (a binding does not name a call's result).
  Object.defineProperty(fn, "name", { value: name });
  Object.defineProperty(fn, "length", { value: genFn.length });
  return fn as (this: This, ...args: A) => Future<R>;
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

/**
 * `coroutine` as lowered code calls it: from the lowered function itself, whose caller is the call's
 * site, where the driver's frames are the runtime's own and skipped anyway; `callers` more frames out
 * from the function that takes over a lowered call's first step (emitLazy).
 */
function loweredCoroutine<R>(name: string, callers = 1): Future<R> {
  const r = coroutine<R>(name);
  // Set once, here, before anyone reads it: the constructor recorded the lowered function's frame.
  if (r.site !== undefined) (r as { site: string | undefined }).site = creationSite(callers);
  return r;
}

/**
 * Wait on `f`, pending, for the call `r` whose first step just handed it over (emitLazy): a delegation
 * that step started had no result yet to hand an undelivered cancel request on to.
 */
function park(r: Future<any>, f: Future<any>, resume: (f: Future<any>) => void): void {
  if (f instanceof Delegation && f.owner === null) f.owner = r;
  r._suspend(f, resume);
}

/** Finish an async call's result with the error its body threw; a `CancelledError` cancels it. */
export function settle(r: Future<any>, e: unknown): void {
  // The body's `return` finishing a result finished from outside: its defect goes on, as the driver's does.
  if (e instanceof FutureDefect && r._state !== PENDING && r._state !== CANCELLED) throw e;
  r._finish(e instanceof CancelledError ? CANCELLED : FAILED, e);
}

/** The error thrown at a `yield` of something that is not a Future. */
export function notAFuture(v: unknown): TypeError {
  return new TypeError(`yield of a non-Future value (${typeName(v)}) in an async function; only Futures can be yielded${promiseHint(v)}`);
}

/**
 * `yield* it` on an iterable that is not a Future, for lowered code: a future that drives `it` as
 * the driver drives a delegating generator, so the lowered code waits on it as on any future. A
 * finished future goes straight back in, a non-future is thrown into it as `notAFuture`, and a
 * pending one is waited on, with cancel requests forwarded to it as a coroutine's are. When `it`
 * returns or throws after a suspension, the waiting coroutine resumes at once in the same step,
 * not from the queue: under the driver the delegating generator simply goes on, and a queued hop
 * would let other callbacks run in between. A cancel request it could not deliver is handed on to
 * the coroutine, which delivers it at its own next wait, as the driver would.
 */
class Delegation extends Future<unknown> {
  private readonly it: Iterator<unknown, unknown, unknown>;
  /** Read once, as `yield*` does: a `next` changed or behind a getter is not read again. */
  private readonly next: Iterator<unknown, unknown, unknown>["next"];
  /** Made at the first real suspension: most delegations finish without one. */
  private resume: ((f: Future<any>) => void) | null = null;
  constructor(
    iterable: unknown,
    /** `null` until `park` gives it, for a delegation started by the first step of a lazy lowered call. */
    public owner: Future<any> | null,
  ) {
    super();
    const make = iterable == null ? undefined : (iterable as Iterable<unknown>)[Symbol.iterator];
    if (typeof make !== "function") throw new TypeError(`yield* of a non-iterable value (${typeName(iterable)}) in an async function${promiseHint(iterable)}`);
    this.it = iterableResult(make.call(iterable), "yield*") as Iterator<unknown, unknown, unknown>;
    this.next = this.it.next;
    this._child = null;
    this.run(undefined);
  }
  private run(sent: unknown): void {
    this._child = null;
    let bad: TypeError | null = null;
    for (;;) {
      let n: IteratorResult<unknown, unknown>;
      try {
        n = iterableResult(bad === null ? this.next.call(this.it, sent) : throwInto(this.it, bad), "yield*");
      } catch (e) {
        return this.end(FAILED, e);
      }
      if (n.done) return this.end(COMPLETED, n.value);
      const f = n.value;
      if (!(f instanceof Future)) {
        bad = notAFuture(f);
        continue;
      }
      bad = null;
      if (f._state === PENDING) return this._suspend(f, (this.resume ??= (f) => this.run(f)));
      sent = f;
    }
  }
  private end(state: number, result: unknown): void {
    // Set only by a request delivered while suspended, when the owner is known.
    if (this._mustCancel) this.owner!._mustCancel = true;
    this._finishInline(state, result);
  }
}

function throwInto(it: Iterator<unknown, unknown, unknown>, e: unknown): IteratorResult<unknown, unknown> {
  if (typeof it.throw === "function") return it.throw(e);
  closeIterator(it);
  throw new TypeError("yield*: the delegated iterator does not provide a 'throw' method");
}

function iterableResult<T>(v: T, what: string): T {
  if (v === null || (typeof v !== "object" && typeof v !== "function")) throw new TypeError(`${what}: iterator result ${typeName(v)} is not an object`);
  return v;
}

const arrayValues = Array.prototype[Symbol.iterator];
const arrayNext = ([] as unknown[])[Symbol.iterator]().next;
/** Only the engine's own iteration is walked by index: one a polyfill put in place before chronots loaded is taken as it is. */
const byIndex = [arrayValues, arrayNext].every((fn) => /\{\s*\[native code\]\s*\}$/.test(Function.prototype.toString.call(fn)));

/**
 * An iterator with the `next` method GetIterator read once, as a lowered `for…of` or array pattern drives it.
 * Where that iterator is an array's own, with the built-in `next`, the steps walk the array by index
 * instead, reading its `length` and elements as that `next` does: nothing else of it can be seen, and one
 * `next.call` site shared by every loop of a program is polymorphic, where this one stays monomorphic
 * (a `for…of` over an array with an await of a finished call per element: 30 → 19 ns an element). The iteration is then its
 * own step result, as a `for…of` reads a result's `done` and `value` before it steps again.
 */
class Iteration {
  index = 0;
  done = false;
  value: unknown = undefined;
  constructor(
    readonly iterator: Iterator<unknown>,
    readonly next: Iterator<unknown>["next"],
    /** The array walked by index, or null. */
    readonly array: ArrayLike<unknown> | null,
  ) {}
}

/** GetIterator for a lowered `for…of`. */
function iterate(v: unknown): Iteration {
  const make = v == null ? undefined : (v as Iterable<unknown>)[Symbol.iterator];
  if (typeof make !== "function") throw new TypeError(`${typeName(v)} is not iterable`);
  const it = iterableResult(make.call(v), "for...of") as Iterator<unknown>;
  const next = it.next;
  return new Iteration(it, next, byIndex && make === arrayValues && next === arrayNext && Array.isArray(v) ? v : null);
}

/** One step of a lowered `for…of`: the iterator result, checked to be an object. */
function step(r: Iteration): IteratorResult<unknown> {
  const a = r.array;
  if (a === null) return iterableResult(r.next.call(r.iterator), "for...of");
  if (r.done) return r as IteratorResult<unknown>;
  const i = r.index;
  const n = a.length;
  // An array's length is an index; a proxy's may be anything, which the built-in `next` takes through ToLength.
  if (i < (typeof n === "number" && n >= 0 && Number.isInteger(n) ? n : toLength(n))) {
    r.index = i + 1;
    r.value = a[i];
  } else {
    r.done = true;
    r.value = undefined;
  }
  return r as IteratorResult<unknown>;
}

function toLength(n: unknown): number {
  // ToNumber: unlike Number(), a BigInt throws.
  const x = +(n as number);
  return x > 0 ? Math.min(Math.floor(x), Number.MAX_SAFE_INTEGER) : 0;
}

/** IteratorClose after `break`/`return`: errors of `return()` propagate. */
function closeIterator(it: Iterator<unknown, unknown, unknown>): void {
  const ret = it.return;
  if (ret == null) return;
  iterableResult(ret.call(it), "iterator return()");
}

/** IteratorClose after a throw: `return()` runs, its own errors are dropped, `e` is rethrown. */
function closeThrow(r: Iteration, e: unknown): never {
  try {
    const ret = r.iterator.return;
    if (ret != null) ret.call(r.iterator);
  } catch {}
  throw e;
}

/** The keys a lowered `for…in` visits: enumerated up front, skipped once deleted. */
class ForIn {
  private readonly keys: string[] = [];
  private i = 0;
  constructor(private readonly o: any) {
    for (const k in o) this.keys.push(k);
  }
  next(): string | undefined {
    while (this.i < this.keys.length) {
      const k = this.keys[this.i++]!;
      if (Object(this.o) !== this.o || k in this.o) return k;
    }
    return undefined;
  }
}

/** ToPropertyKey, for a computed key evaluated before a suspension. */
function toKey(k: unknown): PropertyKey {
  return Reflect.ownKeys({ [k as PropertyKey]: 0 })[0]!;
}

/** CopyDataProperties for a rest element `{ a, ...rest } = o` that lowered code takes apart: `o` without `keys`. */
function rest(o: unknown, keys: PropertyKey[]): object {
  const from = Object(o) as Record<PropertyKey, unknown>;
  const r = {};
  for (const k of Reflect.ownKeys(from))
    if (!keys.includes(k) && Object.prototype.propertyIsEnumerable.call(from, k)) Object.defineProperty(r, k, { value: from[k], writable: true, enumerable: true, configurable: true });
  return r;
}

/**
 * A callee the lowered code held in a temp, or when it is no function one that throws the engine's
 * TypeError naming the callee as written (the engine's own would name the temp): called, it throws
 * after the arguments are evaluated, where the engine does.
 */
function callable(fn: unknown, written: string): unknown {
  if (typeof fn === "function") return fn;
  const standIn = () => notCallable(`${written} is not a function`, standIn);
  return standIn;
}

function constructible(fn: unknown, written: string): unknown {
  if (isConstructor(fn)) return fn;
  const standIn = function () {
    notCallable(`${written} is not a constructor`, standIn);
  };
  return standIn;
}

/**
 * A proxy has [[Construct]] only when its target has; constructing it runs the proxy's trap, never `fn`,
 * so nothing of `fn` is read. A constructor found is remembered: `new C(yield* f)` in a loop asks once.
 */
function isConstructor(fn: unknown): boolean {
  if (typeof fn !== "function") return false;
  if (constructors.has(fn)) return true;
  try {
    Reflect.construct(new Proxy(fn, noConstruct), []);
  } catch {
    return false;
  }
  constructors.add(fn);
  return true;
}

const constructors = new WeakSet<Function>();

const noConstruct: ProxyHandler<Function> = { construct: () => noConstruct };

/** The engine's TypeError, its stack starting where the engine's would: at the body's frame, the stand-in's left out. */
function notCallable(message: string, standIn: Function): never {
  const e = new TypeError(message);
  Error.captureStackTrace(e, standIn);
  throw e;
}

/**
 * What code lowered by chronots/transformer uses; not a public API (in the published types only so that
 * the transformer can tell, through the type checker, which modules give the runtime). The state numbers
 * are inlined by the lowering (PENDING 0, COMPLETED 1) and checked against these by its tests.
 */
export const __chronots = {
  Future,
  coroutine: loweredCoroutine,
  handoff: <R>(name: string) => loweredCoroutine<R>(name, 2),
  park,
  finished,
  failed,
  settle,
  callable,
  constructible,
  notAFuture,
  PENDING,
  COMPLETED,
  delegate: (iterable: unknown, owner: Future<any> | null) => new Delegation(iterable, owner),
  iterate,
  step,
  closeIterator: (r: Iteration) => closeIterator(r.iterator),
  closeThrow,
  forIn: (o: unknown) => new ForIn(o),
  toKey,
  rest,
  disposer: () => new Disposer(),
  use,
  fail,
  dispose,
};
