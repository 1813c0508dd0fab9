/**
 * A side in processes of its own. Each sample forks a fresh worker, which runs the named export of
 * a compiled case three times, timing each itself (IPC stays off the clock), and reports the third:
 * by then the code is warm. A new process per sample matters because a process draws its luck once
 * (where its heap and code land, which core it gets): on this host the same case ran about 70 or
 * about 105 ms per process, for chronots and native alike, so one process kept for a whole workload
 * turned a side's every sample into one coin flip, and the ratio into two.
 *
 * Why not the runner's process: the lowered and untransformed builds share the package's runtime,
 * and V8's type feedback in that shared code would mix both modes' shapes, slowing each down as
 * no real program (which uses one mode) would be. No forced gc() between runs either: a forced
 * collection clears type feedback, and the lowered step functions then deoptimize on every run.
 */
import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { Side } from "./workload.js";

interface Task {
  file: string;
  fn: string;
  args: unknown[];
}

/** Runs per sample in one process; the last is the one reported. */
const RUNS = 3;

type Reply = { ms: number; value: unknown } | { error: string };

/** A side whose every sample runs `fn(...args)` of the compiled case `file` in its own worker; `check` validates the result. */
export function workerSide(name: string, file: string, fn: string, args: unknown[], check: (value: unknown) => void): Side & { close(): void } {
  let child: ChildProcess | undefined;
  return {
    name,
    async run() {
      child = fork(fileURLToPath(import.meta.url), [], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
      try {
        const reply = await ask(child, { file, fn, args });
        if ("error" in reply) throw new Error(`${name}: ${reply.error}`);
        check(reply.value);
        return reply.ms;
      } finally {
        this.close();
      }
    },
    close() {
      child?.kill();
      child = undefined;
    },
  };
}

function ask(child: ChildProcess, task: Task): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`bench worker exited (${code}) before answering ${task.fn} of ${task.file}`));
    child.once("exit", onExit);
    child.once("message", (m) => {
      child.off("exit", onExit);
      resolve(m as Reply);
    });
    child.send(task);
  });
}

if (process.send !== undefined && process.argv[1] === fileURLToPath(import.meta.url)) {
  process.on("message", async (task: Task) => {
    try {
      const mod = (await import(pathToFileURL(task.file).href)) as Record<string, (...a: unknown[]) => unknown>;
      const f = mod[task.fn];
      if (typeof f !== "function") throw new TypeError(`${task.file} has no function export '${task.fn}'`);
      let ms = 0;
      let value: unknown;
      for (let i = 0; i < RUNS; i++) {
        const t0 = performance.now();
        value = await f(...task.args);
        ms = performance.now() - t0;
      }
      process.send!({ ms, value } satisfies Reply);
    } catch (e) {
      process.send!({ error: e instanceof Error ? (e.stack ?? e.message) : String(e) } satisfies Reply);
    }
  });
}
