/**
 * A Node.js peer in a child process, for testing chronots/net against Node's own `net`/`dgram`.
 *
 * The peer runs `script` (an ES module body; `net`, `dgram` and `send(line)` are in scope) and talks
 * to the test over lines: `send()` writes a line to its stdout, `peer.line()` awaits the next one;
 * `peer.tell(line)` writes to its stdin, read in the script with `for await (const l of lines)`.
 * While a test sits in chronots' `waitFor` the Node event loop of the test process does not run,
 * so the peer must be a separate process, and every exchange with it is awaited outside `waitFor`.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";

const prelude = `
import net from "node:net";
import dgram from "node:dgram";
import { createInterface } from "node:readline";
const send = (line) => process.stdout.write(String(line) + "\\n");
const lines = createInterface({ input: process.stdin });
`;

export class Peer {
  private readonly queued: string[] = [];
  private readonly waiting: ((l: string) => void)[] = [];
  private readonly closed: Promise<number | null>;
  stderr = "";

  constructor(private readonly child: ChildProcess) {
    createInterface({ input: child.stdout! }).on("line", (l) => {
      const w = this.waiting.shift();
      if (w) w(l);
      else this.queued.push(l);
    });
    child.stderr!.on("data", (d) => (this.stderr += d));
    this.closed = new Promise((resolve) => child.on("close", (code) => resolve(code)));
  }

  /** The next line the peer sent. */
  line(): Promise<string> {
    const l = this.queued.shift();
    if (l !== undefined) return Promise.resolve(l);
    return new Promise((resolve, reject) => {
      this.waiting.push(resolve);
      this.closed.then(() => reject(new Error(`peer exited before sending a line; stderr: ${this.stderr}`)));
    });
  }

  tell(line: string): void {
    this.child.stdin!.write(line + "\n");
  }

  /** Wait until the peer has exited and its pipes are closed; its exit code. */
  exit(): Promise<number | null> {
    this.child.stdin!.end();
    return this.closed;
  }

  kill(): Promise<number | null> {
    this.child.kill("SIGKILL");
    return this.exit();
  }
}

export function startPeer(script: string): Peer {
  const child = spawn(process.execPath, ["--input-type=module", "-e", prelude + script], { stdio: ["pipe", "pipe", "pipe"] });
  return new Peer(child);
}
