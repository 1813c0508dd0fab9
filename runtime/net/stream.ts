/**
 * Stream transports (TCP over IPv4/IPv6, Unix sockets): `connect`, `createStreamServer`, and the
 * `StreamTransport` they hand out.
 *
 * Reading. Bytes are taken from the kernel only while a read is pending, so a peer that sends
 * faster than we read fills the kernel's buffers and is slowed by TCP itself. A read first tries
 * `recv` at once; on EAGAIN it watches the fd (level-triggered) and retries when the dispatcher
 * says it is readable. The watch stays on between reads of a busy stream (saving two `epoll_ctl`
 * per message) and is dropped the first time the fd turns readable with no read pending. Received
 * bytes go straight into the read's result, or, for `readExactly`/`readLine`, into the transport's
 * own buffer, so a cancelled read loses nothing: the next read gets those bytes. One read at a
 * time: a second one while another is pending fails with TransportBusyError.
 *
 * Fairness. A read or write that the kernel can serve at once finishes at once, and the body awaiting
 * it goes on in the same step. So that a peer that always has more to send (or room to take) cannot
 * keep a reading (writing) loop running for good, while timers, other connections and the rest of the
 * queue wait, once a transport has read (written) 64 KiB at once in a dispatcher step, its next read
 * (write) waits for the poller, which answers in the next step; Node likewise bounds the reads of one
 * socket per turn of its loop. The one operation that reaches the bound may pass it: a single large
 * write sends what the kernel takes.
 *
 * Read results. `recv` writes into a shared 64 KiB arena, and a result is a view of the bytes it
 * received, so a read allocates no memory of its own: a buffer per read (allocation, zeroing, a
 * copy, and the GC's accounting of external memory) cost more than the rest of an echo round
 * trip's JavaScript. Arena bytes are written once: when the free space runs short a new arena
 * starts, and an old one is freed once no result views it. So a result stays valid forever, but
 * its `.buffer` is the arena (as with Node's pooled Buffers, and untransferable as they are), and a
 * result kept for long keeps its whole arena alive: `slice()` it to keep only its bytes.
 *
 * Writing. `write` sends at once when nothing is queued; what the kernel does not take is queued
 * (writes go out whole and in call order) and sent as the fd turns writable. The future completes
 * once all of its bytes are in the kernel, so a writer that awaits its writes holds at most one
 * buffer while a slow reader drains. Cancelling a queued write that has not started removes it;
 * one already partly sent is finished anyway (the future is cancelled, the stream stays intact).
 * A send that fails (the peer reset the stream, a queued buffer shrank or was detached) ends
 * writing, as an error destroys a Node socket: the stream may hold part of that write, and bytes
 * appended after it would be taken for its rest. That write fails with its own error; the others
 * queued, and every later write and `shutdownWait`, fail with TransportClosedError naming it. The
 * write side is shut down, so the peer reads end of stream after the bytes that went out; reading
 * goes on.
 * TCP sockets have Nagle's algorithm off (TCP_NODELAY): a write goes out at once, as
 * request/response protocols want; callers that write many small pieces should batch them.
 *
 * Errors. Every method returns a Future; bad arguments fail it with TypeError/RangeError, transport
 * conditions with a TransportError subclass (see errors.ts). `closeWait` closes at once: pending
 * reads, queued writes and `shutdownWait` fail with TransportClosedError.
 *
 * Servers. Each accepted client runs `handler(t)`; when the handler's future ends the server
 * closes `t`. A handler that fails (or throws) is reported to `onError` (stderr by default) and
 * never stops the server. `server.closeWait()` stops accepting, closes the listening socket,
 * cancels the handlers still running, closes their transports, and completes once every handler
 * has ended, so no client fd outlives it, also when a handler calls it as it starts. A handler
 * failing meanwhile is reported too, unless with the TransportClosedError of its closed transport. Running out
 * of fds (EMFILE, ENFILE) while accepting is reported and pauses accepting for 100 ms, instead of
 * spinning on a listener that stays readable.
 */
import { markAsUntransferable } from "node:worker_threads";
import { async } from "../async.js";
import { type Dispatcher, getGlobalDispatcher } from "../dispatcher.js";
import { Future, typeName } from "../future.js";
import { close, EAGAIN, EINTR, EINPROGRESS, errno } from "../libc.js";
import type { TimerHandle } from "../timerheap.js";
import { type Address, parseAddress } from "./address.js";
import {
  osError,
  TransportBusyError,
  TransportClosedError,
  TransportIncompleteError,
  TransportError,
  TransportLimitError,
} from "./errors.js";
import { checkOnError, done, failed, reportToStderr } from "./outcome.js";
import {
  acceptOne,
  bindTo,
  byteLength,
  bytesOf,
  encodeSockaddr,
  IPPROTO_TCP,
  lastAddress,
  listenOn,
  localName,
  openSocket,
  recvInto,
  sendFrom,
  setIntOption,
  shutdownWrite,
  SO_REUSEADDR,
  SOCK_STREAM,
  socketError,
  SOL_SOCKET,
  startConnect,
  TCP_NODELAY,
  unlinkPath,
} from "./sys.js";

/** What `read()` asks for when given no size, and the most one `recv` takes. */
const READ_SIZE = 64 * 1024;
/** Bytes a transport reads, and writes, at once in one dispatcher step before its next read (write) waits for the poller. */
const STEP_BYTES = 64 * 1024;
/** `readLine`'s default bound on a line, so a peer that never sends `\n` cannot grow memory forever. */
const LINE_LIMIT = 1024 * 1024;
/** Largest count `read`/`readExactly` accept. */
const MAX_COUNT = 0x40000000;
const EMPTY = new Uint8Array(0);
/** Size of a read arena, and the least free space a recv is given before a new arena starts. */
const ARENA_SIZE = 64 * 1024;
const ARENA_MIN = 4096;
let arena = newArena();
let arenaUsed = 0;
const utf8 = new TextDecoder();
const EMFILE = 24;
const ENFILE = 23;
const ENOBUFS = 105;
const ENOMEM = 12;
const ECONNABORTED = 103;
/** After running out of fds, accepting resumes this many ms later. */
const ACCEPT_PAUSE = 100;

interface WriteRequest {
  readonly bytes: Uint8Array;
  /** Its real length, taken once: `bytes.length` may be shadowed. */
  readonly len: number;
  off: number;
  readonly fut: Future<number>;
}

/** Held by this module only: the classes' constructors refuse a call without it (a `new` from plain JavaScript). */
const INTERNAL: unique symbol = Symbol("chronots/net stream");

/**
 * Untransferable, as Node's Buffer pool is: a user passing a result's `.buffer` in a transfer list
 * would otherwise detach the arena under every later read of every transport (Node 20 then copies
 * it, later Nodes throw DataCloneError).
 */
function newArena(): ArrayBuffer {
  const a = new ArrayBuffer(ARENA_SIZE);
  markAsUntransferable(a);
  return a;
}

function checkCount(n: unknown, what: string, min: number, name = "byte count"): asserts n is number {
  if (typeof n !== "number") throw new TypeError(`${what}: ${name} must be a number, got ${typeName(n)}`);
  if (!Number.isInteger(n) || n < min || n > MAX_COUNT) throw new RangeError(`${what}: ${name} must be an integer from ${min} to ${MAX_COUNT}, got ${n}`);
}

export class StreamTransport {
  /** -1 once closed. */
  private fd: number;
  private readonly d: Dispatcher;
  readonly localAddress: string;
  readonly remoteAddress: string;
  /** Bytes received but not yet consumed by `readExactly`/`readLine`: `rbuf[rstart .. rend)`. */
  private rbuf: Uint8Array = EMPTY;
  private rstart = 0;
  private rend = 0;
  /** Where `readLine` resumes its search for `\n`, relative to `rstart`. */
  private scanned = 0;
  private eof = false;
  /** The kernel had no more bytes at the last recv: while watched, wait for readiness instead of trying. */
  private drained = false;
  private readerOn = false;
  private writerOn = false;
  /** The pending leaf read and its size; `reading` marks a readExactly/readLine in progress. */
  private waiter: Future<Uint8Array> | null = null;
  private want = 0;
  private reading = false;
  private readonly writes: WriteRequest[] = [];
  private flushWaiters: Future<void>[] = [];
  /** Set by a failed send: why writing has ended. */
  private writeFault: string | null = null;
  /** Bytes read, and bytes written, at once (not on a readiness callback) in the dispatcher's step `atStep`. */
  private atStep = -1;
  private readAtOnce = 0;
  private wroteAtOnce = 0;

  /** Transports come from `connect` and from servers' handlers only. */
  private constructor(key: typeof INTERNAL, fd: number, d: Dispatcher, localAddress: string, remoteAddress: string) {
    if (key !== INTERNAL) throw new TypeError("StreamTransport: use connect() or a StreamServer's handler; it cannot be constructed");
    this.fd = fd;
    this.d = d;
    this.localAddress = localAddress;
    this.remoteAddress = remoteAddress;
  }

  /** @internal `fd` is already registered with `d` */
  static _create(fd: number, d: Dispatcher, localAddress: string, remoteAddress: string): StreamTransport {
    return new StreamTransport(INTERNAL, fd, d, localAddress, remoteAddress);
  }

  get closed(): boolean {
    return this.fd < 0;
  }

  /** The peer has ended the stream and every byte before the end has been read. */
  get atEof(): boolean {
    return this.eof && this.rend === this.rstart;
  }

  /** 1..n bytes (n defaults to 64 KiB), or an empty array at end of stream. */
  read(n: number = READ_SIZE): Future<Uint8Array> {
    try {
      checkCount(n, "read", 1);
    } catch (e) {
      return failed(e, "read");
    }
    const refused = this.readRefusal("read");
    if (refused !== null) return failed(refused, "read");
    if (this.rend > this.rstart) return done(this.take(Math.min(n, this.rend - this.rstart)), "read");
    return this.more(n);
  }

  /** Exactly `n` bytes; TransportIncompleteError if the stream ends first (the bytes stay readable). */
  readonly readExactly = async(function* (this: StreamTransport, n: number) {
    checkCount(n, "readExactly", 0);
    const refused = this.readRefusal("readExactly");
    if (refused !== null) throw refused;
    this.reading = true;
    try {
      while (this.rend - this.rstart < n) {
        // Ask for more than is missing: the rest stays buffered for the next read, and a recv that
        // fills its request exactly would leave the kernel's state unknown (one more recv, EAGAIN).
        const chunk = yield* this.more(READ_SIZE);
        if (chunk.length === 0)
          throw new TransportIncompleteError(`readExactly(${n}) from ${this.remoteAddress}: the stream ended after ${this.rend - this.rstart} bytes`);
        this.append(chunk);
      }
      return this.take(n);
    } finally {
      this.reading = false;
    }
  });

  /**
   * The next line, without its `\n` or `\r\n`, decoded as UTF-8; at end of stream the unterminated
   * rest, then `""`. A line longer than `limit` bytes fails with TransportLimitError and stays buffered.
   */
  readonly readLine = async(function* (this: StreamTransport, limit: number = LINE_LIMIT) {
    checkCount(limit, "readLine", 1, "the line limit (bytes)");
    const refused = this.readRefusal("readLine");
    if (refused !== null) throw refused;
    this.reading = true;
    try {
      for (;;) {
        const nl = this.rbuf.subarray(this.rstart + this.scanned, this.rend).indexOf(10);
        // The line's bytes before its `\n`, or all buffered so far: however the bytes arrived, in one chunk or
        // many. A `\r` right before the `\n` is the terminator's, not counted; so is a last one until the next
        // byte says whether a `\n` follows it.
        const stop = nl >= 0 ? this.rstart + this.scanned + nl : this.rend;
        if (stop - this.rstart - (stop > this.rstart && this.rbuf[stop - 1] === 13 ? 1 : 0) > limit) throw this.lineTooLong(limit);
        if (nl >= 0) {
          const line = this.take(this.scanned + nl + 1);
          const end = line.length > 1 && line[line.length - 2] === 13 ? line.length - 2 : line.length - 1;
          return utf8.decode(line.subarray(0, end));
        }
        this.scanned = this.rend - this.rstart;
        const chunk = yield* this.more(READ_SIZE);
        if (chunk.length === 0) {
          // A last `\r` no `\n` followed is the line's own byte.
          if (this.rend - this.rstart > limit) throw this.lineTooLong(limit);
          return utf8.decode(this.take(this.rend - this.rstart));
        }
        this.append(chunk);
      }
    } finally {
      this.reading = false;
    }
  });

  private lineTooLong(limit: number): TransportLimitError {
    return new TransportLimitError(`readLine from ${this.remoteAddress}: no end of line within ${limit} bytes`);
  }

  /** Completes with `data`'s length once all of it is in the kernel; strings are sent as UTF-8. */
  write(data: Uint8Array | string): Future<number> {
    const bytes = bytesOf(data);
    if (bytes === null) return failed(new TypeError(`write: data must be a Uint8Array or a string, got ${data === null ? "null" : typeof data}`), "write");
    if (this.fd < 0) return failed(this.closedError("write"), "write");
    if (this.writeFault !== null) return failed(this.faultError("write"), "write");
    const len = byteLength(bytes);
    if (len === 0) return done(0, "write");
    let off = 0;
    if (this.writes.length === 0 && this.thisStep().wroteAtOnce < STEP_BYTES) {
      try {
        off = this.trySend(bytes, 0, len);
      } catch (e) {
        this.endWriting(0, len, e);
        return failed(e, "write");
      }
      this.wroteAtOnce += off;
      if (off === len) return done(len, "write");
    }
    const fut = new Future<number>("StreamTransport.write");
    const req: WriteRequest = { bytes, len, off, fut };
    fut.cancelCallback = () => this.unqueue(req);
    this.writes.push(req);
    if (!this.writerOn) {
      this.d.addWriter(this.fd, this.onWritable);
      this.writerOn = true;
    }
    return fut;
  }

  /** Send what is queued, then half-close: the peer reads end of stream, and we can still read. */
  readonly shutdownWait = async(function* (this: StreamTransport) {
    if (this.writes.length > 0) yield* this.flush();
    if (this.fd < 0) throw this.closedError("shutdownWait");
    if (this.writeFault !== null) throw this.faultError("shutdownWait");
    if (shutdownWrite(this.fd) < 0) throw osError("shutdown", errno(), `of ${this.remoteAddress}`);
  });

  /**
   * Close now and release the fd; whatever is pending fails with TransportClosedError, writes still
   * queued too (past 64 KiB written in one step, writes queue: `shutdownWait` first sends them all).
   */
  closeWait(): Future<void> {
    this._close();
    return done(undefined, "closeWait");
  }

  toString(): string {
    return `StreamTransport(${this.localAddress} -> ${this.remoteAddress}${this.closed ? ", closed" : ""})`;
  }

  /** @internal closing is synchronous; servers close their clients through this */
  _close(): void {
    if (this.fd < 0) return;
    const fd = this.fd;
    this.fd = -1;
    this.readerOn = this.writerOn = false;
    this.d.unregister(fd);
    close(fd);
    const err = this.closedError("a pending operation");
    const w = this.waiter;
    this.waiter = null;
    w?.fail(err);
    for (const req of this.writes.splice(0)) if (req.fut.pending) req.fut.fail(err);
    for (const f of this.flushWaiters.splice(0)) f.fail(err);
  }

  private closedError(what: string): TransportClosedError {
    return new TransportClosedError(`${what} on ${this}: the transport is closed`);
  }

  private faultError(what: string): TransportClosedError {
    return new TransportClosedError(`${what} on ${this}: writing has ended, ${this.writeFault}`);
  }

  /** Why a read cannot start now (the transport is closed, or another read is pending), or null. */
  private readRefusal(what: string): TransportError | null {
    if (this.fd < 0) return this.closedError(what);
    if (this.waiter !== null || this.reading) return new TransportBusyError(`${what} on ${this}: another read is pending`);
    return null;
  }

  /** The next bytes from the kernel (at most `max`), an empty array at end of stream. */
  private more(max: number): Future<Uint8Array> {
    if (this.fd < 0) return failed(this.closedError("read"), "read");
    if (this.eof) return done(EMPTY, "read");
    if (!(this.readerOn && this.drained) && this.thisStep().readAtOnce < STEP_BYTES) {
      let chunk: Uint8Array | null;
      try {
        chunk = this.tryRecv(max);
      } catch (e) {
        return failed(e, "read");
      }
      if (chunk !== null) {
        this.readAtOnce += chunk.length;
        return done(chunk, "read");
      }
    }
    const w = new Future<Uint8Array>("StreamTransport.read");
    w.cancelCallback = this.onReadCancelled;
    this.waiter = w;
    this.want = max;
    if (!this.readerOn) {
      this.d.addReader(this.fd, this.onReadable);
      this.readerOn = true;
    }
    return w;
  }

  /**
   * The transport, its counts of bytes moved at once reset when the dispatcher has stepped since. A read
   * or write that finds the kernel ready finishes at once, and the code awaiting it goes on without a trip
   * through the dispatcher: with a peer that always has more to send, or always room to take, a reading or
   * writing loop would otherwise never let the other callbacks, timers and connections have their turn.
   */
  private thisStep(): this {
    if (this.atStep !== this.d.steps) {
      this.atStep = this.d.steps;
      this.readAtOnce = this.wroteAtOnce = 0;
    }
    return this;
  }

  /** One recv: a view of the bytes in the arena, EMPTY at end of stream, null on EAGAIN; throws other errors. */
  private tryRecv(max: number): Uint8Array | null {
    for (;;) {
      let free = ARENA_SIZE - arenaUsed;
      // Detached (byteLength 0): `result.buffer.transfer()` detaches even an untransferable arena on Nodes before the fix of nodejs/node#61362.
      if ((free < max && free < ARENA_MIN) || arena.byteLength === 0) {
        arena = newArena();
        arenaUsed = 0;
        free = ARENA_SIZE;
      }
      const len = Math.min(max, free);
      const n = recvInto(this.fd, new Uint8Array(arena, arenaUsed, len), 0, len);
      if (n > 0) {
        // Fewer bytes than asked for: the kernel has no more for now (a stream socket fills the buffer when it can).
        this.drained = n < len;
        const out = new Uint8Array(arena, arenaUsed, n);
        arenaUsed += n;
        return out;
      }
      if (n === 0) {
        this.eof = true;
        return EMPTY;
      }
      const e = errno();
      if (e === EAGAIN) {
        this.drained = true;
        return null;
      }
      if (e !== EINTR) throw osError("recv", e, `from ${this.remoteAddress}`);
    }
  }

  private readonly onReadCancelled = (w: Future<unknown>): void => {
    if (this.waiter === w) this.waiter = null;
  };

  private readonly onReadable = (): void => {
    const w = this.waiter;
    if (w === null) {
      // Nobody is reading: stop watching, so unread bytes wait in the kernel and slow the sender.
      if (this.readerOn) {
        this.d.removeReader(this.fd);
        this.readerOn = false;
      }
      return;
    }
    let chunk: Uint8Array | null;
    try {
      chunk = this.tryRecv(this.want);
    } catch (e) {
      this.waiter = null;
      w.fail(e);
      return;
    }
    if (chunk === null) return;
    this.waiter = null;
    w.complete(chunk);
  };

  private append(chunk: Uint8Array): void {
    const len = chunk.length;
    if (this.rend + len > this.rbuf.length) {
      const used = this.rend - this.rstart;
      const buf = used + len > this.rbuf.length ? new Uint8Array(Math.max(2 * this.rbuf.length, used + len, 4096)) : this.rbuf;
      buf.set(this.rbuf.subarray(this.rstart, this.rend), 0);
      this.rbuf = buf;
      this.rstart = 0;
      this.rend = used;
    }
    this.rbuf.set(chunk, this.rend);
    this.rend += len;
  }

  /** Remove and return the first `n` buffered bytes (a copy). */
  private take(n: number): Uint8Array {
    const out = this.rbuf.slice(this.rstart, this.rstart + n);
    this.rstart += n;
    this.scanned = 0;
    if (this.rstart === this.rend) {
      this.rstart = this.rend = 0;
      // Keep a small buffer for the next line; give a large one back.
      if (this.rbuf.length > READ_SIZE) this.rbuf = EMPTY;
    }
    return out;
  }

  /** Send from `off`: the new offset (unchanged on EAGAIN); throws other errors. */
  private trySend(bytes: Uint8Array, off: number, len: number): number {
    for (;;) {
      const n = sendFrom(this.fd, bytes, off, len - off);
      if (n >= 0) return off + n;
      const e = errno();
      if (e === EAGAIN) return off;
      if (e !== EINTR) throw osError("send", e, `to ${this.remoteAddress}`);
    }
  }

  private readonly onWritable = (): void => {
    const q = this.writes;
    while (q.length > 0) {
      const req = q[0]!;
      try {
        req.off = this.trySend(req.bytes, req.off, req.len);
      } catch (e) {
        q.shift();
        if (req.fut.pending) req.fut.fail(e);
        this.endWriting(req.off, req.len, e);
        return;
      }
      if (req.off < req.len) return;
      q.shift();
      if (req.fut.pending) req.fut.complete(req.len);
    }
    this.stopWriting();
    for (const f of this.flushWaiters.splice(0)) f.complete();
  };

  private stopWriting(): void {
    if (this.writerOn) {
      this.d.removeWriter(this.fd);
      this.writerOn = false;
    }
  }

  /** After a failed send (error `e`, `sent` of `len` bytes out): no later byte may follow what went out. */
  private endWriting(sent: number, len: number, e: unknown): void {
    this.writeFault = `a write failed after sending ${sent} of its ${len} bytes: ${e instanceof Error ? e.message : String(e)}`;
    // Its own failure (a reset stream) changes nothing: writing is over either way.
    shutdownWrite(this.fd);
    const err = this.faultError("a queued write");
    for (const req of this.writes.splice(0)) if (req.fut.pending) req.fut.fail(err);
    for (const f of this.flushWaiters.splice(0)) f.fail(this.faultError("shutdownWait"));
    this.stopWriting();
  }

  /** A cancelled write leaves the queue only if none of it was sent; otherwise it is finished. */
  private unqueue(req: WriteRequest): void {
    const i = this.writes.indexOf(req);
    const started = i === 0 && req.off > 0;
    if (i < 0 || started) return;
    this.writes.splice(i, 1);
    if (this.writes.length === 0) {
      this.stopWriting();
      for (const f of this.flushWaiters.splice(0)) f.complete();
    }
  }

  /** Completes once every queued write is in the kernel. */
  private flush(): Future<void> {
    const f = new Future<void>("StreamTransport.flush");
    f.cancelCallback = () => {
      this.flushWaiters = this.flushWaiters.filter((g) => g !== f);
    };
    this.flushWaiters.push(f);
    return f;
  }
}

/**
 * A connected stream to `address`; fails with TransportRefusedError when nobody listens there, and
 * with TransportOsError EAGAIN when a Unix socket's accept queue is full (Unix connects never wait).
 * Cancelling a connect still under way closes its socket.
 */
export function connect(address: string): Future<StreamTransport> {
  let a: Address;
  try {
    a = parseAddress(address, "connect");
  } catch (e) {
    return failed(e, "connect");
  }
  const d = getGlobalDispatcher();
  let fd: number;
  try {
    fd = openSocket(a, SOCK_STREAM);
  } catch (e) {
    return failed(e, "connect");
  }
  /** The connected transport, or the error, once the connect has ended; on error the fd is gone. */
  const finish = (): StreamTransport | Error => {
    const err = socketError(fd);
    try {
      if (err !== 0) throw osError("connect", err, `to ${a.text}`);
      if (a.family !== "unix") setIntOption(fd, IPPROTO_TCP, TCP_NODELAY, 1, `TCP_NODELAY on ${a.text}`);
      return StreamTransport._create(fd, d, localName(fd), a.text);
    } catch (e) {
      d.unregister(fd);
      close(fd);
      return e as Error;
    }
  };
  try {
    d.register(fd);
  } catch (e) {
    close(fd);
    return failed(e, "connect");
  }
  if (startConnect(fd, encodeSockaddr(a)) === 0) {
    const r = finish();
    return r instanceof StreamTransport ? done(r, "connect") : failed(r, "connect");
  }
  const e = errno();
  if (e !== EINPROGRESS && e !== EINTR) {
    d.unregister(fd);
    close(fd);
    return failed(osError("connect", e, `to ${a.text}`), "connect");
  }
  const f = new Future<StreamTransport>("connect");
  d.addWriter(fd, () => {
    if (!f.pending) return;
    d.removeWriter(fd);
    const r = finish();
    if (r instanceof StreamTransport) f.complete(r);
    else f.fail(r);
  });
  f.cancelCallback = () => {
    d.unregister(fd);
    close(fd);
  };
  return f;
}

export interface StreamServerOptions {
  /** listen(2) backlog; default 1024. */
  backlog?: number | undefined;
  /** Errors with no caller to take them: failed handlers, failed accepts. Default: printed to stderr. */
  onError?: ((this: void, error: unknown, client: StreamTransport | null) => void) | undefined;
}

export class StreamServer {
  readonly localAddress: string;
  private fd: number;
  private readonly d: Dispatcher;
  private readonly address: Address;
  private accepting = false;
  private pause: TimerHandle | null = null;
  /** Every accepted transport, with its handler's future; null while the handler's synchronous start runs. */
  private readonly handlers = new Map<StreamTransport, Future<unknown> | null>();
  /** closeWait calls waiting for the last handler to end. */
  private drainers: Future<void>[] = [];
  /** Accepted transports get the listening address itself as their local address unless it is a wildcard. */
  private readonly sharedLocal: string | null;
  private readonly onError: NonNullable<StreamServerOptions["onError"]> | null;

  /** Servers come from `createStreamServer` only. */
  private constructor(
    key: typeof INTERNAL,
    address: string,
    private readonly handler: (this: void, t: StreamTransport) => Future<unknown>,
    options: StreamServerOptions,
  ) {
    if (key !== INTERNAL) throw new TypeError("StreamServer: use createStreamServer(); it cannot be constructed");
    if (typeof handler !== "function") throw new TypeError(`createStreamServer: handler must be a function, got ${typeof handler}`);
    if (typeof options !== "object" || options === null) throw new TypeError(`createStreamServer: options must be an object, got ${options === null ? "null" : typeof options}`);
    // Taken now: read when the first error comes, a changed option would throw out of whatever waits then.
    this.onError = checkOnError(options.onError, "createStreamServer");
    const backlog = options.backlog ?? 1024;
    if (typeof backlog !== "number") throw new TypeError(`createStreamServer: backlog must be a number, got ${typeName(backlog)}`);
    if (!Number.isInteger(backlog) || backlog < 1 || backlog > 65535) throw new RangeError(`createStreamServer: backlog must be an integer from 1 to 65535, got ${backlog}`);
    const a = parseAddress(address, "createStreamServer");
    this.address = a;
    this.d = getGlobalDispatcher();
    const fd = openSocket(a, SOCK_STREAM);
    try {
      if (a.family !== "unix") setIntOption(fd, SOL_SOCKET, SO_REUSEADDR, 1, `SO_REUSEADDR on ${a.text}`);
      bindTo(fd, a, encodeSockaddr(a));
      listenOn(fd, a, backlog);
      this.localAddress = a.family === "unix" ? a.text : localName(fd);
      this.d.register(fd);
    } catch (e) {
      close(fd);
      throw e;
    }
    this.fd = fd;
    const wildcard = a.family !== "unix" && a.ip.every((b) => b === 0);
    this.sharedLocal = wildcard ? null : this.localAddress;
  }

  /** @internal */
  static _create(address: string, handler: (this: void, t: StreamTransport) => Future<unknown>, options: StreamServerOptions): StreamServer {
    return new StreamServer(INTERNAL, address, handler, options);
  }

  get closed(): boolean {
    return this.fd < 0;
  }

  /** Begin accepting clients. */
  start(): void {
    if (this.fd < 0) throw new TransportClosedError(`start on the server at ${this.localAddress}: it is closed`);
    this.accepting = true;
    if (this.pause === null) this.d.addReader(this.fd, this.onAcceptable);
  }

  /** Stop accepting; connected clients and their handlers go on. */
  stop(): void {
    this.accepting = false;
    if (this.pause !== null) {
      this.d.removeTimer(this.pause);
      this.pause = null;
    }
    if (this.fd >= 0) this.d.removeReader(this.fd);
  }

  /** Close the listener, cancel the handlers, close their clients; completes when all have ended. */
  readonly closeWait = async(function* (this: StreamServer) {
    if (this.fd >= 0) {
      this.stop();
      this.d.unregister(this.fd);
      close(this.fd);
      this.fd = -1;
      if (this.address.family === "unix" && !this.address.path.startsWith("@")) unlinkPath(this.address.path);
      for (const f of this.handlers.values()) f?.cancel();
      for (const t of this.handlers.keys()) t._close();
    }
    // A handler still in its synchronous start (it called closeWait) has no future yet to wait on.
    if (this.handlers.size > 0) {
      const w = new Future<void>("StreamServer.closeWait");
      this.drainers.push(w);
      yield* w; // cancelled, closeWait ends cancelled: the handlers it waits for still run
    }
  });

  /** Number of clients whose handler is still running. */
  get connections(): number {
    return this.handlers.size;
  }

  private report(error: unknown, client: StreamTransport | null): void {
    // Called as plain functions, as the handler is: `this` is not the options object.
    const onError = this.onError;
    if (onError !== null) onError(error, client);
    else reportToStderr(error, client ? `handler for ${client.remoteAddress} on server ${this.localAddress} failed` : `server ${this.localAddress}`);
  }

  private readonly onAcceptable = (): void => {
    for (let i = 0; i < 256 && this.accepting; i++) {
      const cfd = acceptOne(this.fd);
      if (cfd < 0) {
        const e = errno();
        if (e === EAGAIN) return;
        if (e === EINTR || e === ECONNABORTED) continue;
        this.report(osError("accept", e, `on ${this.localAddress}`), null);
        // onError may have stopped or closed the server: then there is nothing to pause.
        if (!this.accepting) return;
        if (e === EMFILE || e === ENFILE || e === ENOBUFS || e === ENOMEM) this.pauseAccepting();
        return;
      }
      this.serve(cfd);
    }
  };

  /** Out of fds: the listener stays readable, so stop watching it for a while instead of spinning. */
  private pauseAccepting(): void {
    this.d.removeReader(this.fd);
    this.pause = this.d.addTimer(performance.now() + ACCEPT_PAUSE, () => {
      this.pause = null;
      if (this.accepting && this.fd >= 0) this.d.addReader(this.fd, this.onAcceptable);
    });
  }

  private serve(cfd: number): void {
    const remote = this.address.family === "unix" ? "unix:" : lastAddress();
    let t: StreamTransport;
    try {
      if (this.address.family !== "unix") setIntOption(cfd, IPPROTO_TCP, TCP_NODELAY, 1, `TCP_NODELAY for ${remote}`);
      const local = this.sharedLocal ?? localName(cfd);
      this.d.register(cfd);
      t = StreamTransport._create(cfd, this.d, local, remote);
    } catch (e) {
      close(cfd);
      this.report(e, null);
      return;
    }
    // Recorded before the handler runs: a closeWait it calls as it starts must close `t` and wait for it.
    this.handlers.set(t, null);
    let f: Future<unknown>;
    try {
      // A plain call: the handler gets no `this` (undefined), not the server.
      const handler = this.handler;
      f = handler(t);
      if (!(f instanceof Future)) throw new TypeError(`the handler of server ${this.localAddress} must return a Future, it returned ${typeof f}`);
    } catch (e) {
      this.ended(t);
      this.report(e, t);
      return;
    }
    this.handlers.set(t, f);
    // Closed meanwhile: closeWait could not cancel a future that did not exist yet.
    if (this.fd < 0) f.cancel();
    f.addCallback(() => {
      this.ended(t);
      // Closing, the server closed `t` under its handler: a TransportClosedError is that, not a fault.
      if (f.failed && (this.fd >= 0 || !(f.error instanceof TransportClosedError))) this.report(f.error, t);
    });
  }

  private ended(t: StreamTransport): void {
    this.handlers.delete(t);
    t._close();
    if (this.handlers.size === 0) for (const w of this.drainers.splice(0)) if (w.pending) w.complete();
  }
}

/** A listening server at `address` (port 0 picks a free port; see `localAddress`). Call `start()` to accept. */
export function createStreamServer(address: string, handler: (this: void, t: StreamTransport) => Future<unknown>, options: StreamServerOptions = {}): StreamServer {
  return StreamServer._create(address, handler, options);
}
