/**
 * The yield rule: in an async function, `yield x` waits for the Future `x`; anything else is the
 * TypeError that the run-time driver and the lowered code throw ("yield of a non-Future value").
 * TypeScript rejects such a generator too, but at its `function*`, as a mismatch between the whole
 * generator's type and `async`'s parameter, eight lines deep, and not at all once one `any` operand
 * or an annotation like `Generator<any, …>` makes the yield type any. This rule puts an error on the
 * yield itself, naming the type.
 *
 * A generator function expression is judged when TypeScript's contextual type for it (an argument
 * of `async`, or of anything typed like it) says it yields chronots' Futures and nothing else. One
 * whose own return type annotation yields something other than any or unknown is left to
 * TypeScript, which checks each yield against that annotation. Reported: `yield x` whose type holds
 * no Future, and a bare `yield`, which yields undefined. An operand typed any or unknown, or generic
 * with no constraint saying otherwise, may be a Future at run time and is left alone, as is a union
 * holding a Future; `yield*` delegates, to a Future or to any iterable.
 */
import type ts from "typescript";
import { SK, tsi } from "./compiler.js";
import { futureTypes } from "./futures.js";

/** The diagnostic code of a yield of a non-Future: `error TS90002` in tsc's output. */
export const YIELD_CODE = 90002;

const ONLY_FUTURES = "an async function yields only Futures ('yield f' waits for the Future f, 'yield* f' also takes its value)";
const GENERATOR_TYPES = new Set(["Generator", "Iterator", "IterableIterator", "Iterable"]);

export function badYields(program: ts.Program, sf: ts.SourceFile): ts.Diagnostic[] {
  const out: ts.Diagnostic[] = [];
  if (!sf.text.includes("yield")) return out;
  const checker = program.getTypeChecker();
  const { includesFuture, alwaysFuture } = futureTypes(checker);
  const judged = new Map<ts.Node, boolean>();

  /** What a generator type yields (its first type argument), when it is one of the library's generator types. */
  const yieldTypeOf = (t: ts.Type | undefined): ts.Type | undefined =>
    t && t.flags & tsi.TypeFlags.Object && (t as ts.ObjectType).objectFlags & tsi.ObjectFlags.Reference && GENERATOR_TYPES.has(t.getSymbol()?.name ?? "")
      ? checker.getTypeArguments(t as ts.TypeReference)[0]
      : undefined;

  const mustYieldFutures = (fn: ts.FunctionExpression): boolean => {
    if (fn.type) {
      const own = yieldTypeOf(checker.getTypeFromTypeNode(fn.type));
      if (!own || !(own.flags & (tsi.TypeFlags.Any | tsi.TypeFlags.Unknown))) return false;
    }
    const expected = yieldTypeOf(checker.getContextualType(fn)?.getCallSignatures()[0]?.getReturnType());
    return expected !== undefined && alwaysFuture(expected);
  };

  /** Whether the yields of the generator holding `y` are this rule's to judge (asked once per generator). */
  const judges = (y: ts.YieldExpression): boolean => {
    const fn = tsi.findAncestor(y.parent, tsi.isFunctionLike);
    if (!fn || !tsi.isFunctionExpression(fn) || !fn.asteriskToken) return false;
    let must = judged.get(fn);
    if (must === undefined) judged.set(fn, (must = mustYieldFutures(fn)));
    return must;
  };

  /** Whether the operand's type rules a Future out: not any or unknown, and a generic one only by its constraint. */
  const neverFuture = (t: ts.Type): boolean => {
    let known: ts.Type | undefined = t;
    if (t.flags & tsi.TypeFlags.Instantiable) {
      known = checker.getBaseConstraintOfType(t);
      if (known === t) known = undefined;
    }
    return known !== undefined && !(known.flags & (tsi.TypeFlags.Any | tsi.TypeFlags.Unknown | tsi.TypeFlags.Never)) && !includesFuture(known);
  };

  const report = (y: ts.YieldExpression, what: string) => {
    const start = y.getStart(sf);
    out.push({ file: sf, start, length: y.getEnd() - start, category: tsi.DiagnosticCategory.Error, code: YIELD_CODE, source: "chronots", messageText: `chronots: ${what}; ${ONLY_FUTURES}` });
  };

  tsi.forEachChild(sf, function visit(n): void {
    if (n.kind >= SK.FirstTypeNode && n.kind <= SK.LastTypeNode) return;
    if (tsi.isYieldExpression(n) && !n.asteriskToken && judges(n)) {
      if (!n.expression) report(n, "a bare 'yield' yields undefined");
      else {
        const t = checker.getTypeAtLocation(n.expression);
        if (neverFuture(t)) report(n, `yield of a non-Future value of type '${checker.typeToString(checker.getBaseTypeOfLiteralType(t))}'`);
      }
    }
    tsi.forEachChild(n, visit);
  });
  return out;
}
