/**
 * Timers: a binary min-heap ordered by (deadline, insertion number), so equal deadlines fire in
 * the order they were added. Each timer keeps its own index in the heap, which makes removal
 * O(log n): swap with the last entry, then sift that one up or down.
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
    /** @internal */ readonly seq: number,
    /** @internal */ readonly fn: Callback,
    /** @internal */ readonly arg: unknown,
    /** @internal the heap it was added to, which is the one to remove it from whatever dispatcher is global by then */ readonly heap: TimerHeap,
  ) {
    if (key !== INTERNAL) throw new TypeError("TimerHandle: use addTimer(); it cannot be constructed");
  }

  /** @internal the heap's way to make one */
  static _create(at: number, seq: number, fn: Callback, arg: unknown, heap: TimerHeap): TimerHandle {
    return new TimerHandle(INTERNAL, at, seq, fn, arg, heap);
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
  private seq = 0;

  get size(): number {
    return this.heap.length;
  }

  /** Called when a new timer is due before every other, while waitForAsync idles until the earliest. */
  onEarlier: (() => void) | null = null;

  add(at: number, fn: Callback, arg: unknown): TimerHandle {
    const t = TimerHandle._create(at, this.seq++, fn, arg, this);
    t.index = this.heap.length;
    this.heap.push(t);
    this.up(t.index);
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
    const last = this.heap.pop()!;
    if (last !== t) {
      this.heap[i] = last;
      last.index = i;
      this.down(i);
      this.up(last.index);
    }
    return true;
  }

  /** Queue every timer due at `now`; return the milliseconds until the next one, or -1 when none is left. */
  moveDue(now: number, q: CallbackQueue): number {
    const h = this.heap;
    while (h.length > 0) {
      const t = h[0]!;
      if (t.at > now) return t.at - now;
      this.remove(t);
      t.index = QUEUED;
      q.push(fire, t);
    }
    return -1;
  }

  private less(a: TimerHandle, b: TimerHandle): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  private up(i: number): void {
    const h = this.heap;
    const t = h[i]!;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(t, h[p]!)) break;
      h[i] = h[p]!;
      h[i]!.index = i;
      i = p;
    }
    h[i] = t;
    t.index = i;
  }

  private down(i: number): void {
    const h = this.heap;
    const n = h.length;
    const t = h[i]!;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && this.less(h[c + 1]!, h[c]!)) c++;
      if (!this.less(h[c]!, t)) break;
      h[i] = h[c]!;
      h[i]!.index = i;
      i = c;
    }
    h[i] = t;
    t.index = i;
  }
}
