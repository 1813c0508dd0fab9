/**
 * Address strings and their `struct sockaddr` encoding: strict parsing with typed errors, canonical
 * formatting checked against Node's own `inet_ntop` (net.SocketAddress) on random addresses, and
 * the bounds checks the syscall wrappers make before any call into C.
 */
import fc from "fast-check";
import { SocketAddress } from "node:net";
import { describe, expect, it } from "vitest";
import { formatInet, parseAddress } from "../runtime/net/address.js";
import { TransportAddressError } from "../runtime/net/errors.js";
import { checkSpan, decodeSockaddr, encodeSockaddr, recvInto, sendFrom } from "../runtime/net/sys.js";
import { close, read, socketpair } from "./helpers/fds.js";
import { thrown } from "./helpers/thrown.js";

const canonical = (ip: string) => new SocketAddress({ address: ip, family: "ipv6" }).address;

describe("parseAddress", () => {
  it.each([
    ["127.0.0.1:8080", "ipv4", "127.0.0.1:8080"],
    ["0.0.0.0:0", "ipv4", "0.0.0.0:0"],
    ["[::1]:443", "ipv6", "[::1]:443"],
    ["[0:0:0:0:0:0:0:1]:1", "ipv6", "[::1]:1"],
    ["[2001:DB8:0:0:1:0:0:1]:65535", "ipv6", "[2001:db8::1:0:0:1]:65535"],
    ["[::ffff:10.0.0.1]:80", "ipv6", "[::ffff:10.0.0.1]:80"],
    ["unix:/tmp/x.sock", "unix", "unix:/tmp/x.sock"],
    ["unix:@abstract", "unix", "unix:@abstract"],
  ])("accepts %s", (text, family, canon) => {
    const a = parseAddress(text, "test");
    expect(a.family).toBe(family);
    expect(a.text).toBe(canon);
  });

  it.each([
    ["localhost:80", /host names are not resolved/],
    ["127.0.0.1", /expected "host:port"/],
    ["127.0.0.1:", /port must be a decimal number/],
    ["127.0.0.1:65536", /port must be a decimal number/],
    ["127.0.0.1:-1", /port must be a decimal number/],
    ["127.0.0.1:8o", /port must be a decimal number/],
    ["256.0.0.1:80", /is not an IPv4 address/],
    ["1.2.3:80", /is not an IPv4 address/],
    ["01.2.3.4:80", /is not an IPv4 address/],
    ["::1:80", /must be written in brackets/],
    ["[::1:80", /must be written in brackets/],
    ["[1::2::3]:80", /is not an IPv6 address/],
    ["[1:2:3:4:5:6:7:8:9]:80", /is not an IPv6 address/],
    ["[12345::]:80", /is not an IPv6 address/],
    ["[fe80::1%eth0]:80", /zone ids/],
    ["unix:", /path is empty/],
    ["unix:@", /path is empty/],
    [`unix:/${"x".repeat(107)}`, /108 bytes long, at most 107/],
    ["unix:/a\0b", /NUL/],
  ])("rejects %j with a TransportAddressError", (text, why) => {
    const e = thrown(() => parseAddress(text, "connect"));
    expect(e).toBeInstanceOf(TransportAddressError);
    expect((e as TransportAddressError).code).toBe("EADDRESS");
    expect((e as Error).message).toMatch(/^connect: invalid address/);
    expect((e as Error).message).toMatch(why);
  });

  it("rejects what is not a string", () => {
    for (const v of [undefined, null, 8080, {}]) expect(() => parseAddress(v, "connect")).toThrow(/address must be a string/);
  });

  it("formats every IPv6 address as inet_ntop does, and parses every way of writing it back", () => {
    // Runs of zero groups make the compression cases (longest run, ties, dotted tails) likely.
    const group = fc.oneof(fc.constant(0), fc.constant(0xffff), fc.integer({ min: 0, max: 0xffff }));
    fc.assert(
      fc.property(fc.array(group, { minLength: 8, maxLength: 8 }), fc.boolean(), fc.integer({ min: 0, max: 65535 }), (words, upper, port) => {
        const ip = new Uint8Array(words.flatMap((w) => [w >> 8, w & 0xff]));
        const text = formatInet(ip, port);
        const inner = text.slice(1, text.lastIndexOf("]"));
        expect(inner).toBe(canonical(inner));
        const longhand = words.map((w) => w.toString(16).padStart(4, "0")).join(":");
        expect(parseAddress(`[${upper ? longhand.toUpperCase() : longhand}]:${port}`, "t").text).toBe(text);
        expect(parseAddress(text, "t").text).toBe(text);
      }),
      { numRuns: 2000 },
    );
  });
});

describe("sockaddr encoding", () => {
  it.each(["127.0.0.1:8080", "[2001:db8::1]:9", "[::ffff:1.2.3.4]:65535", "unix:/run/x.sock", "unix:@name"])("round-trips %s", (text) => {
    const a = parseAddress(text, "t");
    const bytes = encodeSockaddr(a);
    expect(decodeSockaddr(bytes, bytes.length)).toBe(a.text);
  });

  it("lays out sockaddr_in with the port in network byte order", () => {
    expect([...encodeSockaddr(parseAddress("10.1.2.3:258", "t"))]).toEqual([2, 0, 1, 2, 10, 1, 2, 3, 0, 0, 0, 0, 0, 0, 0, 0]);
  });
});

describe("bounds checks before C sees a buffer", () => {
  const buf = new Uint8Array(16);
  it.each([
    [0, 17, /length 17 at offset 0 overruns a buffer of 16 bytes/],
    [8, 9, /length 9 at offset 8 overruns/],
    [-1, 1, /offset -1 is outside/],
    [17, 0, /offset 17 is outside/],
    [0.5, 1, /offset 0.5 is outside/],
    [0, NaN, /length NaN/],
    [0, -1, /length -1/],
  ])("offset %d, length %d is a RangeError", (off, len, why) => {
    expect(() => checkSpan(buf, off, len, "recv")).toThrow(why);
    expect(() => recvInto(0, buf, off, len)).toThrow(RangeError);
    expect(() => sendFrom(1, buf, off, len)).toThrow(RangeError);
  });

  it("rejects what is not a Uint8Array, and bad fds", () => {
    expect(() => recvInto(0, [1, 2] as unknown as Uint8Array, 0, 2)).toThrow(TypeError);
    for (const fd of [-1, 1.5, 2 ** 31, NaN]) expect(() => sendFrom(fd, buf, 0, 1)).toThrow(/send: fd must be an integer from 0 to 2147483647/);
  });

  it("measures a buffer by its bytes, not by a shadowed length", () => {
    const liar = Object.defineProperty(new Uint8Array(16), "length", { value: 65536 });
    expect(() => checkSpan(liar, 0, 17, "send")).toThrow(/overruns a buffer of 16 bytes/);
    expect(() => checkSpan(liar, 17, 0, "send")).toThrow(/outside a buffer of 16 bytes/);
    // A span from an offset is sent from the buffer's own memory, not from what its subarray returns.
    const buf = Uint8Array.from({ length: 16 }, (_, i) => i);
    Object.defineProperty(buf, "subarray", { value: () => new Uint8Array(1) });
    const [a, b] = socketpair();
    try {
      expect(sendFrom(a, buf, 4, 8)).toBe(8);
      expect([...read(b)!]).toEqual([4, 5, 6, 7, 8, 9, 10, 11]);
    } finally {
      close(a, b);
    }
  });

  it("accepts a span ending exactly at the buffer's end, and an empty one", () => {
    expect(() => checkSpan(buf, 16, 0, "recv")).not.toThrow();
    expect(() => checkSpan(buf, 4, 12, "recv")).not.toThrow();
  });
});
