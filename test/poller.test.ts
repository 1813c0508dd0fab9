/**
 * The pollers through the dispatcher, on real fds (pipes, eventfds, Unix socket pairs), each test
 * run against every backend; then the poller interface itself and backend selection.
 */
import { closeSync, openSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  addReader,
  addTimer,
  addWriter,
  callSoon,
  DeadlockError,
  Dispatcher,
  Future,
  now,
  OSError,
  poll,
  register,
  removeReader,
  removeWriter,
  sleepAsync,
  unregister,
  waitFor,
} from "../runtime/index.js";
import { createPoller, defaultPollerKind } from "../runtime/poller/index.js";
import { READ, WRITE, type PollerKind } from "../runtime/poller/poller.js";
import { backends, useDispatcher } from "./helpers/backends.js";
import { close, eventfd, pipe, read, shutdownWrite, socketpair, write } from "./helpers/fds.js";
import { thrown } from "./helpers/thrown.js";

const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array | null) => (b === null ? null : new TextDecoder().decode(b));
const one = new Uint8Array([1, 0, 0, 0, 0, 0, 0, 0]);

describe.each(backends)("dispatcher I/O over %s", (kind) => {
  const dispatcher = useDispatcher(kind);
  let open: number[] = [];
  const track = <T extends number[]>(...fds: T): T => {
    open.push(...fds);
    return fds;
  };
  afterEach(() => {
    close(...open);
    open = [];
  });

  it("uses the backend it was asked for", () => {
    expect(dispatcher().pollerKind).toBe(kind);
  });

  it("a regular file: epoll refuses it with EPERM, saying why; poll(2) reports it always ready", () => {
    const path = join(tmpdir(), `chronots-regular-${process.pid}`);
    const fd = openSync(path, "w+");
    try {
      if (kind === "epoll") {
        const e = thrown(() => register(fd));
        expect(e).toBeInstanceOf(OSError);
        expect(e).toMatchObject({ code: "EPERM", message: expect.stringContaining(`fd ${fd}, a file epoll cannot watch (a regular file, a directory, some devices such as /dev/null)`) });
        expect(dispatcher().registeredFds).toBe(0);
      } else {
        register(fd);
        const ready = new Future<string>("regular file");
        addReader(fd, () => ready.complete("ready"));
        expect(waitFor(ready)).toBe("ready");
        removeReader(fd);
        unregister(fd);
      }
    } finally {
      closeSync(fd);
      rmSync(path);
    }
  });

  it("runs a reader when its pipe has data, inside waitFor", () => {
    const [r, w] = track(...pipe());
    register(r);
    const got = new Future<string | null>("pipe read");
    addReader(r, () => got.complete(text(read(r))));
    expect(write(w, bytes("hello"))).toBe(5);
    expect(waitFor(got)).toBe("hello");
    removeReader(r);
    unregister(r);
  });

  it("a reader removed, or an fd unregistered, by an earlier callback of the step is not called, though the step had queued it", () => {
    const [r1, w1, r2, w2, r3, w3] = track(...pipe(), ...pipe(), ...pipe());
    for (const fd of [r1, r2, r3]) register(fd);
    const order: string[] = [];
    addReader(r1, () => {
      order.push("first");
      read(r1);
      removeReader(r2);
      unregister(r3);
    });
    addReader(r2, () => order.push("second, removed"));
    addReader(r3, () => order.push("third, unregistered"));
    for (const w of [w1, w2, w3]) write(w, bytes("x"));
    poll();
    expect(order).toEqual(["first"]);
    removeReader(r1);
    unregister(r1);
    unregister(r2);
  });

  it("one step runs what was queued, then the due timers, then the ready readers; what they queue waits for the next step", () => {
    const [r, w] = track(...pipe());
    register(r);
    const order: string[] = [];
    write(w, bytes("x"));
    addReader(r, () => {
      order.push("reader");
      read(r);
      callSoon(() => order.push("queued by the reader"));
    });
    addTimer(now(), () => {
      order.push("timer");
      callSoon(() => order.push("queued by the timer"));
    });
    callSoon(() => order.push("queued before"));
    poll();
    expect(order).toEqual(["queued before", "timer", "reader"]);
    poll();
    expect(order).toEqual(["queued before", "timer", "reader", "queued by the timer", "queued by the reader"]);
    removeReader(r);
    unregister(r);
  });

  it("runs a writer when the fd can take data", () => {
    const [a] = track(...socketpair());
    register(a);
    const ready = new Future<number>("writable");
    addWriter(a, () => ready.complete(write(a, bytes("x"))));
    expect(waitFor(ready)).toBe(1);
    removeWriter(a);
    unregister(a);
  });

  it("runs both the reader and the writer of one fd", () => {
    const [a, b] = track(...socketpair());
    register(a);
    write(b, bytes("ping"));
    const seen = new Set<string>();
    const both = new Future<void>("both sides");
    const note = (side: string) => () => {
      seen.add(side);
      if (seen.size === 2 && both.pending) both.complete();
    };
    addReader(a, note("r"));
    addWriter(a, note("w"));
    waitFor(both);
    expect([...seen].sort()).toEqual(["r", "w"]);
    unregister(a);
  });

  it("is level-triggered: unread data runs the reader again every step", () => {
    const [r, w] = track(...pipe());
    register(r);
    let calls = 0;
    addReader(r, () => calls++);
    write(w, bytes("stays"));
    for (let i = 0; i < 3; i++) poll();
    expect(calls).toBe(3);
    expect(text(read(r))).toBe("stays");
    unregister(r);
  });

  it("removeReader stops the reader's callbacks while the data stays", () => {
    const [r, w] = track(...pipe());
    register(r);
    register(w);
    let reads = 0;
    let writes = 0;
    addReader(r, () => reads++);
    addWriter(w, () => writes++);
    write(w, bytes("data"));
    poll();
    expect(reads).toBe(1);
    removeReader(r);
    for (let i = 0; i < 3; i++) poll();
    expect(reads).toBe(1);
    expect(writes).toBe(4);
    unregister(r);
    unregister(w);
  });

  it("removeWriter stops the writer's callbacks", () => {
    const [r, w] = track(...pipe());
    register(r);
    register(w);
    let reads = 0;
    let writes = 0;
    addReader(r, () => reads++);
    addWriter(w, () => writes++);
    write(w, bytes("data"));
    poll();
    expect(writes).toBe(1);
    removeWriter(w);
    for (let i = 0; i < 3; i++) poll();
    expect(writes).toBe(1);
    expect(reads).toBe(4);
    unregister(r);
    unregister(w);
  });

  it("replacing a reader runs only the new callback", () => {
    const [r, w] = track(...pipe());
    register(r);
    const seen: string[] = [];
    addReader(r, () => seen.push("old"));
    addReader(r, () => seen.push("new"));
    write(w, bytes("x"));
    poll();
    expect(seen).toEqual(["new"]);
    unregister(r);
  });

  it("unregister forgets the fd and its callbacks", () => {
    const [r, w] = track(...pipe());
    const [keep] = track(eventfd());
    register(r);
    register(keep);
    let calls = 0;
    addReader(r, () => calls++);
    addWriter(keep, () => {});
    unregister(r);
    expect(dispatcher().registeredFds).toBe(1);
    write(w, bytes("x"));
    poll();
    expect(calls).toBe(0);
    expect(() => addReader(r, () => {})).toThrow(/fd \d+ is not registered/);
    unregister(keep);
  });

  it("keeps the other fds working when one in the middle is unregistered", () => {
    const fds = track(eventfd(), eventfd(), eventfd());
    for (const fd of fds) register(fd);
    const fired: number[] = [];
    for (const fd of fds) addReader(fd, () => fired.push(fd));
    unregister(fds[1]!);
    for (const fd of fds) write(fd, one);
    poll();
    expect(fired.sort()).toEqual([fds[0], fds[2]].sort());
    unregister(fds[0]!);
    unregister(fds[2]!);
  });

  it("reports every one of 300 ready fds", () => {
    const fds = track(...Array.from({ length: 300 }, () => eventfd()));
    const fired = new Set<number>();
    const all = new Future<void>("300 readers");
    for (const fd of fds) {
      register(fd);
      write(fd, one);
      addReader(fd, () => {
        fired.add(fd);
        removeReader(fd);
        if (fired.size === fds.length) all.complete();
      });
    }
    waitFor(all);
    expect(fired.size).toBe(300);
    for (const fd of fds) unregister(fd);
  });

  it("wakes the reader when the pipe's writer closes (end of file)", () => {
    const [r, w] = pipe();
    track(r);
    register(r);
    const eof = new Future<number | undefined>("pipe hang-up");
    addReader(r, () => eof.complete(read(r)?.length));
    close(w);
    expect(waitFor(eof)).toBe(0);
    unregister(r);
  });

  it("wakes the reader when the socket peer shuts down or closes", () => {
    const [a, b] = track(...socketpair());
    register(a);
    const eof = new Future<number | undefined>("socket shutdown");
    addReader(a, () => eof.complete(read(a)?.length));
    shutdownWrite(b);
    expect(waitFor(eof)).toBe(0);
    unregister(a);
  });

  it("wakes the writer when the pipe's reader closes", () => {
    const [r, w] = pipe();
    track(w);
    register(w);
    // Fill the pipe so only the hang-up can make it writable.
    while (write(w, new Uint8Array(65536)) > 0);
    const woke = new Future<number>("writer woke");
    addWriter(w, () => woke.complete(write(w, bytes("x"))));
    close(r);
    expect(waitFor(woke)).toBe(-1); // EPIPE: Node ignores SIGPIPE
    unregister(w);
  });

  it("an fd that hung up with nothing watched does not wake the loop, and wakes its reader once watched", () => {
    const [r, w] = pipe();
    track(r);
    const [idle] = track(eventfd());
    register(r);
    register(idle);
    addReader(idle, () => {});
    close(w);
    const nap = sleepAsync(20);
    let steps = 0;
    while (nap.pending) {
      poll();
      steps++;
    }
    expect(steps).toBeLessThan(5);
    const eof = new Future<number | undefined>("late reader");
    addReader(r, () => eof.complete(read(r)?.length));
    expect(waitFor(eof)).toBe(0);
    unregister(r);
    unregister(idle);
  });

  it("forgets an fd closed before unregister without an error", () => {
    const [r, w] = pipe();
    register(r);
    addReader(r, () => {});
    close(r, w);
    expect(() => unregister(r)).not.toThrow();
    expect(dispatcher().registeredFds).toBe(0);
  });

  it("rejects bad fds before any kernel call", () => {
    for (const bad of [-1, 1.5, NaN, 2 ** 31]) {
      expect(() => register(bad), String(bad)).toThrow(RangeError);
      expect(() => register(bad), String(bad)).toThrow(`register: fd must be an integer from 0 to 2147483647, got ${bad}`);
    }
    expect(() => addReader(-3, () => {})).toThrow(RangeError);
    // A string that reads as a number is named as the string it is.
    expect(() => register("3" as unknown as number)).toThrow(new TypeError('register: fd must be a number, got string "3"'));
  });

  it("rejects a closed fd with an OSError naming the call and the fd", () => {
    // The poller exists first, or its own new fd would take the closed number.
    const [keep] = track(eventfd());
    register(keep);
    const [r, w] = pipe();
    close(r, w);
    const err = thrown(() => register(r));
    expect(err).toBeInstanceOf(OSError);
    expect((err as OSError).code).toBe("EBADF");
    expect((err as OSError).syscall).toBe(kind === "epoll" ? "epoll_ctl" : "poll");
    expect((err as OSError).message).toContain(`fd ${r}`);
    expect(dispatcher().registeredFds).toBe(1);
    unregister(keep);
  });

  it("a watch on an fd closed while registered never leaves poll() blocked: epoll refuses it with EBADF, poll(2) runs the reader", () => {
    const [r, w] = pipe();
    register(r);
    close(r, w);
    let ran = 0;
    if (kind === "epoll") {
      const err = thrown(() => addReader(r, () => ran++));
      expect(err).toBeInstanceOf(OSError);
      expect((err as OSError).code).toBe("EBADF");
      expect(dispatcher().busy, "a refused watch is not counted").toBe(false);
      expect(() => poll()).toThrow(DeadlockError);
    } else {
      // poll(2) reports a closed fd as POLLNVAL, which counts as readiness: the reader's own read meets EBADF.
      addReader(r, () => ran++);
      poll();
      expect(ran).toBe(1);
      removeReader(r);
    }
    unregister(r);
    expect(dispatcher().busy).toBe(false);
  });

  it("removes the reader of an fd closed while it was watched without throwing, and nothing is left to wait for", () => {
    const [r, w] = pipe();
    track(w);
    register(r);
    addReader(r, () => {});
    close(r);
    removeReader(r);
    expect(dispatcher().busy).toBe(false);
    unregister(r);
    expect(dispatcher().registeredFds).toBe(0);
  });

  it("rejects unregistered fds, double registration and non-function callbacks", () => {
    const [fd] = track(eventfd());
    expect(() => addReader(fd, () => {})).toThrow(RangeError);
    expect(() => addWriter(fd, () => {})).toThrow(/is not registered/);
    expect(() => removeReader(fd)).toThrow(/is not registered/);
    expect(() => unregister(fd)).toThrow(/is not registered/);
    register(fd);
    expect(() => register(fd)).toThrow(/already registered/);
    expect(() => addReader(fd, "nope" as unknown as () => void)).toThrow(TypeError);
    unregister(fd);
  });

  it("waitFor throws DeadlockError when nothing is registered, or registered but unwatched", () => {
    expect(() => waitFor(new Future<void>("orphan"))).toThrow(DeadlockError);
    const [fd] = track(eventfd());
    register(fd);
    expect(() => waitFor(new Future<void>("orphan"))).toThrow(DeadlockError);
    unregister(fd);
  });

  it("unregistering fds that still have a reader, a writer or both leaves nothing watched: waitFor throws DeadlockError", () => {
    const [a, b, c] = track(eventfd(), eventfd(), eventfd());
    for (const fd of [a, b, c]) register(fd);
    addReader(a, () => {});
    addWriter(b, () => {});
    addReader(c, () => {});
    addWriter(c, () => {});
    expect(dispatcher().busy).toBe(true);
    unregister(a);
    unregister(b);
    expect(dispatcher().busy).toBe(true);
    unregister(c);
    expect(dispatcher().busy).toBe(false);
    expect(() => waitFor(new Future<void>("orphan"))).toThrow(DeadlockError);
  });

  it("close refuses while fds are registered, then releases the poller", () => {
    const [fd] = track(eventfd());
    register(fd);
    expect(() => dispatcher().close()).toThrow(/still registered/);
    unregister(fd);
    dispatcher().close();
    register(fd); // a closed dispatcher makes a new poller on demand
    unregister(fd);
  });

  it("close while a waitForAsync idles on the worker thread ends that wait, writes to no fd afterwards, and leaves none open", async () => {
    const victim = join(tmpdir(), `chronots-victim-${process.pid}-${kind}`);
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    try {
      // The wait's wake-up raced close's removal of the waker: the wait missed it several times in ten.
      for (let i = 0; i < 10; i++) {
        const before = readdirSync("/proc/self/fd").length;
        const fd = eventfd();
        register(fd);
        addReader(fd, () => {}); // an fd watched: the idle waits on a worker thread, woken by the waker
        const f = new Future<number>("closed under");
        const p = dispatcher().waitForAsync(f);
        await sleep(5);
        removeReader(fd);
        unregister(fd);
        close(fd);
        dispatcher().close();
        // Files that take the numbers close freed: finishing `f` must write the 8 bytes of a wake to none.
        const opened = Array.from({ length: 20 }, () => openSync(victim, "a"));
        f.complete(i);
        expect(await Promise.race([p, sleep(2000).then(() => "still idling")])).toBe(i);
        opened.forEach((n) => closeSync(n));
        expect(readFileSync(victim).length).toBe(0);
        expect(readdirSync("/proc/self/fd").length).toBe(before);
      }
    } finally {
      rmSync(victim, { force: true });
    }
  });
});

describe.each(backends)("the %s poller itself", (kind: PollerKind) => {
  it("reports readiness masks and is unusable after close", () => {
    const p = createPoller(kind);
    const [r, w] = pipe();
    p.add(r);
    p.add(w);
    p.watch(r, READ);
    p.watch(w, READ | WRITE);
    write(w, bytes("x"));
    const seen = new Map<number, number>();
    p.wait(0, (fd, ev) => seen.set(fd, ev));
    expect(seen).toEqual(new Map([[r, READ], [w, WRITE]]));
    expect(() => p.watch(r, 4)).toThrow(TypeError);
    expect(() => p.watch(99999, READ)).toThrow(/never added/);
    expect(() => p.add(r)).toThrow(/already added/);
    p.remove(r);
    p.remove(w);
    p.close();
    p.close();
    expect(() => p.add(r)).toThrow(/closed/);
    expect(() => p.wait(0, () => {})).toThrow(/closed/);
    close(r, w);
  });

  it("reports nothing when nothing is ready", () => {
    const p = createPoller(kind);
    const fd = eventfd();
    p.add(fd);
    p.watch(fd, READ);
    let calls = 0;
    p.wait(1, () => calls++);
    expect(calls).toBe(0);
    p.remove(fd);
    p.close();
    close(fd);
  });
});

describe("choosing a poller", () => {
  const saved = process.env.CHRONOTS_POLLER;
  afterEach(() => {
    if (saved === undefined) delete process.env.CHRONOTS_POLLER;
    else process.env.CHRONOTS_POLLER = saved;
  });

  it("takes CHRONOTS_POLLER, else epoll on Linux", () => {
    delete process.env.CHRONOTS_POLLER;
    expect(defaultPollerKind()).toBe(process.platform === "linux" ? "epoll" : "poll");
    process.env.CHRONOTS_POLLER = "poll";
    expect(defaultPollerKind()).toBe("poll");
    expect(new Dispatcher().pollerKind).toBe("poll");
  });

  it("rejects an unknown CHRONOTS_POLLER or poller name", () => {
    process.env.CHRONOTS_POLLER = "kqueue";
    expect(() => defaultPollerKind()).toThrow(/CHRONOTS_POLLER must be 'epoll' or 'poll', got 'kqueue'/);
    expect(() => new Dispatcher()).toThrow(TypeError);
    expect(() => createPoller("select" as PollerKind)).toThrow(/unknown poller 'select'/);
    expect(() => new Dispatcher({ poller: "select" as PollerKind })).toThrow(TypeError);
    expect(() => new Dispatcher(null as never)).toThrow(new TypeError("Dispatcher: options must be an object, got null"));
    expect(() => new Dispatcher("poll" as never)).toThrow(new TypeError('Dispatcher: options must be an object, got string "poll"'));
  });
});

describe("the C library", () => {
  it("is looked for by each system's own name: glibc's first here, then musl's, FreeBSD's real library rather than its linker script", async () => {
    const { libcNames } = await import("../runtime/libc.js");
    const koffi = (await import("koffi")).default;
    if (process.platform === "linux") expect(() => koffi.load(libcNames("linux", process.arch)[0]!)).not.toThrow();
    expect(libcNames("linux", "x64")).toEqual(["libc.so.6", "libc.musl-x86_64.so.1", "libc.so"]);
    expect(libcNames("linux", "arm64")[1]).toBe("libc.musl-aarch64.so.1");
    expect(libcNames("freebsd", "x64")[0]).toBe("libc.so.7");
    expect(libcNames("darwin", "arm64")).toEqual(["libc.dylib"]);
  });
});
