/**
 * Cancellation: requests forwarded down the chain of waiting async calls to the leaf, and the
 * races chronos met (its issues #334 and #516): a cancel arriving while the awaited future has
 * already finished but the waiter has not resumed yet, and timeouts racing their input.
 */
import { describe, expect, it } from "vitest";
import { async, CancelledError, Future, getGlobalDispatcher, poll, sleepAsync, wait, waitFor, withTimeout } from "../runtime/index.js";

describe("cancel() forwarding", () => {
  it("an async call forwards cancel to the future it waits on; the sleep's timer is removed", () => {
    const timers = getGlobalDispatcher().timers;
    const trace: string[] = [];
    const inner = async(function* () {
      try {
        yield* sleepAsync(10_000);
      } catch (e) {
        trace.push(`inner ${(e as Error).name}`);
        throw e;
      }
    });
    const outer = async(function* () {
      yield* inner();
      trace.push("not reached");
    });
    const f = outer();
    expect(timers.size).toBe(1);
    expect(f.cancel()).toBe(true);
    expect(timers.size).toBe(0);
    expect(() => waitFor(f)).toThrow(CancelledError);
    expect(f.cancelled).toBe(true);
    expect(trace).toEqual(["inner CancelledError"]);
  });

  it("a body may catch the CancelledError and finish normally", () => {
    const f = async(function* () {
      try {
        yield* sleepAsync(10_000);
      } catch (e) {
        if (e instanceof CancelledError) return "cleaned up";
      }
      return "slept";
    })();
    f.cancel();
    expect(waitFor(f)).toBe("cleaned up");
    expect(f.completed).toBe(true);
  });

  it("with yield (no throw) the body sees the cancelled future and goes on", () => {
    const f = async(function* () {
      const s = sleepAsync(10_000);
      yield s;
      return s.state;
    })();
    f.cancel();
    expect(waitFor(f)).toBe("cancelled");
  });

  it("cancel of a finished async call returns false", () => {
    const f = async(function* () {
      return 1;
    })();
    expect(f.cancel()).toBe(false);
    expect(f.read()).toBe(1);
  });

  it("reaches the leaf of a chain 20,000 calls deep, which a recursive body builds without a deep stack", () => {
    const timers = getGlobalDispatcher().timers;
    let bottom = false;
    const walk = async(function* (depth: number): Generator<Future<unknown>, number, unknown> {
      // Resumed from the queue before going down: each level starts on a fresh stack.
      yield* sleepAsync(0);
      if (depth === 0) {
        bottom = true;
        yield* sleepAsync(10_000);
        return 0;
      }
      return 1 + (yield* walk(depth - 1));
    });
    const top = walk(20_000);
    while (!bottom) poll();
    expect(timers.size).toBe(1);
    expect(top.cancel()).toBe(true);
    // The leaf's timer is gone at once, and the CancelledError it ends with climbs every level.
    expect(timers.size).toBe(0);
    expect(() => waitFor(top)).toThrow(CancelledError);
  });

  it("asks the leaf through its own cancel(), which a subclass may extend", () => {
    const heard: string[] = [];
    class Job extends Future<number> {
      override cancel(): boolean {
        heard.push(`cancel of ${this.name}`);
        return super.cancel();
      }
    }
    const job = new Job("job");
    job.cancelCallback = () => heard.push("cancelCallback");
    const outer = async(function* () {
      return yield* job;
    });
    const top = async(function* () {
      return yield* outer();
    })();
    expect(top.cancel()).toBe(true);
    expect(heard).toEqual(["cancel of job", "cancelCallback"]);
    expect(job.cancelled).toBe(true);
    expect(() => waitFor(top)).toThrow(CancelledError);
  });

  it("ends at a cycle of calls waiting on each other, which nothing can finish, instead of looping for ever", () => {
    // Call 0 waits on 1, 1 on 2, 2 on 3, and 3 on 1 again: a cycle of three, which the walk from 0 enters.
    const calls: Future<void>[] = [];
    const waitOn = async(function* (i: number) {
      yield* sleepAsync(0);
      yield* calls[i === 3 ? 1 : i + 1]!;
    });
    calls.push(waitOn(0), waitOn(1), waitOn(2), waitOn(3));
    waitFor(sleepAsync(1));
    expect(calls.map((f) => f.cancel())).toEqual([true, true, true, true]);
    expect(calls.map((f) => f.state)).toEqual(["pending", "pending", "pending", "pending"]);
    // Nothing can finish them: leave them to the collector without the step callbacks the leak check counts.
    for (const f of calls as unknown as { _cb: ((f: Future<void>) => void) | null; removeCallback(cb: (f: Future<void>) => void): void }[])
      while (f._cb !== null) f.removeCallback(f._cb);
  });
});

describe("cancellation races (chronos #334, #516)", () => {
  it("a cancel that arrives after the awaited future finished but before the resume is delivered at the next wait", () => {
    const gate = new Future<number>("gate");
    const trace: string[] = [];
    const f = async(function* () {
      const v = yield* gate;
      trace.push(`got ${v}`);
      try {
        yield* sleepAsync(10_000);
      } catch (e) {
        trace.push((e as Error).name);
        throw e;
      }
    })();
    gate.complete(1); // the resume is queued, not run
    expect(f.cancel()).toBe(true);
    expect(() => waitFor(f)).toThrow(CancelledError);
    expect(trace).toEqual(["got 1", "CancelledError"]);
    expect(getGlobalDispatcher().timers.size).toBe(0);
  });

  it("such a late cancel is not lost when the body ends without another wait: it completes", () => {
    const gate = new Future<number>("gate");
    const f = async(function* () {
      return (yield* gate) + 1;
    })();
    gate.complete(1);
    f.cancel();
    expect(waitFor(f)).toBe(2);
  });

  it("a second cancel() before the body resumed from the first is not delivered again: cleanup may wait", () => {
    const trace: string[] = [];
    const f = async(function* () {
      try {
        yield* sleepAsync(10_000);
      } catch (e) {
        trace.push(`caught ${(e as Error).name}`);
      }
      yield* sleepAsync(1);
      trace.push("cleanup done");
      return "ok";
    })();
    expect(f.cancel()).toBe(true);
    expect(f.cancel()).toBe(true);
    expect(waitFor(f)).toBe("ok");
    expect(trace).toEqual(["caught CancelledError", "cleanup done"]);
  });

  it("a cancel() that finds the awaited future cancelled by someone else adds nothing: the body sees that cancellation", () => {
    for (const style of ["yield", "yield*"]) {
      const s = sleepAsync(10_000);
      const trace: string[] = [];
      const c = async(function* () {
        if (style === "yield") trace.push(`saw ${(yield s).state}`);
        else
          try {
            yield* s;
          } catch (e) {
            trace.push(`caught ${(e as Error).name}`);
          }
        yield* sleepAsync(1);
        return "went on";
      })();
      s.cancel();
      expect(c.cancel()).toBe(true);
      expect(waitFor(c)).toBe("went on");
      expect(trace).toEqual([style === "yield" ? "saw cancelled" : "caught CancelledError"]);
    }
  });

  it("cancelling a task and the task it awaits, in either order, cancels the inner wait once", () => {
    for (const innerFirst of [false, true]) {
      const trace: string[] = [];
      const worker = async(function* () {
        try {
          yield* sleepAsync(10_000);
        } catch {
          trace.push("worker cancelled");
        }
        yield* sleepAsync(1);
        trace.push("worker cleanup done");
        return 1;
      });
      const b = worker();
      const a = async(function* () {
        return yield* b;
      })();
      for (const t of innerFirst ? [b, a] : [a, b]) t.cancel();
      expect(waitFor(a)).toBe(1);
      expect(trace).toEqual(["worker cancelled", "worker cleanup done"]);
    }
  });

  it("withTimeout whose input finishes in the same step as the deadline reports the input's finish once", () => {
    const input = new Future<number>("input");
    const r = withTimeout(input, 0);
    input.complete(1);
    expect(waitFor(r)).toBe(true);
    expect(input.completed).toBe(true);
  });

  it("wait() on an input that ignores cancellation settles only after the input finished", () => {
    const trace: string[] = [];
    const stubborn = async(function* () {
      const s = sleepAsync(10_000);
      yield s; // never throws: the cancel request is swallowed
      trace.push(`input saw ${s.state}`);
      yield* sleepAsync(1);
      trace.push("input done");
      return 7;
    });
    const r = wait(stubborn(), 1);
    let settled = "";
    r.addCallback(() => (settled = `settled after ${trace.length} events`));
    expect(() => waitFor(r)).toThrow(/did not finish within 1 ms/);
    poll();
    expect(trace).toEqual(["input saw cancelled", "input done"]);
    expect(settled).toBe("settled after 2 events");
  });

  it("cancelling the result of wait() cancels its input and ends cancelled once the input has finished", () => {
    const input = sleepAsync(10_000);
    const r = wait(input, 5_000);
    expect(r.cancel()).toBe(true);
    expect(r.pending).toBe(true);
    expect(input.cancelled).toBe(true);
    expect(() => waitFor(r)).toThrow(CancelledError);
    expect(r.cancelled).toBe(true);
    expect(getGlobalDispatcher().timers.size).toBe(0);
  });

  it("cancelling a chain while every level is between finish and resume cancels at the next wait of the innermost body", () => {
    const gate = new Future<void>("gate");
    const trace: string[] = [];
    const leaf = async(function* () {
      yield* gate;
      trace.push("leaf resumed");
      yield* sleepAsync(10_000);
      trace.push("leaf slept");
    });
    const mid = async(function* () {
      yield* leaf();
      trace.push("mid resumed");
    });
    const top = mid();
    gate.complete();
    top.cancel(); // forwarded to leaf(), whose awaited gate already finished
    expect(() => waitFor(top)).toThrow(CancelledError);
    expect(trace).toEqual(["leaf resumed"]);
  });
});
