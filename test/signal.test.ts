/**
 * addSignal/removeSignal with real signals: sent to this process by itself, by a child process
 * while the dispatcher blocks, and with the JS thread blocking the signal so another of Node's
 * threads takes it. Every test runs against every poller backend.
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { constants } from "node:os";
import { describe, expect, it } from "vitest";
import { addSignal, Dispatcher, Future, removeSignal, setGlobalDispatcher, waitFor } from "../runtime/index.js";
import { backends, useDispatcher } from "./helpers/backends.js";
import { openFds, withSignalBlocked } from "./helpers/fds.js";

const SIGUSR2 = constants.signals.SIGUSR2;
const SIGHUP = constants.signals.SIGHUP;

/** Whether signal `sig` is set in a mask line ("SigCgt", "SigBlk") of /proc/self/status. */
function inMask(line: "SigCgt" | "SigBlk", sig: number): boolean {
  const hex = new RegExp(`^${line}:\\s*([0-9a-f]+)$`, "m").exec(readFileSync("/proc/self/status", "utf8"))![1]!;
  return ((BigInt(`0x${hex}`) >> BigInt(sig - 1)) & 1n) === 1n;
}

const tick = () => new Promise<void>((resolve) => setTimeout(resolve, 5));

describe.each(backends)("signals over %s", (kind) => {
  const dispatcher = useDispatcher(kind);

  it("runs the callback inside waitFor after process.kill, 20 times in a row", () => {
    let runs = 0;
    for (let i = 0; i < 20; i++) {
      const heard = new Future<void>(`SIGUSR2 #${i}`);
      const id = addSignal("SIGUSR2", () => heard.complete());
      process.kill(process.pid, "SIGUSR2");
      waitFor(heard);
      runs++;
      removeSignal(id);
    }
    expect(runs).toBe(20);
    expect(dispatcher().registeredFds).toBe(0);
  });

  it("keeps one watch through 20 deliveries, one callback run each", () => {
    let heard = new Future<void>("first");
    let runs = 0;
    const id = addSignal(SIGUSR2, () => {
      runs++;
      heard.complete();
    });
    for (let i = 0; i < 20; i++) {
      process.kill(process.pid, "SIGUSR2");
      waitFor(heard);
      heard = new Future<void>(`delivery ${i + 1}`);
    }
    expect(runs).toBe(20);
    removeSignal(id);
  });

  it("a handler removed by another handler of the same step is not called, though the step had queued it", () => {
    const heard: string[] = [];
    const done = new Future<void>("first handler");
    let second = 0;
    const first = addSignal("SIGUSR2", () => {
      heard.push("first");
      removeSignal(second);
      done.complete();
    });
    second = addSignal("SIGUSR2", () => heard.push("second, removed"));
    process.kill(process.pid, "SIGUSR2");
    waitFor(done);
    expect(heard).toEqual(["first"]);
    removeSignal(first);
    expect(dispatcher().registeredFds).toBe(0);
  });

  it("hears a signal that another of Node's threads received", () => {
    const heard = new Future<void>("SIGUSR2 to another thread");
    const id = addSignal("SIGUSR2", () => heard.complete());
    withSignalBlocked(SIGUSR2, () => {
      expect(inMask("SigBlk", SIGUSR2)).toBe(true);
      process.kill(process.pid, "SIGUSR2");
      waitFor(heard);
    });
    expect(heard.completed).toBe(true);
    removeSignal(id);
  });

  it("wakes a blocked waitFor for a signal sent by a child process", () => {
    const heard = new Future<void>("SIGHUP from a child");
    const id = addSignal("SIGHUP", () => heard.complete());
    spawn("sh", ["-c", `sleep 0.05; kill -HUP ${process.pid}`], { stdio: "ignore" });
    waitFor(heard);
    expect(heard.completed).toBe(true);
    removeSignal(id);
  });

  it("tells signals apart and runs every callback of the one received", () => {
    const seen: string[] = [];
    const hup = new Future<void>("SIGHUP");
    const usr2 = new Future<void>("SIGUSR2");
    const ids = [
      addSignal("SIGUSR2", () => seen.push("usr2 a")),
      addSignal("SIGUSR2", () => {
        seen.push("usr2 b");
        usr2.complete();
      }),
      addSignal(SIGHUP, () => {
        seen.push("hup");
        hup.complete();
      }),
    ];
    process.kill(process.pid, "SIGHUP");
    waitFor(hup);
    expect(seen).toEqual(["hup"]);
    process.kill(process.pid, "SIGUSR2");
    waitFor(usr2);
    expect(seen).toEqual(["hup", "usr2 a", "usr2 b"]);
    for (const id of ids) removeSignal(id);
  });

  it("removing one callback keeps the others of that signal", () => {
    let dropped = 0;
    const heard = new Future<void>("kept callback");
    const gone = addSignal("SIGUSR2", () => dropped++);
    const kept = addSignal("SIGUSR2", () => heard.complete());
    removeSignal(gone);
    process.kill(process.pid, "SIGUSR2");
    // Callbacks of one delivery run in one step, the removed one first had it been kept.
    waitFor(heard);
    expect(dropped).toBe(0);
    removeSignal(kept);
    expect(() => removeSignal(kept)).toThrow(/no signal handler with id/);
  });

  it("installs a handler only while watched and never touches the signal mask", () => {
    const fds = openFds();
    expect(inMask("SigCgt", SIGUSR2)).toBe(false);
    const id = addSignal("SIGUSR2", () => {});
    expect(inMask("SigCgt", SIGUSR2)).toBe(true);
    expect(inMask("SigBlk", SIGUSR2)).toBe(false);
    removeSignal(id);
    expect(inMask("SigCgt", SIGUSR2)).toBe(false);
    expect(inMask("SigBlk", SIGUSR2)).toBe(false);
    dispatcher().close(); // the poller's own fd, made by addSignal, stays until then
    expect(openFds()).toBe(fds);
  });

  it("works beside Node's own process.on listener and leaves it in place", async () => {
    let nodeHeard = 0;
    const listener = () => nodeHeard++;
    process.on("SIGUSR2", listener);
    const ours = new Future<void>("ours");
    const id = addSignal("SIGUSR2", () => ours.complete());
    process.kill(process.pid, "SIGUSR2");
    waitFor(ours);
    while (nodeHeard === 0) await tick();
    removeSignal(id);
    expect(inMask("SigCgt", SIGUSR2)).toBe(true);
    process.kill(process.pid, "SIGUSR2");
    while (nodeHeard === 1) await tick();
    process.off("SIGUSR2", listener);
    await tick();
    expect(inMask("SigCgt", SIGUSR2)).toBe(false);
  });

  it("rejects unknown and unwatchable signals without opening anything", () => {
    const cb = () => {};
    expect(() => addSignal("SIGFOO" as NodeJS.Signals, cb)).toThrow(/unknown signal 'SIGFOO'/);
    expect(() => addSignal(1.5, cb)).toThrow(TypeError);
    expect(() => addSignal(0, cb)).toThrow(/0 is not a signal number/);
    expect(() => addSignal("SIGKILL", cb)).toThrow(/SIGKILL cannot be watched: it cannot be caught/);
    expect(() => addSignal("SIGUSR1", cb)).toThrow(RangeError);
    expect(() => addSignal("SIGUSR1", cb)).toThrow(/inspector/);
    expect(() => addSignal("SIGPIPE", cb)).toThrow(RangeError);
    expect(() => addSignal("SIGSEGV", cb)).toThrow(RangeError);
    expect(() => addSignal("SIGUSR2", "cb" as unknown as () => void)).toThrow(TypeError);
    expect(() => removeSignal(12345)).toThrow(RangeError);
    expect(() => removeSignal("1" as unknown as number)).toThrow(new TypeError('removeSignal: expected an id from addSignal, got string "1"'));
    expect(dispatcher().registeredFds).toBe(0);
  });

  it("an id kept across setGlobalDispatcher removes its own handler, not the new dispatcher's", () => {
    const first = dispatcher();
    const heard: string[] = [];
    const hup = addSignal("SIGHUP", () => heard.push("first"));
    const second = new Dispatcher({ poller: kind });
    setGlobalDispatcher(second);
    try {
      const usr2 = addSignal("SIGUSR2", () => heard.push("second"));
      expect(usr2).not.toBe(hup);
      removeSignal(hup);
      // The first dispatcher watches nothing now; the second still hears its signal.
      expect(first.registeredFds).toBe(0);
      const got = new Future<void>("SIGUSR2");
      const id = addSignal("SIGUSR2", () => got.complete());
      process.kill(process.pid, "SIGUSR2");
      waitFor(got);
      expect(heard).toEqual(["second"]);
      removeSignal(id);
      removeSignal(usr2);
      expect(() => removeSignal(usr2)).toThrow(RangeError);
    } finally {
      setGlobalDispatcher(first);
      second.close();
    }
  });
});
