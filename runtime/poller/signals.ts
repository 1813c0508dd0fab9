/**
 * Signals as a readable fd, through a private libuv loop.
 *
 * Why not signalfd: it only sees signals blocked in the reading thread, and a process-directed
 * signal goes to any thread that does not block it. Node runs several threads (V8 workers, the
 * libuv thread pool) that do not block SIGUSR2, SIGHUP or SIGTERM and that we cannot reach, so a
 * signal blocked in the JS thread is taken by one of those, and signalfd never sees it. A
 * `process.on` handler does not help either: its JS only runs when Node's event loop turns, never
 * while the dispatcher blocks in epoll_wait.
 *
 * How: the node binary exports libuv, and libuv's signal handler is written for exactly this. Its
 * process-wide handler, on whichever thread the kernel picks, writes one message per delivery
 * into the signal pipe of every loop that has a `uv_signal_t` for that signal. So this module makes
 * its own `uv_loop_t` (through koffi, sizes from `uv_loop_size`/`uv_handle_size`), one
 * `uv_signal_t` per watched signal, and exposes the loop's backend fd (an epoll or kqueue fd that
 * becomes readable when the pipe has data) for the dispatcher to watch. `read()` runs that loop once
 * without blocking, which drains the pipe and calls back with each signal number. Node's own
 * `process.on` listeners keep working beside it: libuv feeds every loop.
 *
 * Mask and handlers: no thread's signal mask is touched. The first watch of a signal installs
 * libuv's handler (so a watched SIGTERM no longer kills the process, as with `process.on`);
 * when the last `uv_signal_t` of that signal in the process stops, libuv puts back the default
 * action. Node's own listeners count as such handles, so removing ours leaves theirs in place.
 *
 * Limits: signals that cannot be caught (SIGKILL, SIGSTOP), faults (SIGSEGV, SIGBUS, SIGFPE, SIGILL),
 * Node's inspector signal SIGUSR1, and the signals Node ignores (SIGPIPE, SIGXFSZ: libuv would reset
 * them to their fatal default afterwards) are refused. Repeated deliveries of one signal before the
 * kernel runs the handler merge into one, as POSIX allows. Deliveries queue in a pipe until the
 * dispatcher polls; once that pipe (64 KiB, 4096 deliveries) is full, libuv drops further ones.
 */
import koffi, { type TypeObject } from "koffi";
import { constants } from "node:os";
import { errnoName } from "../libc.js";
import { OSError } from "../errors.js";

const UV_SIGNAL = 16;
const UV_RUN_NOWAIT = 2;

const refused: Record<string, string> = {
  SIGKILL: "it cannot be caught",
  SIGSTOP: "it cannot be caught",
  SIGSEGV: "it reports a fault in native code",
  SIGBUS: "it reports a fault in native code",
  SIGFPE: "it reports a fault in native code",
  SIGILL: "it reports a fault in native code",
  SIGUSR1: "Node reserves it for the inspector",
  SIGPIPE: "Node ignores it, and unwatching would restore its fatal default",
  SIGXFSZ: "Node ignores it, and unwatching would restore its fatal default",
};

const signalNames = new Map<number, string>();
for (const [name, num] of Object.entries(constants.signals)) if (!signalNames.has(num)) signalNames.set(num, name);

type Ptr = unknown;
interface UvApi {
  loopSize(): number | bigint;
  handleSize(type: number): number | bigint;
  loopInit(loop: Ptr): number;
  loopClose(loop: Ptr): number;
  backendFd(loop: Ptr): number;
  run(loop: Ptr, mode: number): number;
  signalInit(loop: Ptr, h: Ptr): number;
  signalStart(h: Ptr, cb: unknown, signum: number): number;
  signalStop(h: Ptr): number;
  close(h: Ptr, cb: null): void;
  errName(code: number): string;
}

let api: UvApi | null = null;
let SignalCb: TypeObject | null = null;

/** libuv as the running node binary exports it; bound on first use. */
function uv(): UvApi {
  if (api !== null) return api;
  const self = koffi.load(null);
  // Anonymous: a named koffi type is process-wide and could not be declared by a second copy of this module.
  SignalCb = koffi.pointer(koffi.proto("void", ["void *", "int"]));
  return (api = {
    loopSize: self.func("size_t uv_loop_size(void)"),
    handleSize: self.func("size_t uv_handle_size(int type)"),
    loopInit: self.func("int uv_loop_init(void *loop)"),
    loopClose: self.func("int uv_loop_close(void *loop)"),
    backendFd: self.func("int uv_backend_fd(void *loop)"),
    run: self.func("int uv_run(void *loop, int mode)"),
    signalInit: self.func("int uv_signal_init(void *loop, void *handle)"),
    signalStart: self.func("uv_signal_start", "int", ["void *", SignalCb, "int"]),
    signalStop: self.func("int uv_signal_stop(void *handle)"),
    close: self.func("void uv_close(void *handle, void *cb)"),
    errName: self.func("const char *uv_err_name(int err)"),
  } as UvApi);
}

/** A libuv error (a negated errno) as an OSError naming the call. */
function uvError(call: string, code: number, detail: string): OSError {
  return new OSError(call, api?.errName(code) ?? errnoName(-code), -code, detail);
}

/**
 * A signal's name, as Node's `process.kill` takes it. Declared here, the same list as @types/node's
 * `NodeJS.Signals`, so that chronots' types need no @types/node in the user's project.
 */
export type SignalName =
  | "SIGABRT" | "SIGALRM" | "SIGBUS" | "SIGCHLD" | "SIGCONT" | "SIGFPE" | "SIGHUP" | "SIGILL" | "SIGINT" | "SIGIO"
  | "SIGIOT" | "SIGKILL" | "SIGPIPE" | "SIGPOLL" | "SIGPROF" | "SIGPWR" | "SIGQUIT" | "SIGSEGV" | "SIGSTKFLT" | "SIGSTOP"
  | "SIGSYS" | "SIGTERM" | "SIGTRAP" | "SIGTSTP" | "SIGTTIN" | "SIGTTOU" | "SIGUNUSED" | "SIGURG" | "SIGUSR1" | "SIGUSR2"
  | "SIGVTALRM" | "SIGWINCH" | "SIGXCPU" | "SIGXFSZ" | "SIGBREAK" | "SIGLOST" | "SIGINFO";

/** The number of signal `sig`, or a TypeError/RangeError saying why it cannot be watched. */
export function signalNumber(sig: number | SignalName, what = "addSignal"): number {
  let num: number | undefined;
  if (typeof sig === "string") {
    num = (constants.signals as Record<string, number>)[sig];
    if (num === undefined) throw new TypeError(`${what}: unknown signal '${sig}'`);
  } else if (typeof sig === "number") {
    if (!Number.isInteger(sig) || !signalNames.has(sig)) throw new TypeError(`${what}: ${sig} is not a signal number`);
    num = sig;
  } else {
    throw new TypeError(`${what}: expected a signal name or number, got ${typeof sig}`);
  }
  const name = signalNames.get(num)!;
  const why = refused[name];
  if (why !== undefined) throw new RangeError(`${what}: ${name} cannot be watched: ${why}`);
  return num;
}

export class SignalSet {
  /** Readable when a watched signal arrived; register it with the poller and call `read()` then. */
  readonly fd: number;
  private loop: Ptr;
  private readonly handles = new Map<number, { ptr: Ptr; active: boolean }>();
  private received: number[] = [];
  private readonly callback: unknown;
  private registered = false;

  constructor() {
    const u = uv();
    this.loop = koffi.alloc("uint8_t", Number(u.loopSize()));
    const r = u.loopInit(this.loop);
    if (r < 0) {
      koffi.free(this.loop);
      throw uvError("uv_loop_init", r, "signal loop");
    }
    this.fd = u.backendFd(this.loop);
    this.callback = koffi.register((_h: unknown, signum: number) => void this.received.push(signum), SignalCb!);
  }

  /** Start watching `sig` (again watching one already watched is a no-op); returns its number. */
  add(sig: number | SignalName): number {
    const num = signalNumber(sig);
    this.checkOpen("add");
    const u = uv();
    let h = this.handles.get(num);
    if (h?.active) return num;
    if (h === undefined) {
      h = { ptr: koffi.alloc("uint8_t", Number(u.handleSize(UV_SIGNAL))), active: false };
      const r = u.signalInit(this.loop, h.ptr);
      if (r < 0) {
        koffi.free(h.ptr);
        throw uvError("uv_signal_init", r, signalNames.get(num)!);
      }
      this.handles.set(num, h);
    }
    const r = u.signalStart(h.ptr, this.callback, num);
    if (r < 0) throw uvError("uv_signal_start", r, signalNames.get(num)!);
    h.active = true;
    if (!this.registered) {
      // libuv puts its signal pipe into the loop's backend fd on the loop's first turn, and the
      // loop only turns with an active handle; until then `fd` would never become readable.
      u.run(this.loop, UV_RUN_NOWAIT);
      this.registered = true;
    }
    return num;
  }

  /** Stop watching `sig`; deliveries already queued for it are dropped. */
  remove(sig: number): void {
    const num = signalNumber(sig, "removeSignal");
    this.checkOpen("remove");
    const h = this.handles.get(num);
    if (h === undefined || !h.active) throw new RangeError(`removeSignal: ${signalNames.get(num)} is not watched`);
    uv().signalStop(h.ptr);
    h.active = false;
    this.received = this.received.filter((s) => s !== num);
  }

  /** Whether signals already arrived that `read()` will return, though `fd` may not show it. */
  get pending(): boolean {
    return this.received.length > 0;
  }

  /** The signal numbers received since the last read, oldest first; drains `fd`. */
  read(): number[] {
    this.checkOpen("read");
    uv().run(this.loop, UV_RUN_NOWAIT);
    const got = this.received;
    this.received = [];
    return got;
  }

  /** Stop every watch, restore the handlers and release the loop, its fds and memory. */
  close(): void {
    if (this.loop === null) return;
    const u = uv();
    for (const h of this.handles.values()) u.close(h.ptr, null);
    // One turn runs the close of every handle (their queued deliveries are read and dropped).
    u.run(this.loop, UV_RUN_NOWAIT);
    const r = u.loopClose(this.loop);
    if (r < 0) throw uvError("uv_loop_close", r, "signal loop");
    for (const h of this.handles.values()) koffi.free(h.ptr);
    this.handles.clear();
    koffi.free(this.loop);
    koffi.unregister(this.callback as bigint);
    this.loop = null;
    this.received = [];
  }

  private checkOpen(what: string): void {
    if (this.loop === null) throw new RangeError(`SignalSet ${what}: the set is closed`);
  }
}
