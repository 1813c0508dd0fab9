import { describe, expect, it } from "vitest";
import { addTimer, async, AsyncTimeoutError, callSoon, CancelledError, Dispatcher, Future, getGlobalDispatcher, now, poll, removeTimer, setGlobalDispatcher, sleepAsync, wait, waitFor, withTimeout } from "../runtime/index.js";

describe("sleepAsync", () => {
  it("finishes no earlier than its delay", () => {
    const t = now();
    waitFor(sleepAsync(20));
    expect(now() - t).toBeGreaterThanOrEqual(20);
  });

  it("sleeps in deadline order whatever the order they were started", () => {
    const seen: number[] = [];
    const sleeps = [30, 10, 20, 0].map((ms) => {
      const s = sleepAsync(ms);
      s.addCallback(() => seen.push(ms));
      return s;
    });
    for (const s of sleeps) waitFor(s);
    poll(); // the last sleep's callback is queued when waitFor returns
    expect(seen).toEqual([0, 10, 20, 30]);
  });

  it("cancelling it removes its timer and cancels it", () => {
    const s = sleepAsync(10_000);
    expect(getGlobalDispatcher().timers.size).toBe(1);
    expect(s.cancel()).toBe(true);
    expect(getGlobalDispatcher().timers.size).toBe(0);
    expect(s.cancelled).toBe(true);
    expect(() => s.read()).toThrow(CancelledError);
  });

  it("cancelling it removes its timer from the dispatcher it was started on, whichever is global by then", () => {
    const first = getGlobalDispatcher();
    const s = sleepAsync(10_000);
    const h = addTimer(now() + 10_000, () => {});
    setGlobalDispatcher(new Dispatcher());
    try {
      expect(s.cancel()).toBe(true);
      expect(removeTimer(h)).toBe(true);
      expect(first.timers.size).toBe(0);
    } finally {
      setGlobalDispatcher(first);
    }
    expect(s.cancelled).toBe(true);
  });

  it.each([-1, NaN, Infinity])("rejects %s as a delay with a RangeError", (ms) => {
    expect(() => sleepAsync(ms)).toThrow(RangeError);
    expect(() => sleepAsync(ms)).toThrow(/sleepAsync: ms must be a finite, non-negative number/);
  });

  it.each([
    ["5", 'string "5"'],
    [undefined, "undefined"],
    [5n, "bigint"],
    [null, "null"],
  ])("rejects %s, not a number, as a delay with a TypeError naming its type", (ms, named) => {
    expect(() => sleepAsync(ms as never)).toThrow(TypeError);
    expect(() => sleepAsync(ms as never)).toThrow(`sleepAsync: ms must be a number of milliseconds, got ${named}`);
    expect(() => withTimeout(new Future(), ms as never)).toThrow(`withTimeout: ms must be a number of milliseconds, got ${named}`);
  });
});

describe("withTimeout", () => {
  it("is true when the future finishes first, and removes its timer", () => {
    const r = withTimeout(sleepAsync(1), 10_000);
    expect(waitFor(r)).toBe(true);
    expect(getGlobalDispatcher().timers.size).toBe(0);
  });

  it("is true for a future that failed in time: finishing is what counts", () => {
    const f = new Future<number>();
    f.fail(new Error("x"));
    expect(waitFor(withTimeout(f, 100))).toBe(true);
  });

  it("on timeout cancels the future and becomes false once it has finished", () => {
    const slow = sleepAsync(10_000);
    const r = withTimeout(slow, 1);
    expect(waitFor(r)).toBe(false);
    expect(slow.cancelled).toBe(true);
    expect(getGlobalDispatcher().timers.size).toBe(0);
  });

  it("cancelling its result cancels the input, then ends cancelled", () => {
    const slow = sleepAsync(10_000);
    const r = withTimeout(slow, 10_000);
    r.cancel();
    expect(slow.cancelled).toBe(true);
    expect(() => waitFor(r)).toThrow(CancelledError);
    expect(getGlobalDispatcher().timers.size).toBe(0);
  });

  it("cancelling its result removes its deadline at once, also while the input goes on after the cancel: the input is cancelled once", () => {
    for (const race of [withTimeout, wait] as const) {
      const gate = new Future<void>("gate");
      const release = new Future<string>("release");
      const seen: string[] = [];
      const input = async(function* () {
        try {
          yield* gate;
        } catch (e) {
          seen.push((e as Error).name);
        }
        try {
          return yield* release;
        } catch (e) {
          seen.push(`again: ${(e as Error).name}`);
          throw e;
        }
      })();
      // A deadline of 0 is due at the next step: left behind, it would cancel the input a second time there.
      const r = race(input, 0);
      expect(getGlobalDispatcher().timers.size).toBe(1);
      r.cancel();
      expect(getGlobalDispatcher().timers.size).toBe(0);
      poll();
      expect(input.pending).toBe(true);
      expect(release.pending).toBe(true);
      release.complete("done");
      expect(() => waitFor(r)).toThrow(CancelledError);
      expect(input.completed).toBe(true);
      expect(seen).toEqual(["CancelledError"]);
    }
  });

  it("rejects a non-Future and a bad delay", () => {
    expect(() => withTimeout(5 as never, 1)).toThrow(/withTimeout: expected a Future, got number 5/);
    expect(() => withTimeout(new Future(), -3)).toThrow(/withTimeout: ms must be a non-negative number of milliseconds \(Infinity for no timeout\), got -3/);
  });
});

describe("a timeout of Infinity (chronos' InfiniteDuration)", () => {
  it("sets no timer: withTimeout is true and wait finishes like its input, however late", () => {
    const input = sleepAsync(5);
    const r = withTimeout(input, Infinity);
    expect(getGlobalDispatcher().timers.size).toBe(1);
    expect(waitFor(r)).toBe(true);
    const failing = new Future<number>("failing");
    const w = wait(failing, Infinity);
    callSoon(() => failing.fail(new Error("late failure")));
    expect(() => waitFor(w)).toThrow("late failure");
    expect(getGlobalDispatcher().timers.size).toBe(0);
  });

  it("still passes cancellation on to its input", () => {
    const input = sleepAsync(1000);
    const r = wait(input, Infinity);
    r.cancel();
    expect(input.cancelled).toBe(true);
    waitFor(withTimeout(sleepAsync(0), 0));
    expect(r.cancelled).toBe(true);
    expect(getGlobalDispatcher().timers.size).toBe(0);
  });
});

describe("a future that finishes in the step its deadline passes", () => {
  // The input's callback is queued, not yet run, when the deadline's timer fires: it finished in time.
  it("is on time for withTimeout and wait", () => {
    const f = new Future<number>("f");
    callSoon(() => f.complete(42));
    expect(waitFor(withTimeout(f, 0))).toBe(true);
    const g = new Future<number>("g");
    callSoon(() => g.complete(7));
    expect(waitFor(wait(g, 0))).toBe(7);
  });

  it("is on time for a sleep racing an equal deadline", () => {
    for (let i = 0; i < 20; i++) {
      expect(waitFor(withTimeout(sleepAsync(2), 2))).toBe(true);
      expect(waitFor(wait(sleepAsync(2), 2))).toBeUndefined();
    }
  });
});

describe("a deadline whose cancellation of the input throws", () => {
  // The cancelCallback's error leaves the dispatcher as any callback's does; the input still ends cancelled, and late.
  const leaf = (name: string) => {
    const f = new Future<number>(name);
    f.cancelCallback = () => {
      throw new Error(`${name}: cancel broke`);
    };
    return f;
  };

  it("still makes withTimeout false", () => {
    const r = withTimeout(leaf("f"), 1);
    expect(() => waitFor(r)).toThrow("f: cancel broke");
    expect(waitFor(r)).toBe(false);
  });

  it("still makes wait fail with AsyncTimeoutError", () => {
    const r = wait(leaf("g"), 1);
    expect(() => waitFor(r)).toThrow("g: cancel broke");
    expect(() => waitFor(r)).toThrow(AsyncTimeoutError);
  });
});

describe("wait", () => {
  it("finishes like its input when in time", () => {
    const job = async(function* () {
      yield* sleepAsync(1);
      return "value";
    });
    expect(waitFor(wait(job(), 10_000))).toBe("value");
    const bad = async(function* () {
      yield* sleepAsync(1);
      throw new TypeError("bad");
    });
    expect(() => waitFor(wait(bad(), 10_000))).toThrow(TypeError);
  });

  it("fails with AsyncTimeoutError after the input was cancelled and finished", () => {
    const trace: string[] = [];
    const job = async(function* () {
      try {
        yield* sleepAsync(10_000);
      } finally {
        trace.push("input cleaned up");
      }
    });
    const r = wait(job(), 1);
    expect(() => waitFor(r)).toThrow(AsyncTimeoutError);
    expect(trace).toEqual(["input cleaned up"]);
  });

  it("of a future finished already finishes at once like it, as chronos' does: no timer, nothing left to cancel", () => {
    const done = new Future<number>();
    done.complete(5);
    const failed = new Future<number>();
    failed.fail(new TypeError("bad"));
    const r = wait(done, 100);
    const t = withTimeout(failed, 100);
    expect([r.completed, r.read(), t.completed, t.read()]).toEqual([true, 5, true, true]);
    expect(wait(failed, 100).error).toBeInstanceOf(TypeError);
    expect(r.cancel()).toBe(false);
    expect(r.completed).toBe(true);
    expect(getGlobalDispatcher().timers.size).toBe(0);
  });

  it("rejects a bad delay before touching the input", () => {
    const f = sleepAsync(1);
    expect(() => wait(f, NaN)).toThrow(/wait: ms must be/);
    waitFor(f);
  });
});
