/**
 * Workload 4: TCP echo of 1 KiB messages over 50 loopback connections, a chronots/net server
 * against a Node `net` server, each in a process of its own, driven in turn by the same client
 * (bench/cases/echo.ts, lowered build; a fresh client process per sample).
 *
 * One sample: start the server, start the client, which connects and warms both up; read the
 * server's CPU time (SIGUSR2), let the client run, read the server's CPU time again. The figure is
 * the server's messages per CPU second. Client and server share 2 cores (with other jobs), and a
 * client costs about as much per message as a server, so wall-clock msg/s is partly the client's
 * figure; it is reported beside, with the client's own CPU per message, but the goal is judged on
 * the servers' CPU.
 *
 * The client is the chronots one; `ECHO_CLIENT=node` uses Node's `net`, and ECHO_CLIENT=<path>
 * runs an executable speaking the same protocol (bench/cases/echo-client.c, the cheapest client).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createInterface, type Interface } from "node:readline";
import { built, hasGenerators, NotReady } from "../lib/builds.js";
import type { Scale, Side, Workload } from "../lib/workload.js";

const CONNECTIONS = 50;
const SIZE = 1024;
/** Longest a party may stay silent (the longest wait is the measured run itself). */
const SILENCE = 60_000;
/** The client in every sample; see bench/README.md for why this one. */
const CLIENT = process.env.ECHO_CLIENT || "chronots";

export async function echo(scale: Scale): Promise<Workload> {
  const file = built("lowered", "bench/cases/echo.js");
  if (hasGenerators(readFileSync(file, "utf8"))) throw new NotReady(`${file} still contains generator functions: the transformer did not lower it`);
  const builtIn = CLIENT === "chronots" || CLIENT === "node";
  if (!builtIn && !existsSync(CLIENT)) throw new NotReady(`ECHO_CLIENT=${CLIENT}: no such file; expected chronots, node, or the path of a client executable`);
  const seconds = scale.n(3, 0.5);
  const warmup = scale.n(1, 0.2);
  const load = [String(CONNECTIONS), String(SIZE), String(warmup), String(seconds)];
  const side = (kind: "chronots" | "node"): Side => ({
    name: kind,
    async run() {
      const server = new Party(process.execPath, [file, "server", kind]);
      try {
        const port = await server.line();
        const client = builtIn ? new Party(process.execPath, [file, "client", CLIENT, port, ...load]) : new Party(CLIENT, [port, ...load]);
        try {
          if ((await client.line()) !== "ready") throw new Error("the echo client did not say ready");
          const cpu0 = await server.cpu();
          client.send("go");
          const r = JSON.parse(await client.line()) as { total: number; seconds: number; cpu: number };
          const cpu = (await server.cpu()) - cpu0;
          if (!(r.total >= CONNECTIONS)) throw new Error(`${kind} server: only ${r.total} round trips in ${seconds} s`);
          return {
            value: (r.total / cpu) * 1e6,
            figures: { "msg/s": r.total / r.seconds, "server µs/msg": cpu / r.total, "client µs/msg": r.cpu / r.total },
          };
        } finally {
          client.kill();
        }
      } finally {
        server.kill();
      }
    },
  });
  return {
    id: "4",
    title: `TCP echo, ${SIZE} B messages, ${CONNECTIONS} connections, ${seconds} s per sample, one ${CLIENT} client process for both servers: messages per CPU second of the server process`,
    metric: "throughput",
    unit: "msg/CPU s",
    figures: ["msg/s", "server µs/msg", "client µs/msg"],
    sides: [side("chronots"), side("node")],
    comparisons: [
      { over: "chronots", under: "node", goal: { op: ">=", value: 1.3 } },
      { over: "chronots", under: "node", figure: "msg/s" },
    ],
    maxRounds: 5,
    warmup: 0,
  };
}

/** A child process (a party of bench/cases/echo.ts, or a client executable), spoken to by lines on stdin/stdout. */
class Party {
  private readonly proc: ChildProcess;
  private readonly lines: Interface;
  private readonly queued: string[] = [];
  private waiting: { resolve: (l: string) => void; reject: (e: Error) => void } | null = null;
  private ended: Error | null = null;
  private readonly what: string;

  constructor(command: string, args: string[]) {
    this.what = `${command} ${args.join(" ")}`;
    this.proc = spawn(command, args, { stdio: ["pipe", "pipe", "inherit"] });
    this.lines = createInterface({ input: this.proc.stdout! });
    this.lines.on("line", (l) => {
      const w = this.waiting;
      this.waiting = null;
      if (w) w.resolve(l);
      else this.queued.push(l);
    });
    this.proc.once("exit", (code, signal) => {
      this.ended = new Error(`${this.what} exited (${code ?? signal}) before answering`);
      this.waiting?.reject(this.ended);
    });
  }

  /** The next line it prints; a party silent for a minute is stuck, and fails the sample. */
  line(): Promise<string> {
    const l = this.queued.shift();
    if (l !== undefined) return Promise.resolve(l);
    if (this.ended) return Promise.reject(this.ended);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.what} printed nothing for ${SILENCE / 1000} s`)), SILENCE);
      this.waiting = {
        resolve: (line) => (clearTimeout(timer), resolve(line)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      };
    });
  }

  /** A server's CPU time so far, in µs. */
  async cpu(): Promise<number> {
    this.proc.kill("SIGUSR2");
    const l = await this.line();
    const m = /^cpu (\d+)$/.exec(l);
    if (m === null) throw new Error(`expected 'cpu <µs>' from the server, got '${l}'`);
    return Number(m[1]);
  }

  send(line: string): void {
    this.proc.stdin!.write(`${line}\n`);
  }

  kill(): void {
    this.lines.close();
    this.proc.kill("SIGTERM");
  }
}
