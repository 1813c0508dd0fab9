/**
 * Preloaded with `node --import` into a child process: when it exits, it writes the CPU time it
 * used (user + system, ms, all threads) as a last stderr line `cpu-ms N`, and on Linux the main
 * thread's share as `main-cpu-ms N` before it (from /proc/self/task/<pid>/stat). On a shared
 * machine CPU time is steadier than wall time, which also counts the time spent waiting for a core;
 * the main thread's share tells the compiler's own work from V8's helper threads (optimizing
 * compiler, parallel garbage collection).
 */
import { readFileSync, writeSync } from "node:fs";

/** The main thread's CPU time in ms, or undefined where /proc is not there. */
function mainThreadMs(): number | undefined {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, "utf8");
    // After the parenthesised command name: state is field 3; utime and stime are 14 and 15, in clock ticks (100 per second on Linux).
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(fields[11]) + Number(fields[12])) / 100) * 1000;
  } catch {
    return undefined;
  }
}

process.on("exit", () => {
  const u = process.cpuUsage();
  const main = mainThreadMs();
  writeSync(2, `${main === undefined ? "" : `\nmain-cpu-ms ${main}`}\ncpu-ms ${(u.user + u.system) / 1000}\n`);
});
