/**
 * The socket system calls and getaddrinfo through koffi, and the `struct sockaddr` encoding (Linux layout).
 *
 * These wrappers are the only place that hands memory to C. Each one checks in TypeScript, before
 * the call, that the fd is a non-negative int32 and that every (buffer, offset, length) triple lies
 * inside its buffer, and throws a RangeError/TypeError naming the argument otherwise: a wrong length
 * passed to C would read or write past the buffer instead of failing. I/O wrappers return the raw
 * result (a count, or -1 with the errno in `errno()`) so the hot path allocates no error object for
 * EAGAIN; setup wrappers throw a TransportOsError naming the call and the address.
 *
 * Linux only for now: the constants and the sockaddr layout are Linux's, and other systems get a
 * TransportError (ENOTSUP) at the first socket rather than a call with the wrong layout.
 *
 * Sockets are created non-blocking and close-on-exec in one call (SOCK_NONBLOCK|SOCK_CLOEXEC, and
 * accept4 with the same flags), and every send uses MSG_NOSIGNAL, so a peer that went away fails a
 * write with EPIPE instead of killing the process with SIGPIPE.
 */
import { types } from "node:util";
import koffi from "koffi";
import { errno, errnoName, libc } from "../libc.js";
import { checkFd } from "../poller/poller.js";
import { type Address, formatInet, UNIX_PATH_MAX } from "./address.js";
import { osError, TransportError, TransportResolveError } from "./errors.js";

export const AF_UNIX = 1;
export const AF_INET = 2;
export const AF_INET6 = 10;
export const SOCK_STREAM = 1;
export const SOCK_DGRAM = 2;
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;
export const SOL_SOCKET = 1;
export const SO_REUSEADDR = 2;
const SO_ERROR = 4;
export const IPPROTO_TCP = 6;
export const TCP_NODELAY = 1;
const MSG_NOSIGNAL = 0x4000;
const MSG_TRUNC = 0x20;
const SHUT_WR = 1;

const c = {
  socket: libc.func("int socket(int domain, int type, int protocol)") as (d: number, t: number, p: number) => number,
  bind: libc.func("int bind(int fd, const void *addr, uint32_t len)") as (fd: number, a: Uint8Array, l: number) => number,
  listen: libc.func("int listen(int fd, int backlog)") as (fd: number, b: number) => number,
  // Linux's own call: binding it elsewhere would fail the import. Off Linux no socket exists to accept on (linuxOnly).
  accept4: (process.platform === "linux" ? libc.func("int accept4(int fd, void *addr, void *len, int flags)") : linuxOnly) as (fd: number, a: Uint8Array, l: Uint32Array, f: number) => number,
  connect: libc.func("int connect(int fd, const void *addr, uint32_t len)") as (fd: number, a: Uint8Array, l: number) => number,
  recv: libc.func("intptr_t recv(int fd, void *buf, uintptr_t n, int flags)") as (fd: number, b: Uint8Array, n: number, f: number) => number,
  send: libc.func("intptr_t send(int fd, const void *buf, uintptr_t n, int flags)") as (fd: number, b: Uint8Array, n: number, f: number) => number,
  recvfrom: libc.func("intptr_t recvfrom(int fd, void *buf, uintptr_t n, int flags, void *addr, void *len)") as (
    fd: number,
    b: Uint8Array,
    n: number,
    f: number,
    a: Uint8Array,
    l: Uint32Array,
  ) => number,
  sendto: libc.func("intptr_t sendto(int fd, const void *buf, uintptr_t n, int flags, const void *addr, uint32_t len)") as (
    fd: number,
    b: Uint8Array,
    n: number,
    f: number,
    a: Uint8Array,
    l: number,
  ) => number,
  shutdown: libc.func("int shutdown(int fd, int how)") as (fd: number, how: number) => number,
  getsockopt: libc.func("int getsockopt(int fd, int level, int name, void *val, void *len)") as (
    fd: number,
    level: number,
    name: number,
    v: Int32Array,
    l: Uint32Array,
  ) => number,
  setsockopt: libc.func("int setsockopt(int fd, int level, int name, const void *val, uint32_t len)") as (
    fd: number,
    level: number,
    name: number,
    v: Int32Array,
    l: number,
  ) => number,
  getsockname: libc.func("int getsockname(int fd, void *addr, void *len)") as (fd: number, a: Uint8Array, l: Uint32Array) => number,
  getpeername: libc.func("int getpeername(int fd, void *addr, void *len)") as (fd: number, a: Uint8Array, l: Uint32Array) => number,
  unlink: libc.func("int unlink(const char *path)") as (path: string) => number,
};

/**
 * glibc's and musl's `struct addrinfo` (Linux); koffi lays the fields out with C's alignment. Unnamed,
 * as every type here: a name is global to koffi, and a second copy of this module would clash with it.
 */
const AddrInfo = koffi.struct({
  ai_flags: "int",
  ai_family: "int",
  ai_socktype: "int",
  ai_protocol: "int",
  ai_addrlen: "uint32_t",
  ai_addr: "void *",
  ai_canonname: "void *",
  ai_next: "void *",
});
interface AddrInfoFields {
  ai_addrlen: number;
  ai_addr: unknown;
  ai_next: unknown;
}
const gai = {
  getaddrinfo: libc.func("getaddrinfo", "int", ["const char *", "const char *", koffi.pointer(AddrInfo), koffi.out(koffi.pointer("void *"))]) as (
    node: string,
    service: string,
    hints: object,
    res: unknown[],
  ) => number,
  freeaddrinfo: libc.func("freeaddrinfo", "void", ["void *"]) as (res: unknown) => void,
  strerror: libc.func("gai_strerror", "const char *", ["int"]) as (code: number) => string,
};
const EAI: Record<number, string> = {
  [-1]: "EAI_BADFLAGS",
  [-2]: "EAI_NONAME",
  [-3]: "EAI_AGAIN",
  [-4]: "EAI_FAIL",
  [-5]: "EAI_NODATA",
  [-6]: "EAI_FAMILY",
  [-7]: "EAI_SOCKTYPE",
  [-8]: "EAI_SERVICE",
  [-9]: "EAI_ADDRFAMILY",
  [-10]: "EAI_MEMORY",
  [-11]: "EAI_SYSTEM",
  [-12]: "EAI_OVERFLOW",
};

/** Large enough for any `struct sockaddr` (sizeof(struct sockaddr_storage)). */
const SOCKADDR_MAX = 128;
const nameBuf = new Uint8Array(SOCKADDR_MAX);
const nameLen = new Uint32Array(1);
const intBuf = new Int32Array(1);
const intLen = new Uint32Array(1);

/**
 * The built-in TypedArray getters, bound once: a Uint8Array's `length` (an own property, a subclass
 * getter) or its `subarray` may lie, and C would then read or write past its memory.
 */
const typedArray = Object.getPrototypeOf(Uint8Array.prototype) as object;
const builtin = <T>(name: string) => Function.prototype.call.bind(Object.getOwnPropertyDescriptor(typedArray, name)!.get!) as (buf: Uint8Array) => T;
/** The bytes `buf` really holds; a TypeError for an object that only inherits from Uint8Array. */
export const byteLength = builtin<number>("byteLength");
const bufferOf = builtin<ArrayBufferLike>("buffer");
const byteOffset = builtin<number>("byteOffset");

/**
 * What `write` and `sendTo` send: a Uint8Array as it is, a string as UTF-8; null for anything else. A
 * brand check, not `instanceof`: another realm's Uint8Array is one, an object that only inherits from
 * Uint8Array.prototype has no bytes.
 */
export function bytesOf(data: unknown): Uint8Array | null {
  if (typeof data === "string") return Buffer.from(data, "utf8");
  return types.isUint8Array(data) ? data : null;
}

/** Throw unless `buf[off .. off+len)` lies inside `buf`. */
export function checkSpan(buf: Uint8Array, off: number, len: number, what: string): void {
  // The brand, as bytesOf checks it.
  if (!types.isUint8Array(buf)) throw new TypeError(`${what}: buffer must be a Uint8Array, got ${buf === null ? "null" : typeof buf}`);
  const size = byteLength(buf);
  if (!Number.isInteger(off) || off < 0 || off > size) throw new RangeError(`${what}: offset ${String(off)} is outside a buffer of ${size} bytes`);
  if (!Number.isInteger(len) || len < 0 || len > size - off)
    throw new RangeError(`${what}: length ${String(len)} at offset ${off} overruns a buffer of ${size} bytes`);
}

/** The memory from `off` (checked by checkSpan): C gets a pointer to a view's first byte and the length beside it. */
function view(buf: Uint8Array, off: number, len: number): Uint8Array {
  return off === 0 ? buf : new Uint8Array(bufferOf(buf), byteOffset(buf) + off, len);
}

export function familyOf(a: Address): number {
  return a.family === "ipv4" ? AF_INET : a.family === "ipv6" ? AF_INET6 : AF_UNIX;
}

/** The constants, the sockaddr layouts and getaddrinfo's struct here are Linux's: BSD layouts differ (sin_len), and a call would read and write garbage. */
function linuxOnly(): void {
  if (process.platform !== "linux") throw new TransportError("ENOTSUP", `chronots/net supports Linux only for now, not ${process.platform} (ENOTSUP)`);
}

/** A new non-blocking, close-on-exec socket; throws a TransportOsError. */
export function openSocket(a: Address, type: number): number {
  linuxOnly();
  const fd = c.socket(familyOf(a), type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) throw osError("socket", errno(), `for ${a.text}`);
  return fd;
}

/** The `struct sockaddr` bytes of `a` (exactly the length to pass). */
export function encodeSockaddr(a: Address): Uint8Array {
  if (a.family === "unix") {
    const abstract = a.path.startsWith("@");
    const path = Buffer.from(abstract ? a.path.slice(1) : a.path, "utf8");
    if (path.length > UNIX_PATH_MAX) throw new RangeError(`encodeSockaddr: Unix path of ${path.length} bytes is longer than ${UNIX_PATH_MAX}`);
    // An abstract name starts with a NUL and has no terminator; a path has a terminating NUL.
    const out = new Uint8Array(2 + 1 + path.length);
    out[0] = AF_UNIX;
    out.set(path, abstract ? 3 : 2);
    return out;
  }
  const v4 = a.family === "ipv4";
  const out = new Uint8Array(v4 ? 16 : 28);
  out[0] = v4 ? AF_INET : AF_INET6;
  out[2] = a.port >> 8;
  out[3] = a.port & 0xff;
  out.set(a.ip, v4 ? 4 : 8);
  return out;
}

/** The address string of a `struct sockaddr` of `len` bytes; an unnamed Unix socket reads `"unix:"`. */
export function decodeSockaddr(buf: Uint8Array, len: number): string {
  checkSpan(buf, 0, len, "decodeSockaddr");
  if (len < 2) return "";
  const family = buf[0]! | (buf[1]! << 8);
  const port = (buf[2]! << 8) | buf[3]!;
  if (family === AF_INET && len >= 8) return formatInet(buf.slice(4, 8), port);
  if (family === AF_INET6 && len >= 24) return formatInet(buf.slice(8, 24), port);
  if (family === AF_UNIX) {
    if (len === 2) return "unix:";
    if (buf[2] === 0) return `unix:@${Buffer.from(buf.subarray(3, len)).toString("utf8")}`;
    const end = buf.subarray(2, len).indexOf(0);
    return `unix:${Buffer.from(buf.subarray(2, end < 0 ? len : 2 + end)).toString("utf8")}`;
  }
  return `unknown address family ${family}`;
}

export function bindTo(fd: number, a: Address, sockaddr: Uint8Array): void {
  checkFd(fd, "bind");
  if (c.bind(fd, sockaddr, sockaddr.length) < 0) throw osError("bind", errno(), `to ${a.text}`);
}

export function listenOn(fd: number, a: Address, backlog: number): void {
  checkFd(fd, "listen");
  if (c.listen(fd, backlog) < 0) throw osError("listen", errno(), `on ${a.text}`);
}

/** A connected client fd, or -1 with the errno set (EAGAIN when none is waiting); its address is left for `lastAddress()`. */
export function acceptOne(fd: number): number {
  checkFd(fd, "accept");
  nameLen[0] = SOCKADDR_MAX;
  return c.accept4(fd, nameBuf, nameLen, SOCK_NONBLOCK | SOCK_CLOEXEC);
}

/** The address the last `acceptOne` (the peer) or `recvDatagram` (the sender) filled in. */
export function lastAddress(): string {
  return decodeSockaddr(nameBuf, Math.min(nameLen[0]!, SOCKADDR_MAX));
}

/** 0, or -1 with the errno set (EINPROGRESS while a TCP connect is under way). */
export function startConnect(fd: number, sockaddr: Uint8Array): number {
  checkFd(fd, "connect");
  return c.connect(fd, sockaddr, sockaddr.length);
}

/** Receive into `buf[off .. off+len)`: the byte count, 0 at end of stream, or -1 with the errno set. */
export function recvInto(fd: number, buf: Uint8Array, off: number, len: number): number {
  checkFd(fd, "recv");
  checkSpan(buf, off, len, "recv");
  return c.recv(fd, view(buf, off, len), len, 0);
}

/** Send `buf[off .. off+len)`: the byte count taken by the kernel, or -1 with the errno set. */
export function sendFrom(fd: number, buf: Uint8Array, off: number, len: number): number {
  checkFd(fd, "send");
  checkSpan(buf, off, len, "send");
  return c.send(fd, view(buf, off, len), len, MSG_NOSIGNAL);
}

/**
 * Receive one datagram into `buf[0 .. len)`; the sender's address is left for `lastAddress()`.
 * Returns the datagram's whole length (MSG_TRUNC), which exceeds `len` when only its first `len` bytes fitted.
 */
export function recvDatagram(fd: number, buf: Uint8Array, len: number): number {
  checkFd(fd, "recvfrom");
  checkSpan(buf, 0, len, "recvfrom");
  nameLen[0] = SOCKADDR_MAX;
  return c.recvfrom(fd, buf, len, MSG_TRUNC, nameBuf, nameLen);
}

export function sendDatagram(fd: number, buf: Uint8Array, off: number, len: number, sockaddr: Uint8Array): number {
  checkFd(fd, "sendto");
  checkSpan(buf, off, len, "sendto");
  return c.sendto(fd, view(buf, off, len), len, MSG_NOSIGNAL, sockaddr, sockaddr.length);
}

/** The pending error of a socket (SO_ERROR), 0 if none: how a non-blocking connect reports its end. */
export function socketError(fd: number): number {
  checkFd(fd, "getsockopt");
  intLen[0] = 4;
  if (c.getsockopt(fd, SOL_SOCKET, SO_ERROR, intBuf, intLen) < 0) return errno();
  return intBuf[0]!;
}

export function setIntOption(fd: number, level: number, name: number, value: number, what: string): void {
  checkFd(fd, "setsockopt");
  intBuf[0] = value;
  if (c.setsockopt(fd, level, name, intBuf, 4) < 0) throw osError("setsockopt", errno(), what);
}

export function localName(fd: number): string {
  return sockName(fd, c.getsockname, "getsockname");
}

export function peerName(fd: number): string {
  return sockName(fd, c.getpeername, "getpeername");
}

function sockName(fd: number, call: (fd: number, a: Uint8Array, l: Uint32Array) => number, what: string): string {
  checkFd(fd, what);
  nameLen[0] = SOCKADDR_MAX;
  if (call(fd, nameBuf, nameLen) < 0) throw osError(what, errno(), `of fd ${fd}`);
  return decodeSockaddr(nameBuf, Math.min(nameLen[0]!, SOCKADDR_MAX));
}

/** shutdown(SHUT_WR): 0, or -1 with the errno set. */
export function shutdownWrite(fd: number): number {
  checkFd(fd, "shutdown");
  return c.shutdown(fd, SHUT_WR);
}

/** Remove a Unix socket file; a missing file is fine. */
export function unlinkPath(path: string): void {
  c.unlink(path);
}

/**
 * The addresses getaddrinfo gives for `host` (a host name, checked by the caller) and `port`, as
 * address strings in the resolver's order, each once. Blocks until the resolver answers.
 */
export function lookupHost(host: string, port: number, what: string): string[] {
  linuxOnly();
  // Stream sockets only: each address once, not once per socket type.
  const hints = { ai_flags: 0, ai_family: 0, ai_socktype: SOCK_STREAM, ai_protocol: 0, ai_addrlen: 0, ai_addr: null, ai_canonname: null, ai_next: null };
  const res: unknown[] = [null];
  const code = gai.getaddrinfo(host, String(port), hints, res);
  if (code !== 0) {
    const name = EAI[code] ?? `EAI ${code}`;
    const why = code === -11 ? errnoName(errno()) : gai.strerror(code);
    throw new TransportResolveError(name, `${what}: ${name} (${why})`);
  }
  const found = new Set<string>();
  try {
    for (let p = res[0]; p; ) {
      const info = koffi.decode(p, AddrInfo) as AddrInfoFields;
      const len = Math.min(info.ai_addrlen, SOCKADDR_MAX);
      if (info.ai_addr) found.add(decodeSockaddr(koffi.decode(info.ai_addr, koffi.array("uint8_t", len)) as Uint8Array, len));
      p = info.ai_next;
    }
  } finally {
    gai.freeaddrinfo(res[0]);
  }
  return [...found];
}
