/**
 * Runs around every test file: nothing may be left behind. A pending future that still has
 * callbacks, a registered fd, a timer, a queued callback or an open file descriptor after the file's
 * tests means something leaked. And a test that blocks its thread for good (a waitFor that never
 * returns) must fail the run, not hang it: the watchdog (test/helpers/watchdog.ts) kills its process.
 */
import { readdirSync } from "node:fs";
import { afterAll, beforeAll, beforeEach, expect } from "vitest";
import { getGlobalDispatcher } from "../runtime/index.js";
import { startWatchdog, unwatch, watch } from "./helpers/watchdog.js";

const openFds = () => readdirSync("/proc/self/fd").length;
let fdsAtStart = 0;
// Started now, the watchdog's thread comes up while the test file loads.
const watchdog = startWatchdog();

beforeAll(async () => {
  // That thread opens fds of its own as it starts: count after.
  await watchdog;
  fdsAtStart = openFds();
});

// First of the file's beforeEach hooks; and the test's first onTestFinished callback runs last, after
// its afterEach hooks, even when one of those throws.
beforeEach(({ task, onTestFinished }) => {
  watch(task);
  onTestFinished(unwatch);
});

afterAll(() => {
  const d = getGlobalDispatcher();
  // Let callbacks that are already queued (finished futures telling their waiters) run out.
  for (let i = 0; i < 100 && d.queue.length > 0; i++) d.poll();
  expect(d.trackers(), "outstanding work after this test file").toEqual({ futures: 0, fds: 0, timers: 0, callbacks: 0 });
  expect(openFds(), "open file descriptors after this test file").toBe(fdsAtStart);
});
