/**
 * Transport addresses as strings: `"127.0.0.1:8080"`, `"[::1]:8080"`, `"unix:/path/to.sock"`, and
 * `"unix:@name"` for Linux's abstract Unix namespace (no file on disk).
 *
 * Parsing is pure TypeScript and strict, so a malformed address fails with a TransportAddressError
 * naming what is wrong before any system call. Host names are not resolved here: resolving blocks
 * (resolve.ts), so the transports take numeric addresses only. Formatting is canonical and matches
 * `inet_ntop` (lowercase hex, the longest run of two or more zero groups shortened to `::`,
 * IPv4-mapped and IPv4-compatible addresses written with a dotted tail), so `localAddress` of a
 * socket bound to `"[0:0::1]:0"` reads `"[::1]:<port>"`.
 */
import { TransportAddressError } from "./errors.js";

export type Address =
  | { readonly family: "ipv4" | "ipv6"; readonly ip: Uint8Array; readonly port: number; readonly text: string }
  | { readonly family: "unix"; readonly path: string; readonly text: string };

/** Longest `sun_path` on Linux, leaving room for the terminating NUL of a filesystem path. */
export const UNIX_PATH_MAX = 107;

/** Parse an address string; `what` names the caller in the error (e.g. `connect`). */
export function parseAddress(text: unknown, what: string): Address {
  if (typeof text !== "string") throw new TransportAddressError(`${what}: address must be a string, got ${text === null ? "null" : typeof text}`);
  const bad = (why: string) => new TransportAddressError(`${what}: invalid address ${JSON.stringify(text)}: ${why}`);
  if (text.startsWith("unix:")) {
    const path = text.slice(5);
    if (path.length === 0 || path === "@") throw bad("the Unix socket path is empty");
    if (path.includes("\0")) throw bad("the Unix socket path contains a NUL character");
    const bytes = Buffer.byteLength(path, "utf8");
    if (bytes > UNIX_PATH_MAX) throw bad(`the Unix socket path is ${bytes} bytes long, at most ${UNIX_PATH_MAX} fit`);
    return { family: "unix", path, text };
  }
  const colon = text.lastIndexOf(":");
  if (colon < 0) throw bad('expected "host:port", "[ipv6]:port" or "unix:/path"');
  const port = parsePort(text.slice(colon + 1));
  if (port < 0) throw bad(`the port must be a decimal number from 0 to 65535, got ${JSON.stringify(text.slice(colon + 1))}`);
  const host = text.slice(0, colon);
  if (host.startsWith("[")) {
    if (!host.endsWith("]")) throw bad('an IPv6 host must be written in brackets, as "[::1]:8080"');
    const inner = host.slice(1, -1);
    if (inner.includes("%")) throw bad("IPv6 zone ids (%iface) are not supported");
    const ip = parseIPv6(inner);
    if (ip === null) throw bad(`${JSON.stringify(inner)} is not an IPv6 address`);
    return { family: "ipv6", ip, port, text: `[${formatIPv6(ip)}]:${port}` };
  }
  if (host.includes(":")) throw bad('an IPv6 host must be written in brackets, as "[::1]:8080"');
  const ip = parseIPv4(host);
  if (ip === null)
    throw bad(/^[\d.]*$/.test(host) ? `${JSON.stringify(host)} is not an IPv4 address` : "host names are not resolved here; give a numeric IPv4 or [IPv6] address, or look the name up first with resolveAddress()");
  return { family: "ipv4", ip, port, text: `${formatIPv4(ip)}:${port}` };
}

/** The canonical string of an IP address and port. */
export function formatInet(ip: Uint8Array, port: number): string {
  return ip.length === 4 ? `${formatIPv4(ip)}:${port}` : `[${formatIPv6(ip)}]:${port}`;
}

/** The port of `s`, or -1 unless it is a decimal number from 0 to 65535. */
export function parsePort(s: string): number {
  if (!/^\d{1,5}$/.test(s)) return -1;
  const n = Number(s);
  return n <= 65535 ? n : -1;
}

/** Dotted quad, four decimal parts 0..255 without leading zeros (which some parsers read as octal). */
function parseIPv4(s: string): Uint8Array | null {
  const parts = s.split(".");
  if (parts.length !== 4) return null;
  const ip = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!;
    if (!/^(0|[1-9]\d{0,2})$/.test(p) || Number(p) > 255) return null;
    ip[i] = Number(p);
  }
  return ip;
}

function parseIPv6(s: string): Uint8Array | null {
  const halves = s.split("::");
  if (halves.length > 2) return null;
  const head = groups(halves[0]!, halves.length === 1);
  const tail = halves.length === 2 ? groups(halves[1]!, true) : [];
  if (head === null || tail === null) return null;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  const words = [...head, ...new Array<number>(halves.length === 1 ? 0 : missing).fill(0), ...tail];
  const ip = new Uint8Array(16);
  words.forEach((w, i) => {
    ip[2 * i] = w >> 8;
    ip[2 * i + 1] = w & 0xff;
  });
  return ip;
}

/** The 16-bit groups of one side of `::`; a dotted IPv4 tail counts as two groups. */
function groups(part: string, v4Allowed: boolean): number[] | null {
  if (part === "") return [];
  const out: number[] = [];
  const items = part.split(":");
  for (let i = 0; i < items.length; i++) {
    const g = items[i]!;
    if (v4Allowed && i === items.length - 1 && g.includes(".")) {
      const v4 = parseIPv4(g);
      if (v4 === null) return null;
      out.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
    } else if (/^[0-9a-fA-F]{1,4}$/.test(g)) out.push(parseInt(g, 16));
    else return null;
  }
  return out;
}

function formatIPv4(ip: Uint8Array): string {
  return `${ip[0]}.${ip[1]}.${ip[2]}.${ip[3]}`;
}

/** As `inet_ntop(AF_INET6)`: compress the first longest run of at least two zero groups. */
function formatIPv6(ip: Uint8Array): string {
  const words: number[] = [];
  for (let i = 0; i < 16; i += 2) words.push((ip[i]! << 8) | ip[i + 1]!);
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestLen < 2) best = -1;
  const dotted = best === 0 && (bestLen === 6 || (bestLen === 5 && words[5] === 0xffff));
  let out = "";
  for (let i = 0; i < 8; i++) {
    if (i === best) {
      out += i === 0 ? "::" : ":";
      i += bestLen - 1;
      continue;
    }
    if (dotted && i === 6) return out + formatIPv4(ip.subarray(12));
    out += words[i]!.toString(16) + (i < 7 ? ":" : "");
  }
  return out;
}
