import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { addTimer, async, callSoon, DeadlockError, Dispatcher, Future, getGlobalDispatcher, now, poll, removeTimer, runForever, setGlobalDispatcher, sleepAsync, TimerHandle, trackers, waitFor } from "../runtime/index.js";
import { CallbackQueue } from "../runtime/queue.js";
import { TimerHeap } from "../runtime/timerheap.js";

describe("callSoon and the callback queue (chronos testsoon)", () => {
  it("runs callbacks in FIFO order in the next step", () => {
    const seen: number[] = [];
    for (let i = 0; i < 5; i++) callSoon(() => seen.push(i));
    expect(seen).toEqual([]);
    poll();
    expect(seen).toEqual([0, 1, 2, 3, 4]);
  });

  it("callbacks queued by a callback run in the next step, not the current one", () => {
    const seen: string[] = [];
    callSoon(() => {
      seen.push("a");
      callSoon(() => seen.push("c"));
    });
    callSoon(() => seen.push("b"));
    poll();
    expect(seen).toEqual(["a", "b"]);
    poll();
    expect(seen).toEqual(["a", "b", "c"]);
  });

  it("a callback that re-queues itself 10,000 times runs once per step", () => {
    let n = 0;
    const again = () => {
      if (++n < 10_000) callSoon(again);
    };
    callSoon(again);
    let steps = 0;
    while (n < 10_000) {
      poll();
      steps++;
    }
    expect(steps).toBe(10_000);
  });

  it("a throwing callback propagates out of poll() and loses none of the queued ones", () => {
    const seen: string[] = [];
    callSoon(() => seen.push("first"));
    callSoon(() => {
      throw new Error("callback failed");
    });
    callSoon(() => seen.push("third"));
    callSoon(() => seen.push("fourth"));
    expect(() => poll()).toThrow("callback failed");
    expect(seen).toEqual(["first"]);
    poll();
    expect(seen).toEqual(["first", "third", "fourth"]);
    callSoon(() => seen.push("still working"));
    poll();
    expect(seen.at(-1)).toBe("still working");
  });

  it("the ring buffer keeps order while wrapping and growing", () => {
    const q = new CallbackQueue();
    const out: number[] = [];
    const push = (v: number) => out.push(v);
    let next = 0;
    let expected = 0;
    for (let round = 0; round < 50; round++) {
      for (let i = 0; i < round * 7; i++) q.push(push, next++);
      for (let i = 0; i < round * 5 && q.length > 0; i++) q.runOne();
    }
    while (q.length > 0) q.runOne();
    for (const v of out) expect(v).toBe(expected++);
    expect(expected).toBe(next);
  });

  it("drops one pair unrun, wherever it stands in a wrapped ring, and keeps the others in order", () => {
    fc.assert(
      fc.property(fc.nat(40), fc.integer({ min: 1, max: 100 }), fc.nat(99), (shift, n, at) => {
        const q = new CallbackQueue();
        const out: number[] = [];
        const push = (v: number) => out.push(v);
        // Move the head along the ring first, so that the pairs wrap around its end.
        for (let i = 0; i < shift; i++) q.push(push, -1);
        for (let i = 0; i < shift; i++) q.runOne();
        out.length = 0;
        for (let i = 0; i < n; i++) q.push(push, i);
        const gone = at % n;
        q.drop(push, gone);
        q.drop(push, n + 5);
        expect(q.length).toBe(n - 1);
        while (q.length > 0) q.runOne();
        expect(out).toEqual([...Array(n).keys()].filter((i) => i !== gone));
      }),
    );
  });

  it("rejects a non-function", () => {
    expect(() => callSoon("x" as never)).toThrow(/callSoon: expected a function, got string/);
  });
});

describe("timers (chronos testtime)", () => {
  it("now() is monotonic and fractional milliseconds", () => {
    const a = now();
    const b = now();
    expect(b).toBeGreaterThanOrEqual(a);
    expect(typeof a).toBe("number");
  });

  it("fire in deadline order, ties in insertion order", () => {
    const seen: string[] = [];
    const t = now();
    addTimer(t + 3, () => seen.push("c"));
    addTimer(t + 1, () => seen.push("a1"));
    addTimer(t + 1, () => seen.push("a2"));
    addTimer(t + 2, () => seen.push("b"));
    addTimer(t + 1, () => seen.push("a3"));
    while (seen.length < 5) poll();
    expect(seen).toEqual(["a1", "a2", "a3", "b", "c"]);
  });

  it("a timer does not fire before its deadline", () => {
    const at = now() + 15;
    let firedAt = 0;
    addTimer(at, () => (firedAt = now()));
    while (firedAt === 0) poll();
    expect(firedAt).toBeGreaterThanOrEqual(at);
  });

  it("removeTimer stops a timer; removing twice returns false", () => {
    let fired = false;
    const h = addTimer(now() + 1, () => (fired = true));
    expect(h.active).toBe(true);
    expect(removeTimer(h)).toBe(true);
    expect(removeTimer(h)).toBe(false);
    expect(h.active).toBe(false);
    expect(getGlobalDispatcher().timers.size).toBe(0);
    expect(fired).toBe(false);
  });

  it("calls a timer's callback plainly: `this` is undefined, not the handle", () => {
    let self: unknown = "not called";
    addTimer(now(), function (this: unknown) {
      self = this;
    });
    poll();
    expect(self).toBeUndefined();
  });

  it("removeTimer stops a due timer that an earlier timer of the same step removes: it is queued, not fired", () => {
    const fired: string[] = [];
    const at = now() + 1;
    let second: TimerHandle | undefined;
    addTimer(at, () => {
      expect(second!.active).toBe(true);
      fired.push(`first removes the second: ${removeTimer(second!)}`);
    });
    second = addTimer(at + 0.5, () => fired.push("second fired"));
    const later = addTimer(at + 0.5, () => fired.push("third fired"));
    while (now() < at + 1) {
      // Both due before the step begins, so both are in the queue when the first runs.
    }
    poll();
    expect(fired).toEqual(["first removes the second: true", "third fired"]);
    expect(second.active).toBe(false);
    expect(later.active).toBe(false);
    expect(removeTimer(second)).toBe(false);
    expect(trackers().callbacks).toBe(0);
  });

  it("the heap releases timers in (deadline, insertion) order under random adds and removes", () => {
    const op = fc.oneof(fc.record({ add: fc.integer({ min: 0, max: 20 }) }), fc.record({ remove: fc.nat() }));
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
        const heap = new TimerHeap();
        const released: number[] = [];
        const release = (seq: number) => released.push(seq);
        const live: { at: number; seq: number; h: ReturnType<TimerHeap["add"]> }[] = [];
        let seq = 0;
        for (const o of ops) {
          if ("add" in o) live.push({ at: o.add, seq, h: heap.add(o.add, release, seq++) });
          else if (live.length > 0) expect(heap.remove(live.splice(o.remove % live.length, 1)[0]!.h)).toBe(true);
        }
        expect(heap.size).toBe(live.length);
        const q = new CallbackQueue();
        expect(heap.moveDue(Infinity, q)).toBe(-1);
        while (q.length > 0) q.runOne();
        expect(released).toEqual(live.sort((a, b) => a.at - b.at || a.seq - b.seq).map((t) => t.seq));
      }),
    );
  });

  it("rejects a deadline that is not a finite number, and a non-function callback", () => {
    expect(() => addTimer("1" as never, () => {})).toThrow('addTimer: deadline must be a number of milliseconds, got string "1"');
    expect(() => addTimer(null as never, () => {})).toThrow("addTimer: deadline must be a number of milliseconds, got null");
    // A timer that could never fire would hide a deadlock from waitFor.
    for (const at of [NaN, Infinity, -Infinity]) expect(() => addTimer(at, () => {})).toThrow(/addTimer: deadline must be a finite number/);
    expect(() => addTimer(now(), null as never)).toThrow(/expected a callback function/);
    expect(() => removeTimer({} as never)).toThrow(/expected a TimerHandle/);
  });

  it("a TimerHandle comes only from addTimer: constructing one, as plain JavaScript can, throws a TypeError saying so", () => {
    // TypeScript refuses `new TimerHandle()` (a private constructor); JavaScript would otherwise get a handle removeTimer trips on.
    const Handle = TimerHandle as unknown as new (...args: unknown[]) => TimerHandle;
    let error: unknown = null;
    try {
      new Handle(0, 0, () => {}, null);
    } catch (e) {
      error = e;
    }
    expect(error).toStrictEqual(new TypeError("TimerHandle: use addTimer(); it cannot be constructed"));
    expect(getGlobalDispatcher().timers.size).toBe(0);
  });
});

describe("waitFor and runForever", () => {
  it("throws DeadlockError when nothing can ever finish the future", () => {
    const f = new Future<number>("orphan");
    expect(() => waitFor(f)).toThrow(DeadlockError);
    expect(() => waitFor(f)).toThrow(/'orphan' can never finish/);
  });

  it("rejects a non-Future", () => {
    expect(() => waitFor(Promise.resolve(1) as never)).toThrow("waitFor: expected a Future, got Promise; a promise becomes a Future with fromPromise(p), which waitForAsync lets settle");
  });

  it("waitFor nested in a callback the dispatcher runs finishes, and the step around it runs only what is still queued", () => {
    const log: string[] = [];
    const later = async(function* () {
      yield* sleepAsync(5);
      return "inner";
    });
    const inner = async(function* () {
      yield* sleepAsync(1);
      // Blocks this coroutine's step: the callbacks queued beside it run inside the nested waitFor.
      const v = waitFor(later());
      log.push(v);
      return v;
    });
    const beside = async(function* (tag: string) {
      yield* sleepAsync(1);
      log.push(tag);
      return tag;
    });
    const fs = [inner(), beside("b"), beside("c")];
    expect(waitFor(fs[0]!)).toBe("inner");
    expect(fs.map((f) => f.read())).toEqual(["inner", "b", "c"]);
    expect(log).toEqual(["b", "c", "inner"]);
    expect(trackers().callbacks).toBe(0);
    let ran = 0;
    callSoon(() => {
      ran++;
      waitFor(sleepAsync(1));
    });
    callSoon(() => ran++);
    callSoon(() => ran++);
    poll();
    expect(ran).toBe(3);
    expect(trackers().callbacks).toBe(0);
    expect(waitFor(sleepAsync(2))).toBeUndefined();
  });

  it("runForever polls until a callback throws out of it", () => {
    let steps = 0;
    const tick = () => {
      if (++steps === 100) throw new Error("enough");
      callSoon(tick);
    };
    callSoon(tick);
    expect(() => runForever()).toThrow("enough");
    expect(steps).toBe(100);
  });

  it("a dispatcher that is not the global one runs the callbacks of what its own timers finish", () => {
    const main = getGlobalDispatcher();
    const s = sleepAsync(5);
    const c = async(function* () {
      yield* s;
      return "woke";
    })();
    const other = new Dispatcher();
    setGlobalDispatcher(other);
    try {
      expect(main.waitFor(c)).toBe("woke");
      expect(other.queue.length).toBe(0);
      // Outside its steps, futures queue on the global dispatcher again.
      const f = new Future<number>();
      f.addCallback(() => {});
      f.complete(1);
      expect(other.queue.length).toBe(1);
      other.poll();
    } finally {
      setGlobalDispatcher(main);
    }
  });

  it("each dispatcher has its own queue; setGlobalDispatcher switches where futures queue callbacks", () => {
    const main = getGlobalDispatcher();
    const other = new Dispatcher();
    setGlobalDispatcher(other);
    try {
      const f = new Future<number>();
      let ran = false;
      f.addCallback(() => (ran = true));
      f.complete(1);
      expect(other.queue.length).toBe(1);
      expect(main.queue.length).toBe(0);
      other.poll();
      expect(ran).toBe(true);
    } finally {
      setGlobalDispatcher(main);
    }
    expect(() => setGlobalDispatcher({} as never)).toThrow(/expected a Dispatcher/);
  });

  it("a deadlock on a dispatcher that is not the global one says the sleeps and timeouts are on the global one", () => {
    const other = new Dispatcher();
    const nap = sleepAsync(1);
    const where = /is watched on this dispatcher, which is not the global one that sleepAsync, the timeouts and the transports use/;
    expect(() => other.waitFor(nap)).toThrow(where);
    expect(() => other.poll()).toThrow(where);
    // Once another dispatcher has been the global one, a deadlock on the global one says a sleep may be another's.
    const main = getGlobalDispatcher();
    setGlobalDispatcher(other);
    setGlobalDispatcher(main);
    expect(() => waitFor(new Future<void>("stuck"))).toThrow(/is watched on the global dispatcher \(a sleep, timeout or transport begun while another dispatcher was the global one finishes only on that one\)$/);
    waitFor(nap);
  });

  it("a sleep begun while another dispatcher was global: waiting for it on the new global one names the other", () => {
    const main = getGlobalDispatcher();
    const first = new Dispatcher();
    setGlobalDispatcher(first);
    const nap = sleepAsync(1);
    const second = new Dispatcher();
    setGlobalDispatcher(second);
    try {
      expect(() => waitFor(nap)).toThrow(/can never finish: .* on the global dispatcher \(a sleep, timeout or transport begun while another dispatcher was the global one/);
      first.waitFor(nap);
      expect(nap.completed).toBe(true);
    } finally {
      setGlobalDispatcher(main);
    }
  });
});
