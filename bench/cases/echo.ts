/**
 * The echo benchmark's parties, one process each, chosen by the first argument (workload 4 in
 * bench/workloads/echo.ts starts them and runs the handshake; lowered build):
 *
 *   server chronots|node                 prints its port; on SIGUSR2 prints `cpu <µs>`, the CPU time
 *                                         (user + system) it has used; exits on SIGTERM
 *   client chronots|node PORT CONNS SIZE WARMUP SECONDS
 *                                         opens CONNS connections, each keeping one SIZE-byte message
 *                                         in flight; warms up for WARMUP s and stops, prints `ready`,
 *                                         waits for `go` on stdin, runs SECONDS s, waits for the
 *                                         messages in flight and prints {total, seconds, cpu}
 *   hold [--connections=N]               how many connections one chronots server holds at once
 *
 * The servers are plain echo servers, idiomatic for each library: a chronots handler coroutine
 * that reads and writes back, and Node's `socket.pipe(socket)`. Between `ready` and the end of the
 * run the server does exactly the run's work, so the difference of its two CPU readings divided
 * by the round trips is its cost per message. The chronots client keeps the dispatcher busy only
 * inside a phase and returns to Node's loop between phases, so it can read stdin.
 */
import net from "node:net";
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { addSignal, allFutures, async, Future, sleepAsync, waitFor } from "chronots";
import { connect, createStreamServer, type StreamTransport } from "chronots/net";

const self = fileURLToPath(import.meta.url);

export type Kind = "chronots" | "node";

const cpuMicros = (): number => {
  const u = process.cpuUsage();
  return u.user + u.system;
};

const echo = async(function* (t: StreamTransport) {
  for (;;) {
    const data = yield* t.read();
    if (data.length === 0) return;
    yield* t.write(data);
  }
});

function serveChronots(): void {
  const server = createStreamServer("127.0.0.1:0", echo, { onError: () => {} });
  server.start();
  addSignal("SIGUSR2", () => process.stdout.write(`cpu ${cpuMicros()}\n`));
  // process.exit, not the default action: a server run under --cpu-prof writes its profile on exit.
  addSignal("SIGTERM", () => process.exit(0));
  process.stdout.write(`${server.localAddress.split(":")[1]}\n`);
  waitFor(new Future<void>("serve forever"));
}

function serveNode(): void {
  const server = net.createServer((s) => s.pipe(s).on("error", () => {}));
  process.on("SIGUSR2", () => process.stdout.write(`cpu ${cpuMicros()}\n`));
  process.on("SIGTERM", () => process.exit(0));
  server.listen(0, "127.0.0.1", () => process.stdout.write(`${(server.address() as net.AddressInfo).port}\n`));
}

interface Phase {
  /** Runs all connections for `seconds`, then waits for the messages in flight; the round trips. */
  run(seconds: number): Promise<number>;
}

/** Node `net` connections; each data event counts the whole messages it completes. */
async function nodeClient(port: number, conns: number, size: number): Promise<Phase> {
  const msg = Buffer.alloc(size, 120);
  let total = 0;
  let running = false;
  let inFlight = 0;
  let idle: () => void = () => {};
  const sockets = await Promise.all(
    Array.from({ length: conns }, () => new Promise<net.Socket>((resolve, reject) => {
      const s = net.connect(port, "127.0.0.1", () => resolve(s)).once("error", reject);
      s.setNoDelay(true);
      // Only process.exit ends this client: a connection that closes before means the server broke.
      s.once("close", () => {
        process.stderr.write(`echo client: the server closed a connection\n`);
        process.exit(1);
      });
      let got = 0;
      s.on("data", (d) => {
        got += d.length;
        while (got >= size) {
          got -= size;
          total++;
          if (running) s.write(msg);
          else if (--inFlight === 0) idle();
        }
      });
    })),
  );
  return {
    run(seconds) {
      total = 0;
      running = true;
      inFlight = conns;
      for (const s of sockets) s.write(msg);
      setTimeout(() => (running = false), seconds * 1000);
      return new Promise((resolve) => (idle = () => resolve(total)));
    },
  };
}

/** chronots/net connections, one coroutine each: write, read the echo back, repeat. */
async function chronotsClient(port: number, conns: number, size: number): Promise<Phase> {
  const msg = new Uint8Array(size).fill(120);
  const connecting = Array.from({ length: conns }, () => connect(`127.0.0.1:${port}`));
  waitFor(allFutures(connecting));
  const transports = connecting.map((f) => f.read());
  let running = false;
  let total = 0;
  const loop = async(function* (t: StreamTransport) {
    while (running) {
      yield* t.write(msg);
      // One message is in flight, so a read never returns bytes of the next one; a read of exactly
      // the missing count would make the next read try recv before waiting (one more syscall).
      for (let got = 0; got < size; ) {
        const d = yield* t.read();
        if (d.length === 0) throw new Error(`the server closed ${t} in the middle of a message`);
        got += d.length;
      }
      total++;
    }
  });
  const phase = async(function* (seconds: number) {
    running = true;
    const loops = transports.map((t) => loop(t));
    yield* sleepAsync(seconds * 1000);
    running = false;
    yield allFutures(loops);
    for (const f of loops) if (f.failed) throw f.error;
  });
  return {
    run: async (seconds) => {
      total = 0;
      waitFor(phase(seconds));
      return total;
    },
  };
}

async function client(kind: Kind, args: string[]): Promise<void> {
  const [port, conns, size, warmup, seconds] = args.map(Number) as [number, number, number, number, number];
  const phase = kind === "chronots" ? await chronotsClient(port, conns, size) : await nodeClient(port, conns, size);
  await phase.run(warmup);
  process.stdout.write("ready\n");
  await new Promise((resolve) => createInterface({ input: process.stdin }).once("line", resolve));
  const cpu0 = cpuMicros();
  const total = await phase.run(seconds);
  process.stdout.write(`${JSON.stringify({ total, seconds, cpu: cpuMicros() - cpu0 })}\n`);
  process.exit(0);
}

/** Child of `hold`: open `n` connections at once, echo one message on each while all stay open; prints how many made it. */
function holdClient(port: number, n: number): void {
  let echoed = 0;
  let failed = 0;
  const sockets: net.Socket[] = [];
  const check = () => {
    if (echoed + failed < n) return;
    process.stdout.write(`${JSON.stringify({ echoed, failed })}\n`);
    for (const s of sockets) s.destroy();
  };
  for (let i = 0; i < n; i++) {
    const s = net.connect(port, "127.0.0.1", () => s.write("ping"));
    sockets.push(s);
    s.once("data", () => {
      echoed++;
      check();
    });
    s.once("error", () => {
      failed++;
      check();
    });
  }
}

/** A chronots server in this process holding `n` connections from a Node client process at once. */
async function hold(n: number): Promise<void> {
  let peak = 0;
  const done = new Future<{ echoed: number; failed: number }>("hold");
  const server = createStreamServer("127.0.0.1:0", (t) => {
    peak = Math.max(peak, server.connections + 1);
    return echo(t);
  }, { backlog: 4096, onError: () => {} });
  server.start();
  const proc = spawn(process.execPath, [self, "hold-client", server.localAddress.split(":")[1]!, String(n)], { stdio: ["ignore", "pipe", "inherit"] });
  // The client reports through a pipe that only Node's own loop reads: serve in slices, letting Node run between them.
  createInterface({ input: proc.stdout! }).once("line", (l) => done.complete(JSON.parse(l)));
  while (done.pending) {
    waitFor(sleepAsync(10));
    await new Promise((r) => setImmediate(r));
  }
  waitFor(server.closeWait());
  const r = done.read();
  console.log(`held ${peak} connections at once; ${r.echoed} echoed, ${r.failed} failed`);
}

function kindOf(arg: string | undefined): Kind {
  if (arg === "chronots" || arg === "node") return arg;
  throw new TypeError(`echo: expected 'chronots' or 'node', got ${String(arg)}`);
}

async function main([role, ...rest]: string[]): Promise<void> {
  if (role === "server") return kindOf(rest[0]) === "chronots" ? serveChronots() : serveNode();
  if (role === "client") return client(kindOf(rest[0]), rest.slice(1));
  if (role === "hold-client") return holdClient(Number(rest[0]), Number(rest[1]));
  if (role === "hold") {
    const a = rest.find((x) => x.startsWith("--connections="));
    const n = a === undefined ? 10000 : Number(a.slice("--connections=".length));
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`hold: --connections must be a positive integer, got ${a}`);
    return hold(n);
  }
  throw new TypeError(`echo: unknown role ${String(role)}; expected server, client or hold`);
}

if (process.argv[1] === self) await main(process.argv.slice(2));
