/**
 * Letting a future run on without waiting for it. Dropping a future silently loses its error, so
 * chronots offers two explicit ways, and the transformer reports every other drop.
 */
import { checkFuture, FAILED, type Future } from "./future.js";

function raise(f: Future<any>): void {
  if (f._state === FAILED) throw f._result;
}

/** Fire and forget, loudly: if `f` fails, its error is thrown out of the dispatcher (`poll`, `waitFor`, `runForever`). */
export function asyncCheck(f: Future<any>): void {
  checkFuture(f, "asyncCheck");
  f.addCallback(raise);
}

/** Fire and forget, on purpose: whatever `f` ends with is ignored. */
export function asyncDiscard(f: Future<any>): void {
  checkFuture(f, "asyncDiscard");
}

