/**
 * The errors of `chronots/net`. Every transport failure is a `TransportError`; callers tell the
 * cases apart with `instanceof`, or with `code`, which is the errno name for a failed system call
 * (`ECONNREFUSED`, `ECONNRESET`, `EPIPE`…) and a fixed word for the failures the library itself
 * detects before any system call:
 *
 * | class                      | code                 | when                                              |
 * |----------------------------|----------------------|---------------------------------------------------|
 * | `TransportOsError`         | errno name           | a system call failed                              |
 * | `TransportRefusedError`    | `ECONNREFUSED`       | nobody listens at the address                     |
 * | `TransportResetError`      | `ECONNRESET`         | the peer reset the connection                     |
 * | `TransportPipeError`       | `EPIPE`              | the first write after the peer (or we) shut the   |
 * |                            |                      | stream (then writing has ended: ECLOSED)          |
 * | `TransportAddressError`    | `EADDRESS`           | a malformed address string; no syscall was made   |
 * | `TransportResolveError`    | `EAI_*` name         | `resolveAddress` found no address for a name      |
 * | `TransportClosedError`     | `ECLOSED`            | using a transport after `closeWait()`; writing    |
 * |                            |                      | after a send failed (the message names it)        |
 * | `TransportBusyError`       | `EBUSY`              | a second read while one is pending                |
 * | `TransportIncompleteError` | `EOF`                | `readExactly` met the end of the stream           |
 * | `TransportLimitError`      | `ELIMIT`             | a line or datagram larger than allowed            |
 */
import { errnoName } from "../libc.js";

export class TransportError extends Error {
  override name = "TransportError";
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** A failure the library detects itself: its code ends the message, as a failed call's errno name does. */
class DetectedError extends TransportError {
  constructor(code: string, message: string) {
    super(code, `${message} (${code})`);
  }
}

/** A failed system call; `code` is its errno name and the message names the call and the address. */
export class TransportOsError extends TransportError {
  override name = "TransportOsError";
  constructor(
    readonly syscall: string,
    readonly errno: number,
    detail: string,
  ) {
    super(errnoName(errno), `${syscall}${detail ? ` ${detail}` : ""}: ${errnoName(errno)}`);
  }
}

export class TransportRefusedError extends TransportOsError {
  override name = "TransportRefusedError";
}

export class TransportResetError extends TransportOsError {
  override name = "TransportResetError";
}

export class TransportPipeError extends TransportOsError {
  override name = "TransportPipeError";
}

export class TransportAddressError extends DetectedError {
  override name = "TransportAddressError";
  constructor(message: string) {
    super("EADDRESS", message);
  }
}

/** A host name the resolver could not turn into addresses; `code` is getaddrinfo's error name (`EAI_NONAME`…). */
export class TransportResolveError extends TransportError {
  override name = "TransportResolveError";
}

export class TransportClosedError extends DetectedError {
  override name = "TransportClosedError";
  constructor(message: string) {
    super("ECLOSED", message);
  }
}

export class TransportBusyError extends DetectedError {
  override name = "TransportBusyError";
  constructor(message: string) {
    super("EBUSY", message);
  }
}

export class TransportIncompleteError extends DetectedError {
  override name = "TransportIncompleteError";
  constructor(message: string) {
    super("EOF", message);
  }
}

export class TransportLimitError extends DetectedError {
  override name = "TransportLimitError";
  constructor(message: string) {
    super("ELIMIT", message);
  }
}

const byErrno: Record<string, typeof TransportOsError> = {
  ECONNREFUSED: TransportRefusedError,
  ECONNRESET: TransportResetError,
  EPIPE: TransportPipeError,
};

/** The TransportOsError subclass for `errno`, raised by `syscall` on `detail` (usually the address). */
export function osError(syscall: string, errno: number, detail: string): TransportOsError {
  const Cls = byErrno[errnoName(errno)] ?? TransportOsError;
  return new Cls(syscall, errno, detail);
}
