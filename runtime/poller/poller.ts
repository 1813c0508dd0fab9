/**
 * The poller: the "wait for I/O" step of the dispatcher, behind one small interface so the backend
 * can be swapped (epoll on Linux, poll(2) elsewhere, later libuv's own loop).
 *
 * The dispatcher keeps the per-fd readers and writers; a poller only knows interest masks and
 * reports readiness. Errors and hang-ups are reported as readiness for whatever was watched, so
 * the callback's own read or write sees the error. Readiness is level-triggered: an fd that stays
 * ready is reported again by the next `wait`.
 */
import { typeName } from "../future.js";

export const READ = 1;
export const WRITE = 2;

/** The poller a dispatcher waits with: `epoll` (the default on Linux) or `poll(2)` (elsewhere); `CHRONOTS_POLLER` or the `poller` option choose. */
export type PollerKind = "epoll" | "poll";

export interface Poller {
  readonly kind: PollerKind;
  /** Start watching `fd` with no interest yet; an OSError (EBADF…) for a bad fd. */
  add(fd: number): void;
  /** Stop watching `fd`. An fd the caller already closed is simply forgotten. */
  remove(fd: number): void;
  /** Set the interest mask of an added fd (READ | WRITE, or 0). */
  watch(fd: number, events: number): void;
  /** Block up to `timeout` ms (-1: no limit, 0: just look) and report each ready fd once. */
  wait(timeout: number, ready: (fd: number, events: number) => void): void;
  /**
   * The same wait on a worker thread, so Node's event loop runs meanwhile; settles once an fd may be
   * ready or `timeout` passed, and reports nothing: the `wait(0)` after it does. (waitForAsync idles so.)
   */
  waitAsync(timeout: number): Promise<void>;
  /** Release the kernel object; the poller is unusable afterwards. */
  close(): void;
}

/**
 * Checked before any kernel call (the dispatcher's, the pollers', the transports'): a wrong fd must be an
 * error here, not a call on some other fd. As Node's own `fs` does: a TypeError for what is no number,
 * a RangeError for a number no fd can be (C takes an fd as an int32).
 */
export function checkFd(fd: unknown, what: string): asserts fd is number {
  if (typeof fd !== "number") throw new TypeError(`${what}: fd must be a number, got ${typeName(fd)}`);
  if (!Number.isInteger(fd) || fd < 0 || fd > 0x7fffffff) throw new RangeError(`${what}: fd must be an integer from 0 to 2147483647, got ${fd}`);
}

export function checkMask(events: number, what: string): void {
  if (events !== 0 && events !== READ && events !== WRITE && events !== (READ | WRITE))
    throw new TypeError(`${what}: events must be a mask of READ (1) and WRITE (2), got ${String(events)}`);
}

/** A dispatcher timeout (fractional ms, negative for none) as the kernel's int milliseconds, rounded up so a wait never ends before the timer is due. */
export function kernelTimeout(ms: number): number {
  return ms < 0 ? -1 : Math.min(Math.ceil(ms), 0x7fffffff);
}

/** A koffi function called on a worker thread: the arguments, then a callback for when it returns. */
export interface AsyncCall {
  async(...args: unknown[]): void;
}
