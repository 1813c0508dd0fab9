/** Workload 4: TCP echo through chronots/net vs a Node net server, driven by the same client. */
import { existsSync } from "node:fs";
import path from "node:path";
import { NotReady, repoRoot } from "../lib/builds.js";
import type { Scale, Workload } from "../lib/workload.js";

export async function echo(_scale: Scale): Promise<Workload> {
  if (!existsSync(path.join(repoRoot, "bench/echo.ts"))) throw new NotReady("bench/echo.ts (the transports' echo servers) has not landed yet");
  throw new NotReady("bench/echo.ts has landed but is not wired in yet");
}
