/**
 * Ready-made outcomes for transport calls: a future that has already completed or failed, so a call
 * that can answer at once (data already buffered, a send the kernel took whole, a bad argument)
 * returns without a trip through the dispatcher; and the default report for errors that have no
 * caller to go to (a failed connection handler, a throwing datagram callback).
 */
import { Future, typeName } from "../future.js";

export function done<T>(value: T, name: string): Future<T> {
  const f = new Future<T>(name);
  f.complete(value);
  return f;
}

export function failed<T>(error: unknown, name: string): Future<T> {
  const f = new Future<T>(name);
  f.fail(error);
  return f;
}

/** An `onError` option, checked and taken when the transport is made: a wrong one would otherwise throw out of whatever waits when the first error comes. */
export function checkOnError<F extends Function>(onError: F | null | undefined, what: string): F | null {
  if (onError != null && typeof onError !== "function") throw new TypeError(`${what}: options.onError must be a function, got ${typeName(onError)}`);
  return onError ?? null;
}

/** Where errors without a caller go when the user gave no `onError`: stderr, never a crash. */
export function reportToStderr(error: unknown, where: string): void {
  console.error(`chronots/net: ${where}:`, error);
}
