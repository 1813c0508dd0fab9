/**
 * The yield rule: in an async function, `yield x` waits for the Future `x`; anything else is the
 * TypeError that the run-time driver and the lowered code throw ("yield of a non-Future value").
 * TypeScript rejects such a generator too, but at its `function*`, as a mismatch between the whole
 * generator's type and `async`'s parameter, eight lines deep. This rule puts an error on the yield
 * itself, naming the type.
 *
 * A yield is judged where TypeScript's contextual type says the generator yields chronots' Futures
 * (futures.ts): an argument of `async`, or of anything typed like it. Reported: `yield x` whose type
 * holds no Future, and a bare `yield`, which yields undefined. `any`, `unknown` and a union holding a
 * Future may be one at run time and are left alone; `yield*` delegates, to a Future or any iterable.
 */
import type ts from "typescript";
import { SK, tsi } from "./compiler.js";
import { futureTypes } from "./futures.js";

/** The diagnostic code of a yield of a non-Future: `error TS90002` in tsc's output. */
export const YIELD_CODE = 90002;

const ONLY_FUTURES = "an async function yields only Futures ('yield f' waits for the Future f, 'yield* f' also takes its value)";

export function badYields(program: ts.Program, sf: ts.SourceFile): ts.Diagnostic[] {
  const out: ts.Diagnostic[] = [];
  if (!sf.text.includes("yield")) return out;
  const checker = program.getTypeChecker();
  const { includesFuture } = futureTypes(checker);

  /** What the generator holding `y` is expected to yield: the contextual type of its operand, or of the generator's own yield. */
  const expected = (y: ts.YieldExpression): ts.Type | undefined => {
    if (y.expression) return checker.getContextualType(y.expression);
    const fn = tsi.findAncestor(y, tsi.isFunctionLike);
    const sig = fn && (tsi.isFunctionExpression(fn) || tsi.isArrowFunction(fn)) ? checker.getContextualType(fn)?.getCallSignatures()[0] : undefined;
    const generator = sig?.getReturnType();
    return generator && generator.flags & tsi.TypeFlags.Object && (generator as ts.ObjectType).objectFlags & tsi.ObjectFlags.Reference
      ? checker.getTypeArguments(generator as ts.TypeReference)[0]
      : undefined;
  };

  const report = (y: ts.YieldExpression, what: string) => {
    const start = y.getStart(sf);
    out.push({ file: sf, start, length: y.getEnd() - start, category: tsi.DiagnosticCategory.Error, code: YIELD_CODE, source: "chronots", messageText: `chronots: ${what}; ${ONLY_FUTURES}` });
  };

  tsi.forEachChild(sf, function visit(n): void {
    if (n.kind >= SK.FirstTypeNode && n.kind <= SK.LastTypeNode) return;
    if (tsi.isYieldExpression(n) && !n.asteriskToken) {
      const wanted = expected(n);
      if (wanted !== undefined && includesFuture(wanted)) {
        if (!n.expression) report(n, "a bare 'yield' yields undefined");
        else {
          const t = checker.getTypeAtLocation(n.expression);
          if (!(t.flags & (tsi.TypeFlags.Any | tsi.TypeFlags.Unknown | tsi.TypeFlags.Never)) && !includesFuture(t))
            report(n, `yield of a non-Future value of type '${checker.typeToString(checker.getBaseTypeOfLiteralType(t))}'`);
        }
      }
    }
    tsi.forEachChild(n, visit);
  });
  return out;
}
