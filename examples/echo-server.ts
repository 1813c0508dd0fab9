/**
 * An echo server with chronots/net: every byte a client sends comes back.
 *
 * Run as is, it shows itself and exits: it listens on a free port, three clients talk to it at
 * once, and it shuts down. Given an address (`node dist/examples/echo-server.js 127.0.0.1:7000`,
 * or `unix:/tmp/echo.sock`) it serves until Ctrl-C; try it with `nc 127.0.0.1 7000`.
 */
import { addSignal, allFinished, async, Future, removeSignal, waitFor } from "chronots";
import { connect, createStreamServer, type StreamTransport } from "chronots/net";

/** One client: read whatever has arrived, write it back, until the client closes its side. */
const echo = async(function* (t: StreamTransport) {
  for (;;) {
    const data = yield* t.read();
    if (data.length === 0) return;
    yield* t.write(data); // completes once the kernel has taken it: a slow client slows us, memory stays flat
  }
});

/** A demo client: send three lines, read each one back. */
const talk = async(function* (address: string, name: string) {
  const t = yield* connect(address);
  try {
    const replies: string[] = [];
    for (const word of ["hello", "from", name]) {
      yield* t.write(`${word}\n`);
      replies.push(yield* t.readLine());
    }
    return `${name} (${t.localAddress}) got back: ${replies.join(" ")}`;
  } finally {
    yield* t.closeWait();
  }
});

const address = process.argv[2];
const server = createStreamServer(address ?? "127.0.0.1:0", echo);
server.start();
console.log(`echo server listening on ${server.localAddress}`);

if (address === undefined) {
  const clients = ["ann", "bo", "cy"].map((name) => talk(server.localAddress, name));
  for (const f of waitFor(allFinished(clients))) console.log(f.read());
} else {
  const stop = new Future<void>("Ctrl-C");
  const sigint = addSignal("SIGINT", () => stop.complete());
  waitFor(stop);
  removeSignal(sigint);
}

waitFor(server.closeWait());
console.log("echo server closed");
