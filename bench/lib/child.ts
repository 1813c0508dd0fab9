/** Runs a Node child process to completion and returns its stdout; a non-zero exit is an error carrying its stderr. */
import { execFile } from "node:child_process";

export function runNode(args: string[], options: { cwd?: string } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, { cwd: options.cwd, maxBuffer: 64 * 2 ** 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`node ${args.join(" ")} failed (${err.code ?? err.signal}):\n${stderr || stdout}`));
      else resolve(stdout);
    });
  });
}
