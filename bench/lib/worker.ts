/**
 * A side in a process of its own. The runner forks one worker per side and keeps it for the whole
 * workload; each sample is one message: the worker calls the named export of a compiled case,
 * times it itself (IPC stays off the clock) and sends back the time and the result.
 *
 * Why not the runner's process: the lowered and untransformed builds share the package's runtime,
 * and V8's type feedback in that shared code would mix both modes' shapes, slowing each down as
 * no real program (which uses one mode) would be. No forced gc() between samples either: a forced
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

type Reply = { ms: number; value: unknown } | { error: string };

/** A side whose every sample runs `fn(...args)` of the compiled case `file` in its own worker; `check` validates the result. */
export function workerSide(name: string, file: string, fn: string, args: unknown[], check: (value: unknown) => void): Side & { close(): void } {
  let child: ChildProcess | undefined;
  return {
    name,
    async run() {
      child ??= fork(fileURLToPath(import.meta.url), [], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
      const reply = await ask(child, { file, fn, args });
      if ("error" in reply) throw new Error(`${name}: ${reply.error}`);
      check(reply.value);
      return reply.ms;
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
      const t0 = performance.now();
      const value = await f(...task.args);
      process.send!({ ms: performance.now() - t0, value } satisfies Reply);
    } catch (e) {
      process.send!({ error: e instanceof Error ? (e.stack ?? e.message) : String(e) } satisfies Reply);
    }
  });
}
