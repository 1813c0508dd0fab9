/** Runs a Node child process to completion; a non-zero exit is an error carrying its output. */
import { execFile } from "node:child_process";

export function runNode(args: string[], options: { cwd?: string } = {}): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, { cwd: options.cwd, maxBuffer: 64 * 2 ** 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`node ${args.join(" ")} failed (${err.code ?? err.signal}):\n${stderr}${stdout}`));
      else resolve({ stdout, stderr });
    });
  });
}

const cpuReport = new URL("./cpu-report.js", import.meta.url).href;

/** Runs a Node child process to completion: the CPU time (user + system, ms) it used, and its main thread's share where the system tells it. */
export async function cpuTimeOf(args: string[]): Promise<{ cpu: number; main: number | undefined }> {
  const { stderr } = await runNode(["--import", cpuReport, ...args]);
  const m = /cpu-ms ([\d.]+)\s*$/.exec(stderr);
  if (m === null) throw new Error(`node ${args.join(" ")} did not report its CPU time; stderr:\n${stderr}`);
  const main = /main-cpu-ms ([\d.]+)\s*cpu-ms/.exec(stderr);
  return { cpu: Number(m[1]), main: main === null ? undefined : Number(main[1]) };
}

