/**
 * The suite runs twice (vitest.config.ts): as written, and lowered by the chronots/vite plugin.
 * This file proves the second run really lowers: a function's source text, as the module runner
 * evaluated it, still holds the generator in one project and no generator at all in the other.
 */
import { expect, it } from "vitest";
import { async, sleepAsync, waitFor } from "../runtime/index.js";

const mode = process.env.CHRONOTS_MODE;

function makeSum() {
  return async(function* (n: number) {
    let sum = 0;
    for (let i = 0; i < n; i++) {
      yield* sleepAsync(0);
      sum += i;
    }
    return sum;
  });
}

it("runs in one of the two projects", () => {
  expect(["untransformed", "transformed"]).toContain(mode);
});

it(`${mode === "transformed" ? "lowers" : "keeps"} the generator of an async function declared in a test file`, () => {
  expect(makeSum.toString()).toContain("sum += i");
  expect(makeSum.toString().includes("function*")).toBe(mode !== "transformed");
});

it("computes the same in both projects", () => {
  expect(waitFor(makeSum()(5))).toBe(10);
});
