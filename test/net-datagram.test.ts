/**
 * Datagram transports on loopback, on both poller backends: round trips between chronots sockets
 * over IPv4, IPv6 and Unix datagram sockets, with a Node `dgram` peer in a child process, and the
 * error paths (bad addresses and data, a failing onMessage, a closed transport).
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import vm from "node:vm";
import { afterAll, describe, expect, it } from "vitest";
import { allFutures, async, Future, sleepAsync, trackers, waitFor, withTimeout } from "../runtime/index.js";
import {
  DatagramTransport,
  newDatagramTransport,
  TransportAddressError,
  TransportClosedError,
  TransportLimitError,
  TransportOsError,
} from "../runtime/net/index.js";
import { type Address, parseAddress } from "../runtime/net/address.js";
import { bindTo, encodeSockaddr, openSocket, recvDatagram, sendDatagram, setIntOption, SOCK_DGRAM, SOL_SOCKET } from "../runtime/net/sys.js";
import { close } from "../runtime/libc.js";
import { backends, useDispatcher } from "./helpers/backends.js";
import { startPeer } from "./helpers/peer.js";

const dir = mkdtempSync(path.join(tmpdir(), "chronots-udp-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const text = (b: Uint8Array) => Buffer.from(b).toString("utf8");
const SO_SNDBUF = 7;

/** Send `sizes` datagrams to `to` from a raw Unix socket: sendTo itself refuses more than 65535 bytes. */
function sendRaw(to: string, sizes: number[]): void {
  const a = parseAddress(to, "sendRaw");
  const fd = openSocket(a, SOCK_DGRAM);
  try {
    setIntOption(fd, SOL_SOCKET, SO_SNDBUF, 1 << 20, "SO_SNDBUF");
    for (const n of sizes) expect(sendDatagram(fd, new Uint8Array(n), 0, n, encodeSockaddr(a)), `a datagram of ${n} bytes`).toBe(n);
  } finally {
    close(fd);
  }
}

/** A transport that answers every datagram with "re: <it>". */
function replier(local: string): DatagramTransport {
  return newDatagramTransport(local, (data, from, t) => t.sendTo(from, `re: ${text(data)}`));
}

/** A transport collecting what it receives, and a future completing after `count` datagrams. */
function collector(local: string, count: number) {
  const got: [string, string][] = [];
  const all = new Future<[string, string][]>("collected");
  const t = newDatagramTransport(local, (data, from) => {
    got.push([text(data), from]);
    if (got.length === count) all.complete(got);
  });
  return { t, all };
}


/**
 * A Unix datagram receiver `fd` at `sink` that never reads, and a transport sending to it; `fill` sends
 * until the full queue refuses a datagram, which it returns pending. Both are closed afterwards.
 */
function withFullReceiver(name: string, run: (t: DatagramTransport, sink: Address, fd: number, fill: () => Future<void>) => void): void {
  const sink = parseAddress(`unix:@chronots-${name}-sink-${process.pid}`, "sink");
  const fd = openSocket(sink, SOCK_DGRAM);
  const t = newDatagramTransport(`unix:@chronots-${name}-src-${process.pid}`, () => {});
  const fill = () => {
    let f = t.sendTo(sink.text, "x");
    for (let i = 0; i < 10000 && f.completed; i++) f = t.sendTo(sink.text, "x");
    expect(f.pending, "the receiver's queue is full").toBe(true);
    return f;
  };
  try {
    bindTo(fd, sink, encodeSockaddr(sink));
    run(t, sink, fd, fill);
  } finally {
    waitFor(t.closeWait());
    close(fd);
  }
}

describe.each(backends)("datagram transports over %s", (kind) => {
  const dispatcher = useDispatcher(kind);

  it.each([
    ["IPv4", "127.0.0.1:0"],
    ["IPv6", "[::1]:0"],
    ["Unix datagram sockets", `unix:${path.join(dir, `${kind}-a.sock`)}`],
  ])("round-trips datagrams over %s", (_label, local) => {
    const server = replier(local);
    const clientAddress = local.startsWith("unix:") ? `unix:${path.join(dir, `${kind}-b.sock`)}` : local;
    const { t: client, all } = collector(clientAddress, 50);
    if (!local.startsWith("unix:")) expect(server.localAddress).toMatch(/:[1-9]\d*$/);
    for (let i = 0; i < 50; i++) waitFor(client.sendTo(server.localAddress, `message ${i}`));
    const got = waitFor(all);
    expect(got.map(([m]) => m).sort()).toEqual(Array.from({ length: 50 }, (_, i) => `re: message ${i}`).sort());
    expect(new Set(got.map(([, from]) => from))).toEqual(new Set([server.localAddress]));
    waitFor(client.closeWait());
    waitFor(server.closeWait());
    if (local.startsWith("unix:")) expect(existsSync(local.slice(5)), "the socket file is removed").toBe(false);
  });

  it("talks to a Node dgram socket both ways", async () => {
    const peer = startPeer(`
      const s = dgram.createSocket("udp4");
      s.on("message", (m, r) => s.send("node got " + m, r.port, r.address));
      s.bind(0, "127.0.0.1", () => send(s.address().port));
      lines.on("close", () => s.close());
    `);
    const port = await peer.line();
    const { t, all } = collector("127.0.0.1:0", 3);
    for (const m of ["a", "bb", "ccc"]) waitFor(t.sendTo(`127.0.0.1:${port}`, m));
    const got = waitFor(all);
    expect(got.map(([m]) => m).sort()).toEqual(["node got a", "node got bb", "node got ccc"]);
    expect(got[0]![1]).toBe(`127.0.0.1:${port}`);
    waitFor(t.closeWait());
    expect(await peer.exit()).toBe(0);
  });

  it("reports a failing onMessage and keeps receiving", () => {
    const errors: unknown[] = [];
    const seen: string[] = [];
    const last = new Future<void>("last seen");
    const reported = new Future<void>("both reported");
    const fails = async(function* (data: Uint8Array) {
      if (text(data) === "async boom") throw new Error("async boom");
    });
    const t = newDatagramTransport(
      "127.0.0.1:0",
      (data) => {
        const m = text(data);
        seen.push(m);
        if (m === "boom") throw new Error("boom");
        if (m === "last") last.complete();
        return fails(data);
      },
      {
        onError: (e) => {
          if (errors.push((e as Error).message) === 2) reported.complete();
        },
      },
    );
    for (const m of ["boom", "async boom", "last"]) waitFor(t.sendTo(t.localAddress, m));
    waitFor(allFutures([last, reported]));
    waitFor(t.closeWait());
    expect(seen).toEqual(["boom", "async boom", "last"]);
    expect(errors).toEqual(["boom", "async boom"]);
  });

  it("calls onMessage and onError as plain functions: `this` is undefined, not the transport or its options", () => {
    const seen: [string, unknown][] = [];
    const reported = new Future<void>("reported");
    const options = {
      onError(this: unknown) {
        seen.push(["onError", this]);
        reported.complete();
      },
    };
    const t = newDatagramTransport(
      "127.0.0.1:0",
      function (this: unknown) {
        seen.push(["onMessage", this]);
        throw new Error("reported");
      },
      options,
    );
    // Taken when the transport was made: a later change of the options object is not seen.
    (options as { onError: unknown }).onError = 5;
    waitFor(t.sendTo(t.localAddress, "x"));
    waitFor(reported);
    waitFor(t.closeWait());
    expect(seen).toEqual([
      ["onMessage", undefined],
      ["onError", undefined],
    ]);
    // null, as undefined, means none.
    waitFor(newDatagramTransport("127.0.0.1:0", () => {}, { onError: null as never }).closeWait());
  });

  it("sends the bytes a buffer holds, not what a shadowed length claims (C would read past it)", () => {
    const { t, all } = collector("127.0.0.1:0", 1);
    const liar = Object.defineProperty(new Uint8Array(16).fill(65), "length", { value: 4000 });
    waitFor(t.sendTo(t.localAddress, liar));
    expect(waitFor(all)[0]![0]).toBe("A".repeat(16));
    waitFor(t.closeWait());
  });

  it("reports a Unix datagram over 65535 bytes with TransportLimitError instead of delivering it cut", () => {
    const sizes: number[] = [];
    const errors: unknown[] = [];
    const last = new Future<void>("last");
    const senders = new Set<string>();
    const t = newDatagramTransport(
      `unix:${path.join(dir, `${kind}-big.sock`)}`,
      (data, from) => {
        senders.add(from);
        sizes.push(data.length);
        if (data.length === 10) last.complete();
      },
      { onError: (e) => errors.push(e) },
    );
    sendRaw(t.localAddress, [100000, 65535, 10]);
    waitFor(last);
    waitFor(t.closeWait());
    expect(sizes).toEqual([65535, 10]);
    expect(errors.length).toBe(1);
    expect(errors[0]).toBeInstanceOf(TransportLimitError);
    expect((errors[0] as Error).message).toMatch(/100000 bytes from unix: is larger than 65535, dropped \(ELIMIT\)$/);
    // The sender is unbound: named as a stream's unnamed peer is.
    expect([...senders]).toEqual(["unix:"]);
  });

  it("backs off instead of spinning while a Unix receiver's queue is full, and sends once it drains", () => {
    // A receiver that does not read: its queue fills after a few datagrams, and sendto gets EAGAIN.
    withFullReceiver(`backoff-${kind}`, (t, _sink, fd, fill) => {
      const d = dispatcher();
      let steps = 0;
      d.poll = () => {
        steps++;
        Object.getPrototypeOf(d).poll.call(d);
      };
      /** Dispatcher steps taken while sleeping 100 ms. */
      const stepsIn100ms = () => {
        steps = 0;
        waitFor(sleepAsync(100));
        return steps;
      };
      const idle = stepsIn100ms();
      const f = fill();
      const blocked = stepsIn100ms();
      // Spinning takes thousands of steps in 100 ms; a 1 ms retry doubling to 50 ms takes about 8.
      expect(blocked, `${blocked} steps blocked vs ${idle} idle`).toBeLessThan(idle + 30);
      while (recvDatagram(fd, new Uint8Array(16), 16) >= 0);
      waitFor(f);
      const g = fill();
      waitFor(t.closeWait());
      expect(() => waitFor(g)).toThrow(TransportClosedError);
      expect(trackers().timers, "closeWait removes the retry").toBe(0);
    });
  });

  it("cancelling one of several queued datagrams leaves the others to go out once the receiver drains", () => {
    withFullReceiver(`cancel-${kind}`, (t, sink, fd, fill) => {
      const first = fill();
      const [middle, last] = [t.sendTo(sink.text, "middle"), t.sendTo(sink.text, "last")];
      expect(middle.cancel()).toBe(true);
      expect(last.pending).toBe(true);
      const got: string[] = [];
      const buf = new Uint8Array(16);
      while (recvDatagram(fd, buf, 16) >= 0);
      // Bounded, so that a stalled queue fails the test rather than hanging it.
      expect(waitFor(withTimeout(allFutures([first, last]), 10_000))).toBe(true);
      expect(first.completed && last.completed).toBe(true);
      for (let n; (n = recvDatagram(fd, buf, 16)) >= 0; ) got.push(text(buf.subarray(0, n)));
      expect(got).toEqual(["x", "last"]);
    });
  });

  it("a queued datagram whose buffer was detached fails alone with a RangeError; the others go out, the loop runs on", () => {
    withFullReceiver(`detached-${kind}`, (t, sink, fd, fill) => {
      const first = fill();
      const bytes = new Uint8Array(8);
      const gone = t.sendTo(sink.text, bytes);
      // Another realm's Uint8Array is a Uint8Array: queued beside it, it goes out.
      const foreign = t.sendTo(sink.text, vm.runInNewContext('new Uint8Array([102, 111, 114, 101, 105, 103, 110])') as Uint8Array);
      const last = t.sendTo(sink.text, "last");
      structuredClone(bytes.buffer, { transfer: [bytes.buffer] });
      const buf = new Uint8Array(16);
      while (recvDatagram(fd, buf, 16) >= 0);
      expect(waitFor(withTimeout(allFutures([first, gone, foreign, last]), 10_000))).toBe(true);
      expect(gone.error).toBeInstanceOf(RangeError);
      expect([first.completed, foreign.completed, last.completed]).toEqual([true, true, true]);
      const got: string[] = [];
      for (let n; (n = recvDatagram(fd, buf, 16)) >= 0; ) got.push(text(buf.subarray(0, n)));
      expect(got).toEqual(["x", "foreign", "last"]);
    });
  });

  it("sends a datagram of exactly 65535 bytes and refuses one of 65536 with TransportLimitError", () => {
    const sizes: number[] = [];
    const got = new Future<void>("got");
    const t = newDatagramTransport(`unix:@chronots-max-${process.pid}-${kind}`, (data) => {
      sizes.push(data.length);
      got.complete();
    });
    try {
      const over = t.sendTo(t.localAddress, new Uint8Array(65536));
      expect(over.failed && over.error).toBeInstanceOf(TransportLimitError);
      expect(waitFor(t.sendTo(t.localAddress, new Uint8Array(65535)))).toBeUndefined();
      waitFor(got);
      expect(sizes).toEqual([65535]);
    } finally {
      waitFor(t.closeWait());
    }
  });

  it("refuses to bind an ip:port another socket holds with EADDRINUSE, instead of sharing its datagrams", () => {
    for (const local of ["127.0.0.1:0", "[::1]:0"]) {
      const { t, all } = collector(local, 1);
      let error: unknown = null;
      try {
        newDatagramTransport(t.localAddress, () => {});
      } catch (e) {
        error = e;
      }
      expect(error, local).toBeInstanceOf(TransportOsError);
      expect((error as TransportOsError).code).toBe("EADDRINUSE");
      const sender = newDatagramTransport(local, () => {});
      waitFor(sender.sendTo(t.localAddress, "still mine"));
      expect(waitFor(all)).toEqual([["still mine", sender.localAddress]]);
      waitFor(sender.closeWait());
      waitFor(t.closeWait());
    }
  });

  it("fails bad sends with typed errors, and every send once closed", () => {
    const t = newDatagramTransport("127.0.0.1:0", () => {});
    expect(() => waitFor(t.sendTo("nowhere", "x"))).toThrow(TransportAddressError);
    // A failure the library detects names its code as a failed system call names its errno.
    expect(() => waitFor(t.sendTo("nowhere", "x"))).toThrow(/ \(EADDRESS\)$/);
    expect(() => waitFor(t.sendTo("[::1]:9", "x")), "an IPv6 destination from an IPv4 socket").toThrow(/ipv6 address but/);
    expect(() => waitFor(t.sendTo(t.localAddress, new Uint8Array(70000)))).toThrow(TransportLimitError);
    expect(() => waitFor(t.sendTo(t.localAddress, new Uint8Array(70000)))).toThrow(/ \(ELIMIT\)$/);
    expect(() => waitFor(t.sendTo(t.localAddress, 5 as unknown as string))).toThrow(TypeError);
    // Inherits from Uint8Array.prototype (so `instanceof` holds) without being one.
    const fake = Object.create(Uint8Array.prototype) as Uint8Array;
    expect(() => waitFor(t.sendTo(t.localAddress, fake))).toThrow(/^sendTo: data must be a Uint8Array or a string, got object$/);
    waitFor(t.closeWait());
    expect(t.closed).toBe(true);
    expect(() => waitFor(t.sendTo("127.0.0.1:9", "x"))).toThrow(TransportClosedError);
    expect(() => waitFor(t.sendTo("127.0.0.1:9", "x"))).toThrow(/: the transport is closed \(ECLOSED\)$/);
    expect(() => newDatagramTransport("127.0.0.1", () => {})).toThrow(TransportAddressError);
    expect(() => newDatagramTransport("127.0.0.1:0", null as never)).toThrow(TypeError);
    expect(() => newDatagramTransport("127.0.0.1:0", () => {}, null as never)).toThrow(/^newDatagramTransport: options must be an object, got null$/);
    // Refused when made: called only when the first error comes, it would throw out of whatever waits then.
    expect(() => newDatagramTransport("127.0.0.1:0", () => {}, { onError: 5 as never })).toThrow(new TypeError("newDatagramTransport: options.onError must be a function, got number 5"));
  });
});

it("DatagramTransport cannot be constructed, from JavaScript either: a TypeError says where to get one", () => {
  // What plain JavaScript (no types) can write; TypeScript refuses it (a private constructor).
  const Transport = DatagramTransport as unknown as new (...args: unknown[]) => unknown;
  let error: unknown = null;
  try {
    new Transport("127.0.0.1:0", () => {}, {});
  } catch (e) {
    error = e;
  }
  expect(error).toStrictEqual(new TypeError("DatagramTransport: use newDatagramTransport(); it cannot be constructed"));
  expect(trackers().fds).toBe(0);
});
