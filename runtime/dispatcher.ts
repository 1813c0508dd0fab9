/**
 * The dispatcher: one loop per thread, as chronos' `asyncengine`.
 *
 * `poll()` is one step, always in this order:
 *   1. move due timers to the callback queue and compute how long the I/O wait may block
 *      (0 when callbacks are queued, until the next timer otherwise, forever with neither);
 *   2. wait for I/O, and queue the callbacks of ready readers, writers and signals;
 *   3. move timers that fell due meanwhile;
 *   4. run exactly the callbacks queued so far; the ones they queue run in the next step.
 *      A callback may call `waitFor`, as in chronos: the steps it takes run the callbacks queued
 *      beside it, and this step then runs only as many of the ones left as it had still to run.
 * With no reader, writer or signal watched, step 2 makes no kernel call unless it must sleep until
 * a timer, so a queue-only step is pure JavaScript. A callback that throws ends the step with that error; the
 * callbacks still queued stay queued for the next step.
 *
 * `waitFor` blocks the thread in step 2, and Node's own event loop with it. `waitForAsync` takes the
 * same steps with a wait that only looks, and between them idles in Node's loop: until the next tick
 * when callbacks are queued, on a Node timer until the next chronots timer, or, with fds watched, in
 * the poller's wait run on a worker thread (`waitAsync`). A promise bridge (promise.ts) that settles
 * meanwhile ends the idle: through an eventfd in the poller's set (waker.ts), or the timer's promise.
 */
import { DeadlockError } from "./errors.js";
import { checkFuture, describe, Future, PENDING, typeName, type ValueOf, waitingFutures } from "./future.js";
import { createPoller, defaultPollerKind } from "./poller/index.js";
import { checkFd, READ, WRITE, type Poller, type PollerKind } from "./poller/poller.js";
import { type SignalName, SignalSet, signalNumber } from "./poller/signals.js";
import { Waker } from "./poller/waker.js";
import { activeQueue, CallbackQueue, setActiveQueue } from "./queue.js";
import { TimerHandle, TimerHeap } from "./timerheap.js";

const sleeper = new Int32Array(new SharedArrayBuffer(4));

interface FdWatch {
  reader: (() => void) | null;
  writer: (() => void) | null;
}

/** An `addSignal` handler; `cb` is null once removed. */
interface SignalWatch {
  sig: number;
  cb: (() => void) | null;
}

/**
 * The dispatcher each live `addSignal` id belongs to. Ids are numbered across the thread, so an id
 * kept from before `setGlobalDispatcher` removes its own handler, as a TimerHandle does, never
 * another dispatcher's that happens to have the same number.
 */
const signalOwners = new Map<number, Dispatcher>();
let nextSignalId = 1;
/** Whether another dispatcher has been the global one: a sleep begun then finishes only on that one. */
let switched = false;

/** Options of `new Dispatcher(options)`. */
export interface DispatcherOptions {
  /** I/O backend; default `CHRONOTS_POLLER` from the environment, else epoll on Linux, poll elsewhere. */
  poller?: PollerKind | undefined;
}

/**
 * An event loop: a timer heap, a callback queue and an I/O poller. Each thread has a global one
 * (`getGlobalDispatcher`), which the free functions (`poll`, `waitFor`, `addTimer`…), `sleepAsync`
 * and the timeouts use; while a dispatcher steps, the futures that finish queue their callbacks on it.
 */
export class Dispatcher {
  /** @internal */ readonly queue = new CallbackQueue();
  /** @internal */ readonly timers = new TimerHeap();
  /** The I/O backend: `"epoll"` or `"poll"` (poll(2)). */
  readonly pollerKind: PollerKind;
  private poller: Poller | null = null;
  private readonly fds = new Map<number, FdWatch>();
  private watched = 0;
  private signals: SignalSet | null = null;
  private readonly signalCallbacks = new Map<number, SignalWatch>();
  /** @internal Steps begun: a transport counts what it reads and writes at once per step (net/stream.ts). */
  steps = 0;
  /** Futures of promises (fromPromise) not settled yet: only Node's event loop can settle them. */
  private bridges = 0;
  /** waitForAsync's current idle, shared by every caller; `wake` ends it early. */
  private idling: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private waker: Waker | null = null;
  /** The idle's wait on a worker thread, while it runs: close() must not release its kernel objects under it. */
  private worker: Promise<void> | null = null;
  private readonly onReady = (fd: number, events: number): void => {
    const w = this.fds.get(fd);
    if (w === undefined) {
      if (fd === this.waker?.fd) this.waker.drain();
      return;
    }
    if (events & READ && w.reader !== null) this.queue.push(runReader, w);
    if (events & WRITE && w.writer !== null) this.queue.push(runWriter, w);
  };

  /** A dispatcher of its own; `setGlobalDispatcher` makes it the thread's. */
  constructor(options: DispatcherOptions = {}) {
    if (typeof options !== "object" || options === null) throw new TypeError(`Dispatcher: options must be an object, got ${typeName(options)}`);
    const kind = options.poller ?? defaultPollerKind();
    if (kind !== "epoll" && kind !== "poll") throw new TypeError(`Dispatcher: unknown poller '${String(kind)}', expected 'epoll' or 'poll'`);
    this.pollerKind = kind;
  }

  /**
   * One step: move due timers to the callback queue; wait for I/O (not at all with callbacks queued,
   * else until the next timer); queue the ready readers, writers and signals; move due timers again;
   * run the callbacks queued so far (the ones they queue run next step). A callback's error ends the
   * step and propagates.
   * @throws {DeadlockError} when nothing is queued, no timer is set and nothing is watched: the wait would block forever.
   */
  poll(): void {
    this.turn(true);
  }

  /**
   * A step in which the futures that finish queue their callbacks here: the global dispatcher's queue
   * takes them otherwise, and a dispatcher that is not the global one would never run them.
   */
  private turn(block: boolean): void {
    const active = activeQueue;
    if (active === this.queue) return this.step(block);
    const global = gd;
    setActiveQueue(this.queue);
    try {
      this.step(block);
    } finally {
      // A callback may have installed another global dispatcher meanwhile: its queue is then the one.
      setActiveQueue(gd === global ? active : gd.queue);
    }
  }

  /** One step; without `block` the I/O wait only looks (waitForAsync waits elsewhere, letting Node's loop run). */
  private step(block: boolean): void {
    this.steps++;
    const q = this.queue;
    const timers = this.timers;
    // The clock is read only when a timer is set: performance.now() costs more than a queue-only step.
    let timeout = timers.size > 0 ? timers.moveDue(performance.now(), q) : -1;
    if (q.length > 0 || !block) timeout = 0;
    if (this.watched > 0) this.poller!.wait(timeout, this.onReady);
    else if (timeout > 0) Atomics.wait(sleeper, 0, 0, timeout);
    else if (timeout < 0) throw new DeadlockError(`poll: nothing is queued, no timer is set and no reader, writer or signal is watched${this.which()}; this step would block forever`);
    if (timers.size > 0) timers.moveDue(performance.now(), q);
    // A callback that calls waitFor runs steps of its own, which may empty the queue under this one.
    for (let n = q.length; n > 0 && q.length > 0; n--) q.runOne();
  }

  /** Whether anything (a queued callback, a timer, a watched fd or signal) can still make progress. */
  get busy(): boolean {
    return this.queue.length > 0 || this.timers.size > 0 || this.watched > 0 || this.signalCallbacks.size > 0;
  }

  /**
   * Poll until `f` finishes; return its value or throw its error (`CancelledError` if cancelled).
   * Blocks the thread, Node's event loop with it: a program with other Node work uses `waitForAsync`.
   * @throws {DeadlockError} when nothing could ever finish `f`: no callback queued, no timer, no reader,
   * writer or signal watched (a `fromPromise` future, which only Node's loop settles, included).
   */
  waitFor<F extends Future<any>>(f: F): ValueOf<F> {
    checkFuture(f, "waitFor");
    while (f._state === PENDING) {
      if (!this.busy)
        throw new DeadlockError(
          this.bridges > 0
            ? `waitFor: ${describe(f)} cannot finish while waitFor blocks Node's event loop: no callback is queued, no timer is set and no reader, writer or signal is watched${this.which()}, and the ${this.bridges} promise(s) that fromPromise futures wait on settle only on that loop; if it waits on one of them, use waitForAsync`
            : `waitFor: ${describe(f)} can never finish: no callback is queued, no timer is set and no reader, writer or signal is watched${this.which()}`,
        );
      this.poll();
    }
    return f.read();
  }

  /**
   * As `waitFor`, but between steps Node's event loop runs: its timers, I/O and promises, and so
   * promises that `fromPromise` futures wait on. The dispatcher then idles until a callback is
   * queued, a timer is due, a watched fd or signal may be ready (a wait on a worker thread), or a
   * bridged promise settles.
   *
   * Resolves with `f`'s value or rejects with its error; never with `DeadlockError`, since any of
   * Node's callbacks may still finish `f`.
   *
   * Only the global dispatcher can (another rejects with a TypeError): outside any step, what Node's
   * side finishes queues its callbacks on the global one, so another would never run the resumptions
   * it waits for.
   */
  async waitForAsync<F extends Future<any>>(f: F): Promise<ValueOf<F>> {
    checkFuture(f, "waitForAsync");
    if (this !== gd) throw new TypeError(`waitForAsync: this dispatcher is not the global one, where the futures Node's side finishes queue their callbacks; make it global first (setGlobalDispatcher)`);
    // No DeadlockError here: any of Node's callbacks may still finish `f`. A wait nothing ends is
    // Node's unsettled promise (the process ends when Node has nothing left either).
    // A callback of our own, so that `f` finishing from Node's side queues work, which ends the idle.
    const finished = () => {};
    if (f._state === PENDING) f.addCallback(finished);
    try {
      while (f._state === PENDING) {
        this.turn(false);
        if (f._state !== PENDING) break;
        await (this.idling ??= this.idle().finally(() => {
          this.idling = this.worker = null;
          this.wake = this.queue.onFill = this.timers.onEarlier = null;
        }));
        if (this !== gd) throw new TypeError(`waitForAsync: Node's side made another dispatcher global while ${describe(f)} was waited on, so what finishes it queues there`);
      }
    } finally {
      // Finished, `f` has queued its callbacks: ours, a no-op, leaves the queue unrun (the new global
      // one's when Node's side installed one meanwhile).
      f.removeCallback(finished);
      this.queue.drop(finished, f);
      if (activeQueue !== this.queue) activeQueue.drop(finished, f);
    }
    return f.read();
  }

  /**
   * Until chronots has work: a callback queued, a timer due, a watched fd or signal ready. Node's
   * side may make work meanwhile (a settled promise bridge, a callback it queues, a timer or a watch
   * it adds), and each ends the idle through `wake`.
   */
  private idle(): Promise<void> {
    const q = this.queue;
    const timeout = this.timers.size > 0 ? this.timers.moveDue(performance.now(), q) : -1;
    if (q.length > 0) return new Promise((resolve) => setImmediate(resolve));
    if (this.watched > 0) {
      // Linux wakes the wait through an eventfd; elsewhere it looks again every 10 ms.
      const waker = process.platform === "linux" ? (this.waker ??= new Waker(this.poller!)) : null;
      if (waker) this.wake = this.queue.onFill = this.timers.onEarlier = () => waker.signal();
      return (this.worker = this.poller!.waitAsync(waker || (timeout >= 0 && timeout <= 10) ? timeout : 10));
    }
    return new Promise((resolve) => {
      // Node's timers hold at most 2^31 - 1 ms: a later chronots timer would fire Node's at once, every step.
      const timer = timeout >= 0 ? setTimeout(resolve, Math.min(timeout, 0x7fffffff)) : undefined;
      this.wake = this.queue.onFill = this.timers.onEarlier = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  /** @internal Ends an idle waitForAsync, which then looks again. */
  interrupt(): void {
    this.wake?.();
  }

  /** @internal A promise bridge opens: returns its settle, which ends an idle waitForAsync. */
  openBridge(): () => void {
    this.bridges++;
    let open = true;
    return () => {
      if (!open) return;
      open = false;
      this.bridges--;
      this.wake?.();
    };
  }

  /**
   * Poll forever. With nothing to do it blocks (no `DeadlockError`); a callback's error, such as an
   * `asyncCheck`ed failure, propagates out of it.
   * @throws {DeadlockError} when nothing but promises (`fromPromise`) is pending: only Node's event loop,
   * which the block would stop for good, settles them.
   */
  runForever(): never {
    for (;;) {
      if (!this.busy) {
        // Bridges open on the dispatcher global when they were made: blocking the thread strands those too.
        const promises = this === gd ? this.bridges : this.bridges + gd.bridges;
        if (promises > 0)
          throw new DeadlockError(
            `runForever: nothing is queued, no timer is set and no reader, writer or signal is watched${this.which()}, and the ${promises} promise(s) that fromPromise futures wait on settle only on Node's event loop, which runForever would block for good; wait with waitForAsync instead`,
          );
        Atomics.wait(sleeper, 0, 0);
      }
      this.poll();
    }
  }

  /** For a deadlock's message: where the dispatcher looked, when it is not the one sleeps, timeouts and transports use, or when another has been. */
  private which(): string {
    if (this !== gd) return " on this dispatcher, which is not the global one that sleepAsync, the timeouts and the transports use";
    return switched ? " on the global dispatcher (a sleep, timeout or transport begun while another dispatcher was the global one finishes only on that one)" : "";
  }

  /** Queue `cb()` for the next callback phase. */
  callSoon(cb: () => void): void {
    if (typeof cb !== "function") throw new TypeError(`callSoon: expected a function, got ${typeof cb}`);
    this.queue.push(cb, undefined);
  }

  /**
   * Run `cb()` from the callback queue once `now() >= at` (`at` finite, in `now()` milliseconds); timers
   * fire in deadline order, ties in insertion order. The handle is for `removeTimer`.
   */
  addTimer(at: number, cb: () => void): TimerHandle {
    if (typeof at !== "number") throw new TypeError(`addTimer: deadline must be a number of milliseconds, got ${typeName(at)}`);
    // A timer that can never fire would keep waitFor from ever seeing a deadlock.
    if (!Number.isFinite(at)) throw new RangeError(`addTimer: deadline must be a finite number of milliseconds, got ${String(at)}`);
    if (typeof cb !== "function") throw new TypeError(`addTimer: expected a callback function, got ${typeof cb}`);
    return this.timers.add(at, cb, undefined);
  }

  /** Remove a timer before it fires, from the dispatcher it was added to; `false` if it already fired or was removed. */
  removeTimer(h: TimerHandle): boolean {
    if (!(h instanceof TimerHandle)) throw new TypeError("removeTimer: expected a TimerHandle from addTimer");
    return h.heap.remove(h);
  }

  /** Add file descriptor `fd` to the poller, as `addReader` and `addWriter` need; a RangeError if it already is. */
  register(fd: number): void {
    checkFd(fd, "register");
    if (this.fds.has(fd)) throw new RangeError(`register: fd ${fd} is already registered`);
    (this.poller ??= createPoller(this.pollerKind)).add(fd);
    this.fds.set(fd, { reader: null, writer: null });
  }

  /** Remove `fd` from the poller with its reader and writer; the fd stays open, the caller's to close. */
  unregister(fd: number): void {
    const w = this.entry(fd, "unregister");
    if (w.reader !== null) this.watched--;
    if (w.writer !== null) this.watched--;
    // A callback of this fd queued in this step then does nothing: the fd may be closed, or its number reused, by the time it runs.
    w.reader = w.writer = null;
    this.fds.delete(fd);
    this.poller!.remove(fd);
  }

  /** Run `cb()` from the callback queue in each step in which registered `fd` is readable (level-triggered); replaces its reader. */
  addReader(fd: number, cb: () => void): void {
    this.setWatch(fd, cb, "reader");
  }
  /** Stop watching registered `fd` for reading. */
  removeReader(fd: number): void {
    this.clearWatch(fd, "reader");
  }
  /** Run `cb()` from the callback queue in each step in which registered `fd` is writable (level-triggered); replaces its writer. */
  addWriter(fd: number, cb: () => void): void {
    this.setWatch(fd, cb, "writer");
  }
  /** Stop watching registered `fd` for writing. */
  removeWriter(fd: number): void {
    this.clearWatch(fd, "writer");
  }

  /** Number of registered file descriptors. */
  get registeredFds(): number {
    return this.fds.size;
  }

  /**
   * Run `cb()` from the callback queue when the process receives `sig` (a number or a name, `"SIGINT"`)
   * while this dispatcher runs; deliveries between two steps may merge into one. Returns the id for
   * `removeSignal`, which also lets the dispatcher go: until then the handler keeps it. Refused: SIGKILL,
   * SIGSTOP, the fault signals, SIGUSR1, SIGPIPE, SIGXFSZ.
   */
  addSignal(sig: number | SignalName, cb: () => void): number {
    if (typeof cb !== "function") throw new TypeError(`addSignal: expected a callback function, got ${typeof cb}`);
    const num = signalNumber(sig);
    const set = (this.signals ??= this.openSignals());
    set.add(num);
    // A signal that came while add() set up its pipe is already read and will not wake the fd.
    if (set.pending) this.queue.push(this.drainSignals, undefined);
    const id = nextSignalId++;
    this.signalCallbacks.set(id, { sig: num, cb });
    signalOwners.set(id, this);
    return id;
  }

  private openSignals(): SignalSet {
    const set = new SignalSet();
    this.register(set.fd);
    this.addReader(set.fd, this.drainSignals);
    return set;
  }

  private readonly drainSignals = (): void => {
    if (this.signals === null) return;
    for (const s of this.signals.read()) for (const e of this.signalCallbacks.values()) if (e.sig === s) this.queue.push(runSignal, e);
  };

  /** Remove the handler `addSignal` returned `id` for, from the dispatcher it was added to; a RangeError for an id no handler has. */
  removeSignal(id: number): void {
    if (typeof id !== "number") throw new TypeError(`removeSignal: expected an id from addSignal, got ${typeName(id)}`);
    const owner = signalOwners.get(id);
    if (owner === undefined) throw new RangeError(`removeSignal: no signal handler with id ${id}`);
    owner.dropSignal(id);
  }

  private dropSignal(id: number): void {
    const e = this.signalCallbacks.get(id)!;
    this.signalCallbacks.delete(id);
    signalOwners.delete(id);
    e.cb = null;
    const set = this.signals!;
    if (![...this.signalCallbacks.values()].some((o) => o.sig === e.sig)) set.remove(e.sig);
    if (this.signalCallbacks.size === 0) {
      this.unregister(set.fd);
      set.close();
      this.signals = null;
    }
  }

  /**
   * What a leak check counts: pending futures that have callbacks (on any dispatcher), and this
   * dispatcher's registered fds, timers and queued callbacks.
   */
  trackers(): { futures: number; fds: number; timers: number; callbacks: number } {
    return { futures: waitingFutures(), fds: this.fds.size, timers: this.timers.size, callbacks: this.queue.length };
  }

  /**
   * Release the poller. The dispatcher must have no registered fd left. A waitForAsync idling on a
   * worker thread is woken, and the poller's fds are closed once that wait has returned.
   */
  close(): void {
    if (this.fds.size > 0) throw new RangeError(`close: ${this.fds.size} fd(s) are still registered: ${[...this.fds.keys()].join(", ")}`);
    const { waker, poller, worker } = this;
    this.waker = this.poller = null;
    const release = () => {
      waker?.close();
      poller?.close();
    };
    if (worker === null) return release();
    // A wait on a worker thread would outlive its poller and keep the process alive. It ends only
    // through the waker while the waker is still in the set (a removed one wakes nothing, and the
    // wait sleeps on), so signal it, and release both once the wait has returned.
    waker?.signal();
    // The hooks signal the waker: its number, once released, may be another file's.
    this.wake = this.queue.onFill = this.timers.onEarlier = null;
    worker.then(release);
  }

  private entry(fd: number, what: string): FdWatch {
    checkFd(fd, what);
    const w = this.fds.get(fd);
    if (w === undefined) throw new RangeError(`${what}: fd ${fd} is not registered; call register(fd) first`);
    return w;
  }

  private setWatch(fd: number, cb: () => void, side: "reader" | "writer"): void {
    const w = this.entry(fd, side === "reader" ? "addReader" : "addWriter");
    if (typeof cb !== "function") throw new TypeError(`add${side === "reader" ? "Reader" : "Writer"}: expected a callback function, got ${typeof cb}`);
    // The poller first: a watch the kernel refuses (an fd closed while registered) must not count, or poll() would wait for it forever.
    this.poller!.watch(fd, mask(w) | (side === "reader" ? READ : WRITE));
    if (w[side] === null) {
      this.watched++;
      this.wake?.();
    }
    w[side] = cb;
  }

  private clearWatch(fd: number, side: "reader" | "writer"): void {
    const w = this.entry(fd, side === "reader" ? "removeReader" : "removeWriter");
    if (w[side] === null) return;
    // Forgotten before the poller is told: a removal the kernel refuses still leaves nothing to wait for.
    w[side] = null;
    this.watched--;
    this.poller!.watch(fd, mask(w));
  }
}

/**
 * What the queue runs for a ready fd or a received signal: the reader (writer, handler) there is when
 * the call comes, none if it was removed since the step queued it, as a removed timer does not fire either.
 */
function runReader(w: FdWatch): void {
  const cb = w.reader;
  if (cb !== null) cb();
}
function runWriter(w: FdWatch): void {
  const cb = w.writer;
  if (cb !== null) cb();
}
function runSignal(e: SignalWatch): void {
  const cb = e.cb;
  if (cb !== null) cb();
}

function mask(w: FdWatch): number {
  return (w.reader !== null ? READ : 0) | (w.writer !== null ? WRITE : 0);
}

let gd = new Dispatcher();
setActiveQueue(gd.queue);

/** The thread's dispatcher, which the free functions (`poll`, `waitFor`, `addTimer`…), `sleepAsync` and the timeouts use. */
export function getGlobalDispatcher(): Dispatcher {
  return gd;
}

/**
 * Make `d` the thread's dispatcher. Callbacks already queued on the old one stay there; a
 * `waitForAsync` idling on it ends with a TypeError.
 */
export function setGlobalDispatcher(d: Dispatcher): void {
  if (!(d instanceof Dispatcher)) throw new TypeError("setGlobalDispatcher: expected a Dispatcher");
  const old = gd;
  gd = d;
  switched ||= old !== d;
  setActiveQueue(d.queue);
  // A waitForAsync idling on the old one would wait for callbacks that now queue here: it ends, saying so.
  if (old !== d) old.interrupt();
}

/** Monotonic milliseconds, fractional (`performance.now()`): the clock of `addTimer` deadlines. */
export const now = (): number => performance.now();
/**
 * One step of the global dispatcher: move due timers to the callback queue; wait for I/O (not at all
 * with callbacks queued, else until the next timer); queue the ready readers, writers and signals;
 * move due timers again; run the callbacks queued so far (the ones they queue run next step). A
 * callback's error ends the step and propagates.
 * @throws {DeadlockError} when nothing is queued, no timer is set and nothing is watched: the wait would block forever.
 */
export const poll = (): void => gd.poll();
/**
 * Run the global dispatcher until `f` finishes; return its value or throw its error (`CancelledError`
 * if cancelled). Blocks the thread, Node's event loop with it: a program with other Node work uses
 * `await waitForAsync(f)`.
 * @throws {DeadlockError} when nothing could ever finish `f`: no callback queued, no timer, no reader,
 * writer or signal watched (a `fromPromise` future, which only Node's loop settles, included).
 */
export const waitFor = <F extends Future<any>>(f: F): ValueOf<F> => gd.waitFor(f);
/**
 * `waitFor` for an `async` function of Node's: runs the global dispatcher's steps until `f` finishes,
 * letting Node's event loop (its timers, I/O, promises, `fromPromise` bridges) run between them.
 * Resolves with `f`'s value or rejects with its error; never with `DeadlockError`. The global
 * dispatcher only: it rejects with a TypeError if another is made global meanwhile.
 */
export const waitForAsync = <F extends Future<any>>(f: F): Promise<ValueOf<F>> => gd.waitForAsync(f);
/**
 * Poll the global dispatcher forever. With nothing to do it blocks (no `DeadlockError`); a callback's
 * error, such as an `asyncCheck`ed failure, propagates out of it.
 */
export const runForever = (): never => gd.runForever();
/** Queue `cb()` on the global dispatcher for its next callback phase. */
export const callSoon = (cb: () => void): void => gd.callSoon(cb);
/**
 * Run `cb()` from the callback queue once `now() >= at` (`at` finite, in `now()` milliseconds); timers
 * fire in deadline order, ties in insertion order. The handle is for `removeTimer`.
 */
export const addTimer = (at: number, cb: () => void): TimerHandle => gd.addTimer(at, cb);
/**
 * Remove a timer of `addTimer` before it fires; `false` if it already fired or was removed. It leaves
 * the dispatcher it was added to, even after `setGlobalDispatcher` installed another.
 */
export const removeTimer = (h: TimerHandle): boolean => gd.removeTimer(h);
/** Add file descriptor `fd` to the global dispatcher's poller, as `addReader` and `addWriter` need; a RangeError if it already is. */
export const register = (fd: number): void => gd.register(fd);
/** Remove `fd` from the global dispatcher's poller with its reader and writer; the fd stays open, the caller's to close. */
export const unregister = (fd: number): void => gd.unregister(fd);
/**
 * Run `cb()` from the callback queue in each step in which `fd` is readable (level-triggered); replaces
 * its reader. `fd` must be registered first (`register`), else a RangeError.
 */
export const addReader = (fd: number, cb: () => void): void => gd.addReader(fd, cb);
/** Stop watching registered `fd` for reading. */
export const removeReader = (fd: number): void => gd.removeReader(fd);
/**
 * Run `cb()` from the callback queue in each step in which `fd` is writable (level-triggered); replaces
 * its writer. `fd` must be registered first (`register`), else a RangeError.
 */
export const addWriter = (fd: number, cb: () => void): void => gd.addWriter(fd, cb);
/** Stop watching registered `fd` for writing. */
export const removeWriter = (fd: number): void => gd.removeWriter(fd);
/**
 * Run `cb()` from the callback queue when the process receives `sig` (a number or a name, `"SIGINT"`)
 * while the dispatcher runs; deliveries between two steps may merge into one. Returns the id for
 * `removeSignal`. Refused: SIGKILL, SIGSTOP, the fault signals, SIGUSR1, SIGPIPE, SIGXFSZ.
 */
export const addSignal = (sig: number | SignalName, cb: () => void): number => gd.addSignal(sig, cb);
/** Remove the handler `addSignal` returned `id` for, from the dispatcher it was added to; a RangeError for an id no handler has. */
export const removeSignal = (id: number): void => gd.removeSignal(id);
/**
 * What a leak check counts: pending futures that have callbacks (on any dispatcher), and the global
 * dispatcher's registered fds, timers and queued callbacks.
 */
export const trackers = () => gd.trackers();
