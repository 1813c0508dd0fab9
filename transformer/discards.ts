/**
 * The asyncCheck rule: every chronots Future whose value is dropped is reported (SPEC "Discarded futures").
 *
 * One walk over a source file looks at the places where a value is thrown away: expression statements,
 * `void x`, the left operand of every comma (and the right one when the comma itself is dropped), the
 * branches of `?:`/`&&`/`||`/`??` when the whole expression is dropped, and the initializer/incrementor
 * of a `for`. A dropped expression is reported when the checker says its type is, or includes, chronots'
 * `Future` (subclasses and unions count). Assignments, `yield` and `yield*` are never "dropped": their
 * Future went somewhere. An `await`, and a `for await` over an array, give a Future back unwaited: reported
 * at the operand. A value only tested for truth (a condition, the operand of `!`, the left one
 * of `&&`, and of `||`/`??` when the whole is dropped) is reported when it is always a Future and a
 * fresh value: it is then always true, and thrown away once tested. A variable or member there, or a
 * value that may be absent (`map.get(k)`), is a presence test, whose Future stays where it is kept
 * (`this.timer && this.timer.cancel()`); without strictNullChecks no type tells the two apart, and
 * tests are left alone. Wrappers JavaScript does not see (parentheses, `!`, casts) are looked through:
 * a cast hides no Future. A call returning its receiver (`futs.sort()`) is judged by that receiver.
 *
 * A file TypeScript does not check gets no report, and a `// @ts-ignore` silences one as it silences
 * TypeScript's own errors.
 *
 * Callbacks follow typescript-eslint's `checksVoidReturn` idea: an argument or JSX attribute value
 * whose contextual type is a function returning `void` (forEach, callSoon, event handlers, `onClick`),
 * or a type parameter constrained to one (`<F extends () => void>(f: F)`), drops whatever Future it
 * returns. An inline function is checked at its returned expressions, anything else at the value itself.
 *
 * "chronots' Future" is as futures.ts says: a user's own class named Future is not it.
 *
 * It runs on the compiler the entry point was given (compiler.ts): a tsserver plugin must use the editor's.
 */
import type * as ts from "typescript";
import { unparen } from "./analyze.js";
import { contains, forEachDescendant, SK, strictOption, tsi } from "./compiler.js";
import { categoryOf, type Severity } from "./entry.js";
import { futureTypes, typeChecked } from "./futures.js";

/** The diagnostic code of a discarded Future: `error TS90001` in tsc's output. */
export const DISCARDED_CODE = 90001;

export function discardedFutures(program: ts.Program, sf: ts.SourceFile, severity: Severity): ts.Diagnostic[] {
  if (severity === "off" || !typeChecked(sf, program.getCompilerOptions())) return [];
  const checker = program.getTypeChecker();
  const category = categoryOf(severity);
  const out: ts.Diagnostic[] = [];
  // `a && b` as a statement drops `a` and tests it too: reported once.
  const reported = new Set<ts.Expression>();
  const { includesFuture, alwaysFuture, typeOf } = futureTypes(checker);
  const strictNulls = strictOption(program.getCompilerOptions(), "strictNullChecks");

  /**
   * Report `e`: a Future dropped as it is, or (a call, or a callback whose result is ignored) the
   * Future it returns; `awaited` when an `await` gave it back unwaited, a Future being no promise.
   */
  function report(e: ts.Expression, returns = tsi.isCallExpression(e) || tsi.isNewExpression(e) || tsi.isTaggedTemplateExpression(e), awaited = false): void {
    const wait = awaited ? "'await waitForAsync(…)'" : waitHere(e, "…");
    const what = `Future ${returns ? "returned by " : ""}'${shorten(tokens(e, sf))}' is discarded${awaited ? " by 'await', which does not wait for a chronots Future" : ""}`;
    push(e, `chronots: ${what}; wait for it with ${wait}, hand it to 'asyncCheck(…)', or drop it on purpose with 'asyncDiscard(…)'`);
  }

  /** Report `e`, an array or tuple of Futures dropped as it is, or the one a call returns (`ids.map(job)`); `by` a loop that gives each back unwaited. */
  function reportAll(e: ts.Expression, by?: string): void {
    const returns = tsi.isCallExpression(e) || tsi.isNewExpression(e) || tsi.isTaggedTemplateExpression(e);
    const what = `Futures ${returns ? "returned by" : "in"} '${shorten(tokens(e, sf))}' are discarded${by ? ` by ${by}, which does not wait for a chronots Future` : ""}`;
    push(e, `chronots: ${what}; wait for them with ${waitHere(e, "allFutures(…)")}, hand each to 'asyncCheck(…)', or drop them on purpose with 'asyncDiscard(…)'`);
  }

  function push(e: ts.Expression, messageText: string): void {
    const start = e.getStart(sf);
    if (reported.has(e) || ignored(sf, start)) return;
    reported.add(e);
    out.push({ file: sf, start, length: e.getEnd() - start, category, code: DISCARDED_CODE, source: "chronots", messageText });
  }

  /** Whether `t` is an array or tuple some of whose elements may be Futures, or a union or intersection with one among its members (`Future<T>[] | undefined`, an optional chain's). */
  function holdsFutures(t: ts.Type): boolean {
    if (t.isUnionOrIntersection()) return t.types.some(holdsFutures);
    return (checker.isArrayType(t) || checker.isTupleType(t)) && checker.getTypeArguments(t as ts.TypeReference).some(includesFuture);
  }

  /** `e`'s value is thrown away. */
  function drop(outer: ts.Expression): void {
    // A cast changes only the static type: the value dropped is the one inside (`f() as any;`), named as itself.
    const e = unparen(outer);
    if (tsi.isYieldExpression(e)) return;
    if (tsi.isArrayLiteralExpression(e)) {
      // `[job(), other()];`: an array thrown away drops what it holds.
      for (const el of e.elements) if (!tsi.isOmittedExpression(el)) drop(tsi.isSpreadElement(el) ? el.expression : el);
      return;
    }
    if (tsi.isObjectLiteralExpression(e)) {
      for (const p of e.properties) {
        if (tsi.isPropertyAssignment(p)) drop(p.initializer);
        else if (tsi.isShorthandPropertyAssignment(p)) drop(p.name);
        else if (tsi.isSpreadAssignment(p)) drop(p.expression);
      }
      return;
    }
    if (tsi.isConditionalExpression(e)) {
      drop(e.whenTrue);
      drop(e.whenFalse);
      return;
    }
    if (tsi.isBinaryExpression(e)) {
      const op = e.operatorToken.kind;
      if (op === SK.CommaToken) return drop(e.right); // the left operand is dropped wherever the comma is
      if (op >= SK.FirstAssignment && op <= SK.LastAssignment) return;
      if (op === SK.AmpersandAmpersandToken || op === SK.BarBarToken || op === SK.QuestionQuestionToken) {
        tested(e.left);
        return drop(e.right);
      }
    }
    if (tsi.isVoidExpression(e)) return; // its operand is dropped wherever the `void` is
    if (reportedAtAwait(e)) return;
    if (notAnObject(e) || tsi.isFunctionExpression(e) || tsi.isArrowFunction(e)) return;
    const types = seenAs(e, outer);
    const future = types.some(includesFuture);
    if (!future && !types.some(holdsFutures)) return;
    if (tsi.isCallExpression(e) && isReference(holder(e))) return; // `futs.sort();`: the Futures stay in `futs`
    if (future) report(e);
    else reportAll(e);
  }

  /**
   * `outer`'s value is only tested for truth: a fresh Future there (`if (job())`, `job() && x`) is always
   * true and thrown away. A variable or member, or a value that may be absent (`map.get(k)`,
   * `list.find(…)`), is a presence test: its Future stays where it is kept.
   */
  function tested(outer: ts.Expression): void {
    // Without strictNullChecks a type does not say whether the value may be absent: a lookup would read as a fresh Future.
    if (!strictNulls) return;
    const e = unparen(outer);
    if (tsi.isConditionalExpression(e)) {
      tested(e.whenTrue);
      tested(e.whenFalse);
      return;
    }
    if (tsi.isBinaryExpression(e)) {
      const op = e.operatorToken.kind;
      if (op === SK.CommaToken) return tested(e.right);
      if (op === SK.AmpersandAmpersandToken || op === SK.BarBarToken || op === SK.QuestionQuestionToken) {
        tested(e.left);
        tested(e.right);
      }
      return;
    }
    if (tsi.isYieldExpression(e) || reportedAtAwait(e) || notAnObject(e) || tsi.isFunctionExpression(e) || tsi.isArrowFunction(e)) return;
    // Its own type: a `!` or a cast around it says nothing of whether it may be absent.
    if (alwaysFuture(typeOf(e)) && !isReference(holder(e))) report(e);
  }

  /**
   * What `e`'s value is, past the calls that return their receiver: a method whose declared return type
   * is `this` (Array's `sort`, `fill`, `copyWithin`; a Future subclass's `me(): this`) or Array's `reverse`,
   * which lib declares `T[]` but reverses in place.
   */
  function holder(e: ts.Expression): ts.Expression {
    while (tsi.isCallExpression(e) && (tsi.isPropertyAccessExpression(e.expression) || tsi.isElementAccessExpression(e.expression)) && returnsReceiver(e)) e = unparen(e.expression.expression);
    return e;
  }

  function returnsReceiver(call: ts.CallExpression): boolean {
    const decl = checker.getResolvedSignature(call)?.declaration;
    if (!decl || tsi.isJSDocSignature(decl)) return false;
    const owner = decl.parent;
    if (tsi.isInterfaceDeclaration(owner) && owner.name.text === "Array" && decl.name?.getText() === "reverse" && program.isSourceFileDefaultLibrary(decl.getSourceFile())) return true;
    // A `this` type is a type parameter whose symbol is its class's or interface's, that type's `thisType`.
    const declared = checker.getSignatureFromDeclaration(decl);
    const t = declared && checker.getReturnTypeOfSignature(declared);
    const of = t && t.flags & tsi.TypeFlags.TypeParameter ? t.getSymbol() : undefined;
    return !!of && (checker.getDeclaredTypeOfSymbol(of) as ts.InterfaceType).thisType === t;
  }

  /** The types of `e`, the value inside the wrappers of `outer`: its own and, under a cast, the one asserted (`g() as Future<T>`). */
  function seenAs(e: ts.Expression, outer: ts.Expression): ts.Type[] {
    return e === outer ? [typeOf(e)] : [typeOf(e), checker.getTypeAtLocation(outer)];
  }

  /** An `await` of a Future: reported at its operand, which the `await` gives back unwaited. */
  function reportedAtAwait(e: ts.Expression): boolean {
    return tsi.isAwaitExpression(e) && awaitedFuture(e) !== undefined;
  }

  /** The Future an `await` gives back unwaited, inside any cast (`await (f() as unknown as Promise<T>)`). */
  function awaitedFuture(a: ts.AwaitExpression): ts.Expression | undefined {
    const operand = unparen(a.expression);
    return !notAnObject(operand) && seenAs(operand, a.expression).some(includesFuture) ? operand : undefined;
  }

  /** An argument passed where a function returning void is expected. */
  function checkCallback(arg: ts.Expression): void {
    if (notAnObject(arg)) return;
    const expected = checker.getContextualType(arg);
    if (expected === undefined || !(returnsOnlyVoid(expected) || constrainedToVoid(arg, expected))) return;
    // A cast hides nothing here either: `(() => job()) as () => void` still drops what `job()` returns.
    const fn = unparen(arg);
    if (tsi.isArrowFunction(fn) || tsi.isFunctionExpression(fn)) {
      if (fn.asteriskToken) return;
      if (!tsi.isBlock(fn.body)) return drop(fn.body);
      forEachReturn(fn.body, (r) => r.expression && drop(r.expression));
      return;
    }
    const returned = checker.getTypeAtLocation(fn).getCallSignatures().map((s) => s.getReturnType());
    if (returned.some(includesFuture)) report(fn, true);
  }

  /**
   * Whether `arg` stands for a type parameter of the called function constrained to a function returning
   * void (`defer<F extends () => void>(f: F): void`): the contextual type is then what was inferred from
   * `arg` itself. Only where the call gives back nothing that could hold `F` (a function returning void or
   * a primitive) and no other parameter could take it out: `wrap<F extends () => void>(f: F): F` hands the
   * callback back, Future and all.
   */
  function constrainedToVoid(arg: ts.Expression, expected: ts.Type): boolean {
    const call = arg.parent;
    // A `new` gives back an object, which may keep the callback.
    if (!(expected.isUnion() ? expected.types : [expected]).some((m) => m.getCallSignatures().length > 0) || !tsi.isCallExpression(call)) return false;
    const decl = checker.getResolvedSignature(call)?.declaration;
    if (!decl || tsi.isJSDocSignature(decl) || !decl.typeParameters) return false;
    const declared = checker.getSignatureFromDeclaration(decl);
    if (!declared || !givesNothingBack(declared.getReturnType())) return false;
    const params = declared.parameters;
    const at = call.arguments.indexOf(arg);
    const last = params[params.length - 1]?.valueDeclaration;
    const rest = last !== undefined && tsi.isParameter(last) && last.dotDotDotToken !== undefined;
    const param = at < params.length ? params[at] : rest ? params[params.length - 1] : undefined;
    if (!param) return false;
    let t = checker.getTypeOfSymbol(param);
    if (rest && at >= params.length - 1) t = checker.getIndexTypeOfType(t, tsi.IndexKind.Number) ?? t;
    // An optional or nullable one's `F | undefined`.
    if (t.isUnion()) t = t.types.find((m) => m.flags & tsi.TypeFlags.TypeParameter) ?? t;
    // A type parameter of the function called, not of a class around it, which the class's type arguments fix.
    const own = t.flags & tsi.TypeFlags.TypeParameter && t.symbol?.declarations?.some((d) => d.parent === decl);
    const constraint = own ? checker.getBaseConstraintOfType(t) : undefined;
    if (constraint === undefined || !returnsOnlyVoid(constraint)) return false;
    // Nor where another parameter could take the callback out (`out: { f?: F }`, `Map<string, F>`).
    const name = t.symbol.name;
    const names = (n: ts.Node) => tsi.isTypeReferenceNode(n) && tsi.isIdentifier(n.typeName) && n.typeName.text === name;
    return !decl.parameters.some((p) => p.type && p !== param.valueDeclaration && contains(p.type, names));
  }

  /** A return type that holds no function: void, undefined, never, a primitive, or a union of those. */
  function givesNothingBack(t: ts.Type): boolean {
    const F = tsi.TypeFlags;
    const none = F.Void | F.Undefined | F.Never | F.Null | F.BooleanLike | F.NumberLike | F.StringLike | F.BigIntLike;
    return (t.isUnion() ? t.types : [t]).every((m) => (m.flags & none) !== 0);
  }

  function returnsOnlyVoid(t: ts.Type): boolean {
    const sigs = (t.isUnion() ? t.types : [t]).flatMap((m) => m.getCallSignatures());
    return sigs.length > 0 && sigs.every((s) => (s.getReturnType().flags & tsi.TypeFlags.Void) !== 0);
  }

  function forEachReturn(body: ts.Node, f: (r: ts.ReturnStatement) => void): void {
    forEachDescendant(body, (n) => {
      if (tsi.isReturnStatement(n)) f(n);
      return !tsi.isFunctionLike(n) && !tsi.isClassLike(n);
    });
  }

  // Node kinds are compared directly and type-only subtrees skipped: the walk covers every node of every file.
  forEachDescendant(sf, (n) => {
    const k = n.kind;
    if (k >= SK.FirstTypeNode && k <= SK.LastTypeNode) return false;
    switch (k) {
      case SK.InterfaceDeclaration:
      case SK.TypeAliasDeclaration:
      case SK.TypeParameter:
      case SK.ImportDeclaration:
      case SK.ExportDeclaration:
        return false;
      case SK.ExpressionStatement:
      case SK.VoidExpression:
        drop((n as ts.ExpressionStatement | ts.VoidExpression).expression);
        break;
      case SK.BinaryExpression: {
        const { operatorToken, left } = n as ts.BinaryExpression;
        if (operatorToken.kind === SK.CommaToken) drop(left);
        else if (operatorToken.kind === SK.AmpersandAmpersandToken) tested(left);
        break;
      }
      case SK.ForOfStatement: {
        // `for await` waits for each promise an iterable holds, and gives a Future back unwaited, as `await` does.
        const { awaitModifier, expression } = n as ts.ForOfStatement;
        const e = unparen(expression);
        if (awaitModifier && (tsi.isArrayLiteralExpression(e) || !notAnObject(e)) && seenAs(e, expression).some(holdsFutures)) reportAll(e, "'for await'");
        break;
      }
      case SK.ForStatement: {
        const { initializer, condition, incrementor } = n as ts.ForStatement;
        if (initializer && !tsi.isVariableDeclarationList(initializer)) drop(initializer);
        if (condition) tested(condition);
        if (incrementor) drop(incrementor);
        break;
      }
      case SK.IfStatement:
      case SK.WhileStatement:
      case SK.DoStatement:
        tested((n as ts.IfStatement | ts.WhileStatement | ts.DoStatement).expression);
        break;
      case SK.ConditionalExpression:
        tested((n as ts.ConditionalExpression).condition);
        break;
      case SK.PrefixUnaryExpression:
        if ((n as ts.PrefixUnaryExpression).operator === SK.ExclamationToken) tested((n as ts.PrefixUnaryExpression).operand);
        break;
      case SK.AwaitExpression: {
        const future = awaitedFuture(n as ts.AwaitExpression);
        if (future) report(future, undefined, true);
        break;
      }
      case SK.CallExpression:
      case SK.NewExpression:
        for (const a of (n as ts.CallExpression | ts.NewExpression).arguments ?? []) if (a.kind !== SK.SpreadElement) checkCallback(a);
        break;
      case SK.JsxAttribute: {
        const init = (n as ts.JsxAttribute).initializer;
        if (init && tsi.isJsxExpression(init) && init.expression) checkCallback(init.expression);
        break;
      }
    }
    return true;
  });
  return out;
}

/**
 * How to wait for `what` (a Future, or `allFutures(…)` of several) where `e` stands: `yield*` in a
 * generator, `await waitForAsync` in an async function (an async generator too), else `waitFor`; so
 * too in a parameter, a class field or static block, where neither `yield` nor `await` may stand. In
 * a plain arrow or function expression directly inside a generator or an async function (a callback,
 * mostly) it names the way of the function around it: `waitFor` there would run the dispatcher's
 * steps inside that function's step.
 */
function waitHere(e: ts.Node, what: string): string {
  let inner = false;
  for (let n = e.parent; n; n = n.parent) {
    if (tsi.isParameter(n) || tsi.isPropertyDeclaration(n) || tsi.isClassStaticBlockDeclaration(n)) break;
    if (!tsi.isFunctionLike(n)) continue;
    const around = inner ? " in the function around this one" : "";
    if (tsi.canHaveModifiers(n) && n.modifiers?.some((m) => m.kind === SK.AsyncKeyword)) return `'await waitForAsync(${what})'${around}`;
    if ((n as ts.FunctionLikeDeclaration).asteriskToken) return `'yield* ${what}'${around}`;
    if (inner || !(tsi.isArrowFunction(n) || tsi.isFunctionExpression(n))) break;
    inner = true;
  }
  return `'waitFor(${what})'`;
}

/** TypeScript's comment directives in a file (internal: the scanner records them), each with the line it stands on. */
type Directives = { range: ts.TextRange; type: number }[];

/**
 * Whether a `// @ts-ignore` silences an error at `pos`, by TypeScript's own rule: the directive on the
 * nearest line above that is not blank and not only a `//` comment. A `@ts-expect-error` there is
 * TypeScript's alone: it ends the search, and TypeScript reports it unused (TS2578) all the same.
 */
function ignored(sf: ts.SourceFile, pos: number): boolean {
  const directives = (sf as { commentDirectives?: Directives }).commentDirectives;
  if (!directives?.length) return false;
  // As TypeScript's createCommentDirectivesMap, a directive stands on the line its comment ends on.
  // Of two on one line, TypeScript keeps the last.
  const on = (line: number) => directives.filter((d) => sf.getLineAndCharacterOfPosition(d.range.end).line === line).pop();
  const starts = sf.getLineStarts();
  for (let line = sf.getLineAndCharacterOfPosition(pos).line - 1; line >= 0; line--) {
    const d = on(line);
    if (d) return d.type === (tsi as unknown as { CommentDirectiveType: { Ignore: number } }).CommentDirectiveType.Ignore;
    const text = sf.text.slice(starts[line], starts[line + 1]).trim();
    if (text !== "" && !text.startsWith("//")) return false;
  }
  return false;
}

/**
 * Whether `e`'s syntax alone says its value is a primitive, a fresh object or array literal, or a
 * class: never a Future nor a function returning one, so the checker need not be asked (the rule
 * runs on every file, and each question to the checker costs compile time).
 */
function notAnObject(e: ts.Expression): boolean {
  switch (e.kind) {
    case SK.NumericLiteral:
    case SK.BigIntLiteral:
    case SK.StringLiteral:
    case SK.NoSubstitutionTemplateLiteral:
    case SK.TemplateExpression:
    case SK.RegularExpressionLiteral:
    case SK.TrueKeyword:
    case SK.FalseKeyword:
    case SK.NullKeyword:
    case SK.PrefixUnaryExpression:
    case SK.PostfixUnaryExpression:
    case SK.DeleteExpression:
    case SK.TypeOfExpression:
    case SK.VoidExpression:
    case SK.ObjectLiteralExpression:
    case SK.ArrayLiteralExpression:
    case SK.ClassExpression:
      return true;
    case SK.BinaryExpression: {
      const op = (e as ts.BinaryExpression).operatorToken.kind;
      // Arithmetic, bitwise, comparison, `in`, `instanceof`: not the comma, assignments or `&&`/`||`/`??`.
      return op !== SK.CommaToken && op !== SK.AmpersandAmpersandToken && op !== SK.BarBarToken && op !== SK.QuestionQuestionToken && !(op >= SK.FirstAssignment && op <= SK.LastAssignment);
    }
  }
  return false;
}

/** A variable or member tested by `&&`/`||`/`??`: the Future stays where it is. */
function isReference(e: ts.Expression): boolean {
  return tsi.isIdentifier(e) || tsi.isPropertyAccessExpression(e) || tsi.isElementAccessExpression(e) || e.kind === SK.ThisKeyword || e.kind === SK.SuperKeyword;
}

/** `e`'s source on one line: comments dropped, each run of whitespace and comments one space. */
function tokens(e: ts.Node, sf: ts.SourceFile): string {
  const start = e.getStart(sf);
  const scanner = tsi.createScanner(sf.languageVersion, false, sf.languageVariant, sf.text, undefined, start, e.getEnd() - start);
  let out = "";
  let gap = false;
  for (let k = scanner.scan(); k !== SK.EndOfFileToken; k = scanner.scan()) {
    if (k === SK.WhitespaceTrivia || k === SK.NewLineTrivia || k === SK.SingleLineCommentTrivia || k === SK.MultiLineCommentTrivia) gap = true;
    else {
      out += (gap && out ? " " : "") + scanner.getTokenText();
      gap = false;
    }
  }
  return out;
}

function shorten(text: string): string {
  return text.length <= 40 ? text : `${text.slice(0, 39)}…`;
}
