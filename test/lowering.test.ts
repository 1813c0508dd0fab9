/**
 * The lowering, fixture by fixture: each program in test/fixtures/lowering runs untransformed (the
 * run-time driver) and lowered by `lowerText`; both runs must push the same trace and end the same.
 * The lowered text is kept as a readable snapshot next to the fixtures.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { __chronots, type Future, waitFor } from "../runtime/index.js";
import { lowerText, type Splice } from "../transformer/lower.js";

const dir = resolve(__dirname, "fixtures/lowering");
const runtimeSpec = "../../../runtime/index.js";
const out = mkdtempSync(join(tmpdir(), "chronots-lowering-"));
afterAll(() => rmSync(out, { recursive: true, force: true }));

export function applySplices(text: string, splices: Splice[], prelude: string): string {
  let r = text;
  for (const s of [...splices].sort((a, b) => b.start - a.start)) r = r.slice(0, s.start) + s.text + r.slice(s.end);
  return prelude + r;
}

async function run(file: string, lowered: boolean): Promise<{ trace: unknown[]; end: unknown }> {
  const mod = (await import(file)) as { main(log: (x: unknown) => void): Future<unknown> };
  expect(mod.main.toString().includes(".coroutine(")).toBe(lowered);
  const trace: unknown[] = [];
  try {
    return { trace, end: ["completed", waitFor(mod.main((x) => trace.push(x)))] };
  } catch (e) {
    return { trace, end: ["failed", String(e)] };
  }
}

const families = ["basics", "expressions", "control", "exceptions", "delegation"];

describe("lowered fixtures behave as the driver does", () => {
  for (const family of families) {
    it(family, async () => {
      const source = join(dir, `${family}.ts`);
      const text = readFileSync(source, "utf8");
      const { splices, prelude, diagnostics } = lowerText(source, text, { modules: [runtimeSpec] });
      expect(diagnostics.map((d) => d.messageText)).toEqual([]);
      const lowered = applySplices(text, splices, prelude);
      expect(lowered).not.toMatch(/async\(function\*/);
      await expect(lowered).toMatchFileSnapshot(`fixtures/lowering/snapshots/${family}.lowered.ts`);
      const target = join(out, `${family}.ts`);
      writeFileSync(target, lowered.split(runtimeSpec).join(resolve(__dirname, "../runtime/index.js")));
      const driver = await run(source, false);
      const lowering = await run(target, true);
      expect(driver.end).toEqual(["completed", "done"]);
      expect(driver.trace.length).toBeGreaterThan(5);
      expect(lowering).toEqual(driver);
    });
  }
});

it("leaves an unsupported construct to the driver, with a warning at its position, and behaves the same", async () => {
  const source = join(dir, "unsupported.ts");
  const text = readFileSync(source, "utf8");
  const { splices, prelude, diagnostics } = lowerText(source, text, { modules: [runtimeSpec] });
  expect(diagnostics).toHaveLength(1);
  expect(diagnostics[0]!.category).toBe(0);
  expect(String(diagnostics[0]!.messageText)).toMatch(/per-iteration binding captured by a closure/);
  expect(text.slice(diagnostics[0]!.start!, diagnostics[0]!.start! + 3)).toBe("for");
  const lowered = applySplices(text, splices, prelude);
  expect(lowered).toMatch(/async\(function\*/);
  const target = join(out, "unsupported.ts");
  writeFileSync(target, lowered.split(runtimeSpec).join(resolve(__dirname, "../runtime/index.js")));
  expect(await run(target, false)).toEqual(await run(source, false));
});

it("inlines the state numbers the runtime defines", () => {
  expect([__chronots.PENDING, __chronots.COMPLETED]).toEqual([0, 1]);
});
