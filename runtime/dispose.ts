/**
 * `using` declarations in lowered code: the resources of one block, disposed in reverse order however
 * the block is left (the explicit resource management proposal's DisposeResources).
 *
 * The lowering gives a block holding `using` declarations the shape TypeScript gives it below
 * ES2026, so that the lowered and the untransformed program agree:
 *
 *   { const $u = disposer(); try { …; const a = use($u, A); … } catch ($e) { fail($u, $e) } finally { dispose($u) } }
 *
 * The whole block goes inside `try`, so its declarations keep their scope. An error thrown by a
 * `[Symbol.dispose]()` while another error is on its way out wraps both in a `SuppressedError`: the
 * engine's own where it has one, else an `Error` of that name with the same `error` and
 * `suppressed` fields, as TypeScript's helper makes on Node 20.
 */

/** The resources of one block: value and dispose method, in the order they were declared. */
export class Disposer {
  readonly stack: unknown[] = [];
  error: unknown = undefined;
  failed = false;
}

/**
 * AddDisposableResource: `null` and `undefined` are allowed and ignored; anything else needs a `[Symbol.dispose]()` method, read now.
 * The checks and their TypeErrors are those of TypeScript's `__addDisposableResource`, word for word, as a `tsc` build that lowers `using` throws them.
 */
export function use<T>(d: Disposer, value: T): T {
  if (value === null || value === undefined) return value;
  if (typeof value !== "object" && typeof value !== "function") throw new TypeError("Object expected.");
  if (!Symbol.dispose) throw new TypeError("Symbol.dispose is not defined.");
  const dispose = (value as { [Symbol.dispose]?: unknown })[Symbol.dispose];
  if (typeof dispose !== "function") throw new TypeError("Object not disposable.");
  d.stack.push(value, dispose);
  return value;
}

/** The block is being left by a throw of `error`. */
export function fail(d: Disposer, error: unknown): void {
  d.error = error;
  d.failed = true;
}

/** Dispose the block's resources, last first; throw what is then on its way out (the block's error, or a disposal's). */
export function dispose(d: Disposer): void {
  const s = d.stack;
  while (s.length > 0) {
    const method = s.pop() as (this: unknown) => void;
    const value = s.pop();
    try {
      method.call(value);
    } catch (e) {
      d.error = d.failed ? suppressed(e, d.error) : e;
      d.failed = true;
    }
  }
  if (d.failed) throw d.error;
}

const MESSAGE = "An error was suppressed during disposal.";

function suppressed(error: unknown, earlier: unknown): Error {
  const Native = (globalThis as { SuppressedError?: new (error: unknown, suppressed: unknown, message: string) => Error }).SuppressedError;
  if (Native) return new Native(error, earlier, MESSAGE);
  return Object.assign(new Error(MESSAGE), { name: "SuppressedError", error, suppressed: earlier });
}
