/**
 * Datagram transports (UDP over IPv4/IPv6, and Unix datagram sockets): `newDatagramTransport`.
 *
 * The socket is watched for reading from creation to `closeWait`; each time it turns readable a
 * batch of datagrams is received (at most 64, so one busy socket cannot starve the others) and
 * `onMessage(data, remoteAddress, transport)` runs for each. It may return a Future; its failure,
 * like a throw, goes to `onError` (stderr by default) and never stops the transport. `sendTo`
 * sends at once when nothing is queued; on EAGAIN the datagram waits in a FIFO until the socket
 * is writable; on a Unix socket, whose writability says nothing of the receiver's full queue, until
 * a retry succeeds (1 ms after the refusal, the delay doubling to 50 ms). A queued datagram can be
 * cancelled; a datagram is never sent in part. Datagrams hold at most 65535 bytes both ways: a
 * larger one received (Unix sockets allow them) is dropped and reported to `onError` as a
 * TransportLimitError, never delivered cut.
 */
import { type Dispatcher, getGlobalDispatcher } from "../dispatcher.js";
import { Future } from "../future.js";
import { close, EAGAIN, EINTR, errno } from "../libc.js";
import type { TimerHandle } from "../timerheap.js";
import { type Address, parseAddress } from "./address.js";
import { osError, TransportAddressError, TransportClosedError, TransportLimitError } from "./errors.js";
import { checkOnError, done, failed, reportToStderr } from "./outcome.js";
import { bindTo, byteLength, bytesOf, encodeSockaddr, lastAddress, localName, openSocket, recvDatagram, SOCK_DGRAM, sendDatagram, unlinkPath } from "./sys.js";

/** Largest datagram received or sent (the UDP length field is 16 bits). */
const MAX_DATAGRAM = 65535;
const BATCH = 64;
/** Longest wait (ms) between retries of a Unix datagram the receiver's full queue refused. */
const MAX_RETRY = 50;
const scratch = new Uint8Array(MAX_DATAGRAM);

/** Called as a plain function: `this` is undefined (pass a bound method or an arrow, not a method needing `this`). */
export type MessageHandler = (this: void, data: Uint8Array, remoteAddress: string, transport: DatagramTransport) => void | Future<unknown>;

export interface DatagramOptions {
  /** Errors with no caller to take them: a failing `onMessage`, a failed receive. Default: printed to stderr. */
  onError?: ((this: void, error: unknown) => void) | undefined;
}

/** Held by this module only: the constructor refuses a call without it (a `new` from plain JavaScript). */
const INTERNAL: unique symbol = Symbol("chronots/net datagram");

interface Outgoing {
  readonly bytes: Uint8Array;
  /** Its real length, taken once: `bytes.length` may be shadowed. */
  readonly len: number;
  readonly to: Uint8Array;
  readonly text: string;
  readonly fut: Future<void>;
}

/** The sender of the datagram just received: an unbound Unix socket has no name, read as `"unix:"` as a stream's unnamed peer is. */
const sender = (): string => lastAddress() || "unix:";

export class DatagramTransport {
  readonly localAddress: string;
  private fd: number;
  private readonly d: Dispatcher;
  private readonly address: Address;
  private readonly queue: Outgoing[] = [];
  private writerOn = false;
  /** Unix sockets: the timer of the next send attempt, and its delay (ms), doubled on each refusal. */
  private retry: TimerHandle | null = null;
  private delay = 0;
  /** The last destination, parsed: replies usually go to the same few peers. */
  private lastTo: { text: string; to: Uint8Array } | null = null;
  private readonly onError: NonNullable<DatagramOptions["onError"]> | null;

  /** Datagram transports come from `newDatagramTransport` only. */
  private constructor(
    key: typeof INTERNAL,
    local: string,
    private readonly onMessage: MessageHandler,
    options: DatagramOptions,
  ) {
    if (key !== INTERNAL) throw new TypeError("DatagramTransport: use newDatagramTransport(); it cannot be constructed");
    if (typeof onMessage !== "function") throw new TypeError(`newDatagramTransport: onMessage must be a function, got ${typeof onMessage}`);
    if (typeof options !== "object" || options === null) throw new TypeError(`newDatagramTransport: options must be an object, got ${options === null ? "null" : typeof options}`);
    this.onError = checkOnError(options.onError, "newDatagramTransport");
    const a = parseAddress(local, "newDatagramTransport");
    this.address = a;
    this.d = getGlobalDispatcher();
    const fd = openSocket(a, SOCK_DGRAM);
    try {
      // No SO_REUSEADDR, as Node's dgram by default: on Linux it lets a second UDP socket bind a port in use and take its datagrams.
      bindTo(fd, a, encodeSockaddr(a));
      this.localAddress = a.family === "unix" ? a.text : localName(fd);
      this.d.register(fd);
      this.d.addReader(fd, this.onReadable);
    } catch (e) {
      close(fd);
      throw e;
    }
    this.fd = fd;
  }

  /** @internal */
  static _create(local: string, onMessage: MessageHandler, options: DatagramOptions): DatagramTransport {
    return new DatagramTransport(INTERNAL, local, onMessage, options);
  }

  get closed(): boolean {
    return this.fd < 0;
  }

  /** Send one datagram; completes once the kernel has taken it. */
  sendTo(address: string, data: Uint8Array | string): Future<void> {
    const bytes = bytesOf(data);
    if (bytes === null) return failed(new TypeError(`sendTo: data must be a Uint8Array or a string, got ${data === null ? "null" : typeof data}`), "sendTo");
    if (this.fd < 0) return failed(new TransportClosedError(`sendTo ${address} from ${this.localAddress}: the transport is closed`), "sendTo");
    let len: number;
    let to: Uint8Array;
    try {
      len = byteLength(bytes);
      if (len > MAX_DATAGRAM) return failed(new TransportLimitError(`sendTo ${address}: a datagram holds at most ${MAX_DATAGRAM} bytes, got ${len}`), "sendTo");
      to = this.destination(address);
    } catch (e) {
      return failed(e, "sendTo");
    }
    if (this.queue.length === 0) {
      const r = this.trySend(bytes, len, to, address);
      if (r === true) return done(undefined, "sendTo");
      if (r !== false) return failed(r, "sendTo");
    }
    const fut = new Future<void>("DatagramTransport.sendTo");
    const out: Outgoing = { bytes, len, to, text: address, fut };
    fut.cancelCallback = () => {
      const i = this.queue.indexOf(out);
      if (i >= 0) this.queue.splice(i, 1);
      if (this.queue.length > 0) return;
      this.stopWriting();
      // No send succeeded to reset the backoff: the next refusal starts it afresh, as after a drained queue.
      this.delay = 0;
    };
    this.queue.push(out);
    this.awaitWritable();
    return fut;
  }

  /** Close now and release the fd; queued datagrams fail with TransportClosedError. */
  closeWait(): Future<void> {
    if (this.fd >= 0) {
      const fd = this.fd;
      this.stopWriting();
      this.fd = -1;
      this.d.unregister(fd);
      close(fd);
      if (this.address.family === "unix" && !this.address.path.startsWith("@")) unlinkPath(this.address.path);
      const err = new TransportClosedError(`sendTo from ${this.localAddress}: the transport was closed`);
      for (const out of this.queue.splice(0)) out.fut.fail(err);
    }
    return done(undefined, "closeWait");
  }

  toString(): string {
    return `DatagramTransport(${this.localAddress}${this.closed ? ", closed" : ""})`;
  }

  private destination(address: string): Uint8Array {
    if (this.lastTo !== null && this.lastTo.text === address) return this.lastTo.to;
    const a = parseAddress(address, "sendTo");
    const mine = this.address.family;
    if (a.family !== mine) throw new TransportAddressError(`sendTo: ${a.text} is an ${a.family} address but ${this} is ${mine}`);
    const to = encodeSockaddr(a);
    this.lastTo = { text: address, to };
    return to;
  }

  /** true when sent, false on EAGAIN, else the error. */
  private trySend(bytes: Uint8Array, len: number, to: Uint8Array, text: string): boolean | Error {
    for (;;) {
      let sent: number;
      try {
        sent = sendDatagram(this.fd, bytes, 0, len, to);
      } catch (e) {
        // A throw of the send (a queued buffer shrunk or detached since sendTo measured it) fails that datagram alone; the queue goes on.
        return e as Error;
      }
      if (sent >= 0) return true;
      const e = errno();
      if (e === EAGAIN) return false;
      if (e !== EINTR) return osError("sendto", e, text);
    }
  }

  /** Send the queue once the socket can take more. */
  private awaitWritable(): void {
    if (this.address.family !== "unix") {
      if (!this.writerOn) {
        this.d.addWriter(this.fd, this.onWritable);
        this.writerOn = true;
      }
      return;
    }
    // Linux reports an unconnected Unix datagram socket writable however full the receiver's queue
    // is, so watching it would spin on EAGAIN: retry on a timer instead, backing off.
    if (this.retry !== null) return;
    this.delay = Math.min(Math.max(1, 2 * this.delay), MAX_RETRY);
    this.retry = this.d.addTimer(performance.now() + this.delay, this.onWritable);
  }

  private stopWriting(): void {
    if (this.writerOn) {
      this.d.removeWriter(this.fd);
      this.writerOn = false;
    }
    if (this.retry !== null) {
      this.d.removeTimer(this.retry);
      this.retry = null;
    }
  }

  private readonly onWritable = (): void => {
    this.retry = null;
    while (this.queue.length > 0) {
      const out = this.queue[0]!;
      const r = this.trySend(out.bytes, out.len, out.to, out.text);
      if (r === false) {
        this.awaitWritable();
        return;
      }
      this.delay = 0;
      this.queue.shift();
      if (r === true) out.fut.complete();
      else out.fut.fail(r);
    }
    this.stopWriting();
  };

  private readonly onReadable = (): void => {
    for (let i = 0; i < BATCH && this.fd >= 0; i++) {
      const n = recvDatagram(this.fd, scratch, MAX_DATAGRAM);
      if (n < 0) {
        const e = errno();
        if (e === EAGAIN) return;
        if (e === EINTR) continue;
        // The socket itself is fine: report the error, keep reading. (An ICMP error of an earlier send never
        // lands here: Linux gives those only to a connected UDP socket, and this one is not; see README.)
        this.report(osError("recvfrom", e, `on ${this.localAddress}`));
        return;
      }
      if (n > MAX_DATAGRAM) {
        // Only a Unix datagram can be this large; delivering its first bytes would pass a cut message for a whole one.
        this.report(new TransportLimitError(`recvfrom on ${this.localAddress}: a datagram of ${n} bytes from ${sender()} is larger than ${MAX_DATAGRAM}, dropped`));
        continue;
      }
      const data = scratch.slice(0, n);
      const from = sender();
      try {
        // A plain call: the handler gets no `this` (undefined), not the transport (its third argument).
        const onMessage = this.onMessage;
        const r = onMessage(data, from, this);
        if (r instanceof Future) r.addCallback(() => r.failed && this.report(r.error));
      } catch (e) {
        this.report(e);
      }
    }
  };

  private report(error: unknown): void {
    const onError = this.onError;
    if (onError !== null) onError(error);
    else reportToStderr(error, `datagram transport ${this.localAddress}`);
  }
}

/** A datagram socket bound to `local` (port 0 picks a free port); `onMessage` runs per datagram received. */
export function newDatagramTransport(local: string, onMessage: MessageHandler, options: DatagramOptions = {}): DatagramTransport {
  return DatagramTransport._create(local, onMessage, options);
}
