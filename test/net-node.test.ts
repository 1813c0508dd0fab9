/**
 * chronots/net against Node's own `net`, the peer running in a child process: a Node server for
 * chronots clients and Node clients for a chronots server, on both poller backends. Covers a peer
 * that resets the connection mid-read (SO_LINGER 0 through `resetAndDestroy()`), writes to a peer
 * that went away (a failed future, never SIGPIPE), and half-close in both directions.
 */
import { describe, expect, it } from "vitest";
import { async, callSoon, Future, poll, sleepAsync, waitFor } from "../runtime/index.js";
import {
  connect,
  createStreamServer,
  type StreamTransport,
  TransportOsError,
  TransportPipeError,
  TransportResetError,
} from "../runtime/net/index.js";
import { backends, useDispatcher } from "./helpers/backends.js";
import { startPeer, type Peer } from "./helpers/peer.js";
import { thrown } from "./helpers/thrown.js";

const text = (b: Uint8Array) => Buffer.from(b).toString("utf8");

/** A Node server on an ephemeral loopback port running `onConnection(socket)`; resolves with its address. */
async function nodeServer(onConnection: string, host = "127.0.0.1"): Promise<{ peer: Peer; address: string }> {
  const peer = startPeer(`
    const server = net.createServer({ allowHalfOpen: true }, ${onConnection});
    server.listen(0, ${JSON.stringify(host)}, () => send(server.address().port));
    lines.on("close", () => server.close());
  `);
  const port = await peer.line();
  return { peer, address: host.includes(":") ? `[${host}]:${port}` : `${host}:${port}` };
}

describe.each(backends)("chronots/net and Node net over %s", (kind) => {
  useDispatcher(kind);

  it("a chronots client talks to a Node echo server over IPv4 and IPv6", async () => {
    for (const host of ["127.0.0.1", "::1"]) {
      const { peer, address } = await nodeServer(`(s) => s.pipe(s)`, host);
      const t = waitFor(connect(address));
      const lines = ["first line", "second, with ünïcödé", "x".repeat(100000)];
      for (const l of lines) waitFor(t.write(l + "\r\n"));
      expect(lines.map(() => waitFor(t.readLine()))).toEqual(lines);
      waitFor(t.closeWait());
      expect(await peer.exit()).toBe(0);
    }
  });

  it("Node clients talk to a chronots server, 200 at once", async () => {
    const served = new Future<void>("served");
    let left = 200;
    const handler = async(function* (t: StreamTransport) {
      const name = yield* t.readLine();
      yield* t.write(`hello ${name}\n`);
      if (--left === 0) served.complete();
    });
    const server = createStreamServer("127.0.0.1:0", handler);
    server.start();
    const peer = startPeer(`
      const port = ${server.localAddress.split(":")[1]};
      let ok = 0;
      const one = (i) => new Promise((resolve, reject) => {
        const s = net.connect(port, "127.0.0.1", () => s.write("client " + i + "\\n"));
        let got = "";
        s.on("data", (d) => (got += d)).on("error", reject).on("end", () => resolve(got));
      });
      const answers = await Promise.all(Array.from({ length: 200 }, (_, i) => one(i)));
      send(answers.every((a, i) => a === "hello client " + i + "\\n") ? "all answered" : JSON.stringify(answers));
    `);
    waitFor(served);
    waitFor(server.closeWait());
    expect(await peer.line()).toBe("all answered");
    expect(await peer.exit()).toBe(0);
  });

  it("a peer resetting the connection mid-read fails the read with TransportResetError", async () => {
    const { peer, address } = await nodeServer(`(s) => { s.write("hello"); s.on("data", () => s.resetAndDestroy()); }`);
    const t = waitFor(connect(address));
    expect(text(waitFor(t.readExactly(5)))).toBe("hello");
    const r = t.read();
    expect(r.pending).toBe(true);
    waitFor(t.write("ack"));
    const e = thrown(() => waitFor(r));
    expect(e).toBeInstanceOf(TransportResetError);
    expect((e as TransportResetError).code).toBe("ECONNRESET");
    expect((e as Error).message).toMatch(/recv from 127\.0\.0\.1:\d+: ECONNRESET/);
    waitFor(t.closeWait());
    expect(await peer.exit()).toBe(0);
  });

  it("writing to a peer that went away fails the write, not the process", async () => {
    const { peer, address } = await nodeServer(`(s) => s.once("data", () => s.resetAndDestroy())`);
    const t = waitFor(connect(address));
    const chunk = new Uint8Array(64 * 1024);
    const writeUntilFailure = async(function* () {
      for (let i = 0; i < 1000; i++) {
        const w = t.write(chunk);
        yield w;
        if (w.failed) return w.error;
        yield* sleepAsync(1);
      }
      return null;
    });
    const e = waitFor(writeUntilFailure());
    expect(e).toBeInstanceOf(TransportOsError);
    expect(["EPIPE", "ECONNRESET"]).toContain((e as TransportOsError).code);
    waitFor(t.closeWait());
    expect(await peer.exit()).toBe(0);
  });

  it("writing after our own shutdown fails with TransportPipeError (EPIPE), no SIGPIPE", async () => {
    const { peer, address } = await nodeServer(`(s) => s.resume()`);
    const t = waitFor(connect(address));
    waitFor(t.shutdownWait());
    const e = thrown(() => waitFor(t.write("late")));
    expect(e).toBeInstanceOf(TransportPipeError);
    expect((e as Error).message).toMatch(/EPIPE/);
    waitFor(t.closeWait());
    expect(await peer.exit()).toBe(0);
  });

  it("half-closes towards a Node server, which still answers", async () => {
    const { peer, address } = await nodeServer(`(s) => { let n = 0; s.on("data", (d) => (n += d.length)); s.on("end", () => s.end("got " + n)); }`);
    const t = waitFor(connect(address));
    waitFor(t.write("ping"));
    waitFor(t.shutdownWait());
    const parts: string[] = [];
    for (;;) {
      const b = waitFor(t.read());
      if (b.length === 0) break;
      parts.push(text(b));
    }
    expect(parts.join("")).toBe("got 4");
    expect(t.atEof).toBe(true);
    waitFor(t.closeWait());
    expect(await peer.exit()).toBe(0);
  });

  it("a handler whose peer always has more to send reads a bounded amount per step, letting the other callbacks run", async () => {
    const size = 4 * 1024 * 1024;
    let steps = 0;
    let ticking = true;
    const tick = () => {
      steps++;
      if (ticking) callSoon(tick);
    };
    let read = 0;
    const perStep = new Map<number, number>();
    const finished = new Future<void>("finished");
    const handler = async(function* (t: StreamTransport) {
      for (;;) {
        const b = yield* t.read();
        if (b.length === 0) break;
        read += b.length;
        perStep.set(steps, (perStep.get(steps) ?? 0) + b.length);
        // Slower than the peer writes, so the kernel always holds more: every recv could be served at once.
        for (const until = performance.now() + 2; performance.now() < until; );
      }
      finished.complete();
    });
    const server = createStreamServer("127.0.0.1:0", handler);
    server.start();
    const peer = startPeer(`
      const s = net.connect(${server.localAddress.split(":")[1]}, "127.0.0.1", () => s.end(Buffer.alloc(${size})));
      s.on("close", () => send("sent"));
    `);
    callSoon(tick);
    waitFor(finished);
    ticking = false;
    poll();
    waitFor(server.closeWait());
    expect(await peer.line()).toBe("sent");
    expect(await peer.exit()).toBe(0);
    expect(read).toBe(size);
    // Read at once until 64 KiB (the last recv may take up to 64 KiB more), then one recv when the poller says readable.
    expect(Math.max(...perStep.values())).toBeLessThanOrEqual(3 * 64 * 1024);
  });

  it("a writer to a peer that always has room writes a bounded amount per step", async () => {
    const { peer, address } = await nodeServer(`(s) => { let n = 0; s.on("data", (d) => (n += d.length)).on("end", () => { send(n); s.end(); }); }`);
    const t = waitFor(connect(address));
    let steps = 0;
    let ticking = true;
    const tick = () => {
      steps++;
      if (ticking) callSoon(tick);
    };
    const perStep = new Map<number, number>();
    const piece = new Uint8Array(1024);
    const writer = async(function* () {
      for (let i = 0; i < 4096; i++) {
        yield* t.write(piece);
        perStep.set(steps, (perStep.get(steps) ?? 0) + piece.length);
      }
      yield* t.shutdownWait();
    });
    callSoon(tick);
    waitFor(writer());
    ticking = false;
    poll();
    waitFor(t.closeWait());
    expect(await peer.line()).toBe(String(4096 * 1024));
    expect(await peer.exit()).toBe(0);
    // Written at once until 64 KiB, then the next write waits for the poller.
    expect(Math.max(...perStep.values())).toBeLessThanOrEqual(64 * 1024 + piece.length);
  });

  it("a Node client half-closes towards a chronots server, which still answers", async () => {
    const answered = new Future<void>("answered");
    const handler = async(function* (t: StreamTransport) {
      let n = 0;
      for (;;) {
        const b = yield* t.read();
        if (b.length === 0) break;
        n += b.length;
      }
      yield* t.write(`got ${n}`);
      answered.complete();
    });
    const server = createStreamServer("[::1]:0", handler);
    server.start();
    const peer = startPeer(`
      const s = net.connect({ port: ${server.localAddress.split(":").pop()}, host: "::1", allowHalfOpen: true }, () => s.end("ping!"));
      let got = "";
      s.on("data", (d) => (got += d)).on("end", () => send(got));
    `);
    waitFor(answered);
    waitFor(server.closeWait());
    expect(await peer.line()).toBe("got 5");
    expect(await peer.exit()).toBe(0);
  });
});
