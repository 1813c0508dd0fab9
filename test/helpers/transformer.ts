/**
 * The transformer as ts-patch loads it, compiled from this checkout's sources into `out` (not the
 * package's dist/, which may be older): CommonJS for a tsconfig plugin entry, or an ES module. The
 * Vite plugin comes along, for a tsconfig that names it by mistake.
 */
import { execFileSync } from "node:child_process";
import { symlinkSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";

const root = resolve(__dirname, "../..");

export function buildTransformer(out: string, format: "commonjs" | "module"): void {
  const module = format === "commonjs" ? ["--module", "commonjs", "--moduleResolution", "node10"] : ["--module", "es2022", "--moduleResolution", "bundler"];
  execFileSync(process.execPath, [
    join(root, "node_modules/typescript/bin/tsc"),
    join(root, "transformer/index.ts"),
    join(root, "transformer/vite.ts"),
    ...["--outDir", out, ...module, "--target", "es2022", "--esModuleInterop", "--skipLibCheck", "--types", "node"],
  ]);
  writeFileSync(join(out, "package.json"), JSON.stringify({ type: format }));
  symlinkSync(join(root, "node_modules"), join(out, "node_modules"));
}
