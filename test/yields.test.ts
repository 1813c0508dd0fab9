/**
 * The yield rule (transformer/yields.ts): a yield of something that is not a Future, in a generator
 * that TypeScript's contextual type says yields chronots' Futures, is an error TS90002 at the yield
 * itself, naming the type. The fixtures (test/fixtures/diagnostics/yields.ts) hold the cases that
 * TypeScript misses, and discards.test.ts holds every entry point to them; here, the rule's edges.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import ts from "typescript";
import { afterAll, describe, expect, it } from "vitest";
import { useCompiler } from "../transformer/compiler.js";
import { badYields, YIELD_CODE } from "../transformer/yields.js";

useCompiler(ts);
const runtime = JSON.stringify(resolve(__dirname, "../runtime/index.js"));
const tmp = mkdtempSync(join(tmpdir(), "chronots-yields-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** `source` as main.ts of a strict project: TypeScript's own errors and the rule's, each as `line:col code text`. */
function check(source: string) {
  const file = join(tmp, `main${Math.random().toString(36).slice(2)}.ts`);
  writeFileSync(file, source);
  const program = ts.createProgram([file], { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.NodeNext, strict: true, noEmit: true, skipLibCheck: true, types: [] });
  const sf = program.getSourceFile(file)!;
  const at = (d: ts.Diagnostic) => {
    const { line, character } = sf.getLineAndCharacterOfPosition(d.start!);
    return `${line + 1}:${character + 1}`;
  };
  return {
    ts: program.getSemanticDiagnostics(sf).map((d) => `${at(d)} TS${d.code}`),
    ours: badYields(program, sf).map((d) => {
      expect(d.code).toBe(YIELD_CODE);
      expect(d.category).toBe(ts.DiagnosticCategory.Error);
      return `${at(d)} ${sf.text.slice(d.start!, d.start! + d.length!)} | ${d.messageText}`;
    }),
  };
}

describe("yields of non-Futures (TS90002)", () => {
  it("puts the error on the yield, where TypeScript puts its own on the whole function*", () => {
    const r = check(`import { async, sleepAsync } from ${runtime};
export const f = async(function* (n: number) {
  yield* sleepAsync(1);
  if (n > 1) yield n;
  return n;
});
`);
    expect(r.ts).toEqual(["2:24 TS2345"]);
    expect(r.ours).toEqual([
      "4:14 yield n | chronots: yield of a non-Future value of type 'number'; an async function yields only Futures ('yield f' waits for the Future f, 'yield* f' also takes its value)",
    ]);
  });

  it("says how a promise becomes a Future", () => {
    const r = check(`import { async } from ${runtime};
export const f = async(function* (p: Promise<number>) {
  yield p;
});
`);
    expect(r.ours).toEqual([
      "3:3 yield p | chronots: yield of a non-Future value of type 'Promise<number>'; a promise becomes a Future with fromPromise(p); an async function yields only Futures ('yield f' waits for the Future f, 'yield* f' also takes its value)",
    ]);
  });

  it("judges only generators expected to yield chronots' Futures", () => {
    const r = check(`import { async, Future } from ${runtime};
class Future2<T> { value?: T }
const own = <R>(g: () => Generator<Future2<any>, R, unknown>) => g;
export const mine = own(function* () {
  yield new Future2<number>();
});
export function* plain() {
  yield 1;
}
export const typed = async(function* <F extends Future<number>>(f: F, u: unknown) {
  yield f;
  yield u as Future<void>;
});
`);
    expect(r.ts).toEqual([]);
    expect(r.ours).toEqual([]);
  });

  it("leaves what may be a Future alone: generic operands by their constraints, and generators allowed to yield more", () => {
    const r = check(`import { async, Future } from ${runtime};
export const pick = async(function* <M extends Record<string, Future<unknown>>, K extends keyof M>(m: M, k: K) {
  yield m[k];
});
declare function start<T>(x: T): T extends string ? Future<string> : Future<number>;
export const go = async(function* <T>(x: T) {
  yield start(x);
});
declare function drive(g: () => Generator<Future<unknown> | number | undefined, void, unknown>): void;
drive(function* () {
  yield 1;
  yield;
});
`);
    expect(r.ts).toEqual([]);
    expect(r.ours).toEqual([]);
  });

  it("an annotation yielding any does not hide a bad yield; one yielding a type TypeScript checks is left to it", () => {
    const r = check(`import { async, Future } from ${runtime};
export const loose = async(function* (): Generator<any, void, any> {
  yield 1;
});
export const exact = async(function* (): Generator<Future<any>, void, any> {
  yield 1;
});
`);
    expect(r.ts).toEqual(["6:9 TS2322"]);
    expect(r.ours).toEqual([expect.stringMatching(/^3:3 yield 1 \| chronots: yield of a non-Future value of type 'number';/)]);
  });

  it("judges a generator by what it is passed as, whatever its own annotation or where the yield sits", () => {
    const r = check(`import { async, Future } from ${runtime};
interface Steps extends Generator<any, void, any> {}
declare function run(g?: () => Generator<Future<any>, void, any>): void;
export const untyped = async(function* (): any {
  yield 1;
});
export const stepped = async(function* (): Steps {
  yield "two";
});
run(function* () {
  yield 3n;
});
export const keyed = async(function* (later: Future<string>) {
  const named = { [(yield later) as any]() {}, [(yield 4) as any]: 0 };
  return class { [(yield 5) as any]() {} };
});
`);
    expect(r.ours.map((l) => l.split(" | ")[0])).toEqual(["5:3 yield 1", "8:3 yield \"two\"", "11:3 yield 3n", "14:50 yield 4", "15:20 yield 5"]);
  });

  it("judges a generator whose type a cast hides when it is passed to chronots' async, and no other", () => {
    const r = check(`import { async as run } from ${runtime};
import * as C from ${runtime};
export const hidden = run((function* () {
  yield 1;
}) as any);
export const satisfied = C.async(function* () {
  yield "s";
} satisfies (...a: any[]) => Generator<unknown, void, unknown>);
export const asserted = run(<any>(function* () {
  yield;
})!);
declare function other(g: unknown): void;
other((function* () {
  yield 2;
}) as any);
const async = (g: unknown) => g;
async((function* () {
  yield 3;
}) as any);
`);
    // \`satisfies\` keeps the type TypeScript checks against async's parameter, at the function*.
    expect(r.ts).toEqual(["6:34 TS2345"]);
    expect(r.ours.map((l) => l.split(" | ")[0])).toEqual(["4:3 yield 1", "7:3 yield \"s\"", "10:3 yield"]);
  });

  it("judges a generator declared by name that a call of chronots' async takes, and no other", () => {
    const r = check(`import { async } from ${runtime};
function* w2(): Generator<any, number, any> {
  yield 5;
  return 1;
}
export const c = async(w2);
const w3 = (function* () {
  yield "s";
}) as any;
export const d = async((w3));
function* plain() {
  yield 6;
}
export const p = [...plain()];
export function* shadowed() {
  yield 7;
}
export const e = ((shadowed: any) => async(shadowed))(0);
`);
    expect(r.ts).toEqual([]);
    expect(r.ours.map((l) => l.split(" | ")[0])).toEqual(["3:3 yield 5", "8:3 yield \"s\""]);
  });

  it("reports only a type no Future could be: not object, {}, a type a Future has the shape of, or a generic bound to one", () => {
    const r = check(`import { async, Future } from ${runtime};
export const shapes = async(function* <T extends object>(a: object, b: {}, c: { readonly completed: boolean }, t: T, loose: any) {
  yield a;
  yield b;
  yield c;
  yield t;
  yield loose;
  yield { completed: true };
  yield new Future<never>();
});
`);
    expect(r.ts).toEqual([]);
    expect(r.ours.map((l) => l.split(" | ")[0])).toEqual(["8:3 yield { completed: true }"]);
  });

  it("'yield*' of an iterable an element of which cannot be a Future: a tuple, a string, a generator; not an array that may hold Futures", () => {
    const r = check(`import { async, type Future, sleepAsync } from ${runtime};
declare function numbers(): Generator<number, void, unknown>;
declare function futures(): Generator<Future<void>, void, unknown>;
export const f = async(function* (loose: any, pending: Future<void>[]) {
  yield* sleepAsync(1);
  yield* futures();
  yield* pending;
  yield loose;
  yield* numbers();
  yield* [pending[0]!, 2] as const;
  yield* [pending[0]!, 2];
  yield* "ab";
});
`);
    expect(r.ours.map((l) => l.replace(/; an async function yields only Futures.*$/, ""))).toEqual([
      "9:3 yield* numbers() | chronots: 'yield*' of a 'Generator<number, void, unknown>' yields its elements, of type 'number', not Futures",
      "10:3 yield* [pending[0]!, 2] as const | chronots: 'yield*' of a 'readonly [Future<void>, 2]' yields its elements, of type 'number', not Futures",
      "12:3 yield* \"ab\" | chronots: 'yield*' of a 'string' yields its elements, of type 'string', not Futures",
    ]);
  });

  it("'yield*' of any iterable whose element type is known: a Set, a Map, the built-in iterators, a user's iterable", () => {
    const r = check(`import { async, type Future } from ${runtime};
declare const counts: { [Symbol.iterator](): Iterator<number, void> };
// A symbol of the user's own, named alike, is not the iterator.
declare const iteratorKey: unique symbol;
declare const keyed: { [iteratorKey](): Iterator<number>; [Symbol.iterator](): Iterator<Future<void>> };
export const f = async(function* (pending: Set<Future<void>>, m: Map<string, number>) {
  yield* keyed;
  yield* pending;
  yield* pending.values();
  yield* new Set([5]);
  yield* m;
  yield* m.values();
  yield* [1, 2].values();
  yield* counts;
});
`);
    expect(r.ours.map((l) => l.replace(/; an async function yields only Futures.*$/, ""))).toEqual([
      "10:3 yield* new Set([5]) | chronots: 'yield*' of a 'Set<number>' yields its elements, of type 'number', not Futures",
      "11:3 yield* m | chronots: 'yield*' of a 'Map<string, number>' yields its elements, of type '[string, number]', not Futures",
      "12:3 yield* m.values() | chronots: 'yield*' of a 'MapIterator<number>' yields its elements, of type 'number', not Futures",
      "13:3 yield* [1, 2].values() | chronots: 'yield*' of a 'ArrayIterator<number>' yields its elements, of type 'number', not Futures",
      "14:3 yield* counts | chronots: 'yield*' of a '{ [Symbol.iterator](): Iterator<number, void, any>; }' yields its elements, of type 'number', not Futures",
    ]);
  });

  it("checks a file holding an expression nested deeper than a recursive walk goes", () => {
    const long = Array.from({ length: 3000 }, (_, i) => `"p${i}"`).join(" + ");
    const r = check(`import { async } from ${runtime};
export const s = ${long};
export const f = async(function* (n: number) {
  yield n;
});
`);
    expect(r.ours).toEqual([expect.stringMatching(/^4:3 yield n \| chronots: yield of a non-Future value of type 'number';/)]);
  });

  it("leaves a file TypeScript does not check alone", () => {
    const r = check(`// @ts-nocheck
import { async } from ${runtime};
export const f = async(function* () {
  yield 1;
});
`);
    expect(r.ours).toEqual([]);
  });

  it("a user's class named Future is not chronots': yielding one is reported", () => {
    const r = check(`import { async } from ${runtime};
class Future { done = true }
const looks: any = new Future();
export const f = async(function* () {
  yield looks;
  yield new Future();
});
`);
    expect(r.ours).toEqual([expect.stringMatching(/^6:3 yield new Future\(\) \| chronots: yield of a non-Future value of type 'Future';/)]);
  });
});
