/**
 * Benchmark: TCP echo of 1 KiB messages over 50 loopback connections, a chronots/net server
 * against a Node `net` server, both driven by the same Node `net` client. Not a test.
 *
 * Every party is its own process: the servers run in child processes (so neither shares a core's
 * event loop with the client), and the client is one more child that keeps one message in flight
 * per connection for a fixed time and reports how many round trips it completed. The sides run
 * in alternating order, round after round, and the result is the ratio of the median rates.
 *
 *   node <build>/bench/echo.js [--rounds=5] [--seconds=3] [--connections=50] [--size=1024]
 *   node <build>/bench/echo.js hold [--connections=10000]   (how many connections one server holds)
 *
 * The same file is each child, chosen by its first argument (server-chronots, server-node, client,
 * hold-client). `measureEcho` and `holdConnections` are the entry points for the bench runner.
 */
import { spawn } from "node:child_process";
import net from "node:net";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { async, Future, sleepAsync, waitFor } from "chronots";
import { createStreamServer, type StreamTransport } from "chronots/net";

const self = fileURLToPath(import.meta.url);

export interface EchoOptions {
  rounds: number;
  seconds: number;
  connections: number;
  size: number;
}

export interface EchoResult {
  chronots: number[];
  node: number[];
  /** median chronots msg/s over median Node msg/s */
  ratio: number;
}

const echo = async(function* (t: StreamTransport) {
  for (;;) {
    const data = yield* t.read();
    if (data.length === 0) return;
    yield* t.write(data);
  }
});

/** Child: a chronots echo server; prints its port, serves until killed. */
function serveChronots(): void {
  const server = createStreamServer("127.0.0.1:0", echo, { onError: () => {} });
  server.start();
  process.stdout.write(`${server.localAddress.split(":")[1]}\n`);
  waitFor(new Future<void>("forever"));
}

/** Child: the same server with Node's `net`. */
function serveNode(): void {
  const server = net.createServer((s) => s.pipe(s).on("error", () => {}));
  server.listen(0, "127.0.0.1", () => process.stdout.write(`${(server.address() as net.AddressInfo).port}\n`));
}

/** Child: `connections` clients each keep one `size`-byte message in flight for `seconds`; prints round trips. */
function drive(port: number, connections: number, seconds: number, size: number): void {
  const msg = Buffer.alloc(size, 120);
  let total = 0;
  let running = true;
  let open = 0;
  for (let i = 0; i < connections; i++) {
    const s = net.connect(port, "127.0.0.1", () => {
      s.setNoDelay(true);
      s.write(msg);
    });
    open++;
    let got = 0;
    s.on("data", (d) => {
      got += d.length;
      while (got >= size) {
        got -= size;
        total++;
        if (running) s.write(msg);
        else if (got === 0) s.end();
      }
    });
    s.on("close", () => {
      if (--open === 0) process.stdout.write(`${JSON.stringify({ total, seconds })}\n`);
    });
  }
  setTimeout(() => (running = false), seconds * 1000);
}

/** Start `node <this file> <role>` and wait for the first line it prints. */
function child(role: string, args: string[] = []): Promise<{ line: string; proc: ReturnType<typeof spawn> }> {
  const proc = spawn(process.execPath, [self, role, ...args], { stdio: ["ignore", "pipe", "inherit"] });
  return new Promise((resolve, reject) => {
    createInterface({ input: proc.stdout! }).once("line", (line) => resolve({ line, proc }));
    proc.once("exit", (code) => reject(new Error(`${role} exited with ${code} before answering`)));
  });
}

async function oneRun(kind: "chronots" | "node", o: EchoOptions): Promise<number> {
  const server = await child(`server-${kind}`);
  try {
    const client = await child("client", [server.line, String(o.connections), String(o.seconds), String(o.size)]);
    const { total, seconds } = JSON.parse(client.line) as { total: number; seconds: number };
    if (total < o.connections) throw new Error(`${kind} server: only ${total} round trips`);
    return total / seconds;
  } finally {
    server.proc.kill();
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Rounds of both servers in alternating order; messages per second of each, and the ratio of medians. */
export async function measureEcho(o: EchoOptions): Promise<EchoResult> {
  const r: EchoResult = { chronots: [], node: [], ratio: 0 };
  for (let i = 0; i < o.rounds; i++) {
    const order: ("chronots" | "node")[] = i % 2 === 0 ? ["chronots", "node"] : ["node", "chronots"];
    for (const kind of order) r[kind].push(await oneRun(kind, o));
  }
  r.ratio = median(r.chronots) / median(r.node);
  return r;
}

/** Child: open `n` connections at once, echo one message on each while all stay open; prints how many made it. */
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
export async function holdConnections(n: number): Promise<{ echoed: number; failed: number; peak: number }> {
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
  return { ...done.read(), peak };
}

function option(args: string[], name: string, fallback: number): number {
  const a = args.find((x) => x.startsWith(`--${name}=`));
  const v = a === undefined ? fallback : Number(a.slice(name.length + 3));
  if (!Number.isFinite(v) || v <= 0) throw new RangeError(`--${name} must be a positive number, got ${a}`);
  return v;
}

async function main(argv: string[]): Promise<void> {
  const [role, ...rest] = argv;
  switch (role) {
    case "server-chronots":
      return serveChronots();
    case "server-node":
      return serveNode();
    case "client":
      return drive(Number(rest[0]), Number(rest[1]), Number(rest[2]), Number(rest[3]));
    case "hold-client":
      return holdClient(Number(rest[0]), Number(rest[1]));
    case "hold": {
      const n = option(rest, "connections", 10000);
      const r = await holdConnections(n);
      console.log(`held ${r.peak} connections at once; ${r.echoed} echoed, ${r.failed} failed`);
      return;
    }
    default: {
      const args = role === undefined ? [] : argv;
      const o: EchoOptions = {
        rounds: option(args, "rounds", 5),
        seconds: option(args, "seconds", 3),
        connections: option(args, "connections", 50),
        size: option(args, "size", 1024),
      };
      const r = await measureEcho(o);
      const fmt = (xs: number[]) => xs.map((x) => Math.round(x)).join(", ");
      console.log(`echo ${o.size} B x ${o.connections} connections, ${o.seconds} s per run, ${o.rounds} rounds`);
      console.log(`chronots/net msg/s: ${fmt(r.chronots)}  (median ${Math.round(median(r.chronots))})`);
      console.log(`node net msg/s:     ${fmt(r.node)}  (median ${Math.round(median(r.node))})`);
      console.log(`ratio chronots/node: ${r.ratio.toFixed(2)}x (goal >= 1.3x)`);
    }
  }
}

if (process.argv[1] === self) await main(process.argv.slice(2));
