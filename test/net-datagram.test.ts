/**
 * Datagram transports on loopback, on both poller backends: round trips between chronots sockets
 * over IPv4, IPv6 and Unix datagram sockets, with a Node `dgram` peer in a child process, and the
 * error paths (bad addresses and data, a failing onMessage, a closed transport).
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { allFutures, async, Future, waitFor } from "../runtime/index.js";
import {
  type DatagramTransport,
  newDatagramTransport,
  TransportAddressError,
  TransportClosedError,
  TransportLimitError,
} from "../runtime/net/index.js";
import { backends, useDispatcher } from "./helpers/backends.js";
import { startPeer } from "./helpers/peer.js";

const dir = mkdtempSync(path.join(tmpdir(), "chronots-udp-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const text = (b: Uint8Array) => Buffer.from(b).toString("utf8");

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

describe.each(backends)("datagram transports over %s", (kind) => {
  useDispatcher(kind);

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

  it("fails bad sends with typed errors, and every send once closed", () => {
    const t = newDatagramTransport("127.0.0.1:0", () => {});
    expect(() => waitFor(t.sendTo("nowhere", "x"))).toThrow(TransportAddressError);
    // A failure the library detects names its code as a failed system call names its errno.
    expect(() => waitFor(t.sendTo("nowhere", "x"))).toThrow(/ \(EADDRESS\)$/);
    expect(() => waitFor(t.sendTo("[::1]:9", "x")), "an IPv6 destination from an IPv4 socket").toThrow(/ipv6 address but/);
    expect(() => waitFor(t.sendTo(t.localAddress, new Uint8Array(70000)))).toThrow(TransportLimitError);
    expect(() => waitFor(t.sendTo(t.localAddress, new Uint8Array(70000)))).toThrow(/ \(ELIMIT\)$/);
    expect(() => waitFor(t.sendTo(t.localAddress, 5 as unknown as string))).toThrow(TypeError);
    waitFor(t.closeWait());
    expect(t.closed).toBe(true);
    expect(() => waitFor(t.sendTo("127.0.0.1:9", "x"))).toThrow(TransportClosedError);
    expect(() => waitFor(t.sendTo("127.0.0.1:9", "x"))).toThrow(/: the transport is closed \(ECLOSED\)$/);
    expect(() => newDatagramTransport("127.0.0.1", () => {})).toThrow(TransportAddressError);
    expect(() => newDatagramTransport("127.0.0.1:0", null as never)).toThrow(TypeError);
  });
});
