/**
 * Timers: a four-ary min-heap ordered by (deadline, insertion number), so equal deadlines fire in
 * the order they were added. Each timer keeps its own index in the heap, which makes removal
 * O(log n): the last entry takes its place, then sifts down or up.
 */
import type { Callback, CallbackQueue } from "./queue.js";

/** Held by this module only: a `new TimerHandle()` from plain JavaScript, without it, is refused. */
const INTERNAL: unique symbol = Symbol("TimerHandle");

/** A timer added with `addTimer`; pass it to `removeTimer`. Not constructed by users (the constructor is private). */
export class TimerHandle {
  /** @internal position in the heap; QUEUED when due, in the callback queue; -1 once fired or removed */ index = -1;
  private constructor(
    key: typeof INTERNAL,
    /** The deadline, in `now()` milliseconds. */
    readonly at: number,
    /** @internal */ readonly fn: Callback,
    /** @internal */ readonly arg: unknown,
    /** @internal the heap it was added to, which is the one to remove it from whatever dispatcher is global by then */ readonly heap: TimerHeap,
  ) {
    if (key !== INTERNAL) throw new TypeError("TimerHandle: use addTimer(); it cannot be constructed");
  }

  /** @internal the heap's way to make one */
  static _create(at: number, fn: Callback, arg: unknown, heap: TimerHeap): TimerHandle {
    return new TimerHandle(INTERNAL, at, fn, arg, heap);
  }

  /** Still waiting to fire: in the heap, or due and queued. */
  get active(): boolean {
    return this.index !== -1;
  }
}

/** A due timer's index: out of the heap, in the callback queue, where `remove` can still stop it. */
const QUEUED = -2;

/** What the queue runs for a due timer: its callback, unless the timer was removed since it was queued. */
function fire(t: TimerHandle): void {
  if (t.index !== QUEUED) return;
  t.index = -1;
  // Called plainly, as the queue calls: as a method of `t` its `this` would be the handle.
  const fn = t.fn;
  fn(t.arg);
}

export class TimerHeap {
  private heap: TimerHandle[] = [];
  /**
   * Each entry's deadline and insertion number, at its index: sifting compares numbers lying side by side
   * instead of reading the handles, which lie all over memory (with 100,000 timers, a pop read a few cache
   * lines per level). Four children per node halve the levels, and their keys share a cache line.
   */
  private ats = new Float64Array(64);
  private seqs = new Float64Array(64);
  private seq = 0;

  get size(): number {
    return this.heap.length;
  }

  /** Called when a new timer is due before every other, while waitForAsync idles until the earliest. */
  onEarlier: (() => void) | null = null;

  add(at: number, fn: Callback, arg: unknown): TimerHandle {
    const seq = this.seq++;
    const t = TimerHandle._create(at, fn, arg, this);
    const i = this.heap.length;
    if (i === this.ats.length) this.grow();
    this.heap.push(t);
    this.up(t, at, seq, i);
    if (t.index === 0 && this.onEarlier !== null) this.onEarlier();
    return t;
  }

  /** Remove `t`, also when it is due and queued: it then stays in the queue, and does nothing; `false` when it already fired or was removed. */
  remove(t: TimerHandle): boolean {
    const i = t.index;
    if (i === QUEUED) {
      t.index = -1;
      return true;
    }
    if (i < 0 || this.heap[i] !== t) return false;
    t.index = -1;
    const n = this.heap.length - 1;
    const last = this.heap.pop()!;
    if (last !== t) {
      const at = this.ats[n]!;
      const seq = this.seqs[n]!;
      this.down(last, at, seq, i);
      if (last.index === i) this.up(last, at, seq, i);
    }
    return true;
  }

  /** Queue every timer due at `now`; return the milliseconds until the next one, or -1 when none is left. */
  moveDue(now: number, q: CallbackQueue): number {
    const h = this.heap;
    while (h.length > 0) {
      const at = this.ats[0]!;
      if (at > now) return at - now;
      const t = h[0]!;
      this.remove(t);
      t.index = QUEUED;
      q.push(fire, t);
    }
    return -1;
  }

  private grow(): void {
    const ats = new Float64Array(this.ats.length * 2);
    const seqs = new Float64Array(this.seqs.length * 2);
    ats.set(this.ats);
    seqs.set(this.seqs);
    this.ats = ats;
    this.seqs = seqs;
  }

  /** Put `t` (deadline `at`, insertion `seq`) at `i`, or above it while it comes before its parent. */
  private up(t: TimerHandle, at: number, seq: number, i: number): void {
    const { heap, ats, seqs } = this;
    while (i > 0) {
      const p = (i - 1) >> 2;
      if (!(at < ats[p]! || (at === ats[p] && seq < seqs[p]!))) break;
      this.move(p, i);
      i = p;
    }
    heap[i] = t;
    ats[i] = at;
    seqs[i] = seq;
    t.index = i;
  }

  /** Put `t` at `i`, or below it while a child comes before it. */
  private down(t: TimerHandle, at: number, seq: number, i: number): void {
    const { heap, ats, seqs } = this;
    const n = heap.length;
    for (;;) {
      const first = 4 * i + 1;
      if (first >= n) break;
      let c = first;
      const end = Math.min(first + 4, n);
      for (let k = first + 1; k < end; k++) if (ats[k]! < ats[c]! || (ats[k] === ats[c] && seqs[k]! < seqs[c]!)) c = k;
      if (!(ats[c]! < at || (ats[c] === at && seqs[c]! < seq))) break;
      this.move(c, i);
      i = c;
    }
    heap[i] = t;
    ats[i] = at;
    seqs[i] = seq;
    t.index = i;
  }

  private move(from: number, to: number): void {
    const t = this.heap[from]!;
    this.heap[to] = t;
    this.ats[to] = this.ats[from]!;
    this.seqs[to] = this.seqs[from]!;
    t.index = to;
  }
}
