/**
 * Wakes a poller's wait from JavaScript: an eventfd (Linux) in the poller's set with read interest.
 * `waitForAsync` idles in `waitAsync` on a worker thread; a promise bridge that settles meanwhile
 * calls `signal()`, and the wait returns. The dispatcher knows the fd by `fd` and drains it when a
 * wait reports it, so a signal wakes one wait, not every one after.
 */
import { close, lastError, libc } from "../libc.js";
import { READ, type Poller } from "./poller.js";

const EFD_CLOEXEC = 0o2000000;
const EFD_NONBLOCK = 0o4000;

let api: { eventfd(init: number, flags: number): number; write(fd: number, b: BigUint64Array, n: number): number; read(fd: number, b: BigUint64Array, n: number): number } | null = null;

/** Bound on first use: only Linux has eventfd. */
function eventfds() {
  return (api ??= {
    eventfd: libc.func("int eventfd(unsigned int initval, int flags)"),
    write: libc.func("intptr_t write(int fd, const void *buf, uintptr_t n)"),
    read: libc.func("intptr_t read(int fd, void *buf, uintptr_t n)"),
  } as NonNullable<typeof api>);
}

export class Waker {
  /** -1 once closed. */
  fd: number;
  private readonly word = new BigUint64Array(1);

  constructor(private readonly poller: Poller) {
    this.fd = eventfds().eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (this.fd < 0) throw lastError("eventfd");
    poller.add(this.fd);
    poller.watch(this.fd, READ);
  }

  signal(): void {
    // Closed, the number may be another file's now.
    if (this.fd < 0) return;
    this.word[0] = 1n;
    // The counter cannot overflow from ones: a failed write (EAGAIN) still leaves the fd readable.
    eventfds().write(this.fd, this.word, 8);
  }

  drain(): void {
    if (this.fd < 0) return;
    eventfds().read(this.fd, this.word, 8);
  }

  close(): void {
    if (this.fd < 0) return;
    this.poller.remove(this.fd);
    close(this.fd);
    this.fd = -1;
  }
}
