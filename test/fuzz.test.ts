/**
 * Differential fuzzing of the lowering against V8's own generators (see test/fuzz/diff.ts).
 *
 * CI runs a fixed seed, so a red run is repeatable; `FUZZ_RUNS` and `FUZZ_SEED` widen or move the
 * search (`npm run fuzz` is the CLI for long runs). Stored counterexamples are replayed first.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fixtures } from "./fuzz/corpus.js";
import { batchSeed, checkModule, difference, evaluate, execute, fuzzBatch } from "./fuzz/diff.js";
import { printModule, programArb } from "./fuzz/gen.js";

const runs = Number(process.env.FUZZ_RUNS ?? 2000);
const seed = Number(process.env.FUZZ_SEED ?? 20261126);
const batch = 100;

describe("the harness", () => {
  it("tells apart programs that differ only in evaluation order around a suspension", () => {
    const source = `import { async } from "chronots";
export function p0(h) { return async(function* () { return h.f(h.t(0, 1), yield* h.later(2)); }); }
export function p1(h) { return async(function* () { const x = yield* h.later(2); return h.f(h.t(0, 1), x); }); }
`;
    const [a, b] = [0, 1].map((i) => execute(evaluate(source, "the test module")[`p${i}`]!));
    expect(a!.result).toBe(b!.result);
    expect(difference(a!, b!)).toMatch(/^trace\[0\]/);
  });

  it("generates every construct the lowering must handle, with real suspensions", () => {
    const text = printModule(fc.sample(programArb, { seed, numRuns: 200 }));
    for (const construct of ["try {", "finally", "catch (", "switch (", "case ", "default:", "break L", "continue L", "break;", "continue;",
      "for (let", "for (const", " in h.keys", "while (", "do {", "return", "throw", "yield*", "h.st(yield", "h.later(", "h.sleep(",
      "h.nap()", "h.badLater(", "h.cancelLater()", "h.cancelSoon(", "h.bg(", "h.gen(", "h.keep(", " ??= ", " ||= ", "`<${", "h.pick(",
      "h.list(", "arguments.length", "this.x", "h.maybe(", "?.(", ")?.f)?.(", "h.tag`<", "h.keep(() => ++", "] = h.iter([",
      "...r", "for (const [", "typeof f", "class extends (", "h.c(async(function* () {", "o.m(", "(o = h.box(", "++", "--", " &&= ", "), (", "h.iter([", "function fn", "var w", "using u", "for (using x", "for (using u",
      "(<b p={", "<h.C {...h.props(", "(<>{", "{...h.twice(", "of h.seq(", "for (var ", "delete ", ".call(this)", ": switch (", "function s"])
      expect(text, construct).toContain(construct);
    // A finally cancelling its own try's exit, inside a finally of a try with an exit pending.
    expect(text).toMatch(/finally \{\s*break L\d+;/);
  });
});

describe("lowered programs behave exactly as the generators they came from", () => {
  for (const { name, source } of fixtures())
    it(`stored counterexample ${name}`, () => {
      expect(checkModule(source, 1)).toEqual({ divergence: null, left: [] });
    });

  it(`${runs} random programs, seed ${seed}`, () => {
    const left: string[] = [];
    for (let b = 0, done = 0; done < runs; b++, done += batch) {
      const { divergence: d, left: reasons } = fuzzBatch(batchSeed(seed, b), Math.min(batch, runs - done));
      if (d !== null) expect.fail(`${d.message}\nshrunk program (batch seed ${d.seed}):\n${d.source}`);
      left.push(...reasons);
    }
    // A function left to the run-time driver would only be compared with itself: every construct the
    // generator writes must be lowered.
    expect(left, "async functions left to the run-time driver").toEqual([]);
  }, 600_000);
});
