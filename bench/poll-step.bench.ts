/**
 * The cost of one dispatcher step, per poller backend:
 *   - one queued callback and no fd watched: must stay pure JavaScript (no kernel call);
 *   - one queued callback and one watched fd that is not ready: one zero-timeout wait;
 *   - one watched fd that is ready (level-triggered, never drained): one wait reporting it.
 * Run: npx vitest bench --run bench/poll-step.bench.ts --project untransformed
 */
import { afterAll, bench, describe } from "vitest";
import { Dispatcher } from "../runtime/index.js";
import type { PollerKind } from "../runtime/poller/poller.js";
import { close, eventfd, write } from "../test/helpers/fds.js";

const noop = () => {};
const one = new Uint8Array([1, 0, 0, 0, 0, 0, 0, 0]);

for (const kind of ["epoll", "poll"] as PollerKind[]) {
  describe(`one poll() step over ${kind}`, () => {
    const idle = new Dispatcher({ poller: kind });
    const quiet = new Dispatcher({ poller: kind });
    const ready = new Dispatcher({ poller: kind });
    const quietFd = eventfd();
    const readyFd = eventfd();
    quiet.register(quietFd);
    quiet.addReader(quietFd, noop);
    ready.register(readyFd);
    write(readyFd, one);
    ready.addReader(readyFd, noop);
    afterAll(() => {
      quiet.unregister(quietFd);
      ready.unregister(readyFd);
      for (const d of [idle, quiet, ready]) d.close();
      close(quietFd, readyFd);
    });

    bench("queued callback, no fd", () => {
      idle.callSoon(noop);
      idle.poll();
    });
    bench("queued callback, one fd not ready", () => {
      quiet.callSoon(noop);
      quiet.poll();
    });
    bench("one ready fd", () => {
      ready.poll();
    });
  });
}
