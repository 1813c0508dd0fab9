/**
 * The C library through koffi, shared by the poller and the transports.
 *
 * Every wrapper that takes a buffer passes an explicit length; callers check lengths and fds in
 * TypeScript before calling, because a wrong length here writes over memory instead of throwing.
 */
import koffi, { type LibraryHandle } from "koffi";
import { constants } from "node:os";
import { OSError } from "./errors.js";

/**
 * The names the C library goes by, most likely first: glibc's soname, then musl's (Alpine's Node
 * images have no libc.so.6), FreeBSD's (its plain libc.so is a linker script, not a library), and
 * the development symlink other systems have.
 */
export function libcNames(platform: NodeJS.Platform, arch: string): string[] {
  if (platform === "darwin") return ["libc.dylib"];
  if (platform === "linux") return ["libc.so.6", `libc.musl-${arch === "x64" ? "x86_64" : arch === "arm64" ? "aarch64" : arch}.so.1`, "libc.so"];
  if (platform === "freebsd") return ["libc.so.7", "libc.so"];
  return ["libc.so"];
}

function loadLibc(): LibraryHandle {
  const tried: string[] = [];
  for (const name of libcNames(process.platform, process.arch)) {
    try {
      return koffi.load(name);
    } catch (e) {
      tried.push(`${name} (${e instanceof Error ? e.message : String(e)})`);
    }
  }
  throw new Error(`chronots: cannot load the C library; tried ${tried.join(", ")}`);
}

export const libc = loadLibc();

const names = new Map<number, string>();
for (const [name, num] of Object.entries(constants.errno)) if (!names.has(num)) names.set(num, name);

/** The errno name of `num`, e.g. `EAGAIN`. */
export function errnoName(num: number): string {
  return names.get(num) ?? `errno ${num}`;
}

/** The errno left by the last koffi call on this thread. */
export function errno(): number {
  return koffi.errno();
}

/** An OSError for the errno the last call left, naming the call and what it was given. */
export function lastError(syscall: string, detail?: string): OSError {
  const num = koffi.errno();
  return new OSError(syscall, errnoName(num), num, detail);
}

export const EAGAIN = constants.errno.EAGAIN;
export const EINTR = constants.errno.EINTR;
export const EINPROGRESS = constants.errno.EINPROGRESS;

export const close = libc.func("int close(int fd)") as (fd: number) => number;

export const EBADF = constants.errno.EBADF;
export const ENOENT = constants.errno.ENOENT;
export const EPERM = constants.errno.EPERM;

/** poll(2); `fds` is an array of `struct pollfd` (8 bytes each) of at least `n` entries. */
export const poll = libc.func(`int poll(void *fds, ${process.platform === "darwin" ? "unsigned int" : "unsigned long"} n, int timeout)`) as (
  fds: Uint8Array | Int32Array,
  n: number,
  timeout: number,
) => number;
