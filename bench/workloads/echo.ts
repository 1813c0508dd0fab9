/**
 * Workload 4: TCP echo, 1 KiB messages over 50 loopback connections for a fixed time, a chronots/net
 * server against a Node `net` server. It drives bench/echo.ts (the transports' echo parties, lowered
 * build) by its command-line roles: each sample starts one server process, then one Node `net`
 * client process (the same client for both servers) that reports its round trips.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { built, hasGenerators, NotReady } from "../lib/builds.js";
import type { Scale, Side, Workload } from "../lib/workload.js";

const CONNECTIONS = 50;
const SIZE = 1024;

export async function echo(scale: Scale): Promise<Workload> {
  const file = built("lowered", "bench/echo.js");
  if (hasGenerators(readFileSync(file, "utf8"))) throw new NotReady(`${file} still contains generator functions: the transformer did not lower it`);
  const seconds = scale.n(3, 0.5);
  const side = (kind: "chronots" | "node"): Side => ({
    name: kind,
    async run() {
      const server = await firstLine(file, [`server-${kind}`]);
      try {
        const client = await firstLine(file, ["client", server.line, String(CONNECTIONS), String(seconds), String(SIZE)]);
        const { total } = JSON.parse(client.line) as { total: number };
        if (!(total >= CONNECTIONS)) throw new Error(`${kind} server: only ${total} round trips in ${seconds} s`);
        return total / seconds;
      } finally {
        server.proc.kill();
      }
    },
  });
  return {
    id: "4",
    title: `TCP echo, ${SIZE} B messages, ${CONNECTIONS} connections, ${seconds} s per sample; one Node net client process for both servers`,
    metric: "throughput",
    unit: "msg/s",
    sides: [side("chronots"), side("node")],
    comparisons: [{ over: "chronots", under: "node", goal: { op: ">=", value: 1.3 } }],
    maxRounds: 5,
    warmup: 0,
  };
}

/** Start `node file ...args` and wait for the first line it prints. */
function firstLine(file: string, args: string[]): Promise<{ line: string; proc: ChildProcess }> {
  const proc = spawn(process.execPath, [file, ...args], { stdio: ["ignore", "pipe", "inherit"] });
  return new Promise((resolve, reject) => {
    createInterface({ input: proc.stdout! }).once("line", (line) => resolve({ line, proc }));
    proc.once("exit", (code) => reject(new Error(`node ${file} ${args.join(" ")} exited (${code}) before printing its result`)));
  });
}
