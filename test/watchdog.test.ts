/**
 * The watchdog (test/helpers/watchdog.ts) ends a test that blocks its thread for good, which
 * vitest's own timeout cannot: a vitest of its own runs test/fixtures/watchdog/blocks.ts, whose second
 * test never returns from waitFor, and must fail naming it instead of hanging; its first test, waiting
 * on the event loop past the watchdog's bound, must pass.
 */
import { spawn } from "node:child_process";
import { resolve } from "node:path";
import { stripVTControlCharacters } from "node:util";
import { expect, test } from "vitest";

const root = resolve(__dirname, "..");

test("a test that blocks its thread ends the run, failed and named, instead of hanging it; one waiting on the event loop is left alone", async () => {
  const child = spawn(process.execPath, [resolve(root, "node_modules/vitest/vitest.mjs"), "run", "--config", "test/fixtures/watchdog/vitest.config.ts"], {
    cwd: root,
    env: { ...process.env, CHRONOTS_WATCHDOG_MS: "1000" },
    // Its own process group, so that a hung run can be killed with the test process it forked.
    detached: true,
  });
  let output = "";
  child.stdout.on("data", (d) => (output += d));
  child.stderr.on("data", (d) => (output += d));
  const hung = setTimeout(() => process.kill(-child.pid!, "SIGKILL"), 45_000);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((done) => child.on("close", (c, s) => done([c, s])));
  clearTimeout(hung);
  output = stripVTControlCharacters(output);
  expect(signal, `the run hung; its output:\n${output}`).toBeNull();
  expect(code).not.toBe(0);
  expect(output).toContain(`chronots watchdog: test "waits for a future that never finishes" in test/fixtures/watchdog/blocks.ts still runs after 1 s`);
  expect(output).not.toContain(`test "waits on the event loop past the watchdog's bound"`);
  expect(output.trimEnd().split("\n").at(-1)).toBe("1 passed, 1 failed");
}, 60_000);
