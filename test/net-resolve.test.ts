/**
 * resolveAddress: host names to transport addresses through the system resolver (getaddrinfo), checked
 * against Node's own resolver (dns.lookup, which asks getaddrinfo too) and used for a real connection to
 * a Node server; numeric addresses pass through canonical, malformed ones fail before any lookup.
 */
import { lookup } from "node:dns/promises";
import { describe, expect, it } from "vitest";
import { waitFor } from "../runtime/index.js";
import { connect, createStreamServer, resolveAddress, TransportAddressError, TransportError, TransportResolveError } from "../runtime/net/index.js";
import { backends, useDispatcher } from "./helpers/backends.js";
import { startPeer } from "./helpers/peer.js";
import { thrown } from "./helpers/thrown.js";

describe("on a system other than Linux", () => {
  // The socket structures are Linux's: elsewhere each entry stops before its first system call.
  it("connect, createStreamServer and resolveAddress fail with TransportError ENOTSUP", () => {
    const real = Object.getOwnPropertyDescriptor(process, "platform")!;
    Object.defineProperty(process, "platform", { ...real, value: "freebsd" });
    try {
      for (const run of [() => waitFor(connect("127.0.0.1:9")), () => createStreamServer("127.0.0.1:0", (t) => t.closeWait()), () => resolveAddress("localhost:80")]) {
        const e = thrown(run);
        expect(e).toBeInstanceOf(TransportError);
        expect(e).toMatchObject({ code: "ENOTSUP", message: "chronots/net supports Linux only for now, not freebsd (ENOTSUP)" });
      }
    } finally {
      Object.defineProperty(process, "platform", real);
    }
  });
});

describe("resolveAddress", () => {
  it("gives the addresses Node's resolver gives for localhost, with the port", async () => {
    const node = (await lookup("localhost", { all: true })).map((a) => (a.family === 6 ? `[${a.address}]:8080` : `${a.address}:8080`));
    const ours = resolveAddress("localhost:8080");
    expect(ours).toContain("127.0.0.1:8080");
    expect(new Set(ours)).toEqual(new Set(node));
  });

  describe.each(backends)("over %s", (kind) => {
    useDispatcher(kind);
    it("connects to a Node server through a resolved name", async () => {
      const peer = startPeer(`
        const server = net.createServer((s) => s.pipe(s));
        server.listen(0, "127.0.0.1", () => send(server.address().port));
        lines.on("close", () => server.close());
      `);
      const port = await peer.line();
      const address = resolveAddress(`localhost:${port}`).find((a) => a.startsWith("127."))!;
      const t = waitFor(connect(address));
      waitFor(t.write("over a name\n"));
      expect(waitFor(t.readLine())).toBe("over a name");
      expect(t.remoteAddress).toBe(`127.0.0.1:${port}`);
      waitFor(t.closeWait());
      expect(await peer.exit()).toBe(0);
    });
  });

  it("still loads when a second copy of chronots/net is in the process (koffi type names are global)", async () => {
    const copy = (await import("../runtime/net/sys.js?copy" as string)) as typeof import("../runtime/net/sys.js");
    expect(copy.lookupHost("localhost", 9, "copy")).toContain("127.0.0.1:9");
  });

  it("returns numeric and Unix addresses as themselves, canonical", () => {
    expect(resolveAddress("127.0.0.1:80")).toEqual(["127.0.0.1:80"]);
    expect(resolveAddress("[0:0::1]:5")).toEqual(["[::1]:5"]);
    expect(resolveAddress("unix:/tmp/x.sock")).toEqual(["unix:/tmp/x.sock"]);
  });

  it.each([
    ["localhost", /expected "host:port"/],
    ["localhost:99999", /resolveAddress: invalid address "localhost:99999": the port must be a decimal number from 0 to 65535/],
    ["bad name:80", /"bad name" is not a host name/],
    ["-x.com:80", /"-x\.com" is not a host name/],
    ["bücher.de:80", /"bücher\.de" is not a host name/],
    ["a..b:1", /"a\.\.b" is not a host name/],
    [`${"a".repeat(64)}.com:1`, /is not a host name/],
    ["fe80::1:80", /an IPv6 host must be written in brackets/],
    [42, /address must be a string, got number/],
  ])("refuses %s before any lookup", (address, message) => {
    expect(() => resolveAddress(address as string)).toThrow(TransportAddressError);
    expect(() => resolveAddress(address as string)).toThrow(message);
  });

  it("fails with the resolver's error name for a name nobody knows (underscores pass to the resolver)", { timeout: 30_000 }, () => {
    for (const address of ["no-such-host.invalid:80", "no_such_service.invalid:80"]) {
      const error = thrown(() => resolveAddress(address));
      expect(error).toBeInstanceOf(TransportResolveError);
      const { code, message } = error as TransportResolveError;
      expect(code).toMatch(/^EAI_(NONAME|NODATA|AGAIN|FAIL)$/);
      expect(message.startsWith(`resolveAddress ${JSON.stringify(address)}: ${code} (`)).toBe(true);
      expect(message).toMatch(/\(.+\)$/);
    }
  });
});
