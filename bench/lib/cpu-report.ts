/**
 * Preloaded with `node --import` into a child process: when it exits, it writes the CPU time it
 * used (user + system, ms) as a last stderr line `cpu-ms N`. On a shared machine this is steadier
 * than wall time, which also counts the time spent waiting for a core.
 */
import { writeSync } from "node:fs";

process.on("exit", () => {
  const u = process.cpuUsage();
  writeSync(2, `\ncpu-ms ${(u.user + u.system) / 1000}\n`);
});
