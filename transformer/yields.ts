/**
 * The yield rule: in an async function, `yield x` waits for the Future `x`; anything else is the
 * TypeError that the run-time driver and the lowered code throw ("yield of a non-Future value").
 * TypeScript rejects such a generator too, but at its `function*`, as a mismatch between the whole
 * generator's type and `async`'s parameter, eight lines deep, and not at all once one `any` operand
 * or an annotation like `Generator<any, …>` makes the yield type any. This rule puts an error on the
 * yield itself, naming the type.
 *
 * A generator function expression is judged when TypeScript's contextual type for it (an argument
 * of `async`, or of anything typed like it) says it yields chronots' Futures and nothing else, or,
 * when a cast hides that type (`async((function* () {…}) as any)`, `satisfies`), when it is the argument of a
 * call of chronots' `async` (recognize.ts). A generator declared by name (`function* w …`, `const w =
 * function* …`), which no contextual type reaches, is judged when a call of chronots' `async` in the same
 * file takes that name (`async(w)`): the yields are judged after a walk that finds those calls.
 * Reported: a bare `yield`, which yields undefined, and `yield x` where no Future could be an `x`:
 * `x`'s type (a generic one's constraint) holds no Future, and a Future is not assignable to it. So `any`, `unknown`,
 * `object`, a union holding a Future and an unconstrained type parameter are left alone. `yield* x`
 * of something no Future could be yields x's elements: reported when the type says what they are
 * (an array, each element of a tuple, a string, and any iterable by its iterator's `next().value`: a generator,
 * a Set, a Map's entries, `arr.values()`) and one of them cannot be a Future, so delegating to a
 * plain generator of Futures stays allowed. A yield TypeScript already reports an error at (one
 * checked against the generator's own annotation) is left to it, and so is a file TypeScript does
 * not check (`// @ts-nocheck`, JavaScript without `checkJs`).
 */
import type * as ts from "typescript";
import { forEachDescendant, SK, tsi } from "./compiler.js";
import { isWrapper, unparen, Unsupported } from "./analyze.js";
import { futureTypes, typeChecked } from "./futures.js";
import type { Recognizer } from "./lower.js";
import { checkerRecognizer } from "./recognize.js";

/** The diagnostic code of a yield of a non-Future: `error TS90002` in tsc's output. */
export const YIELD_CODE = 90002;

const ONLY_FUTURES = "an async function yields only Futures ('yield f' waits for the Future f, 'yield* f' also takes its value)";
const GENERATOR_TYPES = new Set(["Generator", "Iterator", "IterableIterator", "Iterable"]);

/** A member declared `[Symbol.iterator]`, as the library's iterables and a user's are. */
function isSymbolIterator(d: ts.Declaration): boolean {
  const name = (d as ts.NamedDeclaration).name;
  if (!name || !tsi.isComputedPropertyName(name)) return false;
  const e = name.expression;
  return tsi.isPropertyAccessExpression(e) && e.name.text === "iterator" && tsi.isIdentifier(e.expression) && e.expression.text === "Symbol";
}

export function badYields(program: ts.Program, sf: ts.SourceFile): ts.Diagnostic[] {
  const out: ts.Diagnostic[] = [];
  if (!sf.text.includes("yield") || !typeChecked(sf, program.getCompilerOptions())) return out;
  const checker = program.getTypeChecker();
  const { includesFuture, alwaysFuture, typeOf } = futureTypes(checker);
  /** The calls of one name, `f(name)`, by that name: those that may pass a generator declared by name to `async`. */
  const byName = new Map<string, ts.CallExpression[]>();
  /** Per generator function: the Future type it must yield, or undefined when it is not judged. */
  const expectedOf = new Map<ts.Node, ts.Type | undefined>();
  /** Where TypeScript's own errors in this file start (computed already by the host, which reports them). */
  let reported: Set<number> | undefined;
  const typescriptReports = (y: ts.YieldExpression) => {
    reported ??= new Set(program.getSemanticDiagnostics(sf).map((d) => d.start ?? -1));
    for (const at of reported) if (at >= y.getStart(sf) && at < y.end) return true;
    return false;
  };

  /** What a generator type yields (its first type argument), when it is one of the library's generator types. */
  const yieldTypeOf = (t: ts.Type | undefined): ts.Type | undefined =>
    t && t.flags & tsi.TypeFlags.Object && (t as ts.ObjectType).objectFlags & tsi.ObjectFlags.Reference && GENERATOR_TYPES.has(t.getSymbol()?.name ?? "")
      ? checker.getTypeArguments(t as ts.TypeReference)[0]
      : undefined;

  let recognize: Recognizer | undefined;
  /** Whether `call` is a call of chronots' `async`, one the lowering may refuse included. */
  const callsAsync = (call: ts.CallExpression): boolean => {
    recognize ??= checkerRecognizer(program);
    try {
      return recognize(call) !== undefined;
    } catch (e) {
      if (e instanceof Unsupported) return true;
      throw e;
    }
  };

  /** What the generator a call of chronots' `async` takes must yield. */
  const asyncYield = (call: ts.CallExpression): ts.Type | undefined => {
    const param = checker.getResolvedSignature(call)?.parameters[0];
    return yieldTypeOf(param && checker.getTypeOfSymbol(param).getCallSignatures()[0]?.getReturnType());
  };

  /** `fn` with the wrappers around it (parentheses, casts). */
  const wrapped = (fn: ts.Node): ts.Node => {
    while (isWrapper(fn.parent)) fn = fn.parent;
    return fn;
  };

  /** What the generator an `async()` call takes must yield, when `fn` is that call's argument under a cast that hides its type (`as any`, `satisfies`). */
  const castIntoAsync = (fn: ts.FunctionExpression): ts.Type | undefined => {
    const arg = wrapped(fn);
    const call = arg.parent;
    return tsi.isCallExpression(call) && call.arguments.length === 1 && call.arguments[0] === arg && callsAsync(call) ? asyncYield(call) : undefined;
  };

  /**
   * What `fn` must yield when it is declared by name (`function* w …`, `const w = function* …`) and a
   * call of this file passes that name to chronots' `async` (`async(w)`), where no contextual type reaches it.
   */
  const namedIntoAsync = (fn: GeneratorFn): ts.Type | undefined => {
    const decl = tsi.isFunctionDeclaration(fn) ? fn : wrapped(fn).parent;
    if (!(tsi.isFunctionDeclaration(decl) || (tsi.isVariableDeclaration(decl) && decl.initializer === wrapped(fn))) || !decl.name || !tsi.isIdentifier(decl.name)) return undefined;
    const symbol = checker.getSymbolAtLocation(decl.name);
    const call = symbol && byName.get(decl.name.text)?.find((c) => checker.getSymbolAtLocation(unparen(c.arguments[0]!)) === symbol && callsAsync(c));
    return call && asyncYield(call);
  };

  const expectedYield = (fn: GeneratorFn): ts.Type | undefined => {
    if (tsi.isFunctionExpression(fn)) {
      const context = checker.getContextualType(fn);
      const sig = context && checker.getNonNullableType(context).getCallSignatures()[0];
      const expected = yieldTypeOf(sig?.getReturnType());
      if (expected && alwaysFuture(expected)) return expected;
      const cast = castIntoAsync(fn);
      if (cast && alwaysFuture(cast)) return cast;
    }
    const named = namedIntoAsync(fn);
    return named && alwaysFuture(named) ? named : undefined;
  };

  /** The Future type the generator holding `y` must yield, when this rule judges it (asked once per generator). */
  const expected = (y: ts.YieldExpression): ts.Type | undefined => {
    const fn = generatorOf(y);
    if (!fn) return undefined;
    if (!expectedOf.has(fn)) expectedOf.set(fn, expectedYield(fn));
    return expectedOf.get(fn);
  };

  /** Whether no Future could be a value of type `t` (a generic type: of its constraint). */
  const neverFuture = (t: ts.Type, future: ts.Type): boolean => {
    let known: ts.Type | undefined = t;
    if (t.flags & tsi.TypeFlags.Instantiable) {
      known = checker.getBaseConstraintOfType(t);
      if (known === t) known = undefined;
    }
    if (known === undefined || known.flags & (tsi.TypeFlags.Any | tsi.TypeFlags.Unknown | tsi.TypeFlags.Never)) return false;
    // A Future of any value type is one (assignability alone would refuse `Future<never>`), and so may be what a Future is assignable to (`object`, `{}`).
    return !includesFuture(known) && !checker.isTypeAssignableTo(future, known);
  };

  const report = (y: ts.YieldExpression, what: string) => {
    if (typescriptReports(y)) return;
    const start = y.getStart(sf);
    out.push({ file: sf, start, length: y.getEnd() - start, category: tsi.DiagnosticCategory.Error, code: YIELD_CODE, source: "chronots", messageText: `chronots: ${what}; ${ONLY_FUTURES}` });
  };

  /** The type of a call of the method `p`, when it has one call signature. */
  const callOf = (p: ts.Symbol | undefined): ts.Type | undefined => {
    const sigs = p && checker.getTypeOfSymbol(p).getCallSignatures();
    return sigs?.length === 1 ? checker.getReturnTypeOfSignature(sigs[0]!) : undefined;
  };

  /**
   * What iterating a value of type `t` gives: the `value` of its `[Symbol.iterator]().next()` while not
   * `done`. Asked of the type itself, so any iterable is judged (Set, Map, the ArrayIterator and others
   * of TypeScript 5.6, a user's), not only a list of the library's iterable types. The checker has no
   * public call for it. A symbol-keyed property is named `__@<description>@<id>`, so a user's own
   * `[iteratorKey]()` is named alike: the one declared as `[Symbol.iterator]` is the iterator.
   */
  const iterated = (t: ts.Type): ts.Type | undefined => {
    const apparent = checker.getApparentType(t);
    const iterator = callOf(apparent.getProperties().find((p) => (p.escapedName as string).startsWith("__@iterator@") && !!p.declarations?.some(isSymbolIterator)));
    const result = iterator && callOf(iterator.getProperty("next"));
    if (!result) return undefined;
    // IteratorResult: the members whose `done` may be false carry the elements.
    const values = (result.isUnion() ? result.types : [result]).flatMap((r) => {
      const done = r.getProperty("done");
      const value = r.getProperty("value");
      return value && !(done && checker.getTypeOfSymbol(done) === checker.getTrueType()) ? [checker.getTypeOfSymbol(value)] : [];
    });
    return values.length === 1 ? values[0] : undefined;
  };

  /** What iterating a value of type `t` gives, where the type says it: a tuple's elements one by one, a string's characters, any other iterable's element type. */
  const elementsOf = (t: ts.Type): readonly ts.Type[] | undefined => {
    if (t.flags & tsi.TypeFlags.StringLike) return [checker.getStringType()];
    if (checker.isArrayType(t) || checker.isTupleType(t)) return checker.getTypeArguments(t as ts.TypeReference);
    const e = iterated(t);
    return e && [e];
  };

  const typeName = (t: ts.Type) => checker.typeToString(checker.getBaseTypeOfLiteralType(t));
  /** A hint for a promise, the commonest thing yielded by mistake. */
  const promiseHint = (t: ts.Type) => (checker.getPropertyOfType(checker.getApparentType(t), "then") ? "; a promise becomes a Future with fromPromise(p)" : "");

  const judge = (y: ts.YieldExpression) => {
    const future = expected(y);
    if (!future) return;
    if (!y.expression) return report(y, "a bare 'yield' yields undefined");
    const t = typeOf(y.expression);
    if (!neverFuture(t, future)) return;
    if (!y.asteriskToken) return report(y, `yield of a non-Future value of type '${typeName(t)}'${promiseHint(t)}`);
    // `yield*` of an iterable other than a Future yields each of its elements in turn.
    const bad = elementsOf(t)?.find((e) => neverFuture(e, future));
    if (bad) report(y, `'yield*' of a '${typeName(t)}' yields its elements, of type '${typeName(bad)}', not Futures`);
  };

  // The yields are judged after the walk: a generator declared by name may be passed to `async` further down.
  const yields: ts.YieldExpression[] = [];
  forEachDescendant(sf, (n) => {
    if (n.kind >= SK.FirstTypeNode && n.kind <= SK.LastTypeNode) return false;
    if (tsi.isYieldExpression(n)) yields.push(n);
    else if (tsi.isCallExpression(n) && n.arguments.length === 1) {
      const arg = unparen(n.arguments[0]!);
      const calls = tsi.isIdentifier(arg) ? byName.get(arg.text) : undefined;
      if (calls) calls.push(n);
      else if (tsi.isIdentifier(arg)) byName.set(arg.text, [n]);
    }
    return true;
  });
  yields.forEach(judge);
  return out;
}

/** A generator function: an expression, or a declaration. */
type GeneratorFn = ts.FunctionExpression | ts.FunctionDeclaration;

/** The generator function a yield belongs to: the nearest function, past a method whose computed name holds the yield. */
function generatorOf(y: ts.YieldExpression): GeneratorFn | undefined {
  let n: ts.Node | undefined = y.parent;
  while (n && !tsi.isFunctionLike(n)) {
    // `{ [(yield f)]() {} }`: the name is evaluated in the enclosing function, not the method it names.
    if (tsi.isComputedPropertyName(n) && tsi.isFunctionLike(n.parent)) n = n.parent;
    n = n.parent;
  }
  return n && (tsi.isFunctionExpression(n) || tsi.isFunctionDeclaration(n)) && n.asteriskToken ? n : undefined;
}
