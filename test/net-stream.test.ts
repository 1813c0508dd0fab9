/**
 * Stream transports between chronots peers on loopback (TCP over IPv4 and IPv6, Unix sockets by
 * path and in the abstract namespace), against both poller backends: addresses, reads of every
 * kind, back-pressure, cancellation, half-close, server handler failures and shutdown, errors,
 * and 1,000 concurrent connections.
 */
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import vm from "node:vm";
import { MessageChannel, receiveMessageOnPort } from "node:worker_threads";
import { afterAll, describe, expect, it } from "vitest";
import { allFinished, allFutures, async, CancelledError, Future, sleepAsync, trackers, waitFor, withTimeout } from "../runtime/index.js";
import {
  connect,
  createStreamServer,
  StreamServer,
  StreamTransport,
  TransportAddressError,
  TransportBusyError,
  TransportClosedError,
  TransportIncompleteError,
  TransportLimitError,
  TransportOsError,
  TransportRefusedError,
} from "../runtime/net/index.js";
import { libc } from "../runtime/libc.js";
import { backends, useDispatcher } from "./helpers/backends.js";
import { write as writeFd } from "./helpers/fds.js";

const dir = mkdtempSync(path.join(tmpdir(), "chronots-net-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const text = (b: Uint8Array) => Buffer.from(b).toString("utf8");

const echo = async(function* (t: StreamTransport) {
  for (;;) {
    const data = yield* t.read();
    if (data.length === 0) return;
    yield* t.write(data);
  }
});

/** Everything until end of stream. */
const readAll = async(function* (t: StreamTransport) {
  const parts: Uint8Array[] = [];
  for (;;) {
    const b = yield* t.read();
    if (b.length === 0) return Buffer.concat(parts);
    parts.push(b);
  }
});

/** Run `body` against a started server, closing both afterwards whatever happens. */
function withServer<T>(address: string, handler: (t: StreamTransport) => Future<void>, body: (s: StreamServer) => T, onError?: (e: unknown, t: StreamTransport | null) => void): T {
  const server = createStreamServer(address, handler, { onError: onError ?? ((e) => { throw e; }) });
  server.start();
  try {
    return body(server);
  } finally {
    waitFor(server.closeWait());
  }
}

describe.each(backends)("stream transports over %s", (kind) => {
  useDispatcher(kind);

  const kinds = [
    ["IPv4", "127.0.0.1:0", /^127\.0\.0\.1:[1-9]\d*$/],
    ["IPv6", "[::1]:0", /^\[::1\]:[1-9]\d*$/],
    ["a Unix path", `unix:${path.join(dir, `${kind}.sock`)}`, /^unix:\//],
    ["the abstract Unix namespace", `unix:@chronots-test-${process.pid}-${kind}`, /^unix:@chronots-test-/],
  ] as const;

  it.each(kinds)("echoes over %s and reports both addresses", (_label, address, form) => {
    withServer(address, echo, (server) => {
      expect(server.localAddress).toMatch(form);
      const client = waitFor(connect(server.localAddress));
      expect(client.remoteAddress).toBe(server.localAddress);
      if (!address.startsWith("unix:")) expect(client.localAddress).toMatch(form);
      expect(waitFor(client.write("hello"))).toBe(5);
      expect(text(waitFor(client.readExactly(5)))).toBe("hello");
      expect(client.closed).toBe(false);
      waitFor(client.closeWait());
      expect(client.closed).toBe(true);
    });
    if (address.startsWith("unix:/")) expect(existsSync(address.slice(5)), "the socket file is removed").toBe(false);
  });

  it("writes a Uint8Array of another realm as any other, and the stream goes on", () => {
    withServer("127.0.0.1:0", echo, (server) => {
      const client = waitFor(connect(server.localAddress));
      expect(waitFor(client.write(vm.runInNewContext("new Uint8Array([104, 105])") as Uint8Array))).toBe(2);
      expect(waitFor(client.write("!"))).toBe(1);
      expect(text(waitFor(client.readExactly(3)))).toBe("hi!");
      waitFor(client.closeWait());
    });
  });

  it("reads lines ending in \\n or \\r\\n, then the unterminated rest, then \"\" at end of stream", () => {
    const send = async(function* (t: StreamTransport) {
      yield* t.write("one\ntwo\r\n\nthr");
      // A string is written as UTF-8: the count is of bytes, 8 for these 7 characters ("é" takes two).
      expect(yield* t.write("ée\nlast")).toBe(8);
    });
    withServer("127.0.0.1:0", send, (server) => {
      const client = waitFor(connect(server.localAddress));
      const lines: string[] = [];
      for (let i = 0; i < 6; i++) lines.push(waitFor(client.readLine()));
      expect(lines).toEqual(["one", "two", "", "thrée", "last", ""]);
      expect(client.atEof).toBe(true);
      waitFor(client.closeWait());
    });
  });

  it("fails a line longer than the limit with TransportLimitError and keeps its bytes", () => {
    withServer("127.0.0.1:0", sender("x".repeat(100)), (server) => {
      const client = waitFor(connect(server.localAddress));
      expect(() => waitFor(client.readLine(10))).toThrow(TransportLimitError);
      expect(text(waitFor(readAll(client)))).toBe("x".repeat(100));
      waitFor(client.closeWait());
    });
  });

  it("holds a line to its limit however its bytes arrive: in one segment with its \\n, in several, or cut by the end", () => {
    const send = async(function* (t: StreamTransport) {
      yield* t.write("abcdefghij\n");
      yield* sleepAsync(20);
      yield* t.write("abcdef");
      yield* sleepAsync(20);
      yield* t.write("ghij\nabcde\nabcdefghij");
    });
    withServer("127.0.0.1:0", send, (server) => {
      const client = waitFor(connect(server.localAddress));
      const line = () => catchError(() => waitFor(client.readLine(5)));
      expect(line()).toBeInstanceOf(TransportLimitError);
      expect(text(waitFor(client.readExactly(11)))).toBe("abcdefghij\n");
      waitFor(sleepAsync(60));
      expect(line()).toBeInstanceOf(TransportLimitError);
      expect(text(waitFor(client.readExactly(11)))).toBe("abcdefghij\n");
      expect(waitFor(client.readLine(5))).toBe("abcde");
      expect(line()).toBeInstanceOf(TransportLimitError);
      expect(waitFor(client.readLine(10))).toBe("abcdefghij");
      waitFor(client.closeWait());
    });
  });

  it("takes a line of its limit whose \\r\\n comes split, the \\r at the end of one segment", () => {
    const send = async(function* (t: StreamTransport) {
      yield* t.write("abcde\r");
      yield* sleepAsync(20);
      yield* t.write("\nnext\n");
    });
    withServer("127.0.0.1:0", send, (server) => {
      const client = waitFor(connect(server.localAddress));
      expect(waitFor(client.readLine(5))).toBe("abcde");
      expect(waitFor(client.readLine(5))).toBe("next");
      waitFor(client.closeWait());
    });
  });

  it("counts a last \\r that no \\n follows before the end of the stream as the line's own", () => {
    withServer("127.0.0.1:0", sender("abc\r"), (server) => {
      const client = waitFor(connect(server.localAddress));
      expect(catchError(() => waitFor(client.readLine(3)))).toBeInstanceOf(TransportLimitError);
      expect(waitFor(client.readLine(4))).toBe("abc\r");
      waitFor(client.closeWait());
    });
  });

  it("takes a line of exactly its limit and refuses one a byte longer, terminated or cut by the end", () => {
    withServer("127.0.0.1:0", sender("abcde\r\nabcde\nabcdef\nabcdef"), (server) => {
      const client = waitFor(connect(server.localAddress));
      // A `\r\n` ends a line as a `\n` does: its `\r` is no byte of the line.
      expect(waitFor(client.readLine(5))).toBe("abcde");
      expect(waitFor(client.readLine(5))).toBe("abcde");
      expect(catchError(() => waitFor(client.readLine(5)))).toBeInstanceOf(TransportLimitError);
      expect(waitFor(client.readLine(6))).toBe("abcdef");
      expect(catchError(() => waitFor(client.readLine(5)))).toBeInstanceOf(TransportLimitError);
      expect(waitFor(client.readLine(6))).toBe("abcdef");
      expect(waitFor(client.readLine(6))).toBe("");
      waitFor(client.closeWait());
    });
  });

  it("readExactly fails with TransportIncompleteError at end of stream, leaving the bytes readable", () => {
    withServer("127.0.0.1:0", sender("abc"), (server) => {
      const client = waitFor(connect(server.localAddress));
      const e = catchError(() => waitFor(client.readExactly(5)));
      expect(e).toBeInstanceOf(TransportIncompleteError);
      expect((e as TransportIncompleteError).code).toBe("EOF");
      expect((e as Error).message).toMatch(/^readExactly\(5\) from [\d.:]+: the stream ended after 3 bytes \(EOF\)$/);
      expect(text(waitFor(client.read()))).toBe("abc");
      expect(waitFor(client.read()).length).toBe(0);
      expect(client.atEof).toBe(true);
      expect(waitFor(client.readExactly(0)).length).toBe(0);
      waitFor(client.closeWait());
    });
  });

  it("moves 4 MiB intact in both directions, read(n) never returning more than n bytes", () => {
    const data = randomBytes(4 << 20);
    withServer("127.0.0.1:0", echo, (server) => {
      const client = waitFor(connect(server.localAddress));
      const sizes = [1, 7, 1000, 65536, 100000];
      const reader = async(function* () {
        const parts: Uint8Array[] = [];
        let got = 0;
        for (let i = 0; got < data.length; i++) {
          const n = sizes[i % sizes.length]!;
          const b = yield* client.read(n);
          expect(b.length).toBeGreaterThan(0);
          expect(b.length).toBeLessThanOrEqual(n);
          parts.push(b);
          got += b.length;
        }
        return Buffer.concat(parts);
      });
      const r = reader();
      expect(waitFor(client.write(data))).toBe(data.length);
      expect(Buffer.compare(waitFor(r), data)).toBe(0);
      waitFor(client.closeWait());
    });
  });

  it("holds a write back while the peer does not read, and delivers it whole once it does", () => {
    const gate = new Future<void>("gate");
    const received = new Future<Buffer>("received");
    const lazy = async(function* (t: StreamTransport) {
      yield gate;
      received.complete(yield* readAll(t));
    });
    const data = randomBytes(16 << 20);
    withServer("127.0.0.1:0", lazy, (server) => {
      const client = waitFor(connect(server.localAddress));
      const w = client.write(data);
      waitFor(sleepAsync(50));
      expect(w.pending, "the kernel cannot take 16 MiB while nobody reads").toBe(true);
      gate.complete();
      expect(waitFor(w)).toBe(data.length);
      waitFor(client.shutdownWait());
      expect(Buffer.compare(waitFor(received), data)).toBe(0);
      waitFor(client.closeWait());
    });
  });

  it("writes the bytes a buffer holds, not what a shadowed length claims (C would read past it)", () => {
    class Liar extends Uint8Array {
      override get length() {
        return 65536;
      }
    }
    const own = Object.defineProperty(new Uint8Array(16).fill(65), "length", { value: 65536 });
    const sub = new Liar(16).fill(66);
    const received = new Future<Buffer>("received");
    withServer("127.0.0.1:0", async(function* (t: StreamTransport) {
      received.complete(yield* readAll(t));
    }), (server) => {
      const client = waitFor(connect(server.localAddress));
      expect(waitFor(client.write(own))).toBe(16);
      expect(waitFor(client.write(sub))).toBe(16);
      waitFor(client.shutdownWait());
      expect(text(waitFor(received))).toBe("A".repeat(16) + "B".repeat(16));
      waitFor(client.closeWait());
    });
  });

  it("a read result's buffer cannot be transferred away: the shared arena stays attached for every later read", () => {
    withServer("127.0.0.1:0", echo, (server) => {
      const client = waitFor(connect(server.localAddress));
      waitFor(client.write("hello"));
      const chunk = waitFor(client.read());
      const { port1, port2 } = new MessageChannel();
      const arena = chunk.buffer as ArrayBuffer;
      const handOver = [() => port1.postMessage(chunk, [arena]), () => structuredClone(chunk, { transfer: [arena] })];
      // markAsUntransferable: Node 20 ignores such an entry of the transfer list and copies; Node 21 on throws DataCloneError.
      const copies = Number(process.versions.node.split(".")[0]) < 21;
      for (const transfer of handOver) {
        if (copies) transfer();
        else expect(transfer).toThrow(expect.objectContaining({ name: "DataCloneError" }));
        expect(text(chunk)).toBe("hello");
      }
      if (copies) expect(text(receiveMessageOnPort(port2)!.message as Uint8Array)).toBe("hello");
      port1.close();
      waitFor(client.write("again"));
      expect(text(waitFor(client.read()))).toBe("again");
      const other = waitFor(connect(server.localAddress));
      waitFor(other.write("other"));
      expect(text(waitFor(other.read()))).toBe("other");
      waitFor(other.closeWait());
      waitFor(client.closeWait());
    });
  });

  it("a write failing part-way ends writing: the rest fail with TransportClosedError naming it, the peer reads end of stream, reading goes on", () => {
    const gate = new Future<void>("gate");
    const received = new Future<Buffer>("received");
    const lazy = async(function* (t: StreamTransport) {
      yield gate;
      received.complete(yield* readAll(t));
      yield* t.write("bye");
    });
    // A length-tracking view of a resizable buffer: shrinking it under a queued write makes its next send fail.
    const Resizable = ArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => ArrayBuffer & { resize(n: number): void };
    const memory = new Resizable(16 << 20, { maxByteLength: 16 << 20 });
    withServer("127.0.0.1:0", lazy, (server) => {
      const client = waitFor(connect(server.localAddress));
      const cut = client.write(new Uint8Array(memory));
      const queued = client.write("after");
      expect(cut.pending && queued.pending).toBe(true);
      memory.resize(1000);
      gate.complete();
      expect(() => waitFor(cut)).toThrow(/^send: offset \d+ is outside a buffer of 1000 bytes$/);
      const fault = /: writing has ended, a write failed after sending (\d+) of its 16777216 bytes: send: offset \d+ is outside a buffer of 1000 bytes \(ECLOSED\)$/;
      for (const f of [queued, client.write("more"), client.shutdownWait()]) {
        const e = catchError(() => waitFor(f));
        expect(e).toBeInstanceOf(TransportClosedError);
        expect((e as Error).message).toMatch(fault);
      }
      const sent = Number(fault.exec((catchError(() => waitFor(queued)) as Error).message)![1]);
      expect(waitFor(received).length, "what went out, and nothing after it").toBe(sent);
      expect(text(waitFor(readAll(client)))).toBe("bye");
      waitFor(client.closeWait());
    });
  });

  it("cancelling writes: a started one still goes out whole, a queued one is dropped", () => {
    const gate = new Future<void>("gate");
    const received = new Future<Buffer>("received");
    const lazy = async(function* (t: StreamTransport) {
      yield gate;
      received.complete(yield* readAll(t));
    });
    const big = randomBytes(16 << 20);
    withServer("127.0.0.1:0", lazy, (server) => {
      const client = waitFor(connect(server.localAddress));
      const w1 = client.write(big);
      const w2 = client.write("SECOND");
      const w3 = client.write("THIRD");
      waitFor(sleepAsync(20));
      expect(w1.cancel()).toBe(true);
      expect(w2.cancel()).toBe(true);
      expect(w1.cancelled && w2.cancelled).toBe(true);
      gate.complete();
      expect(waitFor(w3)).toBe(5);
      waitFor(client.shutdownWait());
      expect(Buffer.compare(waitFor(received), Buffer.concat([big, Buffer.from("THIRD")]))).toBe(0);
      waitFor(client.closeWait());
    });
  });

  it("closeWait fails a shutdownWait still flushing to a peer that does not read", () => {
    const gate = new Future<void>("gate");
    withServer("127.0.0.1:0", async(function* () {
      yield gate;
    }), (server) => {
      const client = waitFor(connect(server.localAddress));
      const w = client.write(randomBytes(16 << 20));
      expect(w.pending, "the kernel cannot take 16 MiB while nobody reads").toBe(true);
      const shut = client.shutdownWait();
      expect(shut.pending).toBe(true);
      waitFor(client.closeWait());
      // Bounded, so that a shutdownWait left pending fails the test rather than hanging it.
      waitFor(withTimeout(shut, 10_000));
      expect(shut.failed && shut.error).toBeInstanceOf(TransportClosedError);
      expect(w.failed && w.error).toBeInstanceOf(TransportClosedError);
      gate.complete();
    });
  });

  it("cancelling the only queued write, none of it sent, lets a waiting shutdownWait go on", () => {
    const gate = new Future<void>("gate");
    const received = new Future<Buffer>("received");
    // A Unix socket: what the kernel holds for a peer that does not read stays put, so a full buffer stays full.
    withServer(`unix:@chronots-test-${process.pid}-${kind}-unqueue`, async(function* (t: StreamTransport) {
      yield gate;
      received.complete(yield* readAll(t));
    }), (server) => {
      const client = waitFor(connect(server.localAddress));
      const fd = (client as unknown as { fd: number }).fd;
      // Fill the socket's buffer from under the transport: large writes, then single bytes, until the kernel takes none.
      let sent = 0;
      for (const chunk of [new Uint8Array(65536), new Uint8Array(1)]) for (let n; (n = writeFd(fd, chunk)) > 0; ) sent += n;
      const w = client.write("X");
      expect(w.pending, "a full buffer takes no byte of it").toBe(true);
      const shut = client.shutdownWait();
      expect(shut.pending).toBe(true);
      expect(w.cancel()).toBe(true);
      waitFor(withTimeout(shut, 10_000));
      expect(shut.completed).toBe(true);
      gate.complete();
      const got = waitFor(received);
      expect(got.length).toBe(sent);
      expect(got.includes("X")).toBe(false);
      waitFor(client.closeWait());
    });
  });

  it("a cancelled read loses nothing: the next read gets the bytes", () => {
    const first = new Future<void>("first");
    const second = new Future<void>("second");
    const talk = async(function* (t: StreamTransport) {
      yield first;
      yield* t.write("abc");
      yield second;
      yield* t.write("def");
      yield* t.read();
    });
    withServer("127.0.0.1:0", talk, (server) => {
      const client = waitFor(connect(server.localAddress));
      const idle = client.read();
      expect(() => waitFor(client.readExactly(6)), "a second read while one is pending").toThrow(TransportBusyError);
      expect(idle.cancel()).toBe(true);
      first.complete();
      const f = client.readExactly(6);
      waitFor(sleepAsync(20));
      f.cancel();
      waitFor(allFutures([f]));
      expect(f.cancelled).toBe(true);
      second.complete();
      expect(text(waitFor(client.readExactly(6)))).toBe("abcdef");
      expect(waitFor(client.write("bye"))).toBe(3);
      waitFor(client.closeWait());
    });
  });

  it("half-closes: the peer reads end of stream and can still answer", () => {
    const answer = async(function* (t: StreamTransport) {
      const got = yield* readAll(t);
      expect(t.atEof).toBe(true);
      yield* t.write(`got ${got.length}`);
    });
    withServer("[::1]:0", answer, (server) => {
      const client = waitFor(connect(server.localAddress));
      waitFor(client.write("ping"));
      waitFor(client.shutdownWait());
      expect(text(waitFor(readAll(client)))).toBe("got 4");
      waitFor(client.closeWait());
    });
  });

  it("reports a failing handler, closes its client and goes on serving", () => {
    const errors: unknown[] = [];
    const fragile = async(function* (t: StreamTransport) {
      const line = yield* t.readLine();
      if (line === "boom") throw new Error("handler exploded");
      yield* t.write(`ok ${line}\n`);
    });
    withServer("127.0.0.1:0", fragile, (server) => {
      const a = waitFor(connect(server.localAddress));
      waitFor(a.write("boom\n"));
      expect(waitFor(a.read()).length, "the server closed the failed client").toBe(0);
      const b = waitFor(connect(server.localAddress));
      waitFor(b.write("fine\n"));
      expect(waitFor(b.readLine())).toBe("ok fine");
      waitFor(a.closeWait());
      waitFor(b.closeWait());
    }, (e, t) => errors.push([e, t?.closed]));
    expect(errors).toEqual([[new Error("handler exploded"), true]]);
  });

  it("closeWait on the server ends running handlers and closes their clients", () => {
    const ended: string[] = [];
    const idle = async(function* (t: StreamTransport) {
      try {
        yield* t.read();
      } finally {
        ended.push(t.closed ? "closed" : "open");
      }
    });
    const server = createStreamServer("127.0.0.1:0", idle);
    server.start();
    const clients = [0, 1, 2].map(() => waitFor(connect(server.localAddress)));
    while (server.connections < 3) waitFor(sleepAsync(1));
    waitFor(server.closeWait());
    expect(server.closed).toBe(true);
    expect(server.connections).toBe(0);
    expect(ended.length).toBe(3);
    for (const c of clients) {
      expect(waitFor(c.read()).length, "the client sees end of stream").toBe(0);
      waitFor(c.closeWait());
    }
    expect(() => server.start()).toThrow(TransportClosedError);
  });

  it("closeWait reports a handler that fails as it ends, but not one failing only because its transport was closed", () => {
    const errors: unknown[] = [];
    const handlers = [
      async(function* (t: StreamTransport) {
        try {
          yield* t.read();
        } finally {
          throw new Error("cleanup failed");
        }
      }),
      async(function* (t: StreamTransport) {
        try {
          yield* t.read();
        } catch {
          yield* t.write("bye"); // TransportClosedError: closeWait closed t
        }
      }),
    ];
    const futures: Future<void>[] = [];
    const serve = (t: StreamTransport) => {
      const f = handlers[futures.length]!(t);
      futures.push(f);
      return f;
    };
    const server = createStreamServer("127.0.0.1:0", serve, { onError: (e) => errors.push(e) });
    server.start();
    const clients = handlers.map(() => waitFor(connect(server.localAddress)));
    while (server.connections < handlers.length) waitFor(sleepAsync(1));
    waitFor(server.closeWait());
    expect(futures[1]!.error).toBeInstanceOf(TransportClosedError);
    expect(errors).toEqual([new Error("cleanup failed")]);
    for (const c of clients) waitFor(c.closeWait());
  });

  it("stop() holds new clients back in the kernel until start() again", () => {
    withServer("127.0.0.1:0", echo, (server) => {
      server.stop();
      const client = waitFor(connect(server.localAddress));
      waitFor(client.write("queued"));
      waitFor(sleepAsync(20));
      expect(server.connections, "not accepted while stopped").toBe(0);
      server.start();
      expect(text(waitFor(client.readExactly(6)))).toBe("queued");
      expect(server.connections).toBe(1);
      waitFor(client.closeWait());
    });
  });

  it("survives running out of file descriptors: reports EMFILE, pauses, then accepts again", () => {
    const errors: string[] = [];
    const reported = new Future<void>("EMFILE reported");
    withServer("127.0.0.1:0", echo, (server) => {
      server.stop();
      const clients = [0, 1, 2].map(() => waitFor(connect(server.localAddress)));
      const saved = setFdLimit(lowestFreeFd());
      try {
        server.start();
        waitFor(reported);
      } finally {
        setFdLimit(saved);
      }
      for (const [i, c] of clients.entries()) {
        waitFor(c.write(`client ${i}`));
        expect(text(waitFor(c.readExactly(8)))).toBe(`client ${i}`);
        waitFor(c.closeWait());
      }
    }, (e) => {
      errors.push((e as TransportOsError).code);
      if (reported.pending) reported.complete();
    });
    expect(errors[0]).toBe("EMFILE");
  });

  it("an onError that closes the server on EMFILE ends accepting cleanly, leaving no pause timer", () => {
    let closing: Future<void> | null = null;
    const server: StreamServer = createStreamServer("127.0.0.1:0", echo, {
      onError: (_e, client) => {
        if (!client) closing ??= server.closeWait();
      },
    });
    const clients = [0, 1].map(() => waitFor(connect(server.localAddress)));
    const saved = setFdLimit(lowestFreeFd());
    try {
      server.start();
      while (closing === null) waitFor(sleepAsync(1));
    } finally {
      setFdLimit(saved);
    }
    waitFor(closing);
    expect(server.closed).toBe(true);
    expect(trackers().timers, "no accept pause outlives the server").toBe(0);
    for (const c of clients) waitFor(c.closeWait());
  });

  it("closeWait called by a handler as it starts still ends that handler and closes its client", () => {
    let closing: Future<void> | null = null;
    let ended = false;
    const server: StreamServer = createStreamServer("127.0.0.1:0", async(function* (t: StreamTransport) {
      closing ??= server.closeWait();
      try {
        yield* t.readLine();
      } finally {
        ended = true;
      }
    }));
    server.start();
    const client = waitFor(connect(server.localAddress));
    while (closing === null) waitFor(sleepAsync(1));
    waitFor(closing);
    expect(ended, "closeWait waited for the handler").toBe(true);
    expect(server.connections).toBe(0);
    expect(trackers().fds, "only the client's own fd is left").toBe(1);
    expect(waitFor(client.read()).length, "the client sees end of stream").toBe(0);
    waitFor(client.closeWait());
  });

  it("closeWait cancelled while a handler holds out ends cancelled, not completed; a later closeWait waits for that handler", () => {
    const gate = new Future<void>("gate");
    let started = false;
    const server = createStreamServer("127.0.0.1:0", async(function* (t: StreamTransport) {
      started = true;
      try {
        yield* t.readLine();
      } catch {
        yield gate; // holds out after its cancellation
      }
    }));
    server.start();
    const client = waitFor(connect(server.localAddress));
    while (!started) waitFor(sleepAsync(1));
    const first = server.closeWait();
    waitFor(sleepAsync(1));
    expect(first.cancel()).toBe(true);
    expect(catchError(() => waitFor(first))).toBeInstanceOf(CancelledError);
    expect([first.cancelled, server.connections]).toEqual([true, 1]);
    const second = server.closeWait();
    waitFor(sleepAsync(1));
    expect(second.pending).toBe(true);
    gate.complete();
    waitFor(second);
    expect(server.connections).toBe(0);
    waitFor(client.closeWait());
  });

  it("fails every call on a closed transport with TransportClosedError", () => {
    withServer("127.0.0.1:0", echo, (server) => {
      const client = waitFor(connect(server.localAddress));
      const pending = client.read();
      waitFor(client.closeWait());
      expect(() => waitFor(pending)).toThrow(TransportClosedError);
      for (const call of [() => client.read() as Future<unknown>, () => client.readExactly(1), () => client.readLine(), () => client.write("x"), () => client.shutdownWait()]) {
        const e = catchError(() => waitFor(call()));
        expect(e).toBeInstanceOf(TransportClosedError);
        expect((e as TransportClosedError).code).toBe("ECLOSED");
      }
      expect(waitFor(client.closeWait())).toBeUndefined();
    });
  });

  it("rejects bad arguments with a typed error naming them", () => {
    withServer("127.0.0.1:0", echo, (server) => {
      const client = waitFor(connect(server.localAddress));
      for (const n of [0, -1, 1.5, NaN, 2 ** 31]) expect(() => waitFor(client.read(n)), String(n)).toThrow(RangeError);
      expect(() => waitFor(client.readExactly(-1))).toThrow(/readExactly: byte count/);
      expect(() => waitFor(client.readLine(0))).toThrow(/^readLine: the line limit \(bytes\) must be an integer from 1 to \d+, got 0$/);
      expect(catchError(() => waitFor(client.read("10" as never)))).toStrictEqual(new TypeError('read: byte count must be a number, got string "10"'));
      expect(() => waitFor(client.write(42 as unknown as string))).toThrow(TypeError);
      // Inherits from Uint8Array.prototype (so `instanceof` holds) without being one.
      const fake = Object.create(Uint8Array.prototype) as Uint8Array;
      expect(catchError(() => waitFor(client.write(fake)))).toStrictEqual(new TypeError("write: data must be a Uint8Array or a string, got object"));
      waitFor(client.closeWait());
    });
    expect(() => createStreamServer("127.0.0.1:0", echo, { backlog: 0 })).toThrow(RangeError);
    expect(catchError(() => createStreamServer("127.0.0.1:0", echo, null as never))).toStrictEqual(new TypeError("createStreamServer: options must be an object, got null"));
    expect(catchError(() => createStreamServer("127.0.0.1:0", echo, { onError: "log" as never }))).toStrictEqual(
      new TypeError('createStreamServer: options.onError must be a function, got string "log"'),
    );
    // A number written as a string is named as the string it is, not printed as if it were the number.
    expect(catchError(() => createStreamServer("127.0.0.1:0", echo, { backlog: "5" as never }))).toStrictEqual(new TypeError('createStreamServer: backlog must be a number, got string "5"'));
    expect(() => createStreamServer("127.0.0.1:0", "echo" as never)).toThrow(TypeError);
  });

  it("calls the handler and onError as plain functions: `this` is undefined, not the server or its options", () => {
    const seen: [string, unknown][] = [];
    const handler = async(function* (this: unknown, t: StreamTransport) {
      seen.push(["handler", this]);
      yield* t.write("x");
      throw new Error("reported");
    });
    const options = {
      onError(this: unknown) {
        seen.push(["onError", this]);
      },
    };
    const server = createStreamServer("127.0.0.1:0", handler, options);
    server.start();
    const client = waitFor(connect(server.localAddress));
    expect(text(waitFor(readAll(client)))).toBe("x");
    waitFor(client.closeWait());
    waitFor(server.closeWait());
    expect(seen).toEqual([
      ["handler", undefined],
      ["onError", undefined],
    ]);
  });

  it("cancelling a connect still under way releases its socket", () => {
    // A server that never accepts, with the smallest backlog: once its queue is full, further SYNs go unanswered.
    const server = createStreamServer("127.0.0.1:0", echo, { backlog: 1 });
    const attempts = Array.from({ length: 6 }, () => connect(server.localAddress));
    waitFor(sleepAsync(50));
    const stuck = attempts.filter((f) => f.pending);
    expect(stuck.length, "some connects wait for a full accept queue").toBeGreaterThan(0);
    for (const f of stuck) expect(f.cancel()).toBe(true);
    expect(stuck.every((f) => f.cancelled)).toBe(true);
    for (const f of attempts) if (f.completed) waitFor(f.read().closeWait());
    waitFor(server.closeWait());
  });

  it("fails a connect nobody answers with TransportRefusedError (ECONNREFUSED)", () => {
    const server = createStreamServer("127.0.0.1:0", echo);
    const address = server.localAddress;
    waitFor(server.closeWait());
    const e = catchError(() => waitFor(connect(address)));
    expect(e).toBeInstanceOf(TransportRefusedError);
    expect((e as TransportRefusedError).code).toBe("ECONNREFUSED");
    expect((e as Error).message).toMatch(/ECONNREFUSED/);
    const missing = catchError(() => waitFor(connect(`unix:${path.join(dir, "nobody.sock")}`)));
    expect(missing).toBeInstanceOf(TransportOsError);
    expect((missing as TransportOsError).code).toBe("ENOENT");
  });

  it("fails malformed addresses with TransportAddressError, and a taken one with EADDRINUSE", () => {
    for (const bad of ["localhost:80", "127.0.0.1", "1.2.3:80", "[::1]:65536", "::1:80", "unix:"])
      expect(() => waitFor(connect(bad)), bad).toThrow(TransportAddressError);
    expect(() => createStreamServer("300.1.1.1:0", echo)).toThrow(TransportAddressError);
    withServer("127.0.0.1:0", echo, (server) => {
      const e = catchError(() => createStreamServer(server.localAddress, echo));
      expect((e as TransportOsError).code).toBe("EADDRINUSE");
    });
  });

  it("serves 1,000 concurrent connections echoing without loss", () => {
    const count = 1000;
    withServer("127.0.0.1:0", echo, (server) => {
      const client = async(function* (i: number) {
        const t = yield* connect(server.localAddress);
        try {
          for (let round = 0; round < 3; round++) {
            const msg = `client ${i} round ${round} `.repeat(1 + ((i * 7 + round) % 40));
            yield* t.write(msg);
            const back = text(yield* t.readExactly(Buffer.byteLength(msg)));
            if (back !== msg) throw new Error(`client ${i} got back ${back}`);
          }
          return 1;
        } finally {
          yield* t.closeWait();
        }
      });
      const all = waitFor(allFinished(Array.from({ length: count }, (_, i) => client(i))));
      expect(all.filter((f) => f.completed).length, String(all.find((f) => f.failed)?.error)).toBe(count);
    });
  });
});

/** A handler that sends `s`, then returns (the server closes the client). */
function sender(s: string) {
  return async(function* (t: StreamTransport) {
    yield* t.write(s);
  });
}

const setrlimit = libc.func("int setrlimit(int resource, const void *limits)") as (r: number, l: BigUint64Array) => number;
const getrlimit = libc.func("int getrlimit(int resource, void *limits)") as (r: number, l: BigUint64Array) => number;
const RLIMIT_NOFILE = 7;

/** Set the soft limit on open files (new fds must be below it); returns the previous one. */
function setFdLimit(soft: number): number {
  const lim = new BigUint64Array(2);
  expect(getrlimit(RLIMIT_NOFILE, lim)).toBe(0);
  const old = Number(lim[0]);
  lim[0] = BigInt(soft);
  expect(setrlimit(RLIMIT_NOFILE, lim)).toBe(0);
  return old;
}

/** The fd number the next open would get: with the limit set there, every open fails with EMFILE. */
function lowestFreeFd(): number {
  const used = new Set(readdirSync("/proc/self/fd").map(Number));
  let fd = 0;
  while (used.has(fd)) fd++;
  return fd;
}

function catchError(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error("expected an error");
}

it("StreamTransport and StreamServer cannot be constructed, from JavaScript either: a TypeError says where to get one", () => {
  // What plain JavaScript (no types) can write; TypeScript refuses both (private constructors).
  const Transport = StreamTransport as unknown as new (...args: unknown[]) => unknown;
  const Server = StreamServer as unknown as new (...args: unknown[]) => unknown;
  const refusal = new TypeError("StreamTransport: use connect() or a StreamServer's handler; it cannot be constructed");
  expect(catchError(() => new Transport())).toStrictEqual(refusal);
  expect(catchError(() => new Transport(3, undefined, "a", "b"))).toStrictEqual(refusal);
  expect(catchError(() => new Server("127.0.0.1:0", echo, {}))).toStrictEqual(new TypeError("StreamServer: use createStreamServer(); it cannot be constructed"));
  expect(trackers().fds).toBe(0);
});
