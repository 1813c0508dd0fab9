/**
 * The public types, checked by the compiler itself: test/fixtures/types.ts marks each line that
 * must fail to type-check with `// @type-error`; every other line must check clean.
 */
import { readFileSync } from "node:fs";
import ts from "typescript";
import { expect, it } from "vitest";

it("the public types: async() (generics, this:, yield and yield*), the combinators and transport handlers", () => {
  const file = "test/fixtures/types.ts";
  const program = ts.createProgram([file], {
    strict: true,
    noEmit: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    types: ["node"],
    skipLibCheck: true,
  });
  const sf = program.getSourceFile(file)!;
  const reported = ts
    .getPreEmitDiagnostics(program, sf)
    .map((d) => sf.getLineAndCharacterOfPosition(d.start!).line + 1)
    .sort((a, b) => a - b);
  const marked = readFileSync(file, "utf8")
    .split("\n")
    .flatMap((l, i) => (l.includes("// @type-error") ? [i + 1] : []));
  expect(marked.length).toBeGreaterThan(0);
  expect(reported).toEqual(marked);
});
