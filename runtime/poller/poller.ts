/**
 * The poller: the "wait for I/O" step of the dispatcher, behind one small interface so the backend
 * can be swapped (epoll on Linux, poll(2) elsewhere, later libuv's own loop).
 *
 * The dispatcher keeps the per-fd readers and writers; a poller only knows interest masks and
 * reports readiness. Errors and hang-ups are reported as readiness for whatever was watched, so
 * the callback's own read or write sees the error.
 */
export const READ = 1;
export const WRITE = 2;

export type PollerKind = "epoll" | "poll";

export interface Poller {
  readonly kind: PollerKind;
  /** Start watching `fd` with no interest yet; an OSError (EBADF…) for a bad fd. */
  add(fd: number): void;
  remove(fd: number): void;
  /** Set the interest mask of an added fd (READ | WRITE, or 0). */
  watch(fd: number, events: number): void;
  /** Block up to `timeout` ms (-1: no limit, 0: just look) and report each ready fd once. */
  wait(timeout: number, ready: (fd: number, events: number) => void): void;
  close(): void;
}
