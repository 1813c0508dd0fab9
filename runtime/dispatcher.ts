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
import { checkFuture, describe, Future, PENDING, type ValueOf, waitingFutures } from "./future.js";
import { createPoller, defaultPollerKind } from "./poller/index.js";
import { READ, WRITE, type Poller, type PollerKind } from "./poller/poller.js";
import { type SignalName, SignalSet, signalNumber } from "./poller/signals.js";
import { Waker } from "./poller/waker.js";
import { activeQueue, CallbackQueue, setActiveQueue } from "./queue.js";
import { TimerHandle, TimerHeap } from "./timerheap.js";

const sleeper = new Int32Array(new SharedArrayBuffer(4));

interface FdWatch {
  reader: (() => void) | null;
  writer: (() => void) | null;
}

export interface DispatcherOptions {
  /** I/O backend; default `CHRONOTS_POLLER` from the environment, else epoll on Linux, poll elsewhere. */
  poller?: PollerKind;
}

export class Dispatcher {
  /** @internal */ readonly queue = new CallbackQueue();
  /** @internal */ readonly timers = new TimerHeap();
  readonly pollerKind: PollerKind;
  private poller: Poller | null = null;
  private readonly fds = new Map<number, FdWatch>();
  private watched = 0;
  private signals: SignalSet | null = null;
  private readonly signalCallbacks = new Map<number, { sig: number; cb: () => void }>();
  private nextSignalId = 1;
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
    if (events & READ && w.reader !== null) this.queue.push(w.reader, undefined);
    if (events & WRITE && w.writer !== null) this.queue.push(w.writer, undefined);
  };

  constructor(options: DispatcherOptions = {}) {
    const kind = options.poller ?? defaultPollerKind();
    if (kind !== "epoll" && kind !== "poll") throw new TypeError(`Dispatcher: unknown poller '${String(kind)}', expected 'epoll' or 'poll'`);
    this.pollerKind = kind;
  }

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
    const q = this.queue;
    const timers = this.timers;
    // The clock is read only when a timer is set: performance.now() costs more than a queue-only step.
    let timeout = timers.size > 0 ? timers.moveDue(performance.now(), q) : -1;
    if (q.length > 0 || !block) timeout = 0;
    if (this.watched > 0) this.poller!.wait(timeout, this.onReady);
    else if (timeout > 0) Atomics.wait(sleeper, 0, 0, timeout);
    else if (timeout < 0) throw new DeadlockError("poll: nothing is queued, no timer is set and no reader, writer or signal is watched; this step would block forever");
    if (timers.size > 0) timers.moveDue(performance.now(), q);
    // A callback that calls waitFor runs steps of its own, which may empty the queue under this one.
    for (let n = q.length; n > 0 && q.length > 0; n--) q.runOne();
  }

  /** Whether anything (a queued callback, a timer, a watched fd or signal) can still make progress. */
  get busy(): boolean {
    return this.queue.length > 0 || this.timers.size > 0 || this.watched > 0 || this.signalCallbacks.size > 0;
  }

  waitFor<F extends Future<any>>(f: F): ValueOf<F> {
    checkFuture(f, "waitFor");
    while (f._state === PENDING) {
      if (!this.busy)
        throw new DeadlockError(
          this.bridges > 0
            ? `waitFor: ${describe(f)} cannot finish while waitFor blocks Node's event loop: no callback is queued, no timer is set and no reader, writer or signal is watched, and the ${this.bridges} promise(s) that fromPromise futures wait on settle only on that loop; if it waits on one of them, use waitForAsync`
            : `waitFor: ${describe(f)} can never finish: no callback is queued, no timer is set and no reader, writer or signal is watched`,
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
   * Only the global dispatcher can: outside any step, what Node's side finishes queues its callbacks
   * on the global one, so another would never run the resumptions it waits for.
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

  runForever(): never {
    for (;;) {
      if (!this.busy) Atomics.wait(sleeper, 0, 0);
      this.poll();
    }
  }

  callSoon(cb: () => void): void {
    if (typeof cb !== "function") throw new TypeError(`callSoon: expected a function, got ${typeof cb}`);
    this.queue.push(cb, undefined);
  }

  addTimer(at: number, cb: () => void): TimerHandle {
    if (typeof at !== "number") throw new TypeError(`addTimer: deadline must be a number of milliseconds, got ${typeof at}`);
    // A timer that can never fire would keep waitFor from ever seeing a deadlock.
    if (!Number.isFinite(at)) throw new RangeError(`addTimer: deadline must be a finite number of milliseconds, got ${String(at)}`);
    if (typeof cb !== "function") throw new TypeError(`addTimer: expected a callback function, got ${typeof cb}`);
    return this.timers.add(at, cb, undefined);
  }

  removeTimer(h: TimerHandle): boolean {
    if (!(h instanceof TimerHandle)) throw new TypeError("removeTimer: expected a TimerHandle from addTimer");
    return h.heap.remove(h);
  }

  register(fd: number): void {
    checkFd(fd, "register");
    if (this.fds.has(fd)) throw new RangeError(`register: fd ${fd} is already registered`);
    (this.poller ??= createPoller(this.pollerKind)).add(fd);
    this.fds.set(fd, { reader: null, writer: null });
  }

  unregister(fd: number): void {
    const w = this.entry(fd, "unregister");
    if (w.reader !== null) this.watched--;
    if (w.writer !== null) this.watched--;
    this.fds.delete(fd);
    this.poller!.remove(fd);
  }

  addReader(fd: number, cb: () => void): void {
    this.setWatch(fd, cb, "reader");
  }
  removeReader(fd: number): void {
    this.clearWatch(fd, "reader");
  }
  addWriter(fd: number, cb: () => void): void {
    this.setWatch(fd, cb, "writer");
  }
  removeWriter(fd: number): void {
    this.clearWatch(fd, "writer");
  }

  /** Number of registered file descriptors. */
  get registeredFds(): number {
    return this.fds.size;
  }

  addSignal(sig: number | SignalName, cb: () => void): number {
    if (typeof cb !== "function") throw new TypeError(`addSignal: expected a callback function, got ${typeof cb}`);
    const num = signalNumber(sig);
    const set = (this.signals ??= this.openSignals());
    set.add(num);
    // A signal that came while add() set up its pipe is already read and will not wake the fd.
    if (set.pending) this.queue.push(this.drainSignals, undefined);
    const id = this.nextSignalId++;
    this.signalCallbacks.set(id, { sig: num, cb });
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
    for (const s of this.signals.read()) for (const e of this.signalCallbacks.values()) if (e.sig === s) this.queue.push(e.cb, undefined);
  };

  removeSignal(id: number): void {
    const e = this.signalCallbacks.get(id);
    if (e === undefined) throw new RangeError(`removeSignal: no signal handler with id ${id}`);
    this.signalCallbacks.delete(id);
    const set = this.signals!;
    if (![...this.signalCallbacks.values()].some((o) => o.sig === e.sig)) set.remove(e.sig);
    if (this.signalCallbacks.size === 0) {
      this.unregister(set.fd);
      set.close();
      this.signals = null;
    }
  }

  /** Counts for leak checks: what is still outstanding on this dispatcher. */
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
    if (w[side] === null) {
      this.watched++;
      this.wake?.();
    }
    w[side] = cb;
    this.poller!.watch(fd, mask(w));
  }

  private clearWatch(fd: number, side: "reader" | "writer"): void {
    const w = this.entry(fd, side === "reader" ? "removeReader" : "removeWriter");
    if (w[side] === null) return;
    w[side] = null;
    this.watched--;
    this.poller!.watch(fd, mask(w));
  }
}

function mask(w: FdWatch): number {
  return (w.reader !== null ? READ : 0) | (w.writer !== null ? WRITE : 0);
}

function checkFd(fd: number, what: string): void {
  if (!Number.isInteger(fd) || fd < 0 || fd > 0x7fffffff) throw new TypeError(`${what}: fd must be a non-negative integer, got ${String(fd)}`);
}

let gd = new Dispatcher();
setActiveQueue(gd.queue);

export function getGlobalDispatcher(): Dispatcher {
  return gd;
}

/** Make `d` the thread's dispatcher. Callbacks already queued on the old one stay there. */
export function setGlobalDispatcher(d: Dispatcher): void {
  if (!(d instanceof Dispatcher)) throw new TypeError("setGlobalDispatcher: expected a Dispatcher");
  const old = gd;
  gd = d;
  setActiveQueue(d.queue);
  // A waitForAsync idling on the old one would wait for callbacks that now queue here: it ends, saying so.
  if (old !== d) old.interrupt();
}

export const now = (): number => performance.now();
export const poll = (): void => gd.poll();
export const waitFor = <F extends Future<any>>(f: F): ValueOf<F> => gd.waitFor(f);
export const waitForAsync = <F extends Future<any>>(f: F): Promise<ValueOf<F>> => gd.waitForAsync(f);
export const runForever = (): never => gd.runForever();
export const callSoon = (cb: () => void): void => gd.callSoon(cb);
export const addTimer = (at: number, cb: () => void): TimerHandle => gd.addTimer(at, cb);
export const removeTimer = (h: TimerHandle): boolean => gd.removeTimer(h);
export const register = (fd: number): void => gd.register(fd);
export const unregister = (fd: number): void => gd.unregister(fd);
export const addReader = (fd: number, cb: () => void): void => gd.addReader(fd, cb);
export const removeReader = (fd: number): void => gd.removeReader(fd);
export const addWriter = (fd: number, cb: () => void): void => gd.addWriter(fd, cb);
export const removeWriter = (fd: number): void => gd.removeWriter(fd);
export const addSignal = (sig: number | SignalName, cb: () => void): number => gd.addSignal(sig, cb);
export const removeSignal = (id: number): void => gd.removeSignal(id);
export const trackers = () => gd.trackers();
