/**
 * chronots inside a Node program. A Node HTTP server runs in this same process; chronots code talks
 * HTTP/1.0 to it over chronots/net while Node's own `fetch` asks it too, awaited through
 * `fromPromise`. `await waitForAsync(...)` drives chronots from Node's event loop, so the server
 * keeps answering while chronots waits; `waitFor` would block that loop, and the server with it.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { async, fromPromise, waitForAsync } from "chronots";
import { connect } from "chronots/net";

const server = http.createServer((req, res) => res.end(`Node answered ${req.url}\n`));
await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
const { port } = server.address() as AddressInfo;

/** The body of `GET path`, read line by line from the raw socket. */
const get = async(function* (path: string) {
  const t = yield* connect(`127.0.0.1:${port}`);
  yield* t.write(`GET ${path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n`);
  let last = "";
  for (;;) {
    const line = yield* t.readLine();
    if (line === "" && t.atEof) break;
    last = line;
  }
  yield* t.closeWait();
  return last;
});

const main = async(function* () {
  const one = get("/one");
  const two = get("/two");
  const viaFetch = fromPromise(fetch(`http://127.0.0.1:${port}/three`).then((r) => r.text()));
  return [yield* one, yield* two, (yield* viaFetch).trim()];
});

for (const line of await waitForAsync(main())) console.log(line);
server.close();
