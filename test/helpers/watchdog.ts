/**
 * A watchdog for tests that block their thread, which test/setup.ts arms around every test.
 *
 * `waitFor` on a future that never finishes blocks the thread in the dispatcher's wait (epoll_wait,
 * Atomics.wait). vitest's testTimeout is a timer on that thread's event loop, so it never fires and
 * the run would hang rather than fail. Hence a worker thread per test process (the forks pool runs
 * each test file in a process of its own): every second it reads, from shared memory, the running
 * test's deadline and a message naming it. Past the deadline it writes the message to fd 2 with
 * writeSync (process.stderr would flush through the blocked main thread) and kills the process: vitest
 * reports "Worker exited unexpectedly", test/summary.ts counts it as failed and the run ends non-zero.
 *
 * The deadline is the test's own timeout plus SLACK_MS, and past it the watchdog acts only while the
 * thread is blocked: the main thread stamps the time into shared memory every second from its event
 * loop, and a stamp older than STALE_MS means no turn of that loop has run since. A test that yields to
 * the event loop, however long it waits (no timeout, slow hooks, a debugger that resumes), is left to
 * vitest; one that returns past its timeout fails anyway (vitest checks the time), so the watchdog only
 * turns a hang into a failure. CHRONOTS_WATCHDOG_MS sets every test's deadline instead
 * (test/watchdog.test.ts sets it short). A file's tests run one at a time (none is test.concurrent), so
 * one slot holds the running one. Arming costs a string encode and two stores; the worker and
 * the stamping timer are unref'd, keeping nothing alive.
 */
import { Worker } from "node:worker_threads";
import type { TestContext } from "vitest";

/** Past a test's timeout, time for vitest's timeout to fail it if its thread still runs the event loop. */
const SLACK_MS = 40_000;

/** How long the event loop must have stood still, past the deadline, for the thread to count as blocked. */
const STALE_MS = 3000;

/**
 * [0]: the running test's deadline in ms after `origin`, 0 while none runs; [1]: the message's length in
 * bytes; [2]: when the main thread's event loop last ran, in ms after `origin`. Float64: a deadline past
 * a timeout of 2^31 - 1 ms (setTimeout's largest, a common "no limit") does not fit an int32. Plain
 * reads and writes: an aligned float64 is never seen torn, and a watchdog can act a second late.
 */
const state = new Float64Array(new SharedArrayBuffer(24));
const message = new Uint8Array(new SharedArrayBuffer(4096));
const origin = Date.now();
const encoder = new TextEncoder();

const watcher = `
const { workerData: { state, message, origin, stale } } = require("node:worker_threads");
setInterval(() => {
  const deadline = state[0];
  const at = Date.now() - origin;
  if (deadline === 0 || at < deadline || at - state[2] < stale) return;
  require("node:fs").writeSync(2, message.subarray(0, state[1]));
  process.kill(process.pid, "SIGKILL");
}, 1000);`;

/** Starts the watchdog's thread; resolves once it runs, when the fds of its event loop are open. */
export function startWatchdog(): Promise<void> {
  const worker = new Worker(watcher, { eval: true, workerData: { state, message, origin, stale: STALE_MS } });
  worker.unref();
  state[2] = Date.now() - origin;
  setInterval(() => (state[2] = Date.now() - origin), 1000).unref();
  return new Promise((resolve, reject) => {
    worker.once("online", resolve);
    worker.once("error", reject);
  });
}

/**
 * `task` starts: the watchdog kills this process if `task` has not ended by its deadline. A test without
 * a timeout (0 or Infinity, as vitest reads them) has none: vitest would wait for it for ever too.
 */
export function watch(task: TestContext["task"]): void {
  const override = Number(process.env.CHRONOTS_WATCHDOG_MS);
  if (!override && !(task.timeout > 0 && Number.isFinite(task.timeout))) return;
  const bound = override || task.timeout + SLACK_MS;
  const project = task.file.projectName ? ` [${task.file.projectName}]` : "";
  const text =
    `\nchronots watchdog: test "${task.fullTestName}" in ${task.file.name}${project} still runs after ${bound / 1000} s` +
    ` (its timeout is ${task.timeout / 1000} s), and its thread's event loop has not run for ${STALE_MS / 1000} s or more. It has blocked its thread, so vitest's timeout, which needs the` +
    ` event loop, cannot end it: likely a synchronous wait (waitFor, poll) that never returned. Killing test process ${process.pid}.\n`;
  state[1] = encoder.encodeInto(text, message).written;
  state[0] = Date.now() - origin + bound;
}

/** The test has ended. */
export function unwatch(): void {
  state[0] = 0;
}
