/**
 * Emission: the lowered function expression around the exploded states.
 *
 *   function (params) {
 *     const $r = ($c || $cinit()).coroutine("name"); // the result future, created first as the driver does
 *     let $s = 0, x$, …;                          // state, mirrors of step locals, captured bindings
 *     const $step = ($a) => {                     // an arrow: `this` and `arguments` stay the call's; named as the
 *                                                 // generator, or as where the call stands, when it can be (stack traces)
 *       let x = x$, y, …;                         // step locals restored from their mirrors (y: never live across a suspension)
 *       $r._child = null;
 *       [for (;;)] try {
 *         [if ($s === 0) $fast: { … }]            // the structured copy, when a suspension sits in a loop
 *         $loop: for (;;) switch ($s) { case 0: … }
 *       } catch ($e) {
 *         if ($r._child !== null) throw $e;       // thrown by _suspend itself: out, as in the driver
 *         [if ($h !== 0) { $err = $e; $s = $h; continue; }]   // a region of the body handles it
 *         return $c.settle($r, $e);               // (the step function's result is never read)
 *       }
 *     };
 *     $step(undefined);
 *     return $r;
 *   }
 *
 * That is the shape of a body some nested function shares locals with, or that reads `arguments`, or
 * that TypeScript lowers again (analyze.ts, Downlevel). Any other body takes the lazy
 * shape (emitLazy): its first step runs in the lowered function itself, and the closure above is made
 * only when the call must wait, or take a way into a state of the machine's own.
 *
 * A body without suspension becomes a plain function: the body runs inside `try` in a labelled
 * block, `return v` returns `$c.finished("name", v)`, a future made finished (or, inside a `try` of
 * the body, leaves the block with the value so that its `finally` runs first), and the catch returns
 * `$c.failed("name", e)`. Parameters with defaults or patterns are bound from `arguments` inside the
 * same `try`, so their errors fail the result as in the driver.
 */
import type * as ts from "typescript";
import { factory as f, tsi } from "./compiler.js";
import { type Analysis, bindingNames, boundFromArguments, directivePrologue, type GeneratorFunction, isPlainDirective, parameterNames } from "./analyze.js";
import { type Case, ends, type Internals, type Machine } from "./explode.js";
import { constStatement, type Hooks, Rewriter, type Scope } from "./rewrite.js";

const id = (name: string) => f.createIdentifier(name);
const prop = (o: string, p: string) => f.createPropertyAccessExpression(id(o), p);
const letList = (decls: ts.VariableDeclaration[]) => f.createVariableStatement(undefined, f.createVariableDeclarationList(decls, tsi.NodeFlags.Let));

/**
 * Parameters as emitted, plus the statements binding them when they can throw (defaults, patterns).
 * Bound that way, the emitted function still declares one unused parameter for each one the
 * generator's `length` counts, so that both have the same `length`; and in sloppy code, when the
 * body reads `arguments`, a rest parameter too (which `length` does not count): a function whose
 * parameters are not simple has an unmapped arguments object, whose `callee` throws, and so has
 * the generator.
 */
function parameters(an: Analysis, rw: Rewriter, mark: string): { params: ts.ParameterDeclaration[]; bind: ts.Statement[] } {
  const fn = an.fn;
  const real = fn.parameters.filter((p) => !(tsi.isIdentifier(p.name) && p.name.text === "this"));
  if (!boundFromArguments(fn)) return { params: fn.parameters.map((p) => rw.visit(p) as ts.ParameterDeclaration), bind: [] };
  const names = real.flatMap((p) => bindingNames(p.name));
  const pattern = f.createArrayLiteralExpression(
    real.map((p) => {
      const t = rw.target(p.name);
      if (p.dotDotDotToken) return f.createSpreadElement(t);
      return p.initializer ? f.createAssignment(t, rw.expr(p.initializer)) : t;
    }),
  );
  const bind = [
    letList(names.map((x) => f.createVariableDeclaration(x.text))),
    f.createExpressionStatement(f.createAssignment(pattern, id("arguments"))),
  ];
  const counted = real.findIndex((p) => p.initializer || p.dotDotDotToken);
  const length = counted < 0 ? real.length : counted;
  const params = Array.from({ length }, (_, i) => f.createParameterDeclaration(undefined, undefined, `${mark}p${i}`));
  if (!an.strict && an.readsArguments) params.push(f.createParameterDeclaration(undefined, f.createToken(tsi.SyntaxKind.DotDotDotToken), `${mark}p${length}`));
  return { params, bind };
}

/**
 * The body's directive prologue (`"use strict"`), which must stay first to count: in a sloppy file it
 * makes the generator strict. (Where it stood, the copy the rewriter keeps is a string that does nothing.)
 */
function directivesOf(fn: GeneratorFunction): ts.Statement[] {
  return directivePrologue(fn.body.statements)
    .filter(isPlainDirective)
    .map((st) => f.createExpressionStatement(f.createStringLiteral((st.expression as ts.StringLiteral).text)));
}

export function emitMachine(s: Scope, m: Machine, cases: Case[], n: Internals, origin: ts.Node): ts.FunctionExpression {
  const fn = s.an.fn;
  const paramRw = new Rewriter(s, m);
  const { params, bind } = parameters(s.an, paramRw, n.mark);
  const r = constStatement(n.r, coroutine(n, s.name));
  const prelude: ts.Statement[] = [r];
  if (bind.length) {
    const settle = f.createExpressionStatement(f.createCallExpression(prop(n.c, "settle"), undefined, [id(n.r), id(n.e)]));
    prelude.push(bind[0]!, f.createTryStatement(f.createBlock(bind.slice(1), true), f.createCatchClause(n.e, f.createBlock([settle, f.createReturnStatement(id(n.r))], true)), undefined));
  }
  const closure = [f.createVariableDeclaration(n.s, undefined, undefined, f.createNumericLiteral(0))];
  for (const [local, mirror] of m.locals) if (mirror) closure.push(f.createVariableDeclaration(mirror, undefined, undefined, local === n.h ? f.createNumericLiteral(0) : undefined));
  for (const c of m.closureLocals) closure.push(f.createVariableDeclaration(c));
  prelude.push(letList(closure), ...m.hoistedFunctions);

  const restore = [...m.locals].map(([local, mirror]) => f.createVariableDeclaration(local, undefined, undefined, mirror ? id(mirror) : undefined));
  if (m.usesHandler) restore.push(f.createVariableDeclaration(n.err));
  if (m.usesRv) restore.push(f.createVariableDeclaration(n.rv));
  const body = [
    ...directivesOf(fn),
    ...prelude,
    constStatement(n.step, stepOf(s, m, cases, n, restore, [])),
    // The first step runs from the function's first line, where a stack trace puts that frame.
    tsi.setEmitFlags(tsi.setTextRange(f.createExpressionStatement(f.createCallExpression(id(n.step), undefined, [f.createVoidZero()])), { pos: fn.pos, end: fn.body.pos }), tsi.EmitFlags.NoComments),
    f.createReturnStatement(id(n.r)),
  ];
  return tsi.setTextRange(f.createFunctionExpression(undefined, undefined, undefined, fn.typeParameters, params, undefined, bodyOf(fn, body)), origin);
}

/**
 * The step function: `restore` declares its locals, `given` are its parameters after `$a`; the
 * structured copy first when there is one and the step may start at state 0 (not in emitLazy's).
 */
function stepOf(s: Scope, m: Machine, cases: Case[], n: Internals, restore: ts.VariableDeclaration[], given: string[]): ts.ArrowFunction {
  const fn = s.an.fn;
  restore.push(f.createVariableDeclaration(m.fv, undefined, undefined, id(n.a)));
  const sw = f.createSwitchStatement(
    id(n.s),
    f.createCaseBlock(cases.map(clauseOf)),
  );
  const machine = f.createLabeledStatement(n.loop, f.createForStatement(undefined, undefined, undefined, sw));
  const e = n.e;
  const handler: ts.Statement[] = [f.createIfStatement(f.createStrictInequality(prop(n.r, "_child"), f.createNull()), f.createThrowStatement(id(e)))];
  if (m.usesHandler)
    handler.push(
      f.createIfStatement(
        f.createStrictInequality(id(n.h), f.createNumericLiteral(0)),
        f.createBlock([assign(n.err, id(e)), assign(n.s, id(n.h)), f.createContinueStatement()], true),
      ),
    );
  handler.push(f.createReturnStatement(f.createCallExpression(prop(n.c, "settle"), undefined, [id(n.r), id(e)])));
  const run = m.structuredCopy && !m.lazy ? [f.createIfStatement(f.createStrictEquality(id(n.s), f.createNumericLiteral(0)), fastCopy(m, f.createCallExpression(prop(n.r, "_finish"), undefined, [f.createNumericLiteral(1), id(n.rv)]))), machine] : [machine];
  let guarded: ts.Statement = f.createTryStatement(f.createBlock(run, true), atHeader(fn, f.createCatchClause(e, f.createBlock(handler, true))), undefined);
  if (m.usesHandler) guarded = atHeader(fn, f.createForStatement(undefined, undefined, undefined, guarded), false);
  atHeader(fn, machine, false);
  atHeader(fn, machine.statement, false);
  atHeader(fn, sw, false);
  const stepBody = f.createBlock([letList(restore), f.createExpressionStatement(f.createAssignment(prop(n.r, "_child"), f.createNull())), guarded], true);
  const params = [n.a, ...given].map((x) => f.createParameterDeclaration(undefined, undefined, x));
  return f.createArrowFunction(undefined, undefined, params, undefined, undefined, stepBody);
}

/** `$fast: { … }`, the structured copy; `leave` finishes the result with `$rv` when the copy left its block for it. */
function fastCopy(m: Machine, leave: ts.Expression): ts.Statement {
  const body = m.fastLeaves ? [f.createLabeledStatement(m.bodyLabel, f.createBlock(m.fastBody, true)), f.createReturnStatement(leave)] : m.fastBody;
  return f.createLabeledStatement(m.fastLabel, f.createBlock(body, true));
}

/**
 * The lazy shape, for a body whose locals no nested function captures: the first step runs in the
 * lowered function itself, as the structured copy, with plain locals; nothing is made for a call that
 * never waits but the finished future it returns. A pending await returns the call of a function
 * declared inside, which takes the call over at the state after it, making the result future and the
 * step closure then; so does the one place the copy leaves its block for a state of the machine's own
 * (a handler, a finally body, a statement the copy hands over), running that state at once.
 *
 *   function (params) {
 *     $c || $cinit();
 *     let x, y, $h = 0, $s, $f, …;           // every step local, plain
 *     try {
 *       $fast: { … }                         // returns `$c.finished("name", v)`; at a pending await
 *                                            // `return name.call(this, K, $f, params, x, y, …)`
 *     } catch ($e) {
 *       if ($h === 0) return $c.failed("name", $e);
 *       $err = $e; $s = $h;                  // the machine's handler state takes it
 *     }
 *     return name.call(this, $s, undefined, params, x, y, …, $err);
 *     function name($s, $a, params, x$, y, …, $err) {
 *       const $r = $c.handoff("name");       // the result future, made now
 *       const name = ($a, y, …, $err) => { let x = x$, …, $f = $a; … the states, as emitMachine's step … };
 *       if ($a === undefined) name(undefined, y, …, $err); else $c.park($r, $a, name);
 *       return $r;
 *     }
 *   }
 *
 * Its parameters are the step locals in the order explode made them, so an await passes those made
 * before it (the later ones are not live there). The ones some suspension saves (x) are restored from
 * and saved into them, as emitMachine's closure mirrors; the others (y) are the step's own parameters,
 * given only when the machine takes over at once: a later step starts without them. A pending await
 * returns from the copy where it stands, rather than leaving its loops for a shared place: V8 runs a loop
 * with several such exits two to three times slower.
 */
export function emitLazy(s: Scope, m: Machine, cases: Case[], n: Internals, origin: ts.Node): ts.FunctionExpression {
  const fn = s.an.fn;
  const { params, bind } = parameters(s.an, new Rewriter(s, m), n.mark);
  const names = parameterNames(fn);
  const extras = [...(m.usesHandler ? [n.err] : []), ...(m.usesRv ? [n.rv] : [])];
  const unsaved = [...[...m.locals].filter(([, mirror]) => mirror === undefined).map(([local]) => local), ...extras];

  const made = (make: "finished" | "failed", v: ts.Expression) => f.createCallExpression(prop(n.c, make), undefined, [f.createStringLiteral(s.name), v]);
  const locals = [...m.locals.keys()].map((x) => f.createVariableDeclaration(x, undefined, undefined, x === n.h ? f.createNumericLiteral(0) : undefined));
  for (const x of [n.s, m.fv, ...extras]) locals.push(f.createVariableDeclaration(x));
  const caught: ts.Statement[] = m.usesHandler
    ? [f.createIfStatement(f.createStrictEquality(id(n.h), f.createNumericLiteral(0)), f.createReturnStatement(made("failed", id(n.e)))), assign(n.err, id(n.e)), assign(n.s, id(n.h))]
    : [f.createReturnStatement(made("failed", id(n.e)))];
  const first = f.createTryStatement(f.createBlock([...bind.slice(1), fastCopy(m, made("finished", id(n.rv)))], true), atHeader(fn, f.createCatchClause(n.e, f.createBlock(caught, true))), undefined);
  const handOver = f.createCallExpression(prop(n.step, "call"), undefined, [f.createThis(), id(n.s), f.createVoidZero(), ...[...names, ...m.locals.keys(), ...extras].map(id)]);

  const restore = [...m.locals].flatMap(([local, mirror]) => (mirror === undefined ? [] : [f.createVariableDeclaration(local, undefined, undefined, id(mirror))]));
  const machineBody = [
    constStatement(n.r, f.createCallExpression(prop(n.c, "handoff"), undefined, [f.createStringLiteral(s.name)])),
    constStatement(n.step, stepOf(s, m, cases, n, restore, unsaved)),
    f.createIfStatement(
      f.createStrictEquality(id(n.a), f.createVoidZero()),
      f.createExpressionStatement(f.createCallExpression(id(n.step), undefined, [f.createVoidZero(), ...unsaved.map(id)])),
      f.createExpressionStatement(f.createCallExpression(prop(n.c, "park"), undefined, [id(n.r), id(n.a), id(n.step)])),
    ),
    f.createReturnStatement(id(n.r)),
  ];
  const takeOver = [n.s, n.a, ...names, ...[...m.locals].map(([local, mirror]) => mirror ?? local), ...extras].map((x) => f.createParameterDeclaration(undefined, undefined, x));
  const machine = atHeader(fn, f.createFunctionDeclaration(undefined, undefined, n.step, undefined, takeOver, undefined, f.createBlock(machineBody, true)), false);
  const body = [
    ...directivesOf(fn),
    f.createExpressionStatement(runtimeObject(n)),
    ...bind.slice(0, 1),
    letList(locals),
    first,
    atHeader(fn, f.createReturnStatement(handOver), false),
    machine,
  ];
  return tsi.setTextRange(f.createFunctionExpression(undefined, undefined, undefined, fn.typeParameters, params, undefined, bodyOf(fn, body)), origin);
}

/** A case of one statement prints on its label's line: the comments that statement leads with go before the label. */
function clauseOf(c: Case): ts.CaseClause {
  const clause = f.createCaseClause(f.createNumericLiteral(c.label), c.body);
  const only = c.body.length === 1 ? c.body[0]! : undefined;
  const comments = only && tsi.getSyntheticLeadingComments(only);
  if (comments) {
    tsi.setSyntheticLeadingComments(clause, comments);
    tsi.setSyntheticLeadingComments(only, undefined);
  }
  return clause;
}

/**
 * The lowered function's body: it ends where the generator's statements ended, so the printer puts the
 * comments written after the last of them (before the closing brace) before its own closing brace.
 */
function bodyOf(fn: GeneratorFunction, statements: ts.Statement[]): ts.Block {
  const list = tsi.setTextRange(f.createNodeArray(statements), { pos: -1, end: fn.body.statements.end });
  return tsi.setOriginalNode(f.createBlock(list, true), fn.body);
}

/** The name of the function that sets the runtime object `runtime` (`$cinit` of `$c`). */
export const initOf = (runtime: string) => `${runtime}init`;

/**
 * `($c || $cinit())`: the runtime object, read first through its module's init function when a lowered
 * function runs before its module's code has set it (lower.ts, runtimeOf).
 */
const runtimeObject = (n: Internals): ts.Expression => f.createParenthesizedExpression(f.createLogicalOr(id(n.c), f.createCallExpression(id(initOf(n.c)), undefined, [])));

/** `($c || $cinit()).coroutine("name")`: the result future, created first as the driver does. */
function coroutine(n: Internals, name: string): ts.Expression {
  return f.createCallExpression(f.createPropertyAccessExpression(runtimeObject(n), "coroutine"), undefined, [f.createStringLiteral(name)]);
}

/**
 * `node`, code of the lowering's own around the body (the step's loop and switch, the handler that settles
 * the result), mapped in the source map to the generator's first line, where a stack frame of the
 * function runs that is in no statement of the body; with `deep`, the statements inside it too. Left
 * unmapped, such a line took the place of the line before it: a source map's consumer finds a position
 * of an unmapped line at the last mapping before it (node's stack traces; the Vite plugin writes that
 * mapping in, see withSplices), so the handler that runs when the body throws counted as the body's last
 * line, run (coverage), and the loop around the states as the structured copy's last line.
 */
function atHeader<T extends ts.Node>(fn: GeneratorFunction, node: T, deep = true): T {
  tsi.setSourceMapRange(node, { pos: fn.pos, end: -1 });
  if (deep)
    tsi.forEachChild(node, function visit(c: ts.Node): void {
      if (tsi.isStatement(c)) tsi.setSourceMapRange(c, { pos: fn.pos, end: -1 });
      tsi.forEachChild(c, visit);
    });
  return node;
}

const assign = (name: string, v: ts.Expression) => f.createExpressionStatement(f.createAssignment(id(name), v));

/**
 * A body without suspension: a plain function returning a finished future, made where the body ends
 * (`finished`/`failed` of the runtime; no future exists before then that anything could see).
 */
export function emitPlain(s: Scope, n: Internals, origin: ts.Node): ts.FunctionExpression {
  const fn = s.an.fn;
  let leaves = false;
  const bodyLabel = n.loop;
  const result = (make: "finished" | "failed", value: ts.Expression) => f.createReturnStatement(f.createCallExpression(f.createPropertyAccessExpression(runtimeObject(n), make), undefined, [f.createStringLiteral(s.name), value]));
  const hooks: Hooks = {
    ret(value, inTry) {
      if (!inTry) return result("finished", value ?? f.createVoidZero());
      leaves = true;
      return f.createBlock([assign(n.rv, value ?? f.createVoidZero()), f.createBreakStatement(bodyLabel)], true);
    },
    jump(node) {
      return node;
    },
    exitLocals() {
      leaves = true;
      return [n.rv];
    },
  };
  const rw = new Rewriter(s, hooks);
  const { params, bind } = parameters(s.an, rw, n.mark);
  const stmts = rw.statements(fn.body.statements);
  const inner: ts.Statement[] = [...bind.slice(1)];
  // Falling off the end yields undefined even after a `return` whose finally jumped elsewhere.
  if (leaves) inner.push(letList([f.createVariableDeclaration(n.rv)]), f.createLabeledStatement(bodyLabel, f.createBlock([...stmts, assign(n.rv, f.createVoidZero())], true)));
  else inner.push(f.createBlock(stmts, true));
  // A body that always returns or throws never falls off its end.
  const last = stmts[stmts.length - 1];
  if (leaves || last === undefined || !ends(last)) inner.push(result("finished", leaves ? id(n.rv) : f.createVoidZero()));
  const body = [...directivesOf(fn), ...bind.slice(0, 1), f.createTryStatement(f.createBlock(inner, true), atHeader(fn, f.createCatchClause(n.e, f.createBlock([result("failed", id(n.e))], true))), undefined)];
  return tsi.setTextRange(f.createFunctionExpression(undefined, undefined, undefined, fn.typeParameters, params, undefined, bodyOf(fn, body)), origin);
}
