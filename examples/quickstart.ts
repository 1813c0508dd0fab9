/**
 * The quick start: two async functions, `yield*` to await, `yield` to wait without throwing,
 * and cancellation through a timeout.
 */
import { async, Future, sleepAsync, waitFor, withTimeout } from "chronots";

/** Pretend to fetch `url`: a timer stands in for the network. */
const get = async(function* (url: string, ms: number) {
  yield* sleepAsync(ms);
  if (url.includes("bad")) throw new Error(`cannot fetch ${url}`);
  return `<page ${url}>`;
});

const fetchTwice = async(function* (url: string) {
  const a = yield* get(url, 5); // await: the value, or the error thrown here
  const f: Future<string> = get(`${url}/bad`, 5);
  yield f; // wait: never throws; look at f afterwards
  if (f.failed) return `${a.length} (second fetch failed: ${(f.error as Error).message})`;
  return `${a.length + f.read().length}`;
});

console.log("fetchTwice:", waitFor(fetchTwice("example.org")));

const slow = get("slow.example", 10_000);
console.log("slow fetch finished in 20 ms:", waitFor(withTimeout(slow, 20)), "- it ended", slow.state);
