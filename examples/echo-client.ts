/**
 * An echo client with chronots/net, talking to a server that is not chronots: Node's own `net`.
 *
 * Run as is, it starts a Node `net` echo server in a child process, sends it a few messages of
 * growing size (the largest, 1 MiB, goes out in many partial writes and comes back in many
 * reads), checks every byte, and exits. Given an address (`node dist/examples/echo-client.js
 * localhost:7000`) it talks to that server instead, e.g. the one from echo-server.ts; a host name is
 * looked up once, before any connection, with `resolveAddress` (a blocking call).
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { async, waitFor } from "chronots";
import { connect, resolveAddress } from "chronots/net";

const nodeEchoServer = `
const server = require("node:net").createServer((s) => s.pipe(s));
server.listen(0, "127.0.0.1", () => console.log(server.address().port));
process.stdin.on("end", () => server.close()).resume();`;

let address = process.argv[2];
let child: ReturnType<typeof spawn> | null = null;
if (address === undefined) {
  // Node's event loop does not run while waitFor waits, so its server lives in a process of its own
  // (with-node.ts keeps one in-process under waitForAsync); the port is read here, with a plain await,
  // before chronots takes over.
  child = spawn(process.execPath, ["-e", nodeEchoServer], { stdio: ["pipe", "pipe", "inherit"] });
  const [port] = (await once(child.stdout!, "data")) as [Buffer];
  address = `localhost:${port.toString().trim()}`;
}
// Looked up once, before connecting. IPv4 first: the server above listens there, and "localhost" may name ::1 too.
address = resolveAddress(address).sort((a, b) => Number(a.startsWith("[")) - Number(b.startsWith("[")))[0]!;

/** `size` bytes that differ from one message to the next, so a mix-up would show. */
function pattern(size: number): Uint8Array {
  return new Uint8Array(size).map((_, i) => (i * 7 + size) & 0xff);
}

const run = async(function* (address: string) {
  const t = yield* connect(address);
  console.log(`connected ${t.localAddress} -> ${t.remoteAddress}`);
  try {
    for (const size of [5, 1000, 64 * 1024, 1024 * 1024]) {
      const message = pattern(size);
      // Read and write at the same time: a large message does not fit the kernel's buffers one way.
      const back = t.readExactly(size);
      yield* t.write(message);
      const got = yield* back;
      const same = Buffer.compare(got, message) === 0;
      console.log(`${size} bytes sent, ${got.length} came back ${same ? "intact" : "CORRUPTED"}`);
      if (!same) throw new Error(`echo of ${size} bytes came back different`);
    }
    yield* t.shutdownWait(); // half-close: the server sees end of stream and closes too
    console.log(`server closed after us: ${(yield* t.read()).length === 0 && t.atEof}`);
  } finally {
    yield* t.closeWait();
  }
});

try {
  waitFor(run(address));
} finally {
  child?.stdin!.end();
}
