/**
 * Producers and a consumer sharing a queue of futures: `one` picks whichever job finishes first,
 * `allFutures` waits for the rest, and `wait` bounds a job that takes too long. `retry` is a
 * generic helper: `retry(5, flaky)` is a `Future<number>` because `flaky` gives numbers.
 */
import { allFutures, async, AsyncTimeoutError, Future, one, sleepAsync, wait, waitFor } from "chronots";

const job = async(function* (id: number, ms: number) {
  yield* sleepAsync(ms);
  return `job ${id} took ${ms} ms`;
});

/** Up to `times` tries of `make()`: each is waited for with `yield` (which never throws), then looked at. */
const retry = async(function* <T>(times: number, make: () => Future<T>) {
  let last: unknown;
  for (let i = 0; i < times; i++) {
    const f = make();
    yield f;
    if (!f.failed) return f.read();
    last = f.error;
  }
  throw last;
});

let attempts = 0;
const flaky = async(function* () {
  yield* sleepAsync(1);
  if (++attempts < 3) throw new Error(`attempt ${attempts} failed`);
  return attempts;
});

const main = async(function* () {
  const jobs: Future<string>[] = [job(1, 30), job(2, 10), job(3, 20)];
  const first = yield* one(jobs);
  console.log("first done:", first.read());
  yield* allFutures(jobs);
  console.log("all done:", jobs.map((j) => j.read()).join("; "));

  try {
    yield* wait(job(4, 5_000), 15);
  } catch (e) {
    if (!(e instanceof AsyncTimeoutError)) throw e;
    console.log("job 4 timed out and was cancelled:", e.message);
  }

  const attempt: number = yield* retry(5, flaky);
  console.log(`the flaky job succeeded on attempt ${attempt}`);
});

waitFor(main());
