/**
 * Where the compiled benchmark code lives. `npm run bench` builds the package (dist/), then compiles
 * the bench cases twice: with plain `tsc` into bench/.out/plain (the untransformed build, where
 * `async()` drives real generators) and with `tspc` and `chronots/transformer` into
 * bench/.out/lowered. Both import `chronots`, which resolves to the package's own dist/ build.
 */
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";

export type Build = "plain" | "lowered";

/** A workload's dependency is missing (a build step skipped, a part not written yet): skip it, say why. */
export class NotReady extends Error {
  override name = "NotReady";
}

const outDir = new URL("../../../", import.meta.url);

/** The repository root. */
export const repoRoot = fileURLToPath(new URL("../../", outDir));

const commands: Record<Build, string> = {
  plain: "npx tsc -p bench/tsconfig.json",
  lowered: "npx tspc -p bench/tsconfig.lowered.json",
};

/** Absolute path of a compiled file in one build, failing with NotReady when it is missing. */
export function built(build: Build, file: string): string {
  const p = fileURLToPath(new URL(`${build}/${file}`, outDir));
  if (!existsSync(p)) throw new NotReady(`${p} is missing; build it with: ${commands[build]}`);
  return p;
}

/** The compiled bench/cases/<name> of one build; the lowered one must really be lowered. */
export function caseFile(build: Build, name: string): string {
  const file = built(build, `bench/cases/${name}.js`);
  if (build === "lowered" && hasGenerators(readFileSync(file, "utf8")))
    throw new NotReady(`${file} still contains generator functions: the transformer did not lower it`);
  return file;
}

/** Import bench/cases/<name> from one build. */
export async function loadCase<T>(build: Build, name: string): Promise<T> {
  return (await import(pathToFileURL(caseFile(build, name)).href)) as T;
}

export function hasGenerators(js: string): boolean {
  return /function\s*\*/.test(js);
}
