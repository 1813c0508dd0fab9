/**
 * The epoll backend (Linux), level-triggered.
 *
 * Each added fd sits in the epoll set with its interest mask; the fd number itself is the
 * `epoll_event.data`, so a wait decodes events straight out of one preallocated buffer with a
 * Uint32Array and allocates nothing. `struct epoll_event` is `{ u32 events; u64 data }`, packed to
 * 12 bytes on x86 and padded to 16 elsewhere; the fd is written to and read from the same 32-bit
 * word of `data`, so byte order does not matter.
 *
 * The kernel reports EPOLLERR/EPOLLHUP even for an empty interest mask. Such an fd would wake
 * every wait, so it is taken out of the kernel set ("parked") until someone watches it again.
 */
import { EBADF, ENOENT, EINTR, EPERM, close, errno, lastError, libc } from "../libc.js";
import { READ, WRITE, checkFd, checkMask, kernelTimeout, type AsyncCall, type Poller } from "./poller.js";

const EPOLL_CLOEXEC = 0o2000000;
const EPOLL_CTL_ADD = 1;
const EPOLL_CTL_DEL = 2;
const EPOLL_CTL_MOD = 3;
const EPOLLIN = 0x001;
const EPOLLOUT = 0x004;
const EPOLLERR = 0x008;
const EPOLLHUP = 0x010;
/** Interest-map flag: the fd is known but not in the kernel set. */
const PARKED = 4;

const PACKED = process.arch === "x64" || process.arch === "ia32";
/** Size of one epoll_event in 32-bit words, and the word of `data` holding the fd. */
const STRIDE = PACKED ? 3 : 4;
const DATA = PACKED ? 1 : 2;
/** Events taken per wait; more ready fds are simply reported by the next wait. */
const MAX_EVENTS = 256;

interface EpollApi {
  create1(flags: number): number;
  ctl(epfd: number, op: number, fd: number, event: Uint32Array | null): number;
  wait(epfd: number, events: Uint32Array, max: number, timeout: number): number;
}

let api: EpollApi | null = null;

/** Bound on first use, so importing this module works where libc has no epoll. */
function epoll(): EpollApi {
  return (api ??= {
    create1: libc.func("int epoll_create1(int flags)"),
    ctl: libc.func("int epoll_ctl(int epfd, int op, int fd, void *event)"),
    wait: libc.func("int epoll_wait(int epfd, void *events, int maxevents, int timeout)"),
  } as EpollApi);
}

const opName = ["", "EPOLL_CTL_ADD", "EPOLL_CTL_DEL", "EPOLL_CTL_MOD"];

export class EpollPoller implements Poller {
  readonly kind = "epoll" as const;
  private epfd: number;
  /** fd → READ|WRITE interest, plus PARKED. */
  private readonly interest = new Map<number, number>();
  private readonly events = new Uint32Array(MAX_EVENTS * STRIDE);
  private readonly one = new Uint32Array(STRIDE);
  /** waitAsync's own buffer: the worker thread writes it while `wait` may use `events`. */
  private readonly asyncEvents = new Uint32Array(MAX_EVENTS * STRIDE);

  constructor() {
    if (process.platform !== "linux") throw new RangeError(`epoll is only available on Linux, not ${process.platform}; use the 'poll' poller`);
    this.epfd = epoll().create1(EPOLL_CLOEXEC);
    if (this.epfd < 0) throw lastError("epoll_create1");
  }

  add(fd: number): void {
    checkFd(fd, "epoll add");
    this.checkOpen("add");
    if (this.interest.has(fd)) throw new RangeError(`epoll add: fd ${fd} is already added`);
    this.ctl(EPOLL_CTL_ADD, fd, 0);
    this.interest.set(fd, 0);
  }

  remove(fd: number): void {
    const cur = this.current(fd, "remove");
    this.interest.delete(fd);
    if (cur & PARKED) return;
    // Closing an fd drops it from the set by itself; then DEL finds EBADF, or ENOENT when the
    // number was reused. Either way there is nothing left to remove.
    if (epoll().ctl(this.epfd, EPOLL_CTL_DEL, fd, null) < 0 && errno() !== EBADF && errno() !== ENOENT)
      throw lastError("epoll_ctl", `EPOLL_CTL_DEL fd ${fd}`);
  }

  watch(fd: number, events: number): void {
    checkMask(events, "epoll watch");
    const cur = this.current(fd, "watch");
    if (cur & PARKED) {
      if (events === 0) return;
      this.ctl(EPOLL_CTL_ADD, fd, events);
    } else if (cur !== events) {
      // Nothing left to wait for: out of the kernel set, as `remove` takes it, where an fd closed meanwhile is gone already.
      if (events === 0) return this.park(fd);
      this.ctl(EPOLL_CTL_MOD, fd, events);
    }
    this.interest.set(fd, events);
  }

  wait(timeout: number, ready: (fd: number, events: number) => void): void {
    this.checkOpen("wait");
    const ev = this.events;
    const n = epoll().wait(this.epfd, ev, MAX_EVENTS, kernelTimeout(timeout));
    if (n < 0) {
      // A signal handler ran on this thread: report nothing, the caller just polls again.
      if (errno() === EINTR) return;
      throw lastError("epoll_wait", `epoll fd ${this.epfd}`);
    }
    for (let i = 0, w = 0; i < n; i++, w += STRIDE) {
      const e = ev[w]!;
      const fd = ev[w + DATA]!;
      const want = this.interest.get(fd);
      if (want === undefined || want & PARKED) continue;
      if (want === 0) {
        this.park(fd);
        continue;
      }
      const got = e & (EPOLLERR | EPOLLHUP) ? want : (e & EPOLLIN ? READ : 0) | (e & EPOLLOUT ? WRITE : 0);
      if (got & want) ready(fd, got & want);
    }
  }

  waitAsync(timeout: number): Promise<void> {
    this.checkOpen("waitAsync");
    const epfd = this.epfd;
    return new Promise((resolve) => (epoll().wait as unknown as AsyncCall).async(epfd, this.asyncEvents, MAX_EVENTS, kernelTimeout(timeout), () => resolve()));
  }

  close(): void {
    if (this.epfd < 0) return;
    close(this.epfd);
    this.epfd = -1;
    this.interest.clear();
  }

  private park(fd: number): void {
    if (epoll().ctl(this.epfd, EPOLL_CTL_DEL, fd, null) < 0 && errno() !== EBADF && errno() !== ENOENT)
      throw lastError("epoll_ctl", `EPOLL_CTL_DEL fd ${fd}`);
    this.interest.set(fd, PARKED);
  }

  private ctl(op: number, fd: number, events: number): void {
    const one = this.one;
    one[0] = (events & READ ? EPOLLIN : 0) | (events & WRITE ? EPOLLOUT : 0);
    one[DATA] = fd;
    if (epoll().ctl(this.epfd, op, fd, one) < 0) {
      // poll(2) takes such a file, and reports it always ready.
      const why = errno() === EPERM ? ", a file epoll cannot watch (a regular file, a directory, some devices such as /dev/null): it is always ready, read it directly" : "";
      throw lastError("epoll_ctl", `${opName[op]} fd ${fd}${why}`);
    }
  }

  private current(fd: number, what: string): number {
    checkFd(fd, `epoll ${what}`);
    this.checkOpen(what);
    const cur = this.interest.get(fd);
    if (cur === undefined) throw new RangeError(`epoll ${what}: fd ${fd} was never added`);
    return cur;
  }

  private checkOpen(what: string): void {
    if (this.epfd < 0) throw new RangeError(`epoll ${what}: the poller is closed`);
  }
}
