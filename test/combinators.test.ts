import { describe, expect, it, vi } from "vitest";
import { allFinished, allFutures, async, asyncCheck, asyncDiscard, CancelledError, Future, one, poll, runForever, sleepAsync, trackers, waitFor } from "../runtime/index.js";

const job = async(function* (ms: number, v: number, fail = false) {
  yield* sleepAsync(ms);
  if (fail) throw new Error(`job ${v} failed`);
  return v;
});

describe("allFutures", () => {
  it("finishes when every input has finished, however each ended", () => {
    const fs = [job(3, 1), job(1, 2, true), job(2, 3)];
    waitFor(allFutures(fs));
    expect(fs.map((f) => f.state)).toEqual(["completed", "failed", "completed"]);
  });

  it("an empty list finishes at once", () => {
    expect(allFutures([]).completed).toBe(true);
  });

  it("cancelling its result does not cancel the inputs", () => {
    const s = sleepAsync(1);
    const r = allFutures([s]);
    r.cancel();
    expect(r.cancelled).toBe(true);
    expect(s.pending).toBe(true);
    waitFor(s);
  });

  it("cancelling its result stops listening: the inputs hold no callback of it", () => {
    const [a, b] = [new Future<number>("a"), new Future<number>("b")];
    const before = trackers().futures;
    const r = allFutures([a, b]);
    expect(trackers().futures).toBe(before + 2);
    r.cancel();
    expect(trackers().futures).toBe(before);
    a.complete(1);
    b.complete(2);
  });
});

describe("allFinished", () => {
  it("gives back the same futures once all have finished", () => {
    const fs = [job(2, 1), job(1, 2, true)];
    const got = waitFor(allFinished(fs));
    expect(got).toHaveLength(2);
    expect(got[0]).toBe(fs[0]);
    expect(got[1]).toBe(fs[1]);
    expect(got.map((f) => f.state)).toEqual(["completed", "failed"]);
  });

  it("gives a copy of the array, which changing the input afterwards leaves alone", () => {
    const [a, b] = [new Future<number>("a"), new Future<number>("b")];
    a.complete(1);
    b.complete(2);
    const fs = [a, b];
    const now = allFinished(fs).read();
    expect(now).not.toBe(fs);
    const c = new Future<number>("c");
    const p = [c];
    const r = allFinished(p);
    c.complete(3);
    const got = waitFor(r);
    expect(got).not.toBe(p);
    fs.length = 1;
    p.push(a);
    expect(now).toEqual([a, b]);
    expect(got).toEqual([c]);
  });

  it("cancelling its result stops listening: the inputs hold no callback of it", () => {
    const a = new Future<number>("a");
    const before = trackers().futures;
    const r = allFinished([a]);
    expect(trackers().futures).toBe(before + 1);
    r.cancel();
    expect(trackers().futures).toBe(before);
    a.complete(1);
  });

  it("cancelling its result does not cancel the inputs", () => {
    const s = sleepAsync(1);
    const r = allFinished([s]);
    expect(r.cancel()).toBe(true);
    expect(r.cancelled).toBe(true);
    expect(s.pending).toBe(true);
    waitFor(s);
  });
});

describe("one", () => {
  it("gives the first input to finish", () => {
    const fs = [job(30, 1), job(1, 2), job(20, 3)];
    const first = waitFor(one(fs));
    expect(first).toBe(fs[1]);
    waitFor(allFutures(fs));
  });

  it("gives an already finished input at once", () => {
    const done = new Future<number>();
    done.complete(9);
    const r = one([sleepAsync(1), done]);
    expect(r.completed).toBe(true);
    expect(r.read()).toBe(done);
    poll();
    waitFor(sleepAsync(2));
  });

  it("gives the first of inputs that finish in the same step, and ignores the rest", () => {
    const [a, b] = [new Future<number>("a"), new Future<number>("b")];
    const r = one([a, b]);
    a.complete(1);
    b.complete(2);
    expect(waitFor(r)).toBe(a);
    const twice = new Future<number>("twice");
    const same = one([twice, twice]);
    twice.complete(3);
    expect(waitFor(same)).toBe(twice);
    const sleeps = [sleepAsync(5), sleepAsync(5)];
    expect(waitFor(one(sleeps))).toBe(sleeps[0]);
    waitFor(allFutures(sleeps));
  });

  it("stops listening to the other inputs once one finishes", () => {
    const [a, b, c] = [new Future<number>("a"), new Future<number>("b"), new Future<number>("c")];
    const before = trackers().futures;
    const r = one([a, b, c]);
    expect(trackers().futures).toBe(before + 3);
    b.complete(2);
    expect(waitFor(r)).toBe(b);
    expect(trackers().futures).toBe(before);
    a.complete(1);
    c.complete(3);
  });

  it("cancelling its result leaves the inputs running", () => {
    const s = sleepAsync(1);
    const r = one([s]);
    r.cancel();
    expect(r.cancelled).toBe(true);
    expect(waitFor(s)).toBeUndefined();
  });

  it("rejects an empty list and non-Futures, naming the element", () => {
    expect(() => one([])).toThrow(RangeError);
    expect(() => allFutures([new Future(), 3 as never])).toThrow(/allFutures: element 1: expected a Future, got number 3/);
    expect(() => allFinished("x" as never)).toThrow(/expected an array of Futures/);
  });

  it("takes a hole in a sparse array for the undefined it reads as, leaving no callback on the other inputs", () => {
    const f = new Future<number>("f");
    const before = trackers().futures;
    // eslint-disable-next-line no-sparse-arrays
    const sparse = [f, , f] as Future<number>[];
    expect(() => allFutures(sparse)).toThrow("allFutures: element 1: expected a Future, got undefined");
    expect(() => allFinished(sparse)).toThrow("allFinished: element 1: expected a Future, got undefined");
    expect(() => one(new Array<Future<number>>(2))).toThrow("one: element 0: expected a Future, got undefined");
    expect(trackers().futures).toBe(before);
  });
});

describe("asyncCheck and asyncDiscard", () => {
  it("asyncCheck throws a failed future's error out of the dispatcher: waitFor, poll and runForever", () => {
    asyncCheck(job(1, 5, true));
    const later = sleepAsync(20);
    expect(() => waitFor(later)).toThrow("job 5 failed");
    expect(later.pending).toBe(true);
    waitFor(later);
    const failing = new Future<void>("failing");
    asyncCheck(failing);
    failing.fail(new Error("out of poll"));
    expect(() => poll()).toThrow("out of poll");
    asyncCheck(job(1, 6, true));
    expect(() => runForever()).toThrow("job 6 failed");
  });

  it("asyncCheck is silent for completed and cancelled futures", () => {
    const ok = job(1, 1);
    asyncCheck(ok);
    const c = sleepAsync(10_000);
    asyncCheck(c);
    c.cancel();
    expect(() => waitFor(sleepAsync(5))).not.toThrow();
    expect(c.error).toBeInstanceOf(CancelledError);
  });

  it("asyncDiscard ignores a failure", () => {
    asyncDiscard(job(1, 6, true));
    expect(() => waitFor(sleepAsync(5))).not.toThrow();
  });

  it("both reject a non-Future", () => {
    expect(() => asyncCheck(undefined as never)).toThrow(/asyncCheck: expected a Future, got undefined/);
    expect(() => asyncDiscard({} as never)).toThrow(/asyncDiscard: expected a Future, got Object/);
  });

  it("name a Future of another copy of chronots as such, not as 'Future'", async () => {
    vi.resetModules();
    const copy = await import("../runtime/future.js");
    expect(() => asyncCheck(new copy.Future() as never)).toThrow("asyncCheck: expected a Future, got a Future of another copy of chronots (two versions installed?)");
    // A class of the same name without a Future's methods is only named.
    expect(() => asyncCheck(new (class Future {})() as never)).toThrow(/asyncCheck: expected a Future, got Future$/);
  });
});
