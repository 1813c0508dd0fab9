/**
 * fromPromise and waitForAsync: chronots together with Node's own event loop. Node's promises, timers
 * and sockets settle while waitForAsync idles; a Node `net` server in this very process answers a
 * chronots client, which `waitFor` could never do (it blocks Node's loop). Both pollers.
 */
import net from "node:net";
import { readFile } from "node:fs/promises";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { describe, expect, it } from "vitest";
import { addSignal, async, asyncCheck, callSoon, DeadlockError, Dispatcher, fromPromise, Future, getGlobalDispatcher, removeSignal, runForever, setGlobalDispatcher, sleepAsync, trackers, waitFor, waitForAsync } from "../runtime/index.js";
import { connect } from "../runtime/net/index.js";
import { backends, useDispatcher } from "./helpers/backends.js";

const later = <T>(v: T, ms: number) => new Promise<T>((resolve) => setTimeout(() => resolve(v), ms));

/** A Node `net` server in this process on a loopback port; `close` also ends the connections it holds. */
async function nodeServer(onConnection: (s: net.Socket) => void): Promise<{ port: number; close: () => Promise<unknown> }> {
  const sockets: net.Socket[] = [];
  const server = net.createServer((s) => {
    sockets.push(s);
    onConnection(s);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const close = () => {
    for (const s of sockets) s.destroy();
    return new Promise((resolve) => server.close(resolve));
  };
  return { port: (server.address() as net.AddressInfo).port, close };
}

describe.each(backends)("promises and Node's loop over %s", (kind) => {
  useDispatcher(kind);

  it("awaits a promise's value and throws its reason, in both error styles", async () => {
    const body = async(function* () {
      const text = yield* fromPromise(readFile(new URL("../package.json", import.meta.url), "utf8"));
      const value = yield* fromPromise(later(7, 3));
      let thrown = "";
      try {
        yield* fromPromise(Promise.reject(new RangeError("no")));
      } catch (e) {
        thrown = `${(e as Error).name}: ${(e as Error).message}`;
      }
      const f = fromPromise(Promise.reject(new Error("kept")));
      yield f;
      return [JSON.parse(text).name, value, thrown, f.failed, (f.error as Error).message];
    });
    expect(await waitForAsync(body())).toEqual(["chronots", 7, "RangeError: no", true, "kept"]);
  });

  it("lets Node's loop run while chronots sleeps", async () => {
    let ticks = 0;
    const tick = setInterval(() => ticks++, 1);
    await waitForAsync(sleepAsync(30));
    clearInterval(tick);
    expect(ticks).toBeGreaterThan(3);
  });

  it("talks to a Node server in this same process, a promise between each exchange", async () => {
    const { port, close } = await nodeServer((s) => s.pipe(s));
    const client = async(function* () {
      const t = yield* connect(`127.0.0.1:${port}`);
      const seen: (string | number)[] = [];
      for (const m of ["one", "two", "three"]) {
        yield* t.write(`${m}\n`);
        seen.push(yield* t.readLine());
        seen.push(yield* fromPromise(later(m.length, 2)));
      }
      yield* t.closeWait();
      return seen;
    });
    expect(await waitForAsync(client())).toEqual(["one", 3, "two", 3, "three", 5]);
    await close();
  });

  it("wakes a wait on a silent socket when a promise settles", async () => {
    const { port, close } = await nodeServer(() => {});
    const client = async(function* () {
      const t = yield* connect(`127.0.0.1:${port}`);
      // Watched for reading, and nothing ever comes: only the promise can end this wait.
      const read = t.read();
      const v = yield* fromPromise(later("settled", 5));
      read.cancel();
      yield read;
      yield* t.closeWait();
      return [v, read.cancelled];
    });
    expect(await waitForAsync(client())).toEqual(["settled", true]);
    await close();
  });

  it("ends an idle wait when Node's side starts I/O", async () => {
    const { port, close } = await nodeServer((s) => s.pipe(s));
    const done = new Future<string>("echoed");
    const client = async(function* () {
      const t = yield* connect(`127.0.0.1:${port}`);
      yield* t.write("from a Node callback\n");
      const line = yield* t.readLine();
      yield* t.closeWait();
      done.complete(line);
    });
    // Started while chronots idles with nothing to do: its connect adds the first watched fd.
    setTimeout(() => asyncCheck(client()), 2);
    expect(await waitForAsync(done)).toBe("from a Node callback");
    await close();
  });

  it("ends an idle wait when a signal comes", async () => {
    const got = new Future<string>("signal");
    const id = addSignal("SIGUSR2", () => got.complete("SIGUSR2"));
    setTimeout(() => process.kill(process.pid, "SIGUSR2"), 2);
    expect(await waitForAsync(got)).toBe("SIGUSR2");
    removeSignal(id);
  });

  it("shares one idle between callers waiting at once", async () => {
    const a = async(function* () {
      yield* sleepAsync(5);
      return yield* fromPromise(later("a", 2));
    });
    const b = async(function* () {
      return yield* fromPromise(later("b", 8));
    });
    expect(await Promise.all([waitForAsync(a()), waitForAsync(b())])).toEqual(["a", "b"]);
  });
});

describe("bridges and wakes on the global dispatcher", () => {
  it("waitFor says to use waitForAsync, and waitForAsync then finishes it", async () => {
    let settle!: (v: string) => void;
    const f = fromPromise(new Promise<string>((resolve) => (settle = resolve)));
    expect(() => waitFor(f)).toThrow(DeadlockError);
    expect(() => waitFor(f)).toThrow(/the 1 promise\(s\) that fromPromise futures wait on settle only on that loop; if it waits on one of them, use waitForAsync/);
    setTimeout(() => settle("done"), 1);
    expect(await waitForAsync(f)).toBe("done");
  });

  it("runForever with nothing but a promise pending says it would block the loop that settles it", async () => {
    let settle!: (v: number) => void;
    const task = async(function* () {
      return (yield* fromPromise(new Promise<number>((resolve) => (settle = resolve)))) + 1;
    })();
    expect(() => runForever()).toThrow(DeadlockError);
    expect(() => runForever()).toThrow(/^runForever: .*the 1 promise\(s\) that fromPromise futures wait on settle only on Node's event loop, which runForever would block for good; wait with waitForAsync instead$/);
    // Another dispatcher's runForever blocks the same thread, and the same loop.
    expect(() => new Dispatcher().runForever()).toThrow(/^runForever: .* on this dispatcher, which is not the global one.*the 1 promise\(s\)/);
    setTimeout(() => settle(1), 1);
    expect(await waitForAsync(task)).toBe(2);
  });

  it("a cancelled bridge stops counting, and the promise settling later is ignored", async () => {
    let settle!: (v: number) => void;
    const f = fromPromise(new Promise<number>((resolve) => (settle = resolve)), "bridge");
    expect(f.cancel()).toBe(true);
    expect(f.cancelled).toBe(true);
    // With its only bridge cancelled, a future nothing can finish is a plain deadlock again.
    expect(() => waitFor(new Future<void>("stuck"))).toThrow(/can never finish: no callback is queued/);
    settle(1);
    await later(0, 2);
    expect(f.cancelled).toBe(true);
  });

  it("a cancelled bridge leaves its future to the garbage collector, though the promise never settles", async () => {
    // A promise keeps its reactions until it settles: a shutdown signal's never does.
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    const never = new Promise<number>(() => {});
    const refs = Array.from({ length: 20 }, (_, i) => {
      const f = fromPromise(never, `shutdown ${i}`);
      f.cancel();
      return new WeakRef(f);
    });
    // A WeakRef holds its target to the end of the job that made it.
    await later(0, 1);
    gc();
    expect(refs.filter((r) => r.deref() !== undefined)).toEqual([]);
  });

  it("a rejected bridge stops counting, as a completed one does", async () => {
    let reject!: (e: Error) => void;
    const f = fromPromise(new Promise<number>((_, r) => (reject = r)), "rejected");
    reject(new Error("no"));
    await expect(waitForAsync(f)).rejects.toThrow("no");
    expect(f.failed).toBe(true);
    // Its bridge closed as it failed: a future nothing can finish is a plain deadlock.
    expect(() => waitFor(new Future<void>("stuck"))).toThrow(/can never finish: no callback is queued/);
  });

  it("a thenable whose then throws gives a failed future, and its bridge closes", () => {
    const f = fromPromise({ then: () => { throw new Error("bad thenable"); } } as unknown as PromiseLike<number>);
    expect(f.failed).toBe(true);
    expect((f.error as Error).message).toBe("bad thenable");
    expect(() => waitFor(new Future<void>("never"))).toThrow(/can never finish: no callback is queued/);
  });

  it("leaves nothing queued behind, whether the future finished in a step or while Node ran", async () => {
    expect(await waitForAsync(sleepAsync(2))).toBeUndefined();
    expect(trackers().callbacks).toBe(0);
    const byNode = new Future<number>("finished by a Node timer");
    setTimeout(() => byNode.complete(1), 2);
    expect(await waitForAsync(byNode)).toBe(1);
    expect(trackers().callbacks).toBe(0);
  });

  it("waits only on the global dispatcher, where what Node's side finishes queues its callbacks: another is refused, and a wait ends when Node's side makes another global", async () => {
    const d = new Dispatcher();
    try {
      const f = new Future<number>("d's");
      setTimeout(() => f.complete(1), 2);
      await expect(d.waitForAsync(f)).rejects.toThrow(/waitForAsync: this dispatcher is not the global one.*setGlobalDispatcher/);
      expect(trackers().futures, "no callback left on it").toBe(0);
    } finally {
      d.close();
    }
    // The wait on the global one, whose future would now queue its callbacks on the installed one.
    const saved = getGlobalDispatcher();
    const installed = new Dispatcher();
    try {
      const g = new Future<number>("waited on");
      setTimeout(() => setGlobalDispatcher(installed), 2);
      const waited = saved.waitForAsync(g);
      await expect(Promise.race([waited, later("still idling", 2000)])).rejects.toThrow(/another dispatcher global while Future 'waited on' was waited on/);
      g.complete(1);
      expect([saved.trackers().callbacks, installed.trackers().callbacks]).toEqual([0, 0]);
    } finally {
      setGlobalDispatcher(saved);
      installed.close();
    }
  });

  it("idles in one Node timer while a chronots timer is further away than Node's timers reach", async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.name);
    process.on("warning", onWarning);
    const far = sleepAsync(3e9);
    try {
      const soon = new Future<void>("soon");
      setTimeout(() => soon.complete(), 50);
      await waitForAsync(soon);
      await later(0, 1);
      // Node sets a longer delay to 1 ms with a TimeoutOverflowWarning: the wait would have woken every millisecond.
      expect(warnings).toEqual([]);
    } finally {
      far.cancel();
      process.off("warning", onWarning);
    }
  });

  it("refuses what is not a promise", () => {
    expect(() => fromPromise(42 as never)).toThrow(/fromPromise: expected a promise, got number/);
    expect(() => fromPromise(null as never)).toThrow(/fromPromise: expected a promise, got null/);
  });

  it("ends an idle wait when Node's side finishes a future, queues a callback or sets a timer", async () => {
    const direct = new Future<number>("completed by a Node timer");
    setTimeout(() => direct.complete(5), 2);
    expect(await waitForAsync(direct)).toBe(5);

    const queued = new Future<string>("completed by a queued callback");
    setTimeout(() => callSoon(() => queued.complete("queued")), 2);
    expect(await waitForAsync(queued)).toBe("queued");

    const slept = new Future<string>("completed after a chronots sleep");
    setTimeout(() => sleepAsync(3).addCallback(() => slept.complete("slept")), 2);
    expect(await waitForAsync(slept)).toBe("slept");
  });
});
