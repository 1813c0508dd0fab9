import { describe, expect, it } from "vitest";
import { async, CancelledError, Future, FutureDefect, FuturePendingError, newFuture, poll, setDebug, sleepAsync, trackers, waitFor } from "../runtime/index.js";

describe("Future states", () => {
  it("starts pending and reports each state once finished", () => {
    const f = new Future<number>("answer");
    expect([f.pending, f.finished, f.state]).toEqual([true, false, "pending"]);
    f.complete(42);
    expect([f.pending, f.finished, f.completed, f.failed, f.cancelled, f.state]).toEqual([false, true, true, false, false, "completed"]);
    expect(f.read()).toBe(42);
    expect(f.error).toBeUndefined();
  });

  it("a failed future rethrows its error from read() and exposes it as error", () => {
    const f = newFuture<number>("broken");
    const e = new Error("boom");
    f.fail(e);
    expect([f.failed, f.state]).toEqual([true, "failed"]);
    expect(f.error).toBe(e);
    expect(() => f.read()).toThrow(e);
  });

  it("read() of a pending future throws FuturePendingError naming it", () => {
    const f = new Future("slow-job");
    expect(() => f.read()).toThrow(FuturePendingError);
    expect(() => f.read()).toThrow(/slow-job/);
    f.complete();
  });

  it("a second completion is a FutureDefect naming the future", () => {
    const f = new Future<number>("twice");
    f.complete(1);
    expect(() => f.complete(2)).toThrow(FutureDefect);
    expect(() => f.fail(new Error("x"))).toThrow(/Future 'twice' is already completed/);
    expect(f.read()).toBe(1);
  });

  it("a body finishing its result after something else did throws the FutureDefect of the transition it attempted", () => {
    const returns = async(function* () {
      yield* sleepAsync(1);
      return 7;
    })();
    returns.complete(99);
    const meanwhile = sleepAsync(20);
    expect(() => waitFor(meanwhile)).toThrow(/is already completed; it cannot become completed/);
    waitFor(meanwhile);
    expect(returns.read()).toBe(99);
    const throws = async(function* () {
      yield* sleepAsync(1);
      throw new Error("late");
    })();
    (throws as Future<unknown>).complete(99);
    const then = sleepAsync(20);
    expect(() => waitFor(then)).toThrow(/is already completed; it cannot become failed/);
    waitFor(then);
  });

  it("completing a cancelled future is ignored", () => {
    const f = new Future<number>();
    expect(f.cancel()).toBe(true);
    f.complete(5);
    f.fail(new Error("late"));
    expect(f.cancelled).toBe(true);
    expect(f.error).toBeInstanceOf(CancelledError);
    expect(() => f.read()).toThrow(CancelledError);
  });

  it("cancel() of a finished future returns false and changes nothing", () => {
    const f = new Future<number>();
    f.complete(3);
    expect(f.cancel()).toBe(false);
    expect(f.read()).toBe(3);
  });
});

describe("Future callbacks", () => {
  it("run through the callback queue, never inside complete()", () => {
    const f = new Future<number>();
    const seen: number[] = [];
    f.addCallback((g) => seen.push(g.read()));
    f.complete(7);
    expect(seen).toEqual([]);
    poll();
    expect(seen).toEqual([7]);
  });

  it("run in the order they were added (chronos testfut: callbacks in order)", () => {
    const f = new Future();
    let order = "";
    for (const c of "12345") f.addCallback(() => (order += c));
    f.complete();
    poll();
    expect(order).toBe("12345");
  });

  it("keep their order after removeCallback", () => {
    const f = new Future();
    let order = "";
    const cbs = [..."12345"].map((c) => () => (order += c));
    cbs.forEach((cb) => f.addCallback(cb));
    f.removeCallback(cbs[0]!);
    f.removeCallback(cbs[2]!);
    f.complete();
    poll();
    expect(order).toBe("245");
  });

  it("added after the future finished still run through the queue, FIFO", () => {
    const f = new Future<string>();
    f.complete("done");
    const seen: string[] = [];
    f.addCallback(() => seen.push("a"));
    f.addCallback(() => seen.push("b"));
    expect(seen).toEqual([]);
    poll();
    expect(seen).toEqual(["a", "b"]);
  });

  it("receive the future itself", () => {
    const f = new Future<number>();
    let got: Future<number> | undefined;
    f.addCallback((g) => (got = g));
    f.fail(new Error("x"));
    poll();
    expect(got).toBe(f);
  });

  it("a name that is no string is refused when the future is made: a cancellation's error, built from it, must not throw instead", () => {
    expect(() => new Future(Symbol("s") as never)).toThrow(new TypeError("Future: name must be a string, got symbol"));
    expect(() => new Future(5 as never)).toThrow(new TypeError("Future: name must be a string, got number 5"));
  });

  it("reject a non-function with a TypeError naming the future", () => {
    const f = new Future("named");
    expect(() => f.addCallback(42 as never)).toThrow(TypeError);
    expect(() => f.addCallback(42 as never)).toThrow(/named/);
  });
});

describe("Future cancellation of a leaf", () => {
  it("runs cancelCallback once, then the future is cancelled and its callbacks run", () => {
    const f = new Future<number>("leaf");
    let calls = 0;
    f.cancelCallback = () => calls++;
    const seen: string[] = [];
    f.addCallback((g) => seen.push(g.state));
    expect(f.cancel()).toBe(true);
    expect(f.cancel()).toBe(false);
    expect(calls).toBe(1);
    expect(f.cancelled).toBe(true);
    poll();
    expect(seen).toEqual(["cancelled"]);
    expect(String((f.error as Error).message)).toMatch(/leaf/);
  });
});

describe("Future bad callbacks", () => {
  it("removeCallback rejects a non-function and leaves the future's bookkeeping alone", () => {
    const f = new Future("named");
    const before = trackers().futures;
    expect(() => f.removeCallback(null as never)).toThrow(/removeCallback on Future 'named': callback must be a function, got null/);
    expect(trackers().futures).toBe(before);
  });

  it("a cancelCallback that throws: its error reaches the caller, and the future is cancelled all the same", () => {
    const f = new Future<number>("leaf");
    f.cancelCallback = () => {
      throw new Error("close failed");
    };
    expect(() => f.cancel()).toThrow("close failed");
    expect(f.cancelled).toBe(true);
    expect(f.cancel()).toBe(false);
  });

  it("a cancelCallback that is not a function: a TypeError naming the future and the value, the future cancelled all the same", () => {
    const f = new Future<number>("leaf");
    f.cancelCallback = "close" as never;
    expect(() => f.cancel()).toThrow(TypeError);
    expect(f.cancelled).toBe(true);
    const g = new Future<number>("other");
    g.cancelCallback = 3 as never;
    expect(() => g.cancel()).toThrow(`Future 'other': cancelCallback must be a function or null, got number 3`);
  });

  it("a cancelCallback that finishes its future itself: the future keeps that outcome, as it finishes once", () => {
    const f = new Future<number>("leaf");
    f.cancelCallback = (g) => g.complete(7);
    expect(f.cancel()).toBe(true);
    expect(f.completed).toBe(true);
    expect(f.read()).toBe(7);
    const failed = new Future<number>("leaf");
    failed.cancelCallback = (g) => g.fail(new Error("closed while reading"));
    expect(failed.cancel()).toBe(true);
    expect(failed.failed).toBe(true);
    expect((failed.error as Error).message).toBe("closed while reading");
  });
});

describe("Future debug output", () => {
  it("records the creation site when debugging is on", () => {
    setDebug(true);
    try {
      const f = new Future("traced");
      expect(f.site).toMatch(/future\.test\.ts:\d+/);
      f.complete();
      expect(() => f.complete()).toThrow(/traced' created at .*future\.test\.ts/);
    } finally {
      setDebug(false);
    }
    expect(new Future().site).toBeUndefined();
  });

  it("records an async call's site as the call, not the async function's own first line", () => {
    const work = async(function* () {
      yield* sleepAsync(1);
    });
    const caller = () => work();
    setDebug(true);
    try {
      const f = caller();
      const line = new Error().stack!.split("\n")[1]!.match(/future\.test\.ts:(\d+)/)![1]!;
      expect(f.site).toMatch(new RegExp(`^caller \\(.*future\\.test\\.ts:${Number(line) - 4}:`));
      waitFor(f);
    } finally {
      setDebug(false);
    }
  });

  it("records the site of a call that never suspends, or whose awaits all finish at once, as the call too", () => {
    const work = async(function* (n: number) {
      if (n < 0) throw new Error("negative");
      return n;
    });
    const quick = async(function* (n: number) {
      return yield* work(n);
    });
    const caller = (n: number) => work(n);
    const quickCaller = (n: number) => quick(n);
    setDebug(true);
    try {
      const [f, g] = [caller(1), caller(-1)];
      const line = new Error().stack!.split("\n")[1]!.match(/future\.test\.ts:(\d+)/)![1]!;
      for (const x of [f!, g!]) expect(x.site).toMatch(new RegExp(`^caller \\(.*future\\.test\\.ts:${Number(line) - 5}:`));
      expect([f!.state, g!.state]).toEqual(["completed", "failed"]);
      const [h, k] = [quickCaller(1), quickCaller(-1)];
      for (const x of [h!, k!]) expect(x.site).toMatch(new RegExp(`^quickCaller \\(.*future\\.test\\.ts:${Number(line) - 4}:`));
      expect([h!.state, k!.state]).toEqual(["completed", "failed"]);
    } finally {
      setDebug(false);
    }
  });

  it("waitFor returns the value of a future finished from a callback", () => {
    const f = new Future<number>();
    const g = new Future<number>();
    g.addCallback(() => f.complete(g.read() * 2));
    g.complete(21);
    expect(waitFor(f)).toBe(42);
  });
});
