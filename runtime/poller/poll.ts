/**
 * The portable poll(2) backend, level-triggered.
 *
 * Added fds live in one reused array of `struct pollfd { int fd; short events; short revents; }`
 * (8 bytes each), read and written through Int32/Int16 views of the same memory, so a wait
 * allocates nothing. A slot's index is kept per fd; removing an fd moves the last slot into its
 * place. An fd with no interest is stored as `~fd` (negative): poll(2) skips negative entries,
 * so it reports neither data nor hang-ups for it, the way an empty epoll mask cannot.
 * POLLERR, POLLHUP and POLLNVAL count as readiness for whatever is watched.
 */
import { EBADF, EINTR, errno, lastError, poll } from "../libc.js";
import { OSError } from "../errors.js";
import { READ, WRITE, checkFd, checkMask, kernelTimeout, type AsyncCall, type Poller } from "./poller.js";

const POLLIN = 0x01;
const POLLOUT = 0x04;
const POLLERR = 0x08;
const POLLHUP = 0x10;
const POLLNVAL = 0x20;

export class PollPoller implements Poller {
  readonly kind = "poll" as const;
  private closed = false;
  private fdWords = new Int32Array(2 * 16);
  private shorts = new Int16Array(this.fdWords.buffer);
  /** Slot → fd and slot → interest, for the first `count` slots; fd → slot. */
  private readonly fds: number[] = [];
  private readonly wants: number[] = [];
  private readonly slots = new Map<number, number>();
  private readonly probe = new Int32Array(2);
  private readonly probeShorts = new Int16Array(this.probe.buffer);

  add(fd: number): void {
    checkFd(fd, "poll add");
    this.checkOpen("add");
    if (this.slots.has(fd)) throw new RangeError(`poll add: fd ${fd} is already added`);
    this.checkValid(fd);
    const slot = this.fds.length;
    if (2 * (slot + 1) > this.fdWords.length) this.grow();
    this.fds.push(fd);
    this.wants.push(0);
    this.slots.set(fd, slot);
    this.fdWords[2 * slot] = ~fd;
    this.shorts[4 * slot + 2] = 0;
  }

  remove(fd: number): void {
    const slot = this.slot(fd, "remove");
    const last = this.fds.length - 1;
    if (slot !== last) {
      const moved = this.fds[last]!;
      this.fds[slot] = moved;
      this.wants[slot] = this.wants[last]!;
      this.slots.set(moved, slot);
      this.fdWords[2 * slot] = this.fdWords[2 * last]!;
      this.shorts[4 * slot + 2] = this.shorts[4 * last + 2]!;
    }
    this.fds.pop();
    this.wants.pop();
    this.slots.delete(fd);
  }

  watch(fd: number, events: number): void {
    checkMask(events, "poll watch");
    const slot = this.slot(fd, "watch");
    this.wants[slot] = events;
    this.fdWords[2 * slot] = events === 0 ? ~fd : fd;
    this.shorts[4 * slot + 2] = (events & READ ? POLLIN : 0) | (events & WRITE ? POLLOUT : 0);
  }

  wait(timeout: number, ready: (fd: number, events: number) => void): void {
    this.checkOpen("wait");
    const count = this.fds.length;
    let n = poll(this.fdWords, count, kernelTimeout(timeout));
    if (n < 0) {
      // A signal handler ran on this thread: report nothing, the caller just polls again.
      if (errno() === EINTR) return;
      throw lastError("poll", `${count} fds`);
    }
    const shorts = this.shorts;
    for (let slot = 0; n > 0 && slot < count; slot++) {
      const r = shorts[4 * slot + 3]!;
      if (r === 0) continue;
      n--;
      const want = this.wants[slot]!;
      const got = r & (POLLERR | POLLHUP | POLLNVAL) ? want : (r & POLLIN ? READ : 0) | (r & POLLOUT ? WRITE : 0);
      if (got & want) ready(this.fds[slot]!, got & want);
    }
  }

  waitAsync(timeout: number): Promise<void> {
    this.checkOpen("waitAsync");
    // The worker thread reads a copy: the set may change while it waits.
    const count = this.fds.length;
    const copy = this.fdWords.slice(0, 2 * count);
    return new Promise((resolve) => (poll as unknown as AsyncCall).async(copy, count, kernelTimeout(timeout), () => resolve()));
  }

  close(): void {
    this.closed = true;
    this.fds.length = 0;
    this.wants.length = 0;
    this.slots.clear();
  }

  /** poll(2) has no registration call, so ask it once about this fd alone: POLLNVAL means EBADF. */
  private checkValid(fd: number): void {
    this.probe[0] = fd;
    this.probe[1] = 0;
    if (poll(this.probe, 1, 0) < 0) throw lastError("poll", `fd ${fd}`);
    if (this.probeShorts[3]! & POLLNVAL) throw new OSError("poll", "EBADF", EBADF, `fd ${fd}`);
  }

  private grow(): void {
    const bigger = new Int32Array(this.fdWords.length * 2);
    bigger.set(this.fdWords);
    this.fdWords = bigger;
    this.shorts = new Int16Array(bigger.buffer);
  }

  private slot(fd: number, what: string): number {
    checkFd(fd, `poll ${what}`);
    this.checkOpen(what);
    const slot = this.slots.get(fd);
    if (slot === undefined) throw new RangeError(`poll ${what}: fd ${fd} was never added`);
    return slot;
  }

  private checkOpen(what: string): void {
    if (this.closed) throw new RangeError(`poll ${what}: the poller is closed`);
  }
}
