/**
 * Runs around every test file: nothing may be left behind. A pending future that still has
 * callbacks, a registered fd, a timer, a queued callback or an open file descriptor after the file's
 * tests means something leaked.
 */
import { readdirSync } from "node:fs";
import { afterAll, beforeAll, expect } from "vitest";
import { getGlobalDispatcher } from "../runtime/index.js";

const openFds = () => readdirSync("/proc/self/fd").length;
let fdsAtStart = 0;

beforeAll(() => {
  fdsAtStart = openFds();
});

afterAll(() => {
  const d = getGlobalDispatcher();
  // Let callbacks that are already queued (finished futures telling their waiters) run out.
  for (let i = 0; i < 100 && d.queue.length > 0; i++) d.poll();
  expect(d.trackers(), "outstanding work after this test file").toEqual({ futures: 0, fds: 0, timers: 0, callbacks: 0 });
  expect(openFds(), "open file descriptors after this test file").toBe(fdsAtStart);
});
