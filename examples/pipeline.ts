/**
 * Producers and a consumer sharing a queue of futures: `one` picks whichever job finishes first,
 * `allFutures` waits for the rest, and `wait` bounds a job that takes too long.
 */
import { allFutures, async, AsyncTimeoutError, Future, one, sleepAsync, wait, waitFor } from "chronots";

const job = async(function* (id: number, ms: number) {
  yield* sleepAsync(ms);
  return `job ${id} took ${ms} ms`;
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
});

waitFor(main());
