/**
 * The callback queue: a ring buffer of (function, argument) pairs.
 *
 * Storing the argument beside the function means a future can queue its waiting callbacks with the
 * future itself as argument, and a resumed coroutine needs no closure per resumption. The buffer
 * doubles when full and never shrinks, so a steady state allocates nothing.
 */
export type Callback = (arg: any) => void;

export class CallbackQueue {
  private fns: (Callback | undefined)[] = new Array(64);
  private args: unknown[] = new Array(64);
  private head = 0;
  /** Number of queued pairs. */
  length = 0;
  /** Called by a push into the empty queue while waitForAsync idles: the callback must end the idle. */
  onFill: (() => void) | null = null;

  push(fn: Callback, arg: unknown): void {
    if (this.length === 0 && this.onFill !== null) this.onFill();
    const cap = this.fns.length;
    if (this.length === cap) this.grow(cap);
    const i = (this.head + this.length) & (this.fns.length - 1);
    this.fns[i] = fn;
    this.args[i] = arg;
    this.length++;
  }

  /** Take the oldest pair and call it. The pair leaves the queue before the call, so a throw loses nothing else. */
  runOne(): void {
    const i = this.head;
    const fn = this.fns[i]!;
    const arg = this.args[i];
    this.fns[i] = undefined;
    this.args[i] = undefined;
    this.head = (i + 1) & (this.fns.length - 1);
    this.length--;
    fn(arg);
  }

  /** Take the pair (fn, arg) out of the queue unrun, if it is there; the pairs after it keep their order. */
  drop(fn: Callback, arg: unknown): void {
    const mask = this.fns.length - 1;
    let k = 0;
    while (k < this.length && !(this.fns[(this.head + k) & mask] === fn && this.args[(this.head + k) & mask] === arg)) k++;
    if (k === this.length) return;
    for (; k < this.length - 1; k++) {
      const to = (this.head + k) & mask;
      const from = (to + 1) & mask;
      this.fns[to] = this.fns[from];
      this.args[to] = this.args[from];
    }
    const last = (this.head + this.length - 1) & mask;
    this.fns[last] = undefined;
    this.args[last] = undefined;
    this.length--;
  }

  private grow(cap: number): void {
    const fns: (Callback | undefined)[] = new Array(cap * 2);
    const args: unknown[] = new Array(cap * 2);
    for (let k = 0; k < cap; k++) {
      const j = (this.head + k) & (cap - 1);
      fns[k] = this.fns[j];
      args[k] = this.args[j];
    }
    this.fns = fns;
    this.args = args;
    this.head = 0;
  }
}

/** The queue of the global dispatcher; futures queue their callbacks here. */
export let activeQueue = new CallbackQueue();

export function setActiveQueue(q: CallbackQueue): void {
  activeQueue = q;
}
