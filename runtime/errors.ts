/**
 * The errors chronots throws. Each is a class of its own so callers can tell them apart with
 * `instanceof`; every message names the future or the argument it is about.
 */

/** A programming error: `complete` or `fail` on a future that has already completed or failed. Not meant to be caught. */
export class FutureDefect extends Error {
  override name = "FutureDefect";
}

/** `read()` on a future that has not finished yet. */
export class FuturePendingError extends Error {
  override name = "FuturePendingError";
}

/** The error of a cancelled future; thrown by `yield*` and `read()` on it. Escaping an async body, it cancels that call's future. */
export class CancelledError extends Error {
  override name = "CancelledError";
}

/** `wait(f, ms)` ran out of time before `f` finished. */
export class AsyncTimeoutError extends Error {
  override name = "AsyncTimeoutError";
}

/** `waitFor(f)` found nothing that could ever finish `f`, or `poll()` nothing to wait for: no queued callback, no timer, no watched fd or signal. */
export class DeadlockError extends Error {
  override name = "DeadlockError";
}

/** A system call failed; `code` is the errno name (`EBADF`, `ENOENT`…). */
export class OSError extends Error {
  override name = "OSError";
  /** The message reads `syscall (detail): code`. */
  constructor(
    /** The system call that failed, as `epoll_ctl`. */
    readonly syscall: string,
    /** The errno name, as `EBADF`. */
    readonly code: string,
    /** The errno number. */
    readonly errno: number,
    detail?: string,
  ) {
    super(`${syscall}${detail ? ` (${detail})` : ""}: ${code}`);
  }
}
