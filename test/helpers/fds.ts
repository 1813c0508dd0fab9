/**
 * Real file descriptors for I/O tests, made with the C library through koffi: non-blocking,
 * close-on-exec pipes, eventfds and Unix socket pairs, plus raw read/write/close and a count of
 * this process's open fds. Linux constants.
 */
import { readdirSync } from "node:fs";
import { libc } from "../../runtime/libc.js";

const O_NONBLOCK = 0o4000;
const O_CLOEXEC = 0o2000000;
const AF_UNIX = 1;
const SOCK_STREAM = 1;
const SHUT_WR = 1;
const SIG_BLOCK = 0;
const SIG_SETMASK = 2;

const pipe2 = libc.func("int pipe2(void *fds, int flags)");
const eventfd_ = libc.func("int eventfd(unsigned int initval, int flags)");
const socketpair_ = libc.func("int socketpair(int domain, int type, int protocol, void *fds)");
const read_ = libc.func("long read(int fd, void *buf, unsigned long count)");
const write_ = libc.func("long write(int fd, const void *buf, unsigned long count)");
const close_ = libc.func("int close(int fd)");
const shutdown_ = libc.func("int shutdown(int fd, int how)");
const sigemptyset = libc.func("int sigemptyset(void *set)");
const sigaddset = libc.func("int sigaddset(void *set, int signum)");
const pthread_sigmask = libc.func("int pthread_sigmask(int how, const void *set, void *old)");

function check(r: number, what: string): number {
  if (r < 0) throw new Error(`${what} failed`);
  return r;
}

/** [read end, write end] */
export function pipe(): [number, number] {
  const fds = new Int32Array(2);
  check(pipe2(fds, O_NONBLOCK | O_CLOEXEC), "pipe2");
  return [fds[0]!, fds[1]!];
}

export function eventfd(): number {
  return check(eventfd_(0, O_NONBLOCK | O_CLOEXEC), "eventfd");
}

export function socketpair(): [number, number] {
  const fds = new Int32Array(2);
  check(socketpair_(AF_UNIX, SOCK_STREAM | O_NONBLOCK | O_CLOEXEC, 0, fds), "socketpair");
  return [fds[0]!, fds[1]!];
}

/** Write `data`; returns bytes written or -1 (EAGAIN when full). */
export function write(fd: number, data: Uint8Array): number {
  return Number(write_(fd, data, data.length));
}

/** Read up to `n` bytes; returns them, or null when nothing is there (EAGAIN). */
export function read(fd: number, n = 65536): Uint8Array | null {
  const buf = new Uint8Array(n);
  const got = Number(read_(fd, buf, n));
  return got < 0 ? null : buf.subarray(0, got);
}

export function close(...fds: number[]): void {
  for (const fd of fds) check(close_(fd), `close(${fd})`);
}

export function shutdownWrite(fd: number): void {
  check(shutdown_(fd, SHUT_WR), "shutdown");
}

export function openFds(): number {
  return readdirSync("/proc/self/fd").length;
}

/** Block `sig` in this (the JS) thread only, run `body`, then put the old mask back. */
export function withSignalBlocked<T>(sig: number, body: () => T): T {
  const set = new Uint8Array(128);
  const old = new Uint8Array(128);
  sigemptyset(set);
  sigaddset(set, sig);
  check(pthread_sigmask(SIG_BLOCK, set, old), "pthread_sigmask");
  try {
    return body();
  } finally {
    pthread_sigmask(SIG_SETMASK, old, null);
  }
}
