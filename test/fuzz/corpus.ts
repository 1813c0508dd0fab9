/**
 * Programs that once diverged, kept in test/fixtures/fuzz/ as modules (one program `p0` each, with the
 * divergence it showed in a comment) and replayed by test/fuzz.test.ts, so a fixed bug stays fixed.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Divergence } from "./diff.js";

export const fixtureDir = fileURLToPath(new URL("../fixtures/fuzz", import.meta.url));

/** The stored form of a divergence. Fixtures are not type-checked: they are data for the harness. */
export function fixtureText(d: Divergence): string {
  return `// @ts-nocheck\n// Found by test/fuzz (batch seed ${d.seed}): ${d.message.replace(/\n/g, " ")}\n${d.source}`;
}

/** Every stored program, by file name. */
export function fixtures(): { name: string; source: string }[] {
  if (!existsSync(fixtureDir)) return [];
  return readdirSync(fixtureDir)
    .filter((f) => f.endsWith(".ts"))
    .sort()
    .map((name) => ({ name, source: readFileSync(`${fixtureDir}/${name}`, "utf8") }));
}
