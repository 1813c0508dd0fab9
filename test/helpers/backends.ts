/**
 * The pollers every I/O test runs against: both on Linux, only poll(2) elsewhere. Use with
 * `describe.each(backends)` and `useDispatcher(kind)` so each test gets a fresh dispatcher of that
 * kind as the global one, closed and replaced by the previous one afterwards.
 */
import { afterEach, beforeEach } from "vitest";
import { Dispatcher, getGlobalDispatcher, setGlobalDispatcher } from "../../runtime/index.js";
import type { PollerKind } from "../../runtime/poller/poller.js";

export const backends: PollerKind[] = process.platform === "linux" ? ["epoll", "poll"] : ["poll"];

/** Registers hooks giving each test of the enclosing block its own dispatcher; returns a getter for it. */
export function useDispatcher(kind: PollerKind): () => Dispatcher {
  let d: Dispatcher | null = null;
  let saved: Dispatcher | null = null;
  beforeEach(() => {
    saved = getGlobalDispatcher();
    d = new Dispatcher({ poller: kind });
    setGlobalDispatcher(d);
  });
  afterEach(() => {
    setGlobalDispatcher(saved!);
    d!.close();
  });
  return () => d!;
}
