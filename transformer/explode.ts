/**
 * Explode: the body of a generator with suspensions becomes numbered states of a step function.
 *
 * The output is a list of `case` bodies for `$loop: for (;;) switch ($s)`. Code runs straight on
 * from one case into the next (fall-through), so while every awaited future has already finished
 * no dispatch happens except on loop back-edges and jumps. A statement or expression without a
 * suspension is copied by the Rewriter; one with a suspension is taken apart:
 *  - expressions (`explodeExpr`): operands left of a suspension are evaluated first into temps, so
 *    evaluation order holds (`o.m(yield* f)` calls the old `o`'s method through `.call`);
 *    short-circuits, `?:` and each `?.` of an optional chain become branches; tagged templates and
 *    classes evaluate their tag, substitutions, `extends` and computed keys first, JSX its values as
 *    the call of its factory would; a destructuring pattern is taken apart element by element (see
 *    "destructuring with suspensions");
 *  - a suspension: `$a = operand; if ($a is pending) { save; $s = K; r._suspend($a, $step); return }`
 *    then `case K:` (in the structured copy of a `lazy` body, a return of the call taking it over: see emitLazy).
 *    The step function's parameter is `$a`, so resuming lands in case K with the finished future in
 *    `$a`, exactly as the fast path does. `yield* x` of a non-Future awaits a
 *    delegation future driving `x`;
 *  - statements: jumps `$s = L; continue $loop`, loops and switches by labels, `break`/`continue`/
 *    `return` through the jump-target stack. Entering a scope with per-iteration environments
 *    (hoist.ts) makes a fresh one; a `for (let …;;)` copies its own before each increment.
 * Exceptions: `try` regions (also the one a block holding `using` declarations or a `for (using …)`
 * body becomes, whose finally disposes its resources) and `for…of` iterator regions form a static
 * context stack. The handler
 * state of the innermost region sits in the step local `$h`; the step function's one JS catch sends
 * a throw there. A `finally` keeps its pending completion in two locals ($ck: 0 normal, -1 throw,
 * -2 return, else the target state; $cv: the value or error) and ends by dispatching on them;
 * jumps crossing a `finally` are recorded on it statically. Leaving a `for…of` by a jump closes its
 * iterator inline; leaving it by a throw goes through a handler state that closes and rethrows.
 */
import type * as ts from "typescript";
import { contains, factory as f, forEachDescendant, kindName, SK, tsi } from "./compiler.js";
import { type Binding, isComponentTag, isKey, isUsing, isWrapper, lowersAgain, parameterNames, Unsupported, unparen, usingHead } from "./analyze.js";
import { isExploded, MAX_SAVES, type Slot } from "./hoist.js";
import { addComments, compoundOperator, constStatement, contextName, detached, type Hooks, hoistedFunctions, isAnonymousFunction, logicalOperator, nameOf, ownKey, Rewriter, type Scope } from "./rewrite.js";

const RETURN = -2;
const THROW = -1;

interface Region {
  /** pattern: an array pattern taken apart step by step, whose iterator a throw closes. */
  kind: "catch" | "finally" | "iter" | "pattern";
  /** The state a throw inside the region goes to. */
  handler: number;
  /** finally: the state of the finally body, its completion locals and the jumps that cross it. */
  body?: number;
  ck?: string;
  cv?: string;
  exits?: Map<number, Target>;
  /** iter: the local holding the iterator. */
  it?: string;
}

interface Target {
  label: number;
  ctx: Region[];
}

interface Jumpable {
  kind: "loop" | "switch" | "label";
  labels: string[];
  brk: Target;
  cont?: Target;
}

export interface Case {
  label: number;
  body: ts.Statement[];
}

/** The internal names of one lowered function. */
export interface Internals {
  r: string;
  s: string;
  step: string;
  a: string;
  h: string;
  err: string;
  /** The step function's catch parameter. */
  e: string;
  rv: string;
  loop: string;
  /** The runtime object, `__chronots`. */
  c: string;
  /** A `const` of the lowered function, assigned to in place of a hoisted constant (rewrite.ts). */
  constant: string;
  /** The resource stack of a `using` block (numbered where the machine keeps several). */
  u: string;
  mark: string;
}

const id = (name: string) => f.createIdentifier(name);
const num = (n: number): ts.Expression => (n < 0 ? f.createPrefixUnaryExpression(SK.MinusToken, f.createNumericLiteral(-n)) : f.createNumericLiteral(n));
/**
 * Where V8 places the frame of a call as written, which the lowered call is mapped to: at the name
 * called (`f(…)`, `o.m(…)`, `o?.m(…)`), at the template of a tagged one, else at its `(` (`o[k](…)`,
 * `f?.(…)`, `(0, f)(…)`, `(o.m)(…)`).
 */
function callSite(node: ts.CallExpression | ts.TaggedTemplateExpression): ts.TextRange {
  if (tsi.isTaggedTemplateExpression(node)) return node.template;
  const callee = node.expression;
  if (!node.questionDotToken && tsi.isIdentifier(callee)) return callee;
  if (!node.questionDotToken && tsi.isPropertyAccessExpression(callee)) return callee.name;
  return { pos: node.arguments.pos - 1, end: node.end };
}
/** `.call` for a call taken apart (`$t1.call(o, …)`), mapped to its site: V8 places the frame of a method call at the name it calls, `call` here. */
const methodCall = (written: ts.CallExpression | ts.TaggedTemplateExpression): ts.Identifier => tsi.setSourceMapRange(f.createIdentifier("call"), callSite(written));
/** A statement holding expressions only: no statement inside whose temps would live on past its own. */
const expressionsOnly = (st: ts.Statement): boolean =>
  st.kind === SK.ExpressionStatement || st.kind === SK.VariableStatement || st.kind === SK.ReturnStatement || st.kind === SK.ThrowStatement;
const set = (name: string, v: ts.Expression) => f.createExpressionStatement(f.createAssignment(id(name), v));
const prop = (o: string, p: string) => f.createPropertyAccessExpression(id(o), p);
/** A computed key whose conversion to a property key may wait for the literal or class it names a member of: a primitive literal, which runs nothing. */
const convertsUnseen = (v: ts.Expression): boolean =>
  tsi.isStringLiteral(v) || tsi.isNumericLiteral(v) || tsi.isBigIntLiteral(v) || tsi.isNoSubstitutionTemplateLiteral(v) || v.kind === SK.TrueKeyword || v.kind === SK.FalseKeyword || v.kind === SK.NullKeyword;

/**
 * A parse-tree identifier used again: a copy that still stands for it (later transforms resolve it,
 * CommonJS's `exports.x` among them) and maps to it, but has no text range, whose comments (its
 * statement's, when it starts one) the printer would print at every use, as at the substitution
 * CommonJS puts in its place.
 */
const uncommented = (e: ts.Expression): ts.Expression =>
  tsi.isIdentifier(e) && tsi.isParseTreeNode(e) ? tsi.setSourceMapRange(tsi.setOriginalNode(f.createIdentifier(e.text), e), e) : e;

export class Machine implements Hooks {
  readonly cases: Case[] = [{ label: 0, body: [] }];
  private readonly tail: Case[] = [];
  private cur: ts.Statement[] = this.cases[0]!.body;
  private next = 1;
  private ctx: Region[] = [];
  private jumpables: Jumpable[] = [];
  private pendingLabels: string[] = [];
  private readonly rw: Rewriter;
  /** Step locals → their closure mirror (user bindings, temps, handler and completion locals), or `undefined` while none is saved at a suspension. */
  readonly locals = new Map<string, string | undefined>();
  private readonly userLocals: Slot[] = [];
  /** The suspensions the liveness of user locals was judged at (hoist.ts); at any other, all are saved. */
  private readonly ownYields: ReadonlySet<ts.YieldExpression>;
  private tempPool: string[] = [];
  private tempCount = 0;
  private liveTemps: string[] = [];
  private readonly temps = new Set<string>();
  /**
   * The temps of a statement of expressions with more than MAX_SAVES suspensions live in the closure,
   * saved at none: a step local held to the statement's end is saved at each later suspension of it, so
   * a sum of n awaits made code growing as n² (500 made 4 MB), as hoist.ts says of user locals.
   */
  private inClosure = false;
  private closurePool: string[] = [];
  private readonly closureTemps = new Set<string>();
  /** The closure temps the statement being exploded used. */
  private readonly heldInClosure = new Set<string>();
  /** Where the source comments printed so far start: a statement split in several prints its leading comments once. */
  private readonly commented = new Set<number>();
  /** Where the pieces printed so far end: one that ends where another did leaves that one's trailing comments to it. */
  private readonly trailed = new Set<number>();
  /** The last piece pushed, which takes the trailing comments of a statement whose own last piece was dropped. */
  private lastPiece: ts.Statement | undefined;
  /**
   * Where comments start that no piece printed yet, the statement or clause taken apart having been
   * their node, or the end of a block taken apart (before its `}`): the next piece pushed takes them.
   */
  private uncommented: number[] = [];
  private liveFinally: Region[] = [];
  private regionCount = 0;
  /** The resource stacks of the `using` blocks being run (see `disposing`). */
  private liveDisposers: string[] = [];
  private disposerCount = 0;
  /** Function declarations of the body's top level, emitted in the outer function. */
  readonly hoistedFunctions: ts.Statement[] = [];
  usesHandler = false;
  /** A return value waits in `$rv` on its way through a finally or out of the structured copy. */
  usesRv = false;
  /** Scope node → its environment object and the names it holds (hoist.ts). */
  private readonly envs = new Map<ts.Node, { name: string; props: string[] }>();
  /** The structured copy of the body (see `body`): the list being filled, undefined outside it. */
  private fast: ts.Statement[] | undefined;
  /** Whether the body has a structured copy (see `body`). */
  structuredCopy = false;
  /** The finished structured copy, run on entry before the state dispatch. */
  fastBody: ts.Statement[] = [];
  /** The structured copy holds a loop that suspends: without one it is not worth keeping. */
  private fastLoop = false;
  /** The structured copy leaves its block to finish after a `finally` ran. */
  fastLeaves = false;
  private readonly fastRw: Rewriter;
  /** The local holding the awaited future (the step's argument on resumption). */
  readonly fv: string;
  /** The names the parameters bind, which a `lazy` body's first step hands over. */
  private readonly params: string[];
  /** Labels of the structured copy and of its body. */
  readonly fastLabel: string;
  readonly bodyLabel: string;

  constructor(
    private readonly s: Scope,
    readonly n: Internals,
    /** The first step runs in the lowered function itself, which hands over to the machine (emit.ts, emitLazy). */
    readonly lazy = false,
  ) {
    this.rw = new Rewriter(s, this);
    this.ownYields = new Set(s.an.suspensions);
    this.fv = n.mark + "f";
    this.params = parameterNames(s.an.fn);
    this.fastLabel = n.mark + "fast";
    this.bodyLabel = n.mark + "body";
    this.fastRw = new Rewriter(s, {
      ret: (value, inTry) => {
        if (this.ctx.length > 0) return this.leave({ label: RETURN, ctx: [] }, value, inTry, { jump: undefined });
        if (!inTry) return this.finish(value, true);
        this.fastLeaves = true;
        this.usesRv = true;
        return f.createBlock([set(n.rv, value ?? f.createVoidZero()), f.createBreakStatement(this.bodyLabel)], true);
      },
      jump: (node, inTry) => {
        const t = this.targetOf(node);
        return t.ctx.length === this.ctx.length ? node : this.leave(t, undefined, inTry, { jump: node });
      },
      exitLocals: () => this.exitLocals(),
    });
    for (const slot of s.slots.values()) {
      if (slot.mirror) {
        const live = slot.liveAt.size > 0;
        this.locals.set(slot.name, live ? slot.mirror : undefined);
        if (live) this.userLocals.push(slot);
      }
    }
    this.usesHandler = needsHandler(s, s.an.fn.body);
    if (this.usesHandler) this.locals.set(n.h, n.h + n.mark);
    for (const slot of s.slots.values()) {
      if (!slot.env) continue;
      const node = slot.binding.scope.node;
      const env = this.envs.get(node) ?? { name: slot.env, props: [] };
      env.props.push(slot.name);
      this.envs.set(node, env);
    }
    // A write to a hoisted constant is a write to this real one, which throws.
    if ([...s.slots.values()].some((x) => x.binding.kind === "const" && x.binding.written))
      this.hoistedFunctions.push(constStatement(n.constant, f.createVoidZero()));
  }

  get closureLocals(): ts.Identifier[] {
    const vars = [...this.s.slots.values()].filter((x) => !x.mirror && !x.env && !(x.binding.kind === "function" && x.binding.scope.node === this.s.an.fn));
    return [...vars.map((x) => id(x.name)), ...[...this.envs.values()].map((e) => id(e.name)), ...[...this.closureTemps].map((t) => id(t))];
  }

  /** Entering `scope` (again): a fresh environment object for its per-iteration bindings. */
  private enter(scope: ts.Node): void {
    const env = this.envs.get(scope);
    if (env) this.emit(set(env.name, f.createObjectLiteralExpression(env.props.map((p) => f.createPropertyAssignment(ownKey(p), f.createVoidZero())))));
  }

  /** The next iteration of a `for (let …;;)`: a new environment holding the current values, as JavaScript copies them. */
  private copyEnv(loop: ts.Node): void {
    const env = this.envs.get(loop);
    if (env) this.emit(set(env.name, f.createObjectLiteralExpression(env.props.map((p) => f.createPropertyAssignment(ownKey(p), prop(env.name, p))))));
  }

  /**
   * Explode the whole body; the end of the body returns `undefined`. The structured copy is built
   * when the first step runs in the lowered function itself (`lazy`), which is that copy; else only
   * when a suspension sits in a loop and the body holds nothing TypeScript lowers again afterwards,
   * and kept only when it holds such a loop: without one the states run once per call anyway, and a
   * second copy of the body would only cost compile time and code size.
   */
  body(block: ts.Block): Case[] {
    // What TypeScript lowers again after this transform would be printed in both copies, sharing the
    // state its transform keeps by the node as parsed (Downlevel in analyze.ts).
    this.structuredCopy = (this.lazy || this.s.an.loopSuspends) && !lowersAgain(this.s.an.holds, this.s.downlevel);
    if (this.structuredCopy) this.fast = this.fastBody;
    this.block(block.statements, true);
    this.fast = undefined;
    const end: ts.Statement[] = [];
    this.jumpTo(end, { label: RETURN, ctx: [] }, undefined);
    append(this.cur, ...end);
    // A copy whose suspending loops were all handed over to the machine would only repeat its first states.
    if (!this.fastLoop && !this.lazy) this.structuredCopy = false;
    if (!this.structuredCopy) return [...this.cases, ...this.tail];
    append(this.fastBody, this.finish(undefined, true));
    // State 0 is the structured copy's: it never falls through, so the machine's entry state is dead.
    return [...this.cases.slice(1), ...this.tail];
  }

  /**
   * `return $r._finish(1, value)`: the step function's own result is never read. In the first step of a
   * `lazy` one (`copy`), no result exists yet: `return $c.finished("name", value)`, made finished.
   */
  private finish(value: ts.Expression | undefined, copy = false): ts.Statement {
    const v = value ?? f.createVoidZero();
    if (copy && this.lazy) return f.createReturnStatement(f.createCallExpression(prop(this.n.c, "finished"), undefined, [f.createStringLiteral(this.s.name), v]));
    return f.createReturnStatement(f.createCallExpression(prop(this.n.r, "_finish"), undefined, [num(1), v]));
  }

  /** `machine` for the states, `copy()` for the structured copy when the two differ (`lazy`): else `machine` for both. */
  private split(machine: ts.Statement, copy: () => ts.Statement, origin?: ts.Node): void {
    const fast = this.fast;
    if (!fast || !this.lazy) return this.emit(machine, origin);
    this.machineOnly(() => this.emit(machine, origin));
    // Mapped, not ranged: the machine's piece prints the comments there.
    const st = copy();
    append(fast, origin && origin.pos >= 0 ? tsi.setSourceMapRange(st, origin) : st);
  }

  // ---- the structured copy
  //
  // While every awaited future has already finished, the body runs as written: loops stay loops,
  // `if` stays `if`, each suspension is `$f = x; if ($f is pending) { save; $s = K; suspend; return }`.
  // Only the resumption after a real suspension goes through the states, which exist for every
  // point. The copy is filled alongside the states (same temps, same resume labels): code that needs
  // no branch of its own goes to both; a statement the copy cannot hold (a suspension inside `try`,
  // an exploded `for…of`/`switch`, a short-circuit) is handed over: the copy jumps to a state at its
  // start and the machine runs from there.

  /** Run `fn` without adding to the structured copy. */
  private machineOnly<T>(fn: () => T): T {
    const saved = this.fast;
    this.fast = undefined;
    const r = fn();
    this.fast = saved;
    return r;
  }

  /** Run `fn` filling a fresh list of the structured copy: that list, or undefined outside the copy. */
  private collect(fn: () => void): ts.Statement[] | undefined {
    const saved = this.fast;
    if (saved === undefined) {
      fn();
      return undefined;
    }
    this.fast = [];
    fn();
    const list = this.fast;
    this.fast = saved;
    return list;
  }

  /**
   * `node` both copied by the machine's rewriter and, for the structured copy, by its own (native
   * jumps and returns). The two copies differ only where a hook or a nested lowering acted: without
   * one, the machine's copy serves both (rewriting twice cost the compiler time for nothing).
   */
  private copy(node: ts.Statement, make: (rw: Rewriter) => ts.Statement | undefined = (rw) => rw.statement(node)): void {
    const fast = this.fast;
    const hooked = this.rw.hooked;
    const machine = make(this.rw);
    if (machine) this.machineOnly(() => this.emit(machine, node));
    if (fast) {
      const copy = this.rw.hooked === hooked ? machine : make(this.fastRw);
      if (copy) append(fast, node.pos >= 0 ? tsi.setTextRange(copy, node) : copy);
    }
  }

  /** Leave the structured copy for the state `label`. `$f` is cleared so that it is not live across the copy's loops. */
  private fastJump(label: number): ts.Statement[] {
    return [set(this.fv, f.createVoidZero()), set(this.n.s, num(label)), f.createBreakStatement(this.fastLabel)];
  }

  /** Whether the structured copy can hold `node` (which suspends) without a branch of the machine's. */
  private structured(node: ts.Statement): boolean {
    const lin = (e: ts.Node | undefined) => e === undefined || this.linear(e);
    if (tsi.isBlock(node)) return true;
    if (tsi.isExpressionStatement(node)) return lin(node.expression);
    if (tsi.isVariableStatement(node)) return node.declarationList.declarations.every((d) => lin(d.name) && lin(d.initializer));
    if (tsi.isReturnStatement(node) || tsi.isThrowStatement(node)) return lin(node.expression);
    if (tsi.isIfStatement(node)) return lin(node.expression);
    if (tsi.isLabeledStatement(node)) return this.structured(node.statement);
    if (tsi.isWhileStatement(node)) return lin(node.expression);
    if (tsi.isDoStatement(node)) return !this.suspends(node.expression);
    if (tsi.isForStatement(node))
      return !this.envs.has(node) && !this.suspends(node.incrementor) && lin(node.condition) && (node.initializer === undefined || this.linear(node.initializer));
    if (tsi.isForOfStatement(node) || tsi.isForInStatement(node))
      return lin(node.expression) && (!isExploded(this.s.an, node) || (!usingHead(node) && !this.suspends(node.initializer)));
    if (tsi.isSwitchStatement(node)) return lin(node.expression) && node.caseBlock.clauses.every((c) => tsi.isDefaultClause(c) || !this.suspends(c.expression));
    // A throw inside reaches the machine through `$h`, set for the copy's stretch of the region as for the machine's.
    if (tsi.isTryStatement(node)) return true;
    return false;
  }

  /** Whether exploding `e` needs no branch: no suspension under `&&`, `||`, `??`, `?:`, a logical assignment or an optional chain. */
  private linear(e: ts.Node): boolean {
    if (!this.suspends(e)) return true;
    // A pattern taken apart step by step branches on its defaults.
    if (tsi.isObjectBindingPattern(e) || tsi.isArrayBindingPattern(e) || ((tsi.isArrayLiteralExpression(e) || tsi.isObjectLiteralExpression(e)) && isAssignmentPattern(e))) return false;
    if (tsi.isConditionalExpression(e) && (this.suspends(e.whenTrue) || this.suspends(e.whenFalse))) return false;
    if (tsi.isBinaryExpression(e) && branches(e.operatorToken.kind)) return false;
    if (tsi.isOptionalChain(e)) return false;
    // `(a?.m)(yield* x)`: the parentheses end the chain, which is taken apart link by link to keep `this` (callApart).
    if (tsi.isCallExpression(e) && isChainedMember(unparen(e.expression)) && e.arguments.some((a) => this.suspends(a))) return false;
    return tsi.forEachChild(e, (c) => (this.linear(c) ? undefined : true)) !== true;
  }

  // ---- states and jumps

  private label(): number {
    return this.next++;
  }

  private mark(label: number): void {
    // A branch of the machine's own: the structured copy would have to mirror it (`structured` must rule it out).
    if (this.fast !== undefined) throw new Error("a state of the machine's own inside the structured copy");
    this.newCase(label);
  }

  private newCase(label: number): void {
    const c: Case = { label, body: [] };
    this.cases.push(c);
    this.cur = c.body;
  }

  private emit(st: ts.Statement, origin?: ts.Node): void {
    if (origin && origin.pos >= 0) tsi.setTextRange(st, origin);
    this.push(st);
  }

  /** Append to the current case, dropping what follows a jump, return or throw (unreachable until the next case). */
  private push(...sts: ts.Statement[]): void {
    for (const st of sts) {
      this.leadWith(st);
      this.commentOnce(st);
      this.lastPiece = st;
    }
    append(this.cur, ...sts);
    if (this.fast) append(this.fast, ...sts);
  }

  /**
   * The comments of the places taken apart since the last piece, given to `st`, their first piece,
   * unless its own range starts where they do (then it prints them itself).
   */
  private leadWith(st: ts.Statement): void {
    const pending = this.uncommented;
    if (pending.length === 0) return;
    this.uncommented = [];
    const text = this.s.an.fn.getSourceFile().text;
    for (const from of pending) {
      if (from === st.pos || this.commented.has(from)) continue;
      this.commented.add(from);
      addComments(st, text, tsi.getLeadingCommentRanges(text, from), true);
    }
  }

  /**
   * The pieces of a split statement (or suspension) all map to it, and each would print the comments
   * before and after it. Only the first keeps them; a node of the parse tree is printed as written,
   * flags untouched.
   */
  private commentOnce(st: ts.Statement): void {
    if (st.pos < 0) return;
    let flags = 0;
    if (!this.commented.has(st.pos)) this.commented.add(st.pos);
    else flags |= tsi.EmitFlags.NoLeadingComments;
    if (!this.trailed.has(st.end)) this.trailed.add(st.end);
    else flags |= tsi.EmitFlags.NoTrailingComments;
    if (flags !== 0 && !tsi.isParseTreeNode(st)) tsi.setEmitFlags(st, flags);
  }

  private goto(label: number): ts.Statement[] {
    return [set(this.n.s, num(label)), f.createContinueStatement(this.n.loop)];
  }

  private handlerOf(ctx: Region[]): number {
    return ctx.length === 0 ? 0 : ctx[ctx.length - 1]!.handler;
  }

  /**
   * Code for a jump from the current context to `t`, running what the regions left on the way require.
   * `native`: for the structured copy, which ends the jump with its own statement (`break`, `continue`;
   * none for a return) and leaves for the machine at a finally body on the way.
   */
  private jumpTo(out: ts.Statement[], t: Target, value: ts.Expression | undefined, native?: { jump: ts.Statement | undefined }): void {
    const from = this.ctx;
    let h = this.handlerOf(from);
    const setH = (to: number) => {
      if (to !== h) out.push(set(this.n.h, num(to)));
      h = to;
    };
    if (value && from.length > t.ctx.length && !this.simple(value)) {
      this.usesRv = true;
      out.push(set(this.n.rv, value));
      value = id(this.n.rv);
    }
    for (let i = from.length - 1; i >= t.ctx.length; i--) {
      const r = from[i]!;
      const outer = this.handlerOf(from.slice(0, i));
      if (r.kind === "iter") {
        setH(outer);
        out.push(f.createExpressionStatement(f.createCallExpression(prop(this.n.c, "closeIterator"), undefined, [id(r.it!)])));
      } else if (r.kind === "finally") {
        const key = t.label;
        r.exits!.set(key, t);
        out.push(set(r.ck!, num(key)));
        if (value) out.push(set(r.cv!, value));
        setH(outer);
        out.push(...(native ? this.fastJump(r.body!) : this.goto(r.body!)));
        return;
      }
    }
    setH(this.handlerOf(t.ctx));
    if (t.label === RETURN) out.push(this.finish(value, native !== undefined));
    else out.push(...(native ? [native.jump!] : this.goto(t.label)));
  }

  /**
   * A return or jump of copied code: what the regions it leaves require, then the jump. From inside a `try`
   * of the copied code, whose finally must run first, it leaves by a plain state change for a state that
   * does that. `native`: of the structured copy, which jumps natively (see `jumpTo`).
   */
  private leave(t: Target, value: ts.Expression | undefined, inTry: boolean, native?: { jump: ts.Statement | undefined }): ts.Statement {
    const out: ts.Statement[] = [];
    if (!inTry) this.jumpTo(out, t, value, native);
    else {
      if (value) {
        this.usesRv = true;
        out.push(set(this.n.rv, value));
      }
      const via = this.trampoline(t, value && id(this.n.rv));
      out.push(...(native ? this.fastJump(via) : this.goto(via)));
    }
    return one(out);
  }

  private here(label: number): Target {
    return { label, ctx: this.ctx };
  }

  // ---- hooks for copied code

  ret(value: ts.Expression | undefined, inTry: boolean): ts.Statement {
    return this.leave({ label: RETURN, ctx: [] }, value, inTry);
  }

  jump(node: ts.BreakStatement | ts.ContinueStatement, inTry: boolean): ts.Statement {
    return this.leave(this.targetOf(node), undefined, inTry);
  }

  exitLocals(): readonly string[] {
    this.usesRv = true;
    return [this.n.s, this.n.rv];
  }

  /** A jump from inside a copied `try`: leave it by a plain state change, to the state returned, so its finally runs first. */
  private trampoline(t: Target, value: ts.Expression | undefined): number {
    const via = this.label();
    const saved = this.cur;
    const c: Case = { label: via, body: [] };
    this.tail.push(c);
    this.cur = c.body;
    this.jumpTo(this.cur, t, value);
    this.cur = saved;
    return via;
  }

  private targetOf(node: ts.BreakStatement | ts.ContinueStatement): Target {
    const isBreak = tsi.isBreakStatement(node);
    for (let i = this.jumpables.length - 1; i >= 0; i--) {
      const j = this.jumpables[i]!;
      const match = node.label ? j.labels.includes(node.label.text) : j.kind === "loop" || (isBreak && j.kind === "switch");
      if (!match) continue;
      const t = isBreak ? j.brk : j.cont;
      if (t) return t;
    }
    throw new Unsupported(node, "a jump whose target was not found");
  }

  // ---- temps and saving

  private temp(): string {
    let t: string;
    if (this.inClosure) {
      t = this.closurePool.pop() ?? this.n.mark + "tc" + this.closureTemps.size;
      this.closureTemps.add(t);
      this.heldInClosure.add(t);
    } else {
      t = this.tempPool.pop() ?? this.n.mark + "t" + this.tempCount++;
      if (!this.locals.has(t)) this.locals.set(t, undefined);
    }
    this.liveTemps.push(t);
    this.temps.add(t);
    return t;
  }

  private withTemps<T>(fn: () => T): T {
    const depth = this.liveTemps.length;
    const r = fn();
    while (this.liveTemps.length > depth) {
      const t = this.liveTemps.pop()!;
      (this.closureTemps.has(t) ? this.closurePool : this.tempPool).push(t);
    }
    return r;
  }

  /** Explode statement `node` with temps of its own, in the closure where it has many suspensions (`inClosure`). */
  private withStatementTemps(node: ts.Statement): void {
    if (this.inClosure || !expressionsOnly(node) || this.suspensionsIn(node) <= MAX_SAVES) return this.withTemps(() => this.explode(node));
    this.inClosure = true;
    this.withTemps(() => this.explode(node));
    this.inClosure = false;
    // Emptied once the statement is done with them, so that what they held is not kept alive for the rest of the call, as a generator
    // would not (a statement left by a throw leaves them to the next statement that takes them, or to the call's end).
    const held = [...this.heldInClosure];
    this.heldInClosure.clear();
    if (node.kind !== SK.ReturnStatement && node.kind !== SK.ThrowStatement && held.length > 0)
      this.emit(f.createExpressionStatement(held.reduceRight<ts.Expression>((rest, t) => f.createAssignment(id(t), rest), f.createVoidZero())));
  }

  /** How many of the body's suspensions `node` holds; the count stops going deeper once past MAX_SAVES. */
  private suspensionsIn(node: ts.Node): number {
    let count = 0;
    forEachDescendant(node, (n) => {
      if (n.kind === SK.YieldExpression && this.ownYields.has(n as ts.YieldExpression)) count++;
      return count <= MAX_SAVES;
    });
    return count;
  }

  private save(v: ts.Expression): ts.Expression {
    return id(this.hold(v));
  }

  /**
   * A new temp holding `v`: its name. `v` leaves its statement, so it leaves that statement's comments
   * behind (the first operand of a statement starts where its comments do). `v` may be the parse
   * tree's own node, printed as it is if the lowering gives up later, so it is not touched: the
   * printer skips a node's comments where its container's comment range starts and ends, and the
   * assignment takes `v`'s range and prints no comments of its own.
   */
  private hold(v: ts.Expression): string {
    const t = this.temp();
    const assign = set(t, this.unnamed(v));
    if (v.pos >= 0) tsi.setEmitFlags(tsi.setCommentRange(assign, v), tsi.EmitFlags.NoComments);
    this.emit(assign);
    return t;
  }

  /**
   * `v` for a temp or an operand of its own: an anonymous function or class there would take the temp's
   * name or the assigned name, where JavaScript names it from where it stands (a property key) or not at all.
   */
  private unnamed(v: ts.Expression): ts.Expression {
    if (!isAnonymousFunction(v)) return v;
    const name = contextName(tsi.getOriginalNode(v));
    if (name === null) throw new Unsupported(v, "an anonymous function named by a computed key, before a suspension");
    return nameOf(v, name ?? "");
  }

  private simple(v: ts.Expression): boolean {
    return (
      tsi.isLiteralExpression(v) ||
      v.kind === SK.TrueKeyword ||
      v.kind === SK.FalseKeyword ||
      v.kind === SK.NullKeyword ||
      v.kind === SK.ThisKeyword ||
      (tsi.isIdentifier(v) && this.temps.has(v.text))
    );
  }

  private saveIfNeeded(v: ts.Expression): ts.Expression {
    return this.simple(v) ? v : this.save(v);
  }

  /** The copies into mirrors suspension `y` needs: user locals live after it, live temps, the handler and completions of running finally bodies. */
  private saves(y: ts.YieldExpression): ts.Expression[] {
    const known = this.ownYields.has(y);
    const temps = this.liveTemps.filter((t) => !this.closureTemps.has(t));
    const names = [...this.userLocals.filter((x) => !known || x.liveAt.has(y)).map((x) => x.name), ...temps, ...this.liveDisposers];
    if (this.usesHandler) names.push(this.n.h);
    // Every way into a finally body sets its completion first: they live only while the body runs.
    for (const r of this.liveFinally) names.push(r.ck!, r.cv!);
    return [...new Set(names)].map((x) => f.createAssignment(id(this.mirrorOf(x)), id(x)));
  }

  /** The closure mirror of step local `x`, made when first needed. */
  private mirrorOf(x: string): string {
    let m = this.locals.get(x);
    if (m === undefined) this.locals.set(x, (m = x + this.n.mark));
    return m;
  }

  /**
   * `if ($a is pending) return save…, $s = K, $r._suspend($a, $step);` then `case K:`. One statement: it is on every await.
   * In the first step of a `lazy` one, `return $step.call(this, K, $a, params, locals…)`: the function that takes the
   * call over (emitLazy), given the parameters and the step locals made so far, those live after K among them.
   */
  private suspendIfPending(saves: ts.Expression[], resume: number, origin: ts.Node): void {
    const n = this.n;
    const pending = () => f.createStrictEquality(prop(this.fv, "_state"), num(0));
    const suspend = f.createCallExpression(prop(n.r, "_suspend"), undefined, [id(this.fv), id(n.step)]);
    const all = [...saves, f.createAssignment(id(n.s), num(resume))].reduceRight<ts.Expression>((rest, x) => f.createComma(x, rest), suspend);
    const taken = () => [f.createThis(), num(resume), id(this.fv), ...[...this.params, ...this.locals.keys()].map(id)];
    this.split(f.createIfStatement(pending(), f.createReturnStatement(all)), () => f.createIfStatement(pending(), f.createReturnStatement(f.createCallExpression(prop(n.step, "call"), undefined, taken()))), origin);
  }

  private suspension(node: ts.YieldExpression): ts.Expression {
    const n = this.n;
    const operand = node.expression ? this.expr(node.expression) : f.createVoidZero();
    this.emit(set(this.fv, operand), node);
    const isFuture = f.createBinaryExpression(id(this.fv), SK.InstanceOfKeyword, prop(n.c, "Future"));
    const resume = this.label();
    if (!node.asteriskToken) {
      const bad = f.createThrowStatement(tsi.setSourceMapRange(f.createCallExpression(prop(n.c, "notAFuture"), undefined, [id(this.fv)]), node));
      this.emit(f.createIfStatement(f.createLogicalNot(isFuture), bad));
      this.suspendIfPending(this.saves(node), resume, node);
      this.newCase(resume);
      return id(this.fv);
    }
    // A non-Future iterable is driven by a delegation future (async.ts), awaited like any other.
    // A generator that throws as it starts does so in this call, where V8 places the frame at the operand.
    const delegation = (owner: ts.Expression) => tsi.setSourceMapRange(f.createCallExpression(prop(n.c, "delegate"), undefined, [id(this.fv), owner]), node.expression!);
    // The first step of a lazy one has no result yet: the delegation gets it when the machine takes over (`park`).
    this.split(f.createIfStatement(f.createLogicalNot(isFuture), set(this.fv, delegation(id(n.r)))), () => f.createIfStatement(f.createLogicalNot(isFuture), set(this.fv, delegation(f.createNull()))));
    this.suspendIfPending(this.saves(node), resume, node);
    this.newCase(resume);
    // `read()` inlined for the common case: V8 then keeps the whole await on the fast path.
    const completed = f.createStrictEquality(prop(this.fv, "_state"), num(1));
    return f.createParenthesizedExpression(f.createConditionalExpression(completed, undefined, prop(this.fv, "_result"), undefined, f.createCallExpression(prop(this.fv, "read"), undefined, [])));
  }

  // ---- expressions

  private suspends(node: ts.Node | undefined): boolean {
    return this.s.an.suspends(node);
  }

  /** Evaluate operands in order; those left of the last one with a suspension go to temps. */
  private operands(nodes: readonly ts.Expression[]): ts.Expression[] {
    let last = -1;
    nodes.forEach((x, i) => {
      if (this.suspends(x)) last = i;
    });
    return nodes.map((x, i) => {
      if (i > last) return tsi.isSpreadElement(x) ? f.createSpreadElement(this.rw.expr(x.expression)) : this.rw.expr(x);
      if (tsi.isOmittedExpression(x)) return x;
      if (tsi.isSpreadElement(x)) {
        const v = this.expr(x.expression);
        return f.createSpreadElement(i === last ? v : this.save(f.createArrayLiteralExpression([f.createSpreadElement(v)])));
      }
      const v = this.expr(x);
      return i === last ? v : this.saveIfNeeded(v);
    });
  }

  private discard(v: ts.Expression, origin: ts.Node): void {
    // Reading a name of the program may still throw or run a getter (a global's, one not declared yet).
    if (this.simple(v) || (tsi.isIdentifier(v) && v.text === this.fv)) return this.trailWith(origin);
    this.emit(statementOf(v), origin);
  }

  /** The comments after `origin`, whose last piece is dropped, go after the last piece pushed. */
  private trailWith(origin: ts.Node): void {
    const last = this.lastPiece;
    if (origin.pos < 0 || this.trailed.has(origin.end) || !last || tsi.isParseTreeNode(last)) return;
    this.trailed.add(origin.end);
    const text = this.s.an.fn.getSourceFile().text;
    addComments(last, text, tsi.getTrailingCommentRanges(text, origin.end), false);
  }

  /** `if (test) goto whenTrue`, in the machine only; mapped from `from` to the end of `to` when given (see `mapFrom`). */
  private branch(test: ts.Expression, whenTrue: number, from?: ts.Node, to: ts.Node | undefined = from): void {
    const st = f.createIfStatement(test, f.createBlock(this.goto(whenTrue), true));
    if (from && to) mapFrom(st, from, to);
    this.machineOnly(() => this.emit(st));
  }

  expr(node: ts.Expression): ts.Expression {
    if (!this.suspends(node)) return this.rw.expr(node);
    if (tsi.isParenthesizedExpression(node)) return f.createParenthesizedExpression(this.expr(node.expression));
    if (tsi.isAsExpression(node) || tsi.isNonNullExpression(node) || tsi.isTypeAssertionExpression(node) || tsi.isSatisfiesExpression(node))
      return this.expr(node.expression);
    if (tsi.isYieldExpression(node)) return this.suspension(node);
    if (tsi.isBinaryExpression(node)) return this.binary(node);
    if (tsi.isConditionalExpression(node)) {
      if (!this.suspends(node.whenTrue) && !this.suspends(node.whenFalse))
        return f.createConditionalExpression(this.expr(node.condition), undefined, this.rw.expr(node.whenTrue), undefined, this.rw.expr(node.whenFalse));
      const t = this.temp();
      const other = this.label();
      const end = this.label();
      this.branch(f.createLogicalNot(this.expr(node.condition)), other);
      this.emit(set(t, this.unnamed(this.expr(node.whenTrue))));
      this.push(...this.goto(end));
      this.mark(other);
      this.emit(set(t, this.unnamed(this.expr(node.whenFalse))));
      this.mark(end);
      return id(t);
    }
    if (tsi.isOptionalChain(node) && this.suspendsAfterHead(node)) return id(this.chain(node, false).value);
    if (tsi.isCallExpression(node)) return this.call(node);
    if (tsi.isNewExpression(node)) {
      const [callee, ...args] = this.operands([node.expression, ...(node.arguments ?? [])]);
      return tsi.setSourceMapRange(f.createNewExpression(this.checked(callee!, node.expression, "constructible"), undefined, args), node);
    }
    if (tsi.isPropertyAccessExpression(node)) {
      const o = this.expr(node.expression);
      return tsi.isPropertyAccessChain(node) ? f.updatePropertyAccessChain(node, o, node.questionDotToken, node.name) : f.updatePropertyAccessExpression(node, o, node.name);
    }
    if (tsi.isElementAccessExpression(node)) {
      if (tsi.isElementAccessChain(node)) {
        return f.updateElementAccessChain(node, this.expr(node.expression), node.questionDotToken, this.rw.expr(node.argumentExpression));
      }
      const [o, k] = this.operands([node.expression, node.argumentExpression]);
      return f.createElementAccessExpression(o!, k!);
    }
    if (tsi.isTaggedTemplateExpression(node)) return this.tagged(node);
    if (tsi.isClassExpression(node)) return this.classValue(node) as ts.Expression;
    if (tsi.isTemplateExpression(node)) {
      const items = node.templateSpans.map((s) => s.expression);
      let last = -1;
      items.forEach((x, i) => {
        if (this.suspends(x)) last = i;
      });
      const values = items.map((x, i) => {
        if (i > last) return this.rw.expr(x);
        const v = this.expr(x);
        // A substitution is converted to a string when it is evaluated, so a saved one is saved as a string.
        return i === last ? v : this.save(f.createTemplateExpression(f.createTemplateHead(""), [f.createTemplateSpan(v, f.createTemplateTail(""))]));
      });
      return f.createTemplateExpression(node.head, node.templateSpans.map((s, i) => f.createTemplateSpan(values[i]!, s.literal)));
    }
    if (tsi.isArrayLiteralExpression(node)) return f.createArrayLiteralExpression(this.operands(node.elements));
    if (tsi.isObjectLiteralExpression(node)) return this.object(node);
    if (tsi.isPrefixUnaryExpression(node) || tsi.isPostfixUnaryExpression(node)) {
      const operand = this.reference(node.operand);
      return tsi.isPrefixUnaryExpression(node) ? f.createPrefixUnaryExpression(node.operator, operand) : f.createPostfixUnaryExpression(operand, node.operator);
    }
    if (tsi.isTypeOfExpression(node)) return f.createTypeOfExpression(this.expr(node.expression));
    if (tsi.isVoidExpression(node)) return f.createVoidExpression(this.expr(node.expression));
    if (tsi.isDeleteExpression(node)) {
      if (tsi.isOptionalChain(unparen(node.expression))) throw new Unsupported(node, "a suspension in a delete of an optional chain");
      return f.createDeleteExpression(this.reference(node.expression));
    }
    if (tsi.isJsxElement(node) || tsi.isJsxSelfClosingElement(node) || tsi.isJsxFragment(node)) return this.jsx(node);
    throw new Unsupported(node, `a suspension inside ${kindName(node)}`);
  }

  /**
   * JSX holding a suspension, as a call of its factory: the operands (a component's tag, attribute
   * values and spreads, children) are evaluated in the order the JSX transform's call evaluates them
   * (source order; the key last where it is passed apart), those left of the last suspension into
   * temps, a spread as a copy (an object literal as one with its parts in temps). An element left of
   * it is made there, its factory called in order; its temp becomes an `{expression}`. A component's
   * tag is a temp then too, in both tags.
   */
  private jsx(node: ts.JsxElement | ts.JsxSelfClosingElement | ts.JsxFragment): ts.Expression {
    const opening = tsi.isJsxElement(node) ? node.openingElement : tsi.isJsxSelfClosingElement(node) ? node : undefined;
    const children = tsi.isJsxSelfClosingElement(node) ? [] : node.children;
    const operandOf = (n: ts.JsxAttributeValue | ts.JsxChild): ts.Expression | undefined =>
      tsi.isJsxExpression(n) ? n.expression : tsi.isJsxText(n) || tsi.isStringLiteral(n) ? undefined : n;
    // A component's tag is a value: an identifier, `this` or a member, never a namespaced name.
    const tag = opening && isComponentTag(opening.tagName) ? (opening.tagName as ts.Expression) : undefined;
    const operands: { x: ts.Expression; spread?: "props" | "children" }[] = tag ? [{ x: tag }] : [];
    // The automatic runtime's `jsx(type, props, key)` evaluates the key after the props and children.
    const key = opening && this.s.keyApart(opening.attributes);
    const value = new Map<ts.Node, ts.Expression>();
    const attrs: readonly ts.JsxAttributeLike[] = opening?.attributes.properties ?? [];
    for (const a of attrs) {
      const x = tsi.isJsxSpreadAttribute(a) ? a.expression : a !== key && a.initializer && operandOf(a.initializer);
      if (!x) continue;
      // A key before the one passed apart is oxc's, which drops it unevaluated.
      if (key && isKey(a) && attrs.indexOf(a) < attrs.indexOf(key)) {
        if (this.suspends(x)) throw new Unsupported(a, "a suspension in a `key` the JSX transform drops (oxc passes an element's last `key`)");
        value.set(x, this.rw.expr(x));
      } else operands.push({ x, spread: tsi.isJsxSpreadAttribute(a) ? "props" : undefined });
    }
    for (const c of children) {
      const x = operandOf(c);
      if (x) operands.push({ x, spread: tsi.isJsxExpression(c) && c.dotDotDotToken ? "children" : undefined });
    }
    const keyValue = key?.initializer && operandOf(key.initializer);
    if (keyValue) operands.push({ x: keyValue });
    let last = -1;
    operands.forEach(({ x }, i) => {
      if (this.suspends(x)) last = i;
    });
    operands.forEach(({ x, spread }, i) => {
      if (i > last) return void value.set(x, this.rw.expr(x));
      // An object literal TypeScript inlines stays one, its parts in temps: copied, it would count as a
      // spread before the key, and the element would switch to `createElement`.
      if (i < last && spread === "props" && tsi.isObjectLiteralExpression(x) && !x.properties.some(tsi.isSpreadAssignment))
        return void value.set(x, this.object(x, true));
      const v = this.expr(x);
      if (i === last) value.set(x, v);
      else if (spread === "props") value.set(x, this.save(f.createObjectLiteralExpression([f.createSpreadAssignment(v)])));
      else if (spread === "children") value.set(x, this.save(f.createArrayLiteralExpression([f.createSpreadElement(v)])));
      else value.set(x, x === tag ? this.save(v) : this.saveIfNeeded(v));
    });
    const put = <T extends ts.JsxAttributeValue | ts.JsxChild>(n: T): T | ts.JsxExpression => {
      const x = operandOf(n);
      const v = x && value.get(x);
      if (!v) return n;
      if (tsi.isJsxExpression(n)) return f.updateJsxExpression(n, v);
      return tsi.isJsxElement(v) || tsi.isJsxSelfClosingElement(v) || tsi.isJsxFragment(v) ? (v as T) : f.createJsxExpression(undefined, v);
    };
    const kids = children.map((c: ts.JsxChild) => put(c));
    if (tsi.isJsxFragment(node)) return f.updateJsxFragment(node, node.openingFragment, kids, node.closingFragment);
    const tagName = (tag ? value.get(tag) : opening!.tagName) as ts.JsxTagNameExpression;
    const props = opening!.attributes.properties.map((a) =>
      tsi.isJsxSpreadAttribute(a) ? f.updateJsxSpreadAttribute(a, value.get(a.expression)!) : a.initializer ? f.updateJsxAttribute(a, a.name, put(a.initializer)) : a,
    );
    const attributes = f.updateJsxAttributes(opening!.attributes, props);
    // An object literal whose methods close over per-iteration bindings is made by a call.
    if (!this.s.keyApart(opening!.attributes) !== !this.s.keyApart(attributes))
      throw new Unsupported(opening!, "JSX whose spread before `key`, lowered, would no longer be an object literal (the JSX transform would pass its key another way)");
    if (tsi.isJsxSelfClosingElement(node)) return f.updateJsxSelfClosingElement(node, tagName, node.typeArguments, attributes);
    const closing = tag ? f.updateJsxClosingElement(node.closingElement, id((tagName as ts.Identifier).text)) : node.closingElement;
    return f.updateJsxElement(node, f.updateJsxOpeningElement(node.openingElement, tagName, node.openingElement.typeArguments, attributes), kids, closing);
  }

  /** A member expression with object and key evaluated (and saved when a later part suspends). */
  private reference(node: ts.Expression): ts.Expression {
    const e = unparen(node);
    if (tsi.isPropertyAccessExpression(e) && !tsi.isOptionalChain(e)) return f.createPropertyAccessExpression(this.expr(e.expression), e.name);
    if (tsi.isElementAccessExpression(e) && !tsi.isOptionalChain(e)) {
      const [o, k] = this.operands([e.expression, e.argumentExpression]);
      return f.createElementAccessExpression(o!, k!);
    }
    return this.expr(node);
  }

  private binary(node: ts.BinaryExpression): ts.Expression {
    const op = node.operatorToken.kind;
    if (op === SK.CommaToken) {
      this.discard(this.expr(node.left), node.left);
      return asValue(this.unnamed(this.expr(node.right)));
    }
    if (op === SK.AmpersandAmpersandToken || op === SK.BarBarToken || op === SK.QuestionQuestionToken) {
      const t = this.temp();
      const end = this.label();
      this.emit(set(t, this.unnamed(this.expr(node.left))));
      this.branch(this.shortCircuits(op, id(t)), end);
      this.emit(set(t, this.unnamed(this.expr(node.right))));
      this.mark(end);
      return id(t);
    }
    if (op === SK.EqualsToken) {
      const left = unparen(node.left);
      if (tsi.isObjectLiteralExpression(left) || tsi.isArrayLiteralExpression(left)) {
        if (this.suspends(left)) {
          const value = this.saveIfNeeded(this.expr(node.right));
          this.destructure(left, value);
          return value;
        }
        const v = this.expr(node.right);
        return f.createAssignment(this.rw.expr(left), v);
      }
      if (tsi.isIdentifier(left)) return f.createAssignment(this.rw.expr(left), this.expr(node.right));
      if (tsi.isPropertyAccessExpression(left) && !tsi.isOptionalChain(left)) {
        const [o, v] = this.operands([left.expression, node.right]);
        return f.createAssignment(f.createPropertyAccessExpression(o!, left.name), v!);
      }
      if (tsi.isElementAccessExpression(left) && !tsi.isOptionalChain(left)) {
        const [o, k, v] = this.operands([left.expression, left.argumentExpression, node.right]);
        return f.createAssignment(f.createElementAccessExpression(o!, k!), v!);
      }
      throw new Unsupported(node, "a suspension in an assignment to this kind of target");
    }
    const compound = compoundOperator(op);
    const logical = logicalOperator(op);
    if (compound !== undefined || logical !== undefined) {
      const target = this.storedReference(node.left);
      if (compound !== undefined) {
        if (this.unchangedBy(node.left, node.right)) return f.createAssignment(target.write(), f.createBinaryExpression(target.read(), compound, this.expr(node.right)));
        const old = this.save(target.read());
        return f.createAssignment(target.write(), f.createBinaryExpression(old, compound, this.expr(node.right)));
      }
      const t = this.temp();
      const end = this.label();
      this.emit(set(t, target.read()));
      this.branch(this.shortCircuits(logical!, id(t)), end);
      this.emit(set(t, f.createAssignment(target.write(), this.expr(node.right))));
      this.mark(end);
      return id(t);
    }
    // `#x in o`: the name is no value to evaluate first, nor one a temp can hold.
    if (tsi.isPrivateIdentifier(node.left)) return f.createBinaryExpression(node.left, node.operatorToken, this.expr(node.right));
    const [l, r] = this.operands([node.left, node.right]);
    return f.createBinaryExpression(l!, node.operatorToken, r!);
  }

  /**
   * Whether `target op= operand` may read the target after the operand: a local of this body that no
   * closure holds and the operand does not assign, which nothing else can change meanwhile, so no temp
   * need hold its old value across the operand's suspensions; and one saved at each of them anyway,
   * being read later (liveness, hoist.ts, judges the read as written, before them). A parameter is left
   * out: sloppy code's `arguments` aliases it.
   */
  private unchangedBy(target: ts.Expression, operand: ts.Expression): boolean {
    const e = unparen(target);
    const an = this.s.an;
    const b = tsi.isIdentifier(e) ? an.bindingOf.get(e) : undefined;
    const slot = b && this.s.slots.get(b);
    if (!b || !slot || b.captured || b.kind === "param" || b.scope.fn !== an.fn) return false;
    const kept = (y: ts.YieldExpression) => slot.mirror === undefined || slot.liveAt.has(y) || !this.ownYields.has(y);
    if (!an.suspensions.every((y) => y.pos < operand.pos || y.end > operand.end || kept(y))) return false;
    return !contains(operand, (n) => tsi.isIdentifier(n) && an.writes.has(n) && an.bindingOf.get(n) === b);
  }

  /** The condition under which `a op b` is `a` without evaluating `b`. */
  private shortCircuits(op: ts.SyntaxKind, t: ts.Expression): ts.Expression {
    if (op === SK.AmpersandAmpersandToken) return f.createLogicalNot(t);
    if (op === SK.BarBarToken) return t;
    return f.createBinaryExpression(t, SK.ExclamationEqualsToken, f.createNull());
  }

  /** For `target op= …`: the target with object and key saved, as makers of fresh nodes to read and to write it. */
  private storedReference(node: ts.Expression): { read: () => ts.Expression; write: () => ts.Expression } {
    const e = unparen(node);
    const same = (make: () => ts.Expression) => ({ read: make, write: make });
    if (tsi.isIdentifier(e)) return { read: () => uncommented(this.rw.read(e)), write: () => uncommented(this.rw.expr(e)) };
    if (tsi.isPropertyAccessExpression(e) && !tsi.isOptionalChain(e)) {
      const o = this.saveIfNeeded(this.expr(e.expression));
      return same(() => f.createPropertyAccessExpression(o, e.name));
    }
    if (tsi.isElementAccessExpression(e) && !tsi.isOptionalChain(e)) {
      const o = this.saveIfNeeded(this.expr(e.expression));
      // Unconverted: reading and writing each convert the key, as JavaScript does (a null object throws first).
      const k = this.saveIfNeeded(this.expr(e.argumentExpression));
      return same(() => f.createElementAccessExpression(o, k));
    }
    throw new Unsupported(node, "a suspension in a compound assignment to this kind of target");
  }

  /**
   * The call `node`, its operands taken apart where its arguments suspend: rebuilt, it keeps the call's
   * place in the source map, where a stack trace shows a frame of the body running it.
   */
  private call(node: ts.CallExpression): ts.Expression {
    const rebuilt = this.callApart(node);
    return rebuilt.pos < 0 ? tsi.setSourceMapRange(rebuilt, callSite(node)) : rebuilt;
  }

  private callApart(node: ts.CallExpression): ts.Expression {
    const argsSuspend = node.arguments.some((a) => this.suspends(a));
    const callee = node.expression;
    if (!argsSuspend) {
      const c = this.expr(callee);
      const args = node.arguments.map((a) => this.rw.expr(a));
      return tsi.isCallChain(node) ? f.updateCallChain(node, c, node.questionDotToken, undefined, args) : f.updateCallExpression(node, c, undefined, args);
    }
    if (callee.kind === SK.ImportKeyword) return f.createCallExpression(callee, undefined, this.operands(node.arguments));
    if (callee.kind === SK.SuperKeyword) throw new Unsupported(node, "super call");
    const inner = unparen(callee);
    if ((tsi.isPropertyAccessExpression(inner) || tsi.isElementAccessExpression(inner)) && !tsi.isOptionalChain(inner)) {
      const o = this.saveIfNeeded(this.expr(inner.expression));
      const key = tsi.isPropertyAccessExpression(inner) ? undefined : this.expr(inner.argumentExpression);
      const fn = this.save(key === undefined ? f.createPropertyAccessExpression(o, (inner as ts.PropertyAccessExpression).name) : f.createElementAccessExpression(o, key));
      const args = this.operands(node.arguments);
      return f.createCallExpression(f.createPropertyAccessExpression(this.checked(fn, callee, "callable"), methodCall(node)), undefined, [o, ...args]);
    }
    if (isChainedMember(inner)) {
      // `(a?.b.m)(…)`: the parentheses end the chain but keep `this`.
      const { value, self } = this.chain(inner, true);
      return f.createCallExpression(f.createPropertyAccessExpression(this.checked(value, callee, "callable"), methodCall(node)), undefined, [id(self!), ...this.operands(node.arguments)]);
    }
    const fn = this.saveIfNeeded(this.expr(callee));
    return f.createCallExpression(this.checked(fn, callee, "callable"), undefined, this.operands(node.arguments));
  }

  /**
   * `fn`, when it is a temp holding the callee `written`, through the runtime's check
   * (`$c.callable($t1, "conn.send")`), which gives what is no function a stand-in throwing the engine's
   * TypeError naming `written`: the engine's own would name the temp, or for a method read `call` of
   * undefined before the arguments.
   */
  private checked(fn: ts.Expression | string, written: ts.Expression, check: "callable" | "constructible"): ts.Expression {
    const held = typeof fn === "string" ? id(fn) : fn;
    if (!tsi.isIdentifier(held) || !this.temps.has(held.text)) return held;
    const text = calleeName(written, this.s.downlevel.optionalChains ? "." : "?.");
    return f.createCallExpression(prop(this.n.c, check), undefined, [held, f.createStringLiteral(text.length <= 60 ? text : `${text.slice(0, 59)}…`)]);
  }

  /**
   * `tag\`a${x}b\`` with a suspension: the tag (and the object it is read from) and the substitutions
   * evaluated in order, then the call with the site's strings object (see rewrite.ts).
   */
  private tagged(node: ts.TaggedTemplateExpression): ts.Expression {
    const tag = unparen(node.tag);
    let fn: ts.Expression;
    let self: ts.Expression | undefined;
    if ((tsi.isPropertyAccessExpression(tag) || tsi.isElementAccessExpression(tag)) && tag.expression.kind !== SK.SuperKeyword) {
      self = this.saveIfNeeded(this.expr(tag.expression));
      fn = this.save(tsi.isPropertyAccessExpression(tag) ? f.createPropertyAccessExpression(self, tag.name) : f.createElementAccessExpression(self, this.expr(tag.argumentExpression)));
    } else fn = this.saveIfNeeded(this.expr(node.tag));
    const tpl = node.template;
    const values = tsi.isTemplateExpression(tpl) ? this.operands(tpl.templateSpans.map((x) => x.expression)) : [];
    const strings = this.s.template(tpl);
    const tagFn = this.checked(fn, node.tag, "callable");
    const call = self === undefined ? f.createCallExpression(tagFn, undefined, [strings, ...values]) : f.createCallExpression(f.createPropertyAccessExpression(tagFn, methodCall(node)), undefined, [self, strings, ...values]);
    return tsi.setSourceMapRange(call, callSite(node));
  }

  /**
   * A class whose `extends` or computed member names suspend: those evaluated first, in order (a key
   * converted to a property key as it is evaluated), and the class made from their values.
   */
  private classValue(node: ts.ClassExpression | ts.ClassDeclaration): ts.Expression | ts.Statement {
    // Moved out of the class they would run in the step function, sloppy code where the generator is: a class is strict code.
    if (!this.s.an.strict) throw new Unsupported(node, "a class whose 'extends' or computed member names suspend, in sloppy code (a class's own code is strict)");
    const heritage = node.heritageClauses?.find((h) => h.token === SK.ExtendsKeyword)?.types[0]?.expression;
    // A field's key, where TypeScript lowers class fields (below ES2022, or useDefineForClassFields false), is converted where
    // the field is assigned (each construction, or after the class): kept as a value.
    const fieldKeysLater = this.s.downlevel.classes;
    const parts: { e: ts.Expression; key: boolean; convert: boolean }[] = heritage ? [{ e: heritage, key: false, convert: false }] : [];
    for (const m of node.members) {
      if (!m.name || !tsi.isComputedPropertyName(m.name)) continue;
      // TypeScript drops an overload, an abstract or a `declare` member, and its name is never evaluated.
      if (isDropped(m)) {
        if (this.suspends(m.name.expression)) throw new Unsupported(m.name, "a suspension in the name of a member TypeScript drops (an overload, abstract or declare)");
        continue;
      }
      parts.push({ e: m.name.expression, key: true, convert: !(fieldKeysLater && tsi.isPropertyDeclaration(m) && !tsi.isAutoAccessorPropertyDeclaration(m)) });
    }
    // Inside them the class's own name is not yet initialized: using it throws, which a hoisted name would not.
    const isSelf = (b: Binding | undefined) => b !== undefined && b.scope.node === node && b.name === node.name?.text;
    if (node.name && parts.some((p) => contains(p.e, (n) => tsi.isIdentifier(n) && isSelf(this.s.an.bindingOf.get(n)))))
      throw new Unsupported(node, "a class using its own name in its 'extends' or computed member names");
    let last = -1;
    parts.forEach((p, i) => {
      if (this.suspends(p.e)) last = i;
    });
    // A key is evaluated where the class's private names are in scope; moved out before the class, `#x` would be
    // a SyntaxError, or an enclosing class's `#x`.
    const own = new Set(node.members.flatMap((m) => (m.name && tsi.isPrivateIdentifier(m.name) ? [m.name.text] : [])));
    const moved = parts.slice(0, last + 1).find((p) => p.key && contains(p.e, (n) => tsi.isPrivateIdentifier(n) && own.has(n.text)));
    if (moved) throw new Unsupported(moved.e, "a computed member name using its class's private names, evaluated before the class because it or a later name suspends");
    parts.forEach((p, i) => {
      if (i > last) return;
      const v = this.expr(p.e);
      const saved = i === last || (p.convert ? convertsUnseen(v) : this.simple(v)) ? v : this.save(p.convert ? f.createCallExpression(prop(this.n.c, "toKey"), undefined, [v]) : v);
      this.rw.substitute.set(p.e, saved);
    });
    const copy = this.rw.visit(node) as ts.Expression | ts.Statement;
    for (const p of parts) this.rw.substitute.delete(p.e);
    return copy;
  }

  /** The links of the optional chain ending at `node`, from the first `?.` up, and the expression they start from. */
  private links(node: ts.OptionalChain): { head: ts.Expression; links: ts.Expression[] } {
    const links: ts.Expression[] = [];
    let e: ts.Expression = node;
    while (tsi.isOptionalChain(e)) {
      links.unshift(e);
      e = (e as ts.PropertyAccessExpression | ts.ElementAccessExpression | ts.CallExpression | ts.NonNullExpression).expression;
    }
    return { head: e, links };
  }

  private suspendsAfterHead(node: ts.OptionalChain): boolean {
    return this.links(node).links.some((l) => (tsi.isElementAccessExpression(l) ? this.suspends(l.argumentExpression) : tsi.isCallExpression(l) && l.arguments.some((a) => this.suspends(a))));
  }

  /**
   * An optional chain with a suspension after its head, link by link: the value so far in a temp, a
   * `?.` ending the chain with `undefined` when it is nullish, so nothing after it is evaluated. A call
   * link is made with the object its function was read from; `wantSelf` asks for that object of the
   * last link too.
   */
  private chain(node: ts.OptionalChain, wantSelf: boolean): { value: string; self: string | undefined } {
    const { head, links } = this.links(node);
    const end = this.label();
    const callNext = (i: number) => (i + 1 < links.length ? tsi.isCallExpression(links[i + 1]!) : wantSelf);
    let self: string | undefined;
    let value: string;
    const h = unparen(head);
    if (callNext(-1) && (tsi.isPropertyAccessExpression(h) || tsi.isElementAccessExpression(h)) && tsi.isOptionalChain(h)) {
      // `(a?.m)?.()`: the parenthesized chain keeps `this` too.
      ({ value, self } = this.chain(h, true));
    } else if (callNext(-1) && (tsi.isPropertyAccessExpression(h) || tsi.isElementAccessExpression(h))) {
      // `o.m?.()` calls m with this = o.
      self = this.hold(this.expr(h.expression));
      value = this.hold(tsi.isPropertyAccessExpression(h) ? f.createPropertyAccessExpression(id(self), h.name) : f.createElementAccessExpression(id(self), this.expr(h.argumentExpression)));
    } else value = this.hold(this.expr(head));
    links.forEach((link, i) => {
      if ((link as ts.PropertyAccessChain).questionDotToken) {
        const nullish = f.createBinaryExpression(id(value), SK.EqualsEqualsToken, f.createNull());
        this.emit(f.createIfStatement(nullish, f.createBlock([set(value, f.createVoidZero()), ...this.goto(end)], true)));
      }
      if (tsi.isPropertyAccessExpression(link) || tsi.isElementAccessExpression(link)) {
        const key = tsi.isElementAccessExpression(link) ? this.expr(link.argumentExpression) : undefined;
        if (callNext(i)) self = this.hold(id(value));
        this.emit(set(value, key === undefined ? f.createPropertyAccessExpression(id(value), (link as ts.PropertyAccessExpression).name) : f.createElementAccessExpression(id(value), key)));
      } else if (tsi.isCallExpression(link)) {
        const args = this.operands(link.arguments);
        const fn = this.checked(value, link.expression, "callable");
        const callee = self === undefined ? fn : f.createPropertyAccessExpression(fn, methodCall(link));
        this.emit(set(value, tsi.setSourceMapRange(f.createCallExpression(callee, undefined, self === undefined ? args : [id(self), ...args]), callSite(link))));
        self = undefined;
      }
    });
    this.mark(end);
    return { value, self };
  }

  /** An object literal, its parts left of its last suspension (or, `all`, every part: a later operand suspends) held in temps. */
  private object(node: ts.ObjectLiteralExpression, all = false): ts.Expression {
    // Evaluation order: each property's computed key, then its value, left to right.
    const parts: ts.Expression[] = [];
    for (const p of node.properties) {
      if (p.name && tsi.isComputedPropertyName(p.name)) parts.push(p.name.expression);
      if (tsi.isPropertyAssignment(p)) parts.push(p.initializer);
      else if (tsi.isShorthandPropertyAssignment(p)) parts.push(p.name);
      else if (tsi.isSpreadAssignment(p)) parts.push(p.expression);
    }
    let last = all ? parts.length : -1;
    parts.forEach((x, i) => {
      if (!all && this.suspends(x)) last = i;
    });
    let i = 0;
    const value = (x: ts.Expression, kind: "key" | "value" | "spread"): ts.Expression => {
      const at = i++;
      if (at > last) return this.rw.expr(x);
      const v = this.expr(x);
      if (at === last) return v;
      if (kind === "key") return convertsUnseen(v) ? v : this.save(f.createCallExpression(prop(this.n.c, "toKey"), undefined, [v]));
      if (kind === "spread") return this.save(f.createObjectLiteralExpression([f.createSpreadAssignment(v)]));
      return this.saveIfNeeded(v);
    };
    const props = node.properties.map((p): ts.ObjectLiteralElementLike => {
      const name = p.name && tsi.isComputedPropertyName(p.name) ? f.createComputedPropertyName(value(p.name.expression, "key")) : p.name;
      if (tsi.isPropertyAssignment(p)) return f.createPropertyAssignment(name!, value(p.initializer, "value"));
      if (tsi.isShorthandPropertyAssignment(p)) return f.createPropertyAssignment(ownKey(p.name.text), value(p.name, "value"));
      if (tsi.isSpreadAssignment(p)) return f.createSpreadAssignment(value(p.expression, "spread"));
      const copy = this.rw.visit(p) as ts.MethodDeclaration | ts.AccessorDeclaration;
      if (tsi.isMethodDeclaration(copy)) return f.updateMethodDeclaration(copy, copy.modifiers, copy.asteriskToken, name as ts.PropertyName, copy.questionToken, copy.typeParameters, copy.parameters, copy.type, copy.body);
      if (tsi.isGetAccessorDeclaration(copy)) return f.updateGetAccessorDeclaration(copy, copy.modifiers, name as ts.PropertyName, copy.parameters, copy.type, copy.body);
      return f.updateSetAccessorDeclaration(copy as ts.SetAccessorDeclaration, copy.modifiers, name as ts.PropertyName, copy.parameters, copy.body);
    });
    // Its methods and accessors close over the environments of this iteration, as those of a literal copied whole do.
    return this.rw.capture(node, f.createObjectLiteralExpression(props, true));
  }

  // ---- statements

  private block(statements: ts.NodeArray<ts.Statement>, top: boolean): void {
    if (!statements.some(isUsing)) {
      this.hoistFunctions(statements, top);
      for (const st of statements) this.statement(st);
    } else
      this.disposing((u) => {
        this.hoistFunctions(statements, top);
        for (const st of statements) {
          if (isUsing(st)) this.withTemps(() => this.declarations(st.declarationList, u));
          else this.statement(st);
        }
      });
    // The comments before its closing brace.
    if (statements.end >= 0) this.uncommented.push(statements.end);
  }

  /**
   * A block holding `using` declarations, or the body of a `for (using x of …)`: `run` (given the
   * resource stack) inside a region whose catch records the error and whose finally disposes the
   * resources, as the Rewriter copies such a block (runtime/dispose.ts). The resource stack lives in
   * a local saved at each suspension inside.
   */
  private disposing(run: (u: string) => void): void {
    if (this.fast) {
      const at = this.label();
      append(this.fast, ...this.fastJump(at));
      return this.machineOnly(() => {
        this.mark(at);
        this.disposing(run);
      });
    }
    const u = `${this.n.u}${this.disposerCount++}`;
    this.locals.set(u, undefined);
    const call = (name: string, ...args: ts.Expression[]) => f.createExpressionStatement(f.createCallExpression(prop(this.n.c, name), undefined, args));
    this.emit(set(u, f.createCallExpression(prop(this.n.c, "disposer"), undefined, [])));
    this.protect(
      () => {
        this.liveDisposers.push(u);
        run(u);
        this.liveDisposers.pop();
      },
      undefined,
      () => this.emit(call("fail", id(u), id(this.n.err))),
      () => this.emit(call("dispose", id(u))),
    );
  }

  /** Hoisted function declarations of a scope, initialized where the scope is entered. */
  private hoistFunctions(statements: readonly ts.Statement[], top: boolean): void {
    for (const st of hoistedFunctions(statements)) {
      const slot = this.rw.slotOf(st.name);
      if (!slot) continue;
      const expr = this.rw.functionValue(st);
      if (top && !slot.mirror) this.hoistedFunctions.push(tsi.setTextRange(f.createVariableStatement(undefined, f.createVariableDeclarationList([f.createVariableDeclaration(slot.name, undefined, undefined, expr)], tsi.NodeFlags.Let)), st));
      else this.emit(f.createExpressionStatement(f.createAssignment(this.rw.ident(st.name), expr)), st);
    }
  }

  private statement(node: ts.Statement): void {
    if (!this.suspends(node)) return this.copy(node);
    if (node.pos >= 0) this.uncommented.push(node.pos);
    if (this.fast && !this.structured(node)) {
      const at = this.label();
      append(this.fast, ...this.fastJump(at));
      return this.machineOnly(() => {
        this.mark(at);
        this.withStatementTemps(node);
      });
    }
    this.withStatementTemps(node);
  }

  private explode(node: ts.Statement): void {
    const labels = this.pendingLabels;
    this.pendingLabels = [];
    if (tsi.isBlock(node)) {
      this.enter(node);
      return this.block(node.statements, false);
    }
    if (tsi.isExpressionStatement(node)) return this.discard(this.expr(node.expression), node);
    if (tsi.isVariableStatement(node)) return this.declarations(node.declarationList);
    if (tsi.isReturnStatement(node)) {
      const v = node.expression ? this.expr(node.expression) : undefined;
      const ret = { label: RETURN, ctx: [] };
      const out: ts.Statement[] = [];
      this.jumpTo(out, ret, v);
      // Through a finally, the structured copy leaves for the machine's finally body; a lazy one's returns differ too.
      const fast = this.fast && (this.lazy || this.ctx.some((r) => r.kind === "finally")) ? this.fast : undefined;
      if (!fast) return out.forEach((st) => this.emit(st, node));
      this.machineOnly(() => out.forEach((st) => this.emit(st, node)));
      const copy: ts.Statement[] = [];
      this.jumpTo(copy, ret, v, { jump: undefined });
      append(fast, ...copy.map((st) => tsi.setTextRange(st, node)));
      return;
    }
    if (tsi.isThrowStatement(node)) return this.emit(f.createThrowStatement(this.expr(node.expression)), node);
    if (tsi.isIfStatement(node)) return this.ifStatement(node);
    if (tsi.isLabeledStatement(node)) {
      let st: ts.Statement = node;
      const names = [...labels];
      while (tsi.isLabeledStatement(st)) {
        names.push(st.label.text);
        st = st.statement;
      }
      if (tsi.isIterationStatement(st, false)) {
        this.pendingLabels = names;
        return this.statement(st);
      }
      const end = this.label();
      this.jumpables.push({ kind: "label", labels: names, brk: this.here(end) });
      const list = this.collect(() => this.statement(st));
      this.jumpables.pop();
      this.machineOnly(() => this.mark(end));
      if (list) append(this.fast!, names.reduceRight<ts.Statement>((x, l) => f.createLabeledStatement(l, x), f.createBlock(list, true)));
      return;
    }
    if (tsi.isWhileStatement(node) || tsi.isDoStatement(node) || tsi.isForStatement(node)) return this.loop(node, labels);
    if (tsi.isForOfStatement(node) || tsi.isForInStatement(node)) return this.forEach(node, labels);
    if (tsi.isSwitchStatement(node)) return this.switchStatement(node, labels);
    if (tsi.isTryStatement(node)) return this.tryStatement(node);
    if (tsi.isClassDeclaration(node) && node.name) return this.emit(this.classValue(node) as ts.Statement, node);
    throw new Unsupported(node, `a suspension inside ${kindName(node)}`);
  }

  /** `disposer`: the resource stack `using` declarations add their values to. */
  private declarations(list: ts.VariableDeclarationList, disposer?: string): void {
    const lexical = (list.flags & tsi.NodeFlags.BlockScoped) !== 0;
    for (const d of list.declarations) {
      if (d.initializer && !tsi.isIdentifier(d.name) && this.suspends(d.name)) this.destructure(d.name, this.saveIfNeeded(this.expr(d.initializer)));
      else if (d.initializer) {
        const v = this.expr(d.initializer);
        const t = this.rw.target(d.name);
        const name = tsi.isIdentifier(d.name) ? d.name.text : undefined;
        // Passed to `use`, an anonymous function is not named by the binding: named here.
        const value = disposer ? f.createCallExpression(prop(this.n.c, "use"), undefined, [id(disposer), this.rw.named(v, d.initializer, name, undefined)]) : this.rw.named(v, d.initializer, name, t);
        this.emit(statementOf(f.createAssignment(t, value)), d);
      } else if (lexical && tsi.isIdentifier(d.name)) this.emit(f.createExpressionStatement(f.createAssignment(this.rw.ident(d.name), f.createVoidZero())), d);
    }
  }

  // ---- destructuring with suspensions
  //
  // A pattern with a suspension (in a default, a computed key or a target) is taken apart in the
  // order JavaScript evaluates it: per element the key, then the target's object and key, then the
  // value, then the default when the value is undefined, then the write. Runs of object properties
  // without a suspension stay native patterns. An array pattern drives the iterator itself: `$it`
  // holds it while not done (null once a step threw or finished, so a throw does not close it),
  // and a pattern region closes it when a default or a write throws.

  /** `target = value` (`value` a temp or constant) for a binding or assignment pattern that suspends. */
  private destructure(target: ts.BindingName | ts.Expression, raw: ts.Expression): void {
    const value = this.saveIfNeeded(raw);
    const t = unparenTarget(target);
    if (tsi.isObjectBindingPattern(t) || tsi.isObjectLiteralExpression(t)) return this.objectPattern(t, value);
    if (tsi.isArrayBindingPattern(t) || tsi.isArrayLiteralExpression(t)) return this.arrayPattern(t, value);
    this.writer(target)(value);
  }

  /** Evaluate what `target` needs before its value (object and key of a member), and give the write. */
  private writer(target: ts.BindingName | ts.Expression): (v: ts.Expression) => void {
    const write = (to: ts.Expression) => (v: ts.Expression) => this.emit(statementOf(f.createAssignment(to, v)));
    if (tsi.isIdentifier(target)) return write(this.rw.expr(target));
    if (tsi.isObjectBindingPattern(target) || tsi.isArrayBindingPattern(target)) return (v) => (this.suspends(target) ? this.destructure(target, this.saveIfNeeded(v)) : write(this.rw.target(target))(v));
    const t = unparen(target);
    if (tsi.isObjectLiteralExpression(t) || tsi.isArrayLiteralExpression(t)) return (v) => (this.suspends(t) ? this.destructure(t, this.saveIfNeeded(v)) : write(this.rw.expr(t))(v));
    if (tsi.isIdentifier(t)) return write(this.rw.expr(t));
    return write(this.storedReference(t).write());
  }

  /** The element's value `t` (a temp), replaced by the default when undefined. */
  private defaultTo(t: string, init: ts.Expression | undefined, target: ts.BindingName | ts.Expression): void {
    if (!init) return;
    const name = tsi.isIdentifier(unparenTarget(target)) ? (unparenTarget(target) as ts.Identifier).text : undefined;
    if (!this.suspends(init)) {
      const v = this.rw.named(this.rw.expr(init), init, name, undefined);
      return this.emit(f.createIfStatement(f.createStrictEquality(id(t), f.createVoidZero()), set(t, v)));
    }
    const skip = this.label();
    this.branch(f.createStrictInequality(id(t), f.createVoidZero()), skip);
    this.emit(set(t, this.rw.named(this.expr(init), init, name, undefined)));
    this.mark(skip);
  }

  private objectPattern(p: ts.ObjectBindingPattern | ts.ObjectLiteralExpression, value: ts.Expression): void {
    const parts = tsi.isObjectBindingPattern(p) ? p.elements.map(bindingProperty) : p.properties.map(literalProperty);
    // A rest element leaves out the keys before it: then every property is taken apart here, keeping its key.
    const allManual = parts.some((x) => x.rest) && parts.some((x) => this.suspends(x.node));
    const native: ts.Node[] = [];
    const keys: ts.Expression[] = [];
    let checked = false;
    const check = () => {
      // A property read would throw on null too, but only after evaluating a computed key.
      if (!checked) this.emit(f.createExpressionStatement(f.createAssignment(f.createObjectLiteralExpression([]), value)));
      checked = true;
    };
    const flush = () => {
      if (native.length === 0) return;
      const pattern = tsi.isObjectBindingPattern(p)
        ? this.rw.target(f.createObjectBindingPattern(native as ts.BindingElement[]))
        : this.rw.expr(f.createObjectLiteralExpression(native as ts.ObjectLiteralElementLike[]));
      this.emit(f.createExpressionStatement(f.createAssignment(pattern, value)));
      native.length = 0;
      checked = true;
    };
    for (const part of parts) {
      if (!allManual && !this.suspends(part.node)) {
        native.push(part.node);
        continue;
      }
      flush();
      check();
      const write = this.writer(part.target);
      if (part.rest) {
        write(this.save(f.createCallExpression(prop(this.n.c, "rest"), undefined, [value, f.createArrayLiteralExpression(keys)])));
        continue;
      }
      let key: ts.Expression;
      const name = part.key!;
      if (tsi.isComputedPropertyName(name)) {
        const raw = this.expr(name.expression);
        key = this.simple(raw) && !allManual ? raw : this.save(f.createCallExpression(prop(this.n.c, "toKey"), undefined, [raw]));
      } else if (tsi.isNumericLiteral(name) || tsi.isBigIntLiteral(name)) key = f.createStringLiteral(String(tsi.isNumericLiteral(name) ? Number(name.text) : BigInt(name.text.slice(0, -1))));
      else key = f.createStringLiteral((name as ts.Identifier | ts.StringLiteral).text);
      keys.push(key);
      const t = this.hold(f.createElementAccessExpression(value, key));
      this.defaultTo(t, part.init, part.target);
      write(id(t));
    }
    flush();
    check();
  }

  private arrayPattern(p: ts.ArrayBindingPattern | ts.ArrayLiteralExpression, value: ts.Expression): void {
    const n = this.n;
    const elements = tsi.isArrayBindingPattern(p) ? p.elements.map(bindingElement) : p.elements.map(literalElement);
    const keep = this.hold(f.createCallExpression(prop(n.c, "iterate"), undefined, [value]));
    const it = this.hold(id(keep));
    const outer = this.ctx;
    const region: Region = { kind: "pattern", handler: this.label() };
    this.tail.push({
      label: region.handler,
      body: [
        set(n.h, num(this.handlerOf(outer))),
        f.createIfStatement(f.createStrictInequality(id(it), f.createNull()), f.createExpressionStatement(f.createCallExpression(prop(n.c, "closeThrow"), undefined, [id(keep), id(n.err)]))),
        f.createThrowStatement(id(n.err)),
      ],
    });
    this.ctx = [...outer, region];
    this.emit(set(n.h, num(region.handler)));
    // One step: the result in `t`, `it` null while stepping so that a throw from next() or a getter leaves it open.
    const step = (t: string, then: ts.Statement[], done?: ts.Statement) =>
      f.createIfStatement(
        f.createStrictInequality(id(it), f.createNull()),
        f.createBlock(
          [
            set(it, f.createNull()),
            set(t, f.createCallExpression(prop(n.c, "step"), undefined, [id(keep)])),
            f.createIfStatement(f.createLogicalNot(prop(t, "done")), f.createBlock([...then, set(it, id(keep))], true), done),
          ],
          true,
        ),
      );
    for (const e of elements) {
      if (e === undefined) {
        const t = this.temp();
        this.emit(step(t, []));
        continue;
      }
      const write = this.writer(e.target);
      const t = this.temp();
      if (e.rest) {
        const r = this.temp();
        this.emit(set(t, f.createArrayLiteralExpression([])));
        const push = f.createExpressionStatement(f.createAssignment(f.createElementAccessExpression(id(t), prop(t, "length")), prop(r, "value")));
        this.emit(f.createWhileStatement(f.createStrictInequality(id(it), f.createNull()), step(r, [push])));
      } else {
        this.emit(set(t, f.createVoidZero()));
        this.emit(step(t, [set(t, prop(t, "value"))], set(t, f.createVoidZero())));
        this.defaultTo(t, e.init, e.target);
      }
      write(id(t));
    }
    this.ctx = outer;
    this.emit(set(n.h, num(this.handlerOf(outer))));
    this.emit(f.createIfStatement(f.createStrictInequality(id(it), f.createNull()), f.createExpressionStatement(f.createCallExpression(prop(n.c, "closeIterator"), undefined, [id(keep)]))));
  }

  private ifStatement(node: ts.IfStatement): void {
    const branches = this.suspends(node.thenStatement) || this.suspends(node.elseStatement);
    let end = 0;
    let other = 0;
    // Once tested, the test's temps are dead: released before the branches, where each suspension would save them.
    const test = this.withTemps(() => {
      const test = this.expr(node.expression);
      if (!branches) return test;
      end = this.label();
      other = node.elseStatement ? this.label() : end;
      // The machine's test maps from the `if` keyword, as the structured copy's `if` does: a breakpoint on the
      // line resolves to that one position, and finds both copies there (from the condition, it found only the copy's).
      const machineTest = f.createIfStatement(f.createLogicalNot(test), f.createBlock(this.goto(other), true));
      this.machineOnly(() => this.emit(machineTest, node.expression));
      mapFrom(machineTest, node, node.expression);
      return test;
    });
    if (!branches) {
      const els = node.elseStatement;
      return this.copy(node, (rw) => f.createIfStatement(test, rw.statement(node.thenStatement) ?? f.createBlock([]), els && rw.statement(els)));
    }
    const then = this.collect(() => this.statement(node.thenStatement));
    let els: ts.Statement[] | undefined;
    if (node.elseStatement) {
      const e = node.elseStatement;
      this.machineOnly(() => {
        this.push(...this.goto(end));
        this.mark(other);
      });
      els = this.collect(() => this.statement(e));
    }
    this.machineOnly(() => this.mark(end));
    if (then) append(this.fast!, tsi.setTextRange(f.createIfStatement(test, f.createBlock(then, true), els && elseBranch(els)), node));
  }

  private loop(node: ts.WhileStatement | ts.DoStatement | ts.ForStatement, labels: string[]): void {
    const resource = usingHead(node);
    if (resource) {
      // `for (using x = r; c; i) b` is `{ using x = r; for (; c; i) b }`: x is constant, disposed once the loop is left.
      return this.disposing((u) => this.loopFrom(node, labels, () => this.withTemps(() => this.declarations(resource, u))));
    }
    const init = tsi.isForStatement(node) ? node.initializer : undefined;
    this.loopFrom(node, labels, init && (() => (tsi.isVariableDeclarationList(init) ? this.declarations(init) : this.discard(this.expr(init), init))));
  }

  /** A loop whose `for` initializer is run by `initialize`. */
  private loopFrom(node: ts.WhileStatement | ts.DoStatement | ts.ForStatement, labels: string[], initialize: (() => void) | undefined): void {
    const top = this.label();
    const cont = this.label();
    const end = this.label();
    if (initialize) {
      this.enter(node);
      initialize();
      this.copyEnv(node);
    }
    this.machineOnly(() => this.mark(tsi.isDoStatement(node) ? top : tsi.isForStatement(node) ? top : cont));
    const cond = tsi.isForStatement(node) ? node.condition : tsi.isWhileStatement(node) ? node.expression : undefined;
    // The structured copy: `for (; cond; inc) body`, or with a suspending condition `for (;; inc) { cond's code; if (!c) break; body }`.
    let test: ts.Expression | undefined;
    const headCase = this.cur;
    const head = this.collect(() => {
      // The machine's test maps from the loop's keyword, as the copy's loop does (see ifStatement); after a
      // suspending condition's code, from the condition, so that a call in it is on its line in a stack trace.
      if (cond) this.withTemps(() => this.branch(f.createLogicalNot((test = this.expr(cond))), end, this.suspends(cond) ? cond : node, cond));
    });
    // A suspending condition's code: its first piece maps from the loop's keyword too (it goes to both copies).
    const first = cond && this.suspends(cond) ? headCase[0] : undefined;
    if (first && !tsi.isParseTreeNode(first) && node.pos >= 0) tsi.setSourceMapRange(first, { pos: node.pos, end: first.pos >= 0 ? first.end : -1 });
    this.jumpables.push({ kind: "loop", labels, brk: this.here(end), cont: this.here(cont) });
    const body = this.collect(() => this.statement(node.statement));
    this.jumpables.pop();
    this.machineOnly(() => {
      if (tsi.isDoStatement(node)) {
        this.mark(cont);
        this.withTemps(() => this.branch(this.expr(node.expression), top, node.expression));
      } else if (tsi.isForStatement(node)) {
        this.mark(cont);
        this.copyEnv(node);
        if (node.incrementor) {
          const inc = node.incrementor;
          this.withTemps(() => this.discard(this.expr(inc), inc));
        }
        this.push(...this.goto(top));
      } else this.push(...this.goto(cont));
      this.mark(end);
    });
    if (head === undefined || body === undefined) return;
    let loop: ts.Statement;
    if (tsi.isDoStatement(node)) loop = f.createDoStatement(f.createBlock(body, true), this.rw.expr(node.expression));
    else {
      const inc = tsi.isForStatement(node) && node.incrementor ? this.rw.expr(node.incrementor) : undefined;
      const inline = head.length === 0;
      const stop = inline || test === undefined || cond === undefined ? [] : [mapFrom(f.createIfStatement(f.createLogicalNot(test), f.createBreakStatement()), cond, cond)];
      loop = f.createForStatement(undefined, inline ? test : undefined, inc, f.createBlock([...head, ...stop, ...body], true));
    }
    append(this.fast!, labels.reduceRight<ts.Statement>((x, l) => f.createLabeledStatement(l, x), tsi.setTextRange(loop, node)));
    this.fastLoop = true;
  }

  private assignLoopTarget(init: ts.ForInitializer, value: ts.Expression): void {
    if (tsi.isVariableDeclarationList(init)) {
      const d = init.declarations[0]!;
      if (!tsi.isIdentifier(d.name) && this.suspends(d.name)) return this.destructure(d.name, value);
      return this.emit(statementOf(f.createAssignment(this.rw.target(d.name), value)), d);
    }
    if (this.suspends(init)) return this.destructure(init, value);
    this.emit(statementOf(f.createAssignment(this.rw.expr(init), value)), init);
  }

  private forEach(node: ts.ForOfStatement | ts.ForInStatement, labels: string[]): void {
    const source = this.expr(node.expression);
    if (!isExploded(this.s.an, node)) {
      return this.copy(node, (rw) => copyLabelled(rw, node, labels, source));
    }
    const n = this.n;
    const it = this.temp();
    const next = this.label();
    const cont = this.label();
    const end = this.label();
    const outer = this.ctx;
    const outerH = this.handlerOf(outer);
    const forIn = tsi.isForInStatement(node);
    this.emit(set(it, f.createCallExpression(prop(n.c, forIn ? "forIn" : "iterate"), undefined, [source])), node.expression);
    // The structured copy's loop: `for (;;) { [$h = outer;] step; if (done) break; target = value; [$h = region;] body }`:
    // a `continue` lands where the handler is the loop's surroundings' again, a `break` leaves the region as the machine's does.
    const body = this.collect(() => {
      this.machineOnly(() => this.mark(next));
      // The step's result is dead once the target holds its value: not saved at the body's suspensions.
      this.withTemps(() => {
        const step = this.temp();
        if (forIn) {
          const done = f.createStrictEquality(f.createAssignment(id(step), f.createCallExpression(prop(it, "next"), undefined, [])), f.createVoidZero());
          this.stepped(done, end);
          this.enter(node);
          this.assignLoopTarget(node.initializer, id(step));
        } else {
          if (this.fast) append(this.fast, set(n.h, num(outerH)));
          this.emit(set(step, f.createCallExpression(prop(n.c, "step"), undefined, [id(it)])));
          this.stepped(prop(step, "done"), end);
          this.enter(node);
          const region: Region = { kind: "iter", handler: this.label(), it };
          const value = prop(step, "value");
          const simpleTarget = tsi.isVariableDeclarationList(node.initializer) ? tsi.isIdentifier(node.initializer.declarations[0]!.name) : tsi.isIdentifier(node.initializer);
          const closing = () => {
            this.ctx = [...outer, region];
            this.emit(set(n.h, num(region.handler)));
          };
          if (simpleTarget) {
            this.assignLoopTarget(node.initializer, value);
            closing();
          } else
            this.withTemps(() => {
              // The value is read before the target is evaluated, and a throw reading it does not close the iterator; one from the target or pattern does.
              const held = this.temp();
              this.emit(set(held, value));
              closing();
              this.assignLoopTarget(node.initializer, id(held));
            });
          const c: Case = { label: region.handler, body: [] };
          this.tail.push(c);
          c.body.push(set(n.h, num(outerH)), f.createExpressionStatement(f.createCallExpression(prop(n.c, "closeThrow"), undefined, [id(it), id(n.err)])));
        }
      });
      this.jumpables.push({ kind: "loop", labels, brk: { label: end, ctx: outer }, cont: this.here(cont) });
      const head = usingHead(node);
      if (head) {
        // Each iteration's value is its resource, disposed before the next step (and before the iterator is closed).
        const x = head.declarations[0]!.name as ts.Identifier;
        this.disposing((u) => {
          this.emit(statementOf(f.createAssignment(this.rw.target(x), f.createCallExpression(prop(n.c, "use"), undefined, [id(u), this.rw.read(x)]))), head);
          this.statement(node.statement);
        });
      } else this.statement(node.statement);
      this.jumpables.pop();
    });
    this.machineOnly(() => {
      this.mark(cont);
      if (this.ctx !== outer) this.emit(set(n.h, num(outerH)));
      this.push(...this.goto(next));
      this.mark(end);
    });
    this.ctx = outer;
    if (body === undefined) return;
    const loop = f.createForStatement(undefined, undefined, undefined, f.createBlock(body, true));
    append(this.fast!, labels.reduceRight<ts.Statement>((x, l) => f.createLabeledStatement(l, x), tsi.setTextRange(loop, node)));
    this.fastLoop = true;
  }

  /** The end of a `for…of`/`for…in` loop's iteration: in the machine a branch to `end`, in the structured copy a `break`. */
  private stepped(done: ts.Expression, end: number): void {
    this.branch(done, end);
    if (this.fast) append(this.fast, f.createIfStatement(done, f.createBreakStatement()));
  }

  private switchStatement(node: ts.SwitchStatement, labels: string[]): void {
    const bodies = this.suspends(node.caseBlock);
    let end = 0;
    let targets: number[] = [];
    // Once a case is chosen, the temps of the discriminant and the tests are dead: released before the bodies,
    // where each suspension would save them.
    // The structured copy's own `switch` on the same value: its case tests suspend nowhere (see `structured`).
    let disc: ts.Expression | undefined;
    const tests: (ts.Expression | undefined)[] = [];
    const d = this.withTemps(() => {
      const d = this.expr(node.expression);
      if (!bodies) return d;
      disc = this.saveIfNeeded(d);
      this.enter(node.caseBlock);
      // The case block is one scope: its functions exist before any case test runs.
      this.hoistFunctions(node.caseBlock.clauses.flatMap((c) => c.statements), false);
      end = this.label();
      targets = node.caseBlock.clauses.map(() => this.label());
      let fallback = end;
      node.caseBlock.clauses.forEach((clause, i) => {
        if (tsi.isDefaultClause(clause)) {
          fallback = targets[i]!;
          tests.push(undefined);
        } else
          this.withTemps(() => {
            const test = this.expr(clause.expression);
            tests.push(test);
            this.branch(f.createStrictEquality(disc!, test), targets[i]!);
          });
      });
      this.machineOnly(() => this.push(...this.goto(fallback)));
      return d;
    });
    if (!bodies) return this.copy(node, (rw) => copyLabelled(rw, node, labels, d));
    this.jumpables.push({ kind: "switch", labels, brk: this.here(end) });
    const bodiesCopied = node.caseBlock.clauses.map((clause, i) => {
      this.machineOnly(() => this.mark(targets[i]!));
      this.uncommented.push(clause.pos);
      return this.collect(() => {
        for (const st of clause.statements) this.statement(st);
      });
    });
    this.jumpables.pop();
    this.machineOnly(() => this.mark(end));
    if (this.fast === undefined) return;
    const clauses = bodiesCopied.map((list, i) => (tests[i] ? f.createCaseClause(tests[i]!, list!) : f.createDefaultClause(list!)));
    // Mapped where the machine's first piece is, the discriminant: a breakpoint on the line then stops in both copies.
    const sw = tsi.setSourceMapRange(tsi.setTextRange(f.createSwitchStatement(disc!, f.createCaseBlock(clauses)), node), node.expression);
    append(this.fast, labels.reduceRight<ts.Statement>((x, l) => f.createLabeledStatement(l, x), sw));
  }

  private tryStatement(node: ts.TryStatement): void {
    const clause = node.catchClause;
    const fin = node.finallyBlock;
    this.protect(() => this.statement(node.tryBlock), node.tryBlock, clause && (() => this.catchClause(clause)), fin && (() => this.statement(fin)));
  }

  /** The catch clause's body, its parameter bound to the error in `$err`. */
  private catchClause(clause: ts.CatchClause): void {
    const n = this.n;
    const param = clause.variableDeclaration;
    if (!this.suspends(clause)) {
      const body = this.rw.statement(clause.block) as ts.Block;
      const bind = param ? [f.createVariableStatement(undefined, f.createVariableDeclarationList([f.createVariableDeclaration(this.rw.visit(param.name) as ts.BindingName, undefined, undefined, id(n.err))], tsi.NodeFlags.Let))] : [];
      this.emit(f.createBlock([...bind, ...body.statements], true), clause);
    } else {
      this.enter(clause);
      if (param) {
        if (!tsi.isIdentifier(param.name) && this.suspends(param.name)) this.destructure(param.name, id(n.err));
        else this.emit(statementOf(f.createAssignment(this.rw.target(param.name), id(n.err))), param);
      }
      this.statement(clause.block);
    }
  }

  /**
   * A protected region: `body`, then `caught` when it throws (the error in `$err`), then `final` on
   * every way out: normal end, throw, return, or a jump crossing it.
   */
  private protect(body: () => void, origin: ts.Node | undefined, caught: (() => void) | undefined, final: (() => void) | undefined): void {
    const n = this.n;
    const outer = this.ctx;
    const outerH = this.handlerOf(outer);
    const end = this.label();
    let fin: Region | undefined;
    if (final) {
      const k = this.regionCount++;
      fin = { kind: "finally", handler: this.label(), body: this.label(), ck: `${n.mark}ck${k}`, cv: `${n.mark}cv${k}`, exits: new Map() };
      this.locals.set(fin.ck!, undefined);
      this.locals.set(fin.cv!, undefined);
      this.ctx = [...outer, fin];
    }
    const withFinally = this.ctx;
    // `active`: the handler `$h` holds where the block ends, which may be the catch's own.
    const leave = (active: number) => {
      if (fin) this.emit(set(fin.ck!, num(0)));
      if (active !== outerH) this.emit(set(n.h, num(outerH)));
      this.machineOnly(() => this.push(...this.goto(fin ? fin.body! : end)));
    };
    let catcher: Region | undefined;
    if (caught) {
      catcher = { kind: "catch", handler: this.label() };
      this.ctx = [...withFinally, catcher];
    }
    const tryHandler = this.handlerOf(this.ctx);
    this.emit(set(n.h, num(tryHandler)), origin);
    body();
    this.ctx = withFinally;
    leave(tryHandler);
    // The structured copy (a `try` in it: see `structured`) goes on past the block only while nothing threw, then
    // through the finally body; a throw has reached the machine's handler through `$h`.
    const fast = this.fast;
    this.fast = undefined;
    if (caught && catcher) {
      this.mark(catcher.handler);
      this.emit(set(n.h, num(this.handlerOf(withFinally))));
      caught();
      leave(this.handlerOf(withFinally));
    }
    this.ctx = outer;
    if (fin) {
      this.mark(fin.handler);
      this.emit(set(fin.ck!, num(THROW)));
      this.emit(set(fin.cv!, id(n.err)));
      if (outerH !== fin.handler) this.emit(set(n.h, num(outerH)));
      this.mark(fin.body!);
      this.liveFinally.push(fin);
      this.fast = fast;
      final!();
      this.fast = undefined;
      this.liveFinally.pop();
      this.emit(f.createIfStatement(f.createStrictEquality(id(fin.ck!), num(THROW)), f.createThrowStatement(id(fin.cv!))));
      for (const [key, t] of fin.exits!) {
        const out: ts.Statement[] = [];
        this.jumpTo(out, t, key === RETURN ? id(fin.cv!) : undefined);
        this.emit(f.createIfStatement(f.createStrictEquality(id(fin.ck!), num(key)), f.createBlock(out, true)));
      }
    }
    this.mark(end);
    this.fast = fast;
  }
}

/** A property or element read that is a link of an optional chain (`a?.b.m`). */
function isChainedMember(e: ts.Expression): e is ts.PropertyAccessChain | ts.ElementAccessChain {
  return (tsi.isPropertyAccessExpression(e) || tsi.isElementAccessExpression(e)) && tsi.isOptionalChain(e);
}

/** Whether the body has a region that needs the `$h` handler local: a `try`, `for…of`, `using` block or `for (using …)` that suspends. */
function needsHandler(s: Scope, body: ts.Node | undefined): boolean {
  const visit = (n: ts.Node): boolean => {
    if (!s.an.suspends(n)) return false;
    if (tsi.isTryStatement(n) || (tsi.isForOfStatement(n) && isExploded(s.an, n)) || tsi.isArrayBindingPattern(n) || (tsi.isArrayLiteralExpression(n) && isAssignmentPattern(n))) return true;
    if (tsi.isBlock(n) && n.statements.some(isUsing)) return true;
    if (tsi.isForStatement(n) && usingHead(n)) return true;
    return tsi.forEachChild(n, (c) => (visit(c) ? true : undefined)) ?? false;
  };
  return body !== undefined && visit(body);
}

/** One element of a destructuring pattern; `key` undefined: a rest element or an array element. */
interface PatternPart {
  node: ts.Node;
  key: ts.PropertyName | undefined;
  target: ts.BindingName | ts.Expression;
  init: ts.Expression | undefined;
  rest: boolean;
}

function bindingProperty(e: ts.BindingElement): PatternPart {
  return { node: e, key: e.dotDotDotToken ? undefined : (e.propertyName ?? (e.name as ts.Identifier)), target: e.name, init: e.initializer, rest: !!e.dotDotDotToken };
}

function literalProperty(p: ts.ObjectLiteralElementLike): PatternPart {
  if (tsi.isSpreadAssignment(p)) return { node: p, key: undefined, target: p.expression, init: undefined, rest: true };
  if (tsi.isShorthandPropertyAssignment(p)) return { node: p, key: p.name, target: p.name, init: p.objectAssignmentInitializer, rest: false };
  if (tsi.isPropertyAssignment(p)) {
    const [target, init] = splitDefault(p.initializer);
    return { node: p, key: p.name, target, init, rest: false };
  }
  throw new Unsupported(p, "a method in a destructuring pattern");
}

function bindingElement(e: ts.ArrayBindingElement): PatternPart | undefined {
  return tsi.isOmittedExpression(e) ? undefined : { node: e, key: undefined, target: e.name, init: e.initializer, rest: !!e.dotDotDotToken };
}

function literalElement(e: ts.Expression): PatternPart | undefined {
  if (tsi.isOmittedExpression(e)) return undefined;
  if (tsi.isSpreadElement(e)) return { node: e, key: undefined, target: e.expression, init: undefined, rest: true };
  const [target, init] = splitDefault(e);
  return { node: e, key: undefined, target, init, rest: false };
}

/** `target = default` inside an assignment pattern. */
function splitDefault(e: ts.Expression): [ts.Expression, ts.Expression | undefined] {
  return tsi.isBinaryExpression(e) && e.operatorToken.kind === SK.EqualsToken ? [e.left, e.right] : [e, undefined];
}

/**
 * `e` as a statement. TypeScript's factory puts a leading object literal or function in parentheses; a
 * leading class, or sloppy code's `let[…]`, would read as a declaration too (any leading `let` is
 * parenthesized: harmless, and no need to tell `let[` from `let.`).
 */
function statementOf(e: ts.Expression): ts.ExpressionStatement {
  return f.createExpressionStatement(readsAsDeclaration(e) ? f.createParenthesizedExpression(e) : e);
}

function readsAsDeclaration(e: ts.Expression): boolean {
  const first = (tsi as unknown as { getLeftmostExpression(e: ts.Expression, stopAtCallExpressions: boolean): ts.Node }).getLeftmostExpression(e, false);
  if (first.kind === SK.ClassExpression) return true;
  if (tsi.isIdentifier(first)) return first.text === "let";
  // TypeScript's emit drops the parentheses of `(class {} as T)` with the assertion.
  if (tsi.isParenthesizedExpression(first)) {
    const inner = first.expression;
    if (tsi.isAsExpression(inner) || tsi.isTypeAssertionExpression(inner) || tsi.isSatisfiesExpression(inner) || tsi.isNonNullExpression(inner)) return readsAsDeclaration(inner.expression);
  }
  return false;
}

/** A class member TypeScript's emit drops: an overload (a method or accessor without a body), an abstract or a `declare` one. */
function isDropped(m: ts.ClassElement): boolean {
  if ((tsi.isMethodDeclaration(m) || tsi.isAccessor(m)) && m.body === undefined) return true;
  return tsi.canHaveModifiers(m) && (m.modifiers ?? []).some((x) => x.kind === SK.AbstractKeyword || x.kind === SK.DeclareKeyword);
}

function unparenTarget(t: ts.BindingName | ts.Expression): ts.BindingName | ts.Expression {
  return tsi.isIdentifier(t) || tsi.isObjectBindingPattern(t) || tsi.isArrayBindingPattern(t) ? t : unparen(t);
}

/** `(a, o.m)` is a value, not a reference: called without `this`, never deleted, an `eval` in it indirect. */
function asValue(v: ts.Expression): ts.Expression {
  const inner = unparen(v);
  const reference = tsi.isIdentifier(inner) || tsi.isPropertyAccessExpression(inner) || tsi.isElementAccessExpression(inner);
  return reference ? detached(v) : v;
}

/**
 * A callee as the engine names it in "… is not a function": names, `this`, member chains (a string key
 * as `.key`), calls as `f(...)`; TypeScript's own syntax (`as`, `!`) dropped; anything else, as V8 says it,
 * `(intermediate value)`, as an optional chain in parentheses or in a key. `optional` is how an optional
 * chain's `?.` reads: as itself, or `.` where TypeScript lowers the chain before the engine sees it. A
 * private name reads `this[#x]`, as Node 20's V8 writes it.
 */
function calleeName(e: ts.Expression, optional: string): string {
  const name = (x: ts.Expression): string => calleeName(x, optional);
  const n = unparen(e);
  if (tsi.isOptionalChain(n) && parenthesized(e)) return "(intermediate value)";
  if (tsi.isIdentifier(n) || tsi.isPrivateIdentifier(n)) return n.text;
  if (n.kind === SK.ThisKeyword) return "this";
  if (n.kind === SK.SuperKeyword) return "super";
  const dot = (x: ts.PropertyAccessExpression | ts.ElementAccessExpression) => (x.questionDotToken && optional !== "." ? optional : tsi.isPropertyAccessExpression(x) ? "." : "");
  if (tsi.isPropertyAccessExpression(n))
    return tsi.isPrivateIdentifier(n.name) ? `${name(n.expression)}${n.questionDotToken && optional !== "." ? optional : ""}[${n.name.text}]` : `${name(n.expression)}${dot(n)}${n.name.text}`;
  if (tsi.isElementAccessExpression(n)) {
    const key = unparen(n.argumentExpression);
    if (tsi.isStringLiteral(key) || tsi.isNoSubstitutionTemplateLiteral(key)) return `${name(n.expression)}${n.questionDotToken ? optional : "."}${key.text}`;
    return `${name(n.expression)}${dot(n)}[${tsi.isNumericLiteral(key) ? key.text : tsi.isOptionalChain(key) ? "(intermediate value)" : name(key)}]`;
  }
  if (tsi.isCallExpression(n)) return `${name(n.expression)}(...)`;
  return "(intermediate value)";
}

/** Whether parentheses stand among the wrappers around `e`'s expression (which end an optional chain). */
function parenthesized(e: ts.Expression): boolean {
  for (let x = e; isWrapper(x); x = x.expression) if (tsi.isParenthesizedExpression(x)) return true;
  return false;
}

/** Whether an object or array literal is a destructuring target (`[a, b] = …`, `for ([k, v] of …)`, nested in one). */
export function isAssignmentPattern(n: ts.Expression): boolean {
  let child: ts.Node = n;
  let p = n.parent;
  while (p && tsi.isParenthesizedExpression(p)) [child, p] = [p, p.parent];
  if (!p) return false;
  if (tsi.isBinaryExpression(p)) return p.operatorToken.kind === SK.EqualsToken && p.left === child;
  if (tsi.isForOfStatement(p) || tsi.isForInStatement(p)) return p.initializer === child;
  if (tsi.isArrayLiteralExpression(p) || tsi.isObjectLiteralExpression(p)) return isAssignmentPattern(p);
  if (tsi.isSpreadElement(p) || tsi.isSpreadAssignment(p) || tsi.isPropertyAssignment(p)) return isAssignmentPattern(p.parent as ts.Expression);
  return false;
}

/** A `for…of`/`for…in`/`switch` copied whole with its head already evaluated, wrapped in the labels taken off it, so jumps to them stay inside the copy. */
function copyLabelled(rw: Rewriter, node: ts.ForOfStatement | ts.ForInStatement | ts.SwitchStatement, labels: string[], head: ts.Expression): ts.Statement {
  rw.substitute.set(node.expression, head);
  const copy = rw.statement(labels.reduceRight<ts.Statement>((st, l) => f.createLabeledStatement(l, st), node))!;
  rw.substitute.delete(node.expression);
  return copy;
}

/**
 * `st` mapped in the source map from where `from` starts to where `to` ends, its comments left where
 * its text range puts them: a statement the lowering adds for a test of the program's (a loop's, an
 * `if`'s) starts where the statement it stands for does, so that a breakpoint and a stack frame find it.
 */
function mapFrom<T extends ts.Node>(st: T, from: ts.Node, to: ts.Node): T {
  if (from.pos >= 0 && to.end >= 0) tsi.setSourceMapRange(st, { pos: from.pos, end: to.end });
  return st;
}

/**
 * The structured copy's `else` branch: a lone `if` as it is, so that an `else if` chain stays flat
 * (as a block each link nested the output one level deeper, and TypeScript's printer, which recurses,
 * overflowed the stack on some 600 links, where tsc prints the source's own chain up to ~1,500).
 */
function elseBranch(sts: ts.Statement[]): ts.Statement {
  return sts.length === 1 && tsi.isIfStatement(sts[0]!) ? sts[0] : f.createBlock(sts, true);
}

/** Append to a list of statements, dropping what follows a jump, return or throw (unreachable there). */
/** Statements where one statement is expected: a block only when there are several. */
function one(sts: ts.Statement[]): ts.Statement {
  return sts.length === 1 ? sts[0]! : f.createBlock(sts, true);
}

function append(list: ts.Statement[], ...sts: ts.Statement[]): void {
  for (const st of sts) {
    const last = list[list.length - 1];
    if (last && ends(last)) return;
    list.push(st);
  }
}

/** Whether control never goes past `st`: a jump, return or throw, or a block ending in one. */
export function ends(st: ts.Statement): boolean {
  if (tsi.isBlock(st)) return st.statements.length > 0 && ends(st.statements[st.statements.length - 1]!);
  return tsi.isReturnStatement(st) || tsi.isContinueStatement(st) || tsi.isThrowStatement(st) || tsi.isBreakStatement(st);
}

/** Whether the machine explodes the operands of `op` into branches: `&&`, `||`, `??` and their assignments. */
function branches(op: ts.SyntaxKind): boolean {
  return op === SK.AmpersandAmpersandToken || op === SK.BarBarToken || op === SK.QuestionQuestionToken || logicalOperator(op) !== undefined;
}

