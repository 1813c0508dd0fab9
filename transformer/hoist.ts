/**
 * Hoisting: where each binding of a lowered generator lives once its body is cut into states.
 *
 * A binding declared in a scope that holds a suspension (an *exploded* scope, whose statements
 * become states of the step function) can no longer be declared where it stood, so it is hoisted:
 *  - to a plain local of the step function, copied into a closure *mirror* only when the body
 *    suspends on a pending future and copied back when it resumes (V8 keeps such locals in
 *    registers) — and only when its value can be read after some suspension (see `liveAcross`),
 *    else it needs no mirror at all, or
 *  - to a closure variable of the outer function when a nested function captures it, since the
 *    closure must see one binding for the whole call, or when it is live across so many
 *    suspensions that saving it at each would make the code grow as their square (MAX_SAVES).
 * Bindings of scopes without a suspension stay where they are. Parameters stay parameters.
 * A hoisted name is kept unless it would collide with another binding of the body, with a free
 * name or with the generator's own name; then it gets a fresh name.
 *
 * A lexical binding inside a loop that suspends is a new binding on every entry into its scope
 * (every iteration). When a closure captures it, one closure variable would be shared by all
 * iterations, so such bindings live instead as properties of a per-scope *environment* object:
 * the state machine makes a fresh one each time the scope is entered (a `for (let …;;)` copies
 * it into a new one before each increment, as JavaScript does), and a closure made inside takes
 * the environment current at its creation as a parameter of a wrapping arrow (see rewrite.ts).
 */
import type * as ts from "typescript";
import { SK, tsi } from "./compiler.js";
import type { Analysis, Binding } from "./analyze.js";

/** A run of identifier characters, `\u` escapes included (`\u0024` is a `$`), as the scanner reads them. */
const WORD = /(?:[\p{ID_Continue}$\u200c\u200d]|\\u[0-9a-fA-F]{4}|\\u\{[0-9a-fA-F]+\})+/gu;
const ESCAPE = /\\u(?:([0-9a-fA-F]{4})|\{([0-9a-fA-F]+)\})/g;

/**
 * Fresh names for one file: every generated name contains `mark`, which no identifier-like word of
 * the file contains (a lone `$`, `${` in a template say, is no such word: every generated name is longer).
 */
export class Names {
  readonly mark: string;
  private counter = 0;
  constructor(text: string) {
    const decode = (w: string) => (w.includes("\\") ? w.replace(ESCAPE, (_, four: string | undefined, braced: string | undefined) => String.fromCodePoint(Math.min(parseInt(four ?? braced!, 16), 0x10ffff))) : w);
    const words = (text.match(WORD) ?? []).map(decode).filter((w) => w.length > 1 && w.includes("$"));
    let m = "$";
    while (words.some((w) => w.includes(m))) m += "$";
    this.mark = m;
  }
  /** A name of the lowering itself: `$r`, `$step`, … */
  internal(base: string): string {
    return this.mark + base;
  }
  /** The closure copy of a step local. */
  mirror(name: string): string {
    return name + this.mark;
  }
  /** A renamed binding, unique in the file. */
  fresh(name: string): string {
    return `${name}${this.mark}${++this.counter}`;
  }
}

export interface Slot {
  binding: Binding;
  /** The name it is emitted under. */
  name: string;
  /** `undefined` for closure variables; else the mirror holding it while suspended. */
  mirror: string | undefined;
  /** The suspensions after which a step local's value may be read: at those it is saved into its mirror. */
  liveAt: ReadonlySet<ts.YieldExpression>;
  /** The environment object holding it as property `name`, for a captured per-iteration binding. */
  env: string | undefined;
}

const isLoop = (n: ts.Node): boolean => tsi.isIterationStatement(n, false);

/** Whether the statements of this scope become states (the scope holds a suspension that needs them). */
export function isExploded(an: Analysis, node: ts.Node): boolean {
  if (node === an.fn) return an.suspends(an.fn.body);
  if (tsi.isForInStatement(node) || tsi.isForOfStatement(node)) return an.suspends(node.statement) || an.suspends(node.initializer);
  return an.suspends(node);
}

/**
 * A step local live across more suspensions than this lives in the closure instead. Each save is
 * code at its suspension, so straight-line code keeping n results until its end would grow as n²
 * (500 awaits whose results are all read at the end made 1.8 MB). A local live across that many
 * suspensions is seldom in a loop hot enough for registers to matter.
 */
export const MAX_SAVES = 16;

export function planHoisting(an: Analysis, names: Names): Map<Binding, Slot> {
  const slots = new Map<Binding, Slot>();
  const live = liveAcross(an);
  const count = new Map<string, number>();
  const envs = new Map<ts.Node, string>();
  for (const b of an.own) count.set(b.name, (count.get(b.name) ?? 0) + 1);
  for (const b of an.own) {
    if (b.kind === "param") continue;
    const node = b.scope.node;
    if (b.kind !== "var" && !isExploded(an, node)) continue;
    if (b.captured && b.kind !== "var" && node !== an.fn && insideSuspendingLoop(an, node)) {
      let env = envs.get(node);
      if (env === undefined) envs.set(node, (env = names.fresh("env")));
      // An object literal would take `__proto__` as the prototype.
      slots.set(b, { binding: b, name: b.name === "__proto__" ? names.fresh(b.name) : b.name, mirror: undefined, liveAt: new Set(an.suspensions), env });
      continue;
    }
    const clash = count.get(b.name)! > 1 || an.free.has(b.name) || an.fn.name?.text === b.name;
    const name = clash ? names.fresh(b.name) : b.name;
    const captured = b.captured || (b.kind === "function" && node === an.fn);
    const liveAt = captured ? an.suspensions : an.suspensions.filter((y) => live(b, y));
    const closure = captured || liveAt.length > MAX_SAVES;
    slots.set(b, { binding: b, name, mirror: closure ? undefined : names.mirror(name), liveAt: new Set(liveAt), env: undefined });
  }
  return slots;
}

/**
 * Whether control can reach code written before `n` from code inside it: a loop's next iteration,
 * a `switch`'s clauses after its case tests (also from inside its case block), a destructuring pattern
 * after its source.
 */
function backwards(n: ts.Node): boolean {
  // The case block too: the scope of its clauses' declarations, which holds the case tests.
  if (isLoop(n) || tsi.isSwitchStatement(n) || tsi.isCaseBlock(n)) return true;
  if (tsi.isVariableDeclaration(n)) return !tsi.isIdentifier(n.name);
  if (tsi.isBinaryExpression(n) && n.operatorToken.kind === SK.EqualsToken) {
    let t = n.left;
    while (tsi.isParenthesizedExpression(t)) t = t.expression;
    return tsi.isObjectLiteralExpression(t) || tsi.isArrayLiteralExpression(t);
  }
  return false;
}

/**
 * Whether a binding's value can be read after a given suspension, judged from the source: control
 * only goes backwards where `backwards` says, so it can when a read follows the suspension in the
 * text, or when such a construct inside the binding's scope holds both (not the `for…in`/`for…of`
 * declaring it, which assigns it afresh before each iteration). A suspension before a `let`/`const`/`class`
 * declaration of it ends (its initializer or, in a pattern, its own element with its default
 * included) does not count: the value it would carry is not yet initialized, and every read after
 * it sees the declaration's own value. Reads are all references but declaration names and targets
 * of a plain `=`.
 */
function liveAcross(an: Analysis): (b: Binding, y: ts.YieldExpression) => boolean {
  const reads = new Map<Binding, ts.Identifier[]>();
  const declared = new Map<Binding, ts.Node>();
  for (const [id, b] of an.bindingOf) {
    const p = id.parent;
    if ((tsi.isVariableDeclaration(p) || tsi.isBindingElement(p) || tsi.isClassDeclaration(p)) && p.name === id) {
      declared.set(b, p);
      continue;
    }
    if ((tsi.isBinaryExpression(p) && p.operatorToken.kind === SK.EqualsToken && p.left === id) || tsi.isFunctionDeclaration(p)) continue;
    const list = reads.get(b);
    if (list) list.push(id);
    else reads.set(b, [id]);
  }
  // The last read of each binding in the text: "a read after the suspension" is one comparison.
  const last = new Map<Binding, number>();
  for (const [b, rs] of reads) last.set(b, rs.reduce((m, r) => Math.max(m, r.pos), -1));
  const within = (n: ts.Node, outer: ts.Node) => n.pos >= outer.pos && n.end <= outer.end;
  // The constructs around each binding's reads that take control back (the walk from a suspension
  // up its scope looks for one): one set per binding, so a body of n awaits stays linear.
  const loops = new Map<Binding, Set<ts.Node>>();
  const loopsAround = (b: Binding, rs: ts.Identifier[]): Set<ts.Node> => {
    let set = loops.get(b);
    if (set) return set;
    set = new Set();
    const scope = b.scope.node;
    for (const r of rs)
      for (let n: ts.Node = r; n !== scope.parent && n !== an.fn; n = n.parent) {
        const fresh = n === scope && (tsi.isForInStatement(n) || tsi.isForOfStatement(n));
        if (backwards(n) && !fresh) set.add(n);
      }
    loops.set(b, set);
    return set;
  };
  return (b, y) => {
    const rs = reads.get(b);
    if (!rs) return false;
    const scope = b.scope.node;
    const decl = b.kind === "let" || b.kind === "const" || b.kind === "class" ? declared.get(b) : undefined;
    if (!within(y, scope) || (decl && y.pos < decl.end)) return false;
    if (last.get(b)! >= y.end) return true;
    const around = loopsAround(b, rs);
    if (around.size === 0) return false;
    for (let n: ts.Node = y; n !== scope.parent && n !== an.fn; n = n.parent) if (around.has(n)) return true;
    return false;
  };
}

function insideSuspendingLoop(an: Analysis, node: ts.Node): boolean {
  for (let n: ts.Node | undefined = node; n && n !== an.fn; n = n.parent) if (isLoop(n) && an.suspends(n)) return true;
  return false;
}
