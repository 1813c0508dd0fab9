/**
 * Random async programs for differential fuzzing of the lowering.
 *
 * fast-check builds a context-free syntax tree (statements, expressions, futures); the printer turns
 * it into JavaScript and settles everything that depends on context while it prints: which names are
 * in scope, which loop or label a `break`/`continue` may target (an index picks among the valid ones,
 * a statement with none prints as a trace call), which async function may call which (only later
 * ones, so calls cannot recurse). Shrinking therefore works on plain trees and every shrunk tree
 * still prints a valid program.
 *
 * A program is `export function pN(h) { … return f0; }`: async functions f0 (main) … fK built with
 * `async(function* (a, b) { … })`, or from a declared `function* pNgK(a, b) { … }` or
 * `const pNgK = function* (a, b) { … }` with `async(pNgK)`
 * (and nested ones called in place, which share their variables),
 * talking to the world only through the harness `h` (see diff.ts):
 * `h.t(id, v)` records an event, `h.ok(v)`/`h.later(v)`/`h.sleep(v)`/`h.bad(n)`/`h.cancelLater()`…
 * make futures that finish at once, from the callback queue, from a timer, fail or get cancelled;
 * `h.res(…)` makes a resource for `using` whose disposal reports itself and may throw; JSX compiles to
 * `h.jsx(…)`, which reports each element it makes.
 * Every loop is bounded by a counter advanced in its header or condition, so `continue` cannot spin.
 *
 * Closures of one iteration are read back at the end through `h.keep`: an object literal that suspends,
 * with methods and accessors (`methods`); a class declaration whose static fields and blocks name the
 * class while it is made (`classdecl`, its name from a pool of two so other blocks declare it again);
 * a function in a (maybe per-iteration) binding called plainly, reporting its `this` with `h.who`
 * (`bare`). Each may stand in a loop or block of its own whose binding it reads. Computed keys an
 * operand that suspended gave (`suspkey`) are `h.key`s, whose conversion to a key is an event. A method
 * call or `new` of `o.nm`, which only an even box has (`maybeMethod`), throws after its arguments where
 * it has none.
 */
import fc from "fast-check";

export type Fut =
  | { k: "ok" | "later" | "sleep"; e: Expr }
  | { k: "nap" | "cancelled" | "cancelLater" }
  | { k: "bad" | "badLater"; n: number }
  | { k: "call"; fn: number; args: Expr[]; cancel: boolean }
  | { k: "gen"; a: Fut; b: Fut }
  | { k: "held"; i: number }
  | { k: "inline"; body: Stmt[] }
  | { k: "deleg"; form: number; n: number; t: number; a: Fut; b: Fut; e: Expr };

export type Expr =
  | { k: "num"; v: number }
  | { k: "nil"; undef: boolean }
  | { k: "var"; i: number }
  | { k: "await" | "yield"; f: Fut }
  | { k: "notFuture"; v: number }
  | { k: "bin"; op: "+" | "-" | "*" | "<" | "==="; a: Expr; b: Expr }
  | { k: "cond"; c: Expr; a: Expr; b: Expr }
  | { k: "logic"; op: "&&" | "||" | "??"; a: Expr; b: Expr }
  | { k: "call"; args: Expr[] }
  | { k: "tpl"; a: Expr; b: Expr }
  | { k: "obj"; a: Expr; key: Expr; b: Expr }
  | { k: "arr"; a: Expr; b: Expr }
  | { k: "assign"; i: number; op: "=" | "+=" | "||=" | "&&=" | "??="; e: Expr }
  | { k: "keep"; i: number }
  | { k: "this" | "args" }
  | { k: "method"; args: Expr[] }
  | { k: "maybeMethod"; ctor: boolean; args: Expr[] }
  | { k: "rebox"; n: number }
  | { k: "update"; i: number; op: "++" | "--"; prefix: boolean }
  | { k: "comma"; form: number; a: Expr; b: Expr }
  | { k: "chain"; n: number; form: number; a: Expr; b: Expr }
  | { k: "tag"; a: Expr; b: Expr }
  | { k: "bump"; i: number }
  | { k: "selfref" }
  | { k: "klass"; a: Expr; key: Expr }
  | { k: "named"; form: number; a: Expr }
  | { k: "key"; form: number; a: Expr; b: Expr }
  | { k: "jsx"; form: number; a: Expr; b: Expr }
  | { k: "methods"; form: number; f: Fut; a: Expr; i: number }
  | { k: "suspkey"; form: number; f: Fut; g: Fut; a: Expr; b: Expr };

export type Stmt =
  | { k: "t"; e: Expr }
  | { k: "set"; i: number; e: Expr }
  | { k: "if"; c: Expr; a: Stmt[]; b: Stmt[] | null }
  | { k: "block"; e: Expr; body: Stmt[] }
  | { k: "for" | "while" | "do"; n: number; c: Expr | null; body: Stmt[]; label: boolean; using: boolean }
  | { k: "forof"; items: Expr[]; body: Stmt[]; label: boolean; closable: boolean; using: boolean; form: number }
  | { k: "forin"; body: Stmt[]; label: boolean }
  | { k: "labeled"; body: Stmt[] }
  | { k: "break" | "continue"; i: number; label: boolean }
  | { k: "return"; e: Expr | null }
  | { k: "throw"; n: number }
  | { k: "try"; body: Stmt[]; handler: Stmt[] | null; fin: Stmt[] | null }
  | { k: "switch"; d: Expr; cases: { t: Expr; body: Stmt[]; brk: boolean }[]; dflt: Stmt[] | null; dpos: number }
  | { k: "destructure"; array: boolean; a: Expr; b: Expr; mask: number }
  | { k: "suspend"; f: Fut; star: boolean }
  | { k: "bg"; fn: number; args: Expr[] }
  | { k: "hold"; f: Fut }
  | { k: "fn"; i: number; replaces: boolean }
  | { k: "var"; e: Expr }
  | { k: "redeclare"; i: number; e: Expr }
  | { k: "pattern"; form: number; a: Expr; b: Expr; key: Expr; mask: number; i: number }
  | { k: "closure"; i: number; form: number }
  | { k: "using"; n: number; e: Expr }
  | { k: "literal"; loop: number; e: Extract<Expr, { k: "methods" }> }
  | { k: "classdecl"; loop: number; form: number; f: Fut; i: number; name: number }
  | { k: "bare"; loop: number; form: number; f: Fut; i: number }
  | { k: "cases"; d: Expr; label: boolean; cases: Clause[]; dflt: Clause | null; dpos: number }
  | { k: "forof2"; form: number; let: boolean; items: Expr[]; mask: number; dflt: Expr; body: Stmt[]; seq: boolean; throwAt: number; closeThrows: boolean; stop: number; label: boolean }
  | { k: "forinmut"; form: number; proto: boolean; f: Fut; body: Stmt[]; label: boolean }
  | { k: "cancelexit"; outer: number; inner: number; e: Expr; e2: Expr; f: Fut; body: Stmt[]; fin: Stmt[]; handler: boolean };

/**
 * A clause of a switch printed without braces (`cases`): what it declares belongs to the whole case
 * block. `decl` 1/2/3: a `let`, `const` or function declaration heading it; `call`: a call of one of
 * the switch's functions (maybe declared in a later clause: hoisted); `loop`: a loop of two iterations
 * leaving the (labelled) switch with `break L` when its condition holds.
 */
export interface Clause {
  t: Expr;
  decl: number;
  e: Expr;
  body: Stmt[];
  call: number | null;
  loop: Expr | null;
  brk: boolean;
}

export interface Fn {
  named: boolean;
  /** Passed to async() by name: declared `function* gK` (when not named: a named one refers to itself), or held by `const gK` (named). */
  declared: boolean;
  body: Stmt[];
}

export interface Program {
  fns: Fn[];
  /** The poll step at which the runner cancels main's future, or null. */
  cancelAt: number | null;
}

const D = "chronots-ast";
const node = <T>(k: string, fields: Record<string, fc.Arbitrary<unknown>> = {}): fc.Arbitrary<T> =>
  fc.record({ k: fc.constant(k), ...fields }) as unknown as fc.Arbitrary<T>;
const digit = fc.integer({ min: 0, max: 9 });
const pick = fc.nat(7);

const ast = fc.letrec<{ expr: Expr; fut: Fut; stmt: Stmt; body: Stmt[] }>((tie) => {
  const expr = tie("expr");
  const fut = tie("fut");
  const stmt = tie("stmt");
  const body = tie("body");
  const args = fc.array(expr, { maxLength: 3, depthIdentifier: D });
  const loop = (k: string) => node<Stmt>(k, { n: fc.integer({ min: 0, max: 3 }), c: fc.option(expr, { nil: null }), body, label: fc.boolean(), using: fc.boolean() });
  const w = (weight: number, arbitrary: fc.Arbitrary<any>) => ({ arbitrary, weight });
  const methods = node<Extract<Expr, { k: "methods" }>>("methods", { form: fc.nat(3), f: fut, a: expr, i: pick });
  const clause: fc.Arbitrary<Clause> = fc.record({
    t: expr,
    decl: fc.nat(3),
    e: expr,
    body,
    call: fc.option(fc.nat(3), { nil: null }),
    loop: fc.option(expr, { nil: null }),
    brk: fc.boolean(),
  });
  return {
    fut: fc.oneof(
      { depthIdentifier: D, maxDepth: 8, depthSize: "medium", withCrossShrink: true },
      w(1, node("nap")),
      w(2, node("ok", { e: expr })),
      w(4, node("later", { e: expr })),
      w(1, node("sleep", { e: expr })),
      w(1, node("bad", { n: digit })),
      w(1, node("badLater", { n: digit })),
      w(1, node("cancelled")),
      w(1, node("cancelLater")),
      w(3, node("call", { fn: pick, args, cancel: fc.boolean() })),
      w(1, node("gen", { a: fut, b: fut })),
      w(1, node("held", { i: pick })),
      w(1, node("inline", { body })),
      // Rare: a user generator with control flow of its own, delegated to.
      w(1, node("deleg", { form: fc.nat(3), n: fc.nat(2), t: fc.nat(3), a: fut, b: fut, e: expr })),
    ),
    expr: fc.oneof(
      { depthIdentifier: D, maxDepth: 8, depthSize: "medium", withCrossShrink: true },
      w(2, node("num", { v: digit })),
      w(1, node("nil", { undef: fc.boolean() })),
      w(2, node("var", { i: pick })),
      w(4, node("await", { f: fut })),
      w(2, node("yield", { f: fut })),
      w(1, node("notFuture", { v: digit })),
      w(2, node("bin", { op: fc.constantFrom("+", "-", "*", "<", "==="), a: expr, b: expr })),
      w(1, node("cond", { c: expr, a: expr, b: expr })),
      w(1, node("logic", { op: fc.constantFrom("&&", "||", "??"), a: expr, b: expr })),
      w(1, node("call", { args })),
      w(1, node("tpl", { a: expr, b: expr })),
      w(1, node("obj", { a: expr, key: expr, b: expr })),
      w(1, node("arr", { a: expr, b: expr })),
      w(1, node("assign", { i: pick, op: fc.constantFrom("=", "+=", "||=", "&&=", "??="), e: expr })),
      w(1, node("keep", { i: pick })),
      w(1, node("this")),
      w(1, node("args")),
      w(1, node("method", { args })),
      w(1, node("maybeMethod", { ctor: fc.boolean(), args })),
      w(1, node("rebox", { n: digit })),
      w(1, node("update", { i: pick, op: fc.constantFrom("++", "--"), prefix: fc.boolean() })),
      w(1, node("comma", { form: fc.nat(2), a: expr, b: expr })),
      w(1, node("chain", { n: digit, form: fc.nat(3), a: expr, b: expr })),
      w(1, node("tag", { a: expr, b: expr })),
      w(1, node("bump", { i: pick })),
      w(1, node("selfref")),
      w(1, node("klass", { a: expr, key: expr })),
      w(1, node("named", { form: fc.nat(5), a: expr })),
      w(1, node("key", { form: fc.nat(5), a: expr, b: expr })),
      w(1, node("jsx", { form: fc.nat(3), a: expr, b: expr })),
      w(1, methods),
      w(1, node("suspkey", { form: fc.nat(4), f: fut, g: fut, a: expr, b: expr })),
    ),
    stmt: fc.oneof(
      { depthIdentifier: D, maxDepth: 8, depthSize: "medium", withCrossShrink: true },
      w(4, node("t", { e: expr })),
      w(1, node("set", { i: pick, e: expr })),
      w(2, node("if", { c: expr, a: body, b: fc.option(body, { nil: null }) })),
      w(1, node("block", { e: expr, body })),
      w(2, loop("for")),
      w(1, loop("while")),
      w(1, loop("do")),
      w(2, node("forof", { items: fc.array(expr, { maxLength: 3, depthIdentifier: D }), body, label: fc.boolean(), closable: fc.boolean(), using: fc.boolean(), form: fc.nat(2) })),
      w(1, node("forin", { body, label: fc.boolean() })),
      w(1, node("labeled", { body })),
      w(2, node("break", { i: pick, label: fc.boolean() })),
      w(2, node("continue", { i: pick, label: fc.boolean() })),
      w(1, node("return", { e: fc.option(expr, { nil: null }) })),
      w(1, node("throw", { n: digit })),
      w(3, node("try", { body, handler: fc.option(body, { nil: null }), fin: fc.option(body, { nil: null }) })),
      w(1, node("switch", {
        d: expr,
        cases: fc.array(fc.record({ t: expr, body, brk: fc.boolean() }), { maxLength: 3, depthIdentifier: D }),
        dflt: fc.option(body, { nil: null }),
        dpos: pick,
      })),
      w(1, node("destructure", { array: fc.boolean(), a: expr, b: expr, mask: fc.nat(3) })),
      w(2, node("suspend", { f: fut, star: fc.boolean() })),
      w(1, node("bg", { fn: pick, args })),
      w(1, node("hold", { f: fut })),
      w(1, node("fn", { i: pick, replaces: fc.boolean() })),
      w(1, node("var", { e: expr })),
      w(1, node("redeclare", { i: pick, e: expr })),
      w(1, node("pattern", { form: fc.nat(3), a: expr, b: expr, key: expr, mask: fc.nat(3), i: pick })),
      w(1, node("closure", { i: pick, form: fc.nat(2) })),
      w(1, node("using", { n: digit, e: expr })),
      w(1, node("literal", { loop: fc.nat(2), e: methods })),
      w(1, node("classdecl", { loop: fc.nat(2), form: fc.nat(3), f: fut, i: pick, name: fc.nat(1) })),
      w(1, node("bare", { loop: fc.nat(2), form: fc.nat(3), f: fut, i: pick })),
      // Rare shapes of the structured copy, one option among them all.
      // (No depth identifier: a oneof sharing the tree's depth prefers its first option as it goes deeper.)
      w(1, fc.oneof(
        node("cases", { d: expr, label: fc.boolean(), cases: fc.array(clause, { maxLength: 3, depthIdentifier: D }), dflt: fc.option(clause, { nil: null }), dpos: pick }),
        node("forof2", {
          form: fc.nat(3), let: fc.boolean(), items: fc.array(expr, { maxLength: 3, depthIdentifier: D }), mask: fc.nat(7), dflt: expr, body,
          seq: fc.boolean(), throwAt: fc.nat(4), closeThrows: fc.boolean(), stop: fc.nat(3), label: fc.boolean(),
        }),
        node("forinmut", { form: fc.nat(3), proto: fc.boolean(), f: fut, body, label: fc.boolean() }),
        node("cancelexit", { outer: fc.nat(4), inner: fc.nat(3), e: expr, e2: expr, f: fut, body, fin: body, handler: fc.boolean() }),
      )),
    ),
    body: fc.array(stmt, { maxLength: 4, depthIdentifier: D }),
  };
});

export const programArb: fc.Arbitrary<Program> = fc.record({
  fns: fc.array(fc.record({ named: fc.boolean(), declared: fc.boolean(), body: fc.array(ast.stmt, { minLength: 1, maxLength: 6, depthIdentifier: D }) }), {
    minLength: 1,
    maxLength: 3,
  }),
  cancelAt: fc.option(fc.nat(6), { nil: null }),
});

interface Target {
  kind: "loop" | "switch" | "block";
  label: string | null;
}

/** Prints one program; ids and names are numbered in print order, so a program prints the same every time. */
class Printer {
  private ids = 0;
  private names = 0;
  private vars: string[] = [];
  private futs: string[] = [];
  private targets: Target[] = [];
  /** The class names each open block declares (a class declaration's name is taken from a pool of two, so blocks reuse it). */
  private classes: Set<string>[] = [];
  private fn = 0;

  constructor(private readonly p: Program) {}

  program(name: string): string {
    const lines = [`export function ${name}(h) {`];
    if (this.p.cancelAt !== null) lines.push(`  h.cancelAt(${this.p.cancelAt});`);
    for (let i = this.p.fns.length - 1; i >= 0; i--) {
      const { named, declared } = this.p.fns[i]!;
      // Named after the program too: a module holds many, and a declaration is lowered only if its name is used once.
      // Declared: by a declaration, or (named) by a variable holding an anonymous generator.
      if (declared && !named) lines.push(`  ${this.function(i, `${name}g${i}`)}`, `  const f${i} = async(${name}g${i});`);
      else if (declared) lines.push(`  const ${name}g${i} = ${this.function(i, "")};`, `  const f${i} = async(${name}g${i});`);
      else lines.push(`  const f${i} = async(${this.function(i, named ? `f${i}` : "")});`);
    }
    lines.push("  return f0;", "}");
    return lines.join("\n");
  }

  /** The generator of async function `i`, named `name`. */
  private function(i: number, name: string): string {
    const { body } = this.p.fns[i]!;
    this.fn = i;
    this.vars = ["a", "b", "v0", "v1", "v2", "v3"];
    this.futs = [];
    this.targets = [];
    const text = this.block(body, "    ");
    return `function* ${name}(a, b) {\n    let v0 = 0, v1 = 1, v2 = "s", v3, o = h.box(${i});\n${text}  }`;
  }

  private fresh(prefix: string): string {
    return `${prefix}${this.names++}`;
  }

  /** Statements of one block; names they declare go out of scope at its end. */
  private block(stmts: Stmt[], ind: string): string {
    const vars = this.vars.length;
    const futs = this.futs.length;
    this.classes.push(new Set());
    const text = stmts.map((s) => this.stmt(s, ind)).join("");
    this.classes.pop();
    this.vars.length = vars;
    this.futs.length = futs;
    return text;
  }

  private nested(stmts: Stmt[], ind: string, target?: Target): string {
    if (target) this.targets.push(target);
    const text = this.block(stmts, ind + "  ");
    if (target) this.targets.pop();
    return `{\n${text}${ind}}`;
  }

  private stmt(s: Stmt, ind: string): string {
    return `${ind}${this.stmtText(s, ind)}\n`;
  }

  private stmtText(s: Stmt, ind: string): string {
    switch (s.k) {
      case "t":
        return `h.t(${this.ids++}, ${this.expr(s.e)});`;
      case "set":
        return `${this.assignable(s.i)} = ${this.expr(s.e)};`;
      case "if": {
        const c = this.expr(s.c);
        const a = this.nested(s.a, ind);
        return s.b === null ? `if (${c}) ${a}` : `if (${c}) ${a} else ${this.nested(s.b, ind)}`;
      }
      case "block": {
        const d = this.fresh("d");
        const init = this.expr(s.e);
        this.vars.push(d);
        const text = this.block(s.body, ind + "  ");
        this.vars.pop();
        return `{\n${ind}  let ${d} = ${init};\n${text}${ind}}`;
      }
      case "for":
      case "while":
      case "do":
        return this.loop(s, ind);
      case "forof": {
        const label = s.label ? this.fresh("L") : null;
        // `using`: each item a resource, disposed at the end of its iteration (and before the iterator is closed).
        // The target: a binding, an array pattern (over items made arrays: V8's message for a non-iterable names the loop's source text), or the member o.n.
        const form = s.using ? 0 : s.form;
        const items = s.items.map((e) => (s.using ? `h.res(${this.ids}, ${this.ids++ % 10}, ${this.expr(e)})` : form === 1 ? `h.twice(${this.expr(e)})` : this.expr(e))).join(", ");
        const x = this.fresh("x");
        if (form !== 2) this.vars.push(x);
        const body = this.nested(s.body, ind, { kind: "loop", label });
        if (form !== 2) this.vars.pop();
        // h.iter reports each next(), each value read and the return() that closes it early.
        const source = s.closable ? `h.iter([${items}])` : `[${items}]`;
        const target = [`${s.using ? "using" : "const"} ${x}`, `const [${x}]`, "o.n"][form]!;
        return `${label ? `${label}: ` : ""}for (${target} of ${source}) ${body}`;
      }
      case "forin": {
        const label = s.label ? this.fresh("L") : null;
        const key = this.fresh("k");
        this.vars.push(key);
        const body = this.nested(s.body, ind, { kind: "loop", label });
        this.vars.pop();
        return `${label ? `${label}: ` : ""}for (const ${key} in h.keys) ${body}`;
      }
      case "labeled": {
        const label = this.fresh("L");
        return `${label}: ${this.nested(s.body, ind, { kind: "block", label })}`;
      }
      case "break":
      case "continue":
        return this.jump(s);
      case "return":
        return s.e === null ? "return;" : `return ${this.expr(s.e)};`;
      case "throw":
        return `throw h.E(${s.n});`;
      case "try": {
        let text = `try ${this.nested(s.body, ind)}`;
        if (s.handler !== null || s.fin === null) {
          const e = this.fresh("e");
          const inner = this.block(s.handler ?? [], ind + "  ");
          text += ` catch (${e}) {\n${ind}  h.t(${this.ids++}, h.err(${e}));\n${inner}${ind}}`;
        }
        if (s.fin !== null) text += ` finally ${this.nested(s.fin, ind)}`;
        return text;
      }
      case "switch":
        return this.switch(s, ind);
      case "destructure": {
        const [x, y] = [this.fresh("d"), this.fresh("d")];
        const a = this.expr(s.a);
        const b = this.expr(s.b);
        this.vars.push(x, y);
        return s.array
          ? `const [${x} = ${a}, ${y} = ${b}] = h.list(${s.mask});`
          : `const { p: ${x} = ${a}, q: ${y} = ${b} } = h.pick(${s.mask});`;
      }
      case "pattern":
        return this.pattern(s);
      case "closure": {
        // Functions named by their binding or key, closing over a (maybe per-iteration) binding.
        const [c, v] = [this.fresh("c"), this.vars[s.i % this.vars.length]];
        const made = [`() => ${v}`, `function () { return ${v}; }`, `class { static get v() { return ${v}; } }`][s.form]!;
        const call = s.form === 2 ? `${c}.v` : `${c}()`;
        return `const ${c} = { k${c}: ${made} }.k${c}, ${c}b = ${made}; h.t(${this.ids++}, h.keep(() => [${c}.name, ${c}b.name, ${call}]));`;
      }
      case "suspend":
        return `${s.star ? "yield*" : "yield"} ${this.fut(s.f)};`;
      case "bg": {
        const call = this.call(s.fn, s.args);
        return call === null ? `h.t(${this.ids++}, "no bg");` : `h.bg(${call});`;
      }
      case "fn": {
        // Called before its declaration: block functions are hoisted, and see the variables live.
        // One that replaces itself on its first call: its binding stays writable, the function keeps its name.
        const g = this.fresh("fn");
        const v = this.vars[s.i % this.vars.length];
        if (!s.replaces) return `h.t(${this.ids++}, ${g}());\n${ind}function ${g}() { return ${v}; }`;
        return `h.t(${this.ids++}, ${g}.name + ${g}());\n${ind}h.t(${this.ids++}, ${g}.name + ${g}());\n${ind}function ${g}() { ${g} = () => -1; return ${v}; }`;
      }
      case "var": {
        const w = this.fresh("w");
        const init = this.expr(s.e);
        this.vars.push(w);
        return `var ${w} = ${init};`;
      }
      case "redeclare":
        // A `var` of a parameter's name is that parameter (in an inline function, a local of its own).
        return `var ${s.i % 2 === 0 ? "a" : "b"} = ${this.expr(s.e)};`;
      case "using": {
        // Disposed where its block is left (Node 20 has no `using`: the harness transpiles the driver's copy).
        const u = this.fresh("u");
        const init = `h.res(${this.ids++}, ${s.n}, ${this.expr(s.e)})`;
        this.vars.push(u);
        return `using ${u} = ${init};`;
      }
      case "hold": {
        const g = this.fresh("g");
        const f = this.fut(s.f);
        this.futs.push(g);
        return `const ${g} = ${f};`;
      }
      case "literal":
        // An object literal with methods and accessors beside a suspension, maybe in a loop of its own.
        return this.wrap(s.loop, ind, () => [`h.t(${this.ids++}, ${this.expr(s.e)});`]);
      case "classdecl":
        return this.wrap(s.loop, ind, () => this.classDeclaration(s));
      case "bare":
        return this.wrap(s.loop, ind, (inner) => this.bare(s, inner));
      case "cases":
        return this.cases(s, ind);
      case "forof2":
        return this.forOf(s, ind);
      case "forinmut":
        return this.forInMutated(s, ind);
      case "cancelexit":
        return this.cancelledExit(s, ind);
    }
  }

  /**
   * A switch whose clauses have no braces: their `let`/`const`/function declarations belong to the whole
   * case block. Functions are hoisted to its top: any clause may call one declared in any other (one
   * written later included). A `let`/`const` read before its declaration ran (a clause entered past it)
   * throws in V8 but not lowered (the README's "temporal dead zone of a binding hoisted out of its
   * block", not reproduced on purpose), so the rest of its own clause reads it freely, and other clauses
   * (later ones after fall-through, and closures read at the end) only under a flag `mN` that its
   * declaration sets, one per run of the switch. What other statements of a clause declare stays in that
   * clause, for the same reason; case tests see none of it. Labelled (always when a clause holds a loop),
   * so `break L` in a loop of a clause leaves the switch.
   */
  private cases(s: Extract<Stmt, { k: "cases" }>, ind: string): string {
    const d = this.expr(s.d);
    const all: { c: Clause; head: string | null }[] = s.cases.map((c) => ({ c, head: null }));
    if (s.dflt !== null) all.splice(s.dpos % (all.length + 1), 0, { c: s.dflt, head: "default:" });
    const names = all.map(({ c }) => (c.decl === 0 ? null : this.fresh("s")));
    const fns = names.filter((n, i) => n !== null && all[i]!.c.decl === 3) as string[];
    const lets = names.map((n, i) => ({ n, bit: 1 << i })).filter(({ n }, i) => n !== null && all[i]!.c.decl !== 3);
    const label = s.label || all.some(({ c }) => c.loop !== null) ? this.fresh("L") : null;
    const m = lets.length > 0 ? this.fresh("m") : null;
    const vars = this.vars.length;
    const futs = this.futs.length;
    this.classes.push(new Set());
    this.targets.push({ kind: "switch", label });
    const at = ind + (m ? "      " : "    ");
    const text = all
      .map(({ c, head }, i) => {
        const test = head ?? `case ${caseTest(this.expr(c.t))}:`;
        const lines: string[] = [];
        const name = names[i];
        // Reading only the function's own variables: the lowering leaves to the driver a function declaration
        // outside a block that reads per-iteration bindings (and the switch may stand in a loop).
        if (c.decl === 3) lines.push(`${at}function ${name}() { return [${["a", "b", "v0", "v1", "v2", "v3"][i % 6]}, ${JSON.stringify(name)}]; }\n`);
        else if (name !== null) {
          lines.push(`${at}${c.decl === 1 ? "let" : "const"} ${name} = ${this.expr(c.e)}; ${m} |= ${1 << i};\n`);
          this.vars.push(name);
        }
        // `using` may not stand in a clause itself, and other function declarations may read per-iteration bindings: they get a block.
        const own = (b: Stmt) => b.k === "using" || b.k === "fn" || (b.k === "bare" && b.loop === 0 && b.form === 2);
        for (const b of c.body) lines.push(own(b) ? `${at}${this.nested([b], at)}\n` : this.stmt(b, at));
        if (c.call !== null && fns.length > 0) lines.push(`${at}h.t(${this.ids++}, ${fns[c.call % fns.length]}());\n`);
        if (c.call !== null && lets.length > 0) {
          const { n, bit } = lets[c.call % lets.length]!;
          lines.push(`${at}h.t(${this.ids++}, h.keep(() => ${m} & ${bit} ? ${n} : "unset"));\n`);
        }
        if (c.loop !== null) {
          const j = this.fresh("j");
          const cond = this.expr(c.loop);
          lines.push(`${at}for (let ${j} = 0; ${j} < 2; ${j}++) { if (${cond}) break ${label}; h.t(${this.ids++}, ${j}); }\n`);
        }
        if (c.brk) lines.push(`${at}break;\n`);
        this.vars.length = vars;
        this.futs.length = futs;
        return `${at.slice(2)}${test}\n${lines.join("")}`;
      })
      .join("");
    this.targets.pop();
    this.classes.pop();
    const sw = `${label ? `${label}: ` : ""}switch (${d}) {\n${text}`;
    return m ? `{\n${ind}  let ${m} = 0;\n${ind}  ${sw}${ind}  }\n${ind}}` : `${sw}${ind}}`;
  }

  /**
   * for…of with other targets: `let x`, `var x` (function-scoped: one binding for every iteration, and
   * still there after the loop), object and array patterns whose defaults may suspend. Its source may be
   * an iterator (h.seq) whose next() throws at some step (no return() then) and whose return() throws
   * (the loop's own throw wins over it; after a `break`, its error propagates). The loop may stop at an
   * iteration of its own with `break`, which closes the iterator.
   */
  private forOf(s: Extract<Stmt, { k: "forof2" }>, ind: string): string {
    const label = s.label ? this.fresh("L") : null;
    const n = this.fresh("n");
    const [x, y] = [this.fresh("x"), this.fresh("y")];
    const decl = s.let ? "let" : "const";
    const items = s.items
      .map((e, i) => {
        const v = this.expr(e);
        const has = (s.mask >> i) & 1;
        return s.form === 2 ? `{ a: ${v}${has ? `, b: ${i}` : ""} }` : s.form === 3 ? `[${v}${has ? `, ${i}` : ""}]` : v;
      })
      .join(", ");
    const source = s.seq ? `h.seq([${items}], ${s.throwAt}, ${s.closeThrows})` : `[${items}]`;
    let target: string;
    if (s.form === 0) target = `let ${x}`;
    else if (s.form === 1) target = `var ${x}`;
    else {
      // The default is evaluated in the loop head, once per iteration that lacks `b`.
      const dflt = this.expr(s.dflt);
      target = s.form === 2 ? `${decl} { a: ${x}, b: ${y} = ${dflt} }` : `${decl} [${x}, ${y} = ${dflt}]`;
    }
    const vars = this.vars.length;
    this.vars.push(x);
    if (s.form >= 2) this.vars.push(y);
    this.targets.push({ kind: "loop", label });
    const text = this.block(s.body, ind + "    ");
    this.targets.pop();
    this.vars.length = vars;
    const loop = `${label ? `${label}: ` : ""}for (${target} of ${source}) {\n${ind}    if (${n}++ === ${s.stop}) break;\n${text}${ind}  }`;
    const out = `{\n${ind}  let ${n} = 0;\n${ind}  ${loop}\n${ind}  h.t(${this.ids++}, ${n});\n${ind}}`;
    // A `var` outlives the loop (and its block).
    if (s.form === 1) this.vars.push(x);
    return out;
  }

  /**
   * for…in over an object its body changes while it suspends: a key deleted before it is visited is
   * skipped, a key added is not visited, a key shadowing the prototype's and deleted is still visited
   * (the prototype has it). The object's keys at the end are an event.
   */
  private forInMutated(s: Extract<Stmt, { k: "forinmut" }>, ind: string): string {
    const label = s.label ? this.fresh("L") : null;
    const [ob, k] = [this.fresh("ob"), this.fresh("k")];
    const init = `{ ${s.proto ? "__proto__: { z: 9, b: 0 }, " : ""}a: 1, b: 2, c: 3 }`;
    const f = this.fut(s.f);
    const change = [
      `if (${k} === "a") delete ${ob}.c;`,
      `${ob}["n" + ${k}] = ${k};`,
      `if (${k} === "a") { delete ${ob}.b; ${ob}.b = 5; }`,
      `delete ${ob}[${k}]; if (${k} !== "c") delete ${ob}.b;`,
    ][s.form]!;
    this.vars.push(k);
    this.targets.push({ kind: "loop", label });
    const text = this.block(s.body, ind + "    ");
    this.targets.pop();
    this.vars.pop();
    const body = `{\n${ind}    h.t(${this.ids++}, ${k} + ":" + ${ob}[${k}]);\n${ind}    yield* ${f};\n${ind}    ${change}\n${text}${ind}  }`;
    return `{\n${ind}  const ${ob} = ${init};\n${ind}  ${label ? `${label}: ` : ""}for (const ${k} in ${ob}) ${body}\n${ind}  h.t(${this.ids++}, Object.keys(${ob}).join());\n${ind}}`;
  }

  /**
   * An exit of a try (return, break, continue, throw, or none) whose finally holds `L: try { <exit> }
   * finally { break L; }`: the inner exit is cancelled, the outer one goes on with its own value or
   * target. In a loop of two iterations of its own, the target of the jumps.
   */
  private cancelledExit(s: Extract<Stmt, { k: "cancelexit" }>, ind: string): string {
    const [lx, ly, i, e] = [this.fresh("L"), this.fresh("L"), this.fresh("i"), this.fresh("e")];
    const exit = (k: number, v: Expr, n: number) => [`return ${this.expr(v)};`, `break ${lx};`, `continue ${lx};`, `throw h.E(${n});`, ""][k]!;
    this.vars.push(i);
    this.targets.push({ kind: "loop", label: lx });
    const at = ind + "    ";
    const body = this.block(s.body, at);
    const outer = exit(s.outer, s.e, 7);
    const handler = s.handler ? ` catch (${e}) {\n${at}h.t(${this.ids++}, h.err(${e}));\n${at}${outer}\n${ind}  }` : "";
    const inner = `${ly}: try {\n${at}  yield* ${this.fut(s.f)};\n${at}  ${exit(s.inner, s.e2, 8)}\n${at}} finally {\n${at}  break ${ly};\n${at}}`;
    const fin = this.block(s.fin, at);
    this.targets.pop();
    this.vars.pop();
    return [
      `${lx}: for (let ${i} = 0; ${i} < 2; ${i}++) {`,
      `  h.t(${this.ids++}, ${i});`,
      `  try {\n${body}${at}${outer}\n${ind}  }${handler} finally {`,
      `    h.t(${this.ids++}, "fin");`,
      `    ${inner}`,
      `${fin.slice(ind.length)}${fin ? at : "    "}h.t(${this.ids++}, "fin end");`,
      `  }`,
      `  h.t(${this.ids++}, "after");`,
      `}`,
    ].join(`\n${ind}`);
  }

  /**
   * Lines printed alone (loop 0), in a loop of two iterations whose per-iteration `let` they may read
   * (1), or in a block declaring a `let` they may read (2).
   */
  private wrap(loop: number, ind: string, lines: (ind: string) => string[]): string {
    if (loop === 0) return lines(ind).join(`\n${ind}`);
    const j = this.fresh("j");
    const head = loop === 1 ? `for (let ${j} = 0; ${j} < 2; ${j}++) {` : `{\n${ind}  let ${j} = ${this.ids % 10};`;
    this.vars.push(j);
    this.classes.push(new Set());
    const text = lines(ind + "  ").map((l) => `\n${ind}  ${l}`).join("");
    this.classes.pop();
    this.vars.pop();
    return `${head}${text}\n${ind}}`;
  }

  /** A variable in scope, often one of the two declared last (a loop's or block's own binding). */
  private recent(i: number): string {
    const n = this.vars.length;
    return this.vars[i % 2 === 0 ? n - 1 - ((i >> 1) % 2) : (i >> 1) % n]!;
  }

  /**
   * A class declaration whose body names the class (static fields and blocks run while it is made, before
   * the declaration's binding is set), beside a suspension, read at once and at the end. Its name comes
   * from a pool of two, so other blocks declare it again; a block that holds it already gets a fresh one.
   */
  private classDeclaration(s: Extract<Stmt, { k: "classdecl" }>): string[] {
    const own = this.classes[this.classes.length - 1]!;
    const c = own.has(`R${s.name}`) ? `R${s.name}_${this.names++}` : `R${s.name}`;
    own.add(c);
    const v = this.recent(s.i);
    const body = [
      `static inst = new ${c}(); static n = ${v}; m() { return ${c}.n; }`,
      `static n = ${v}; static { ${c}.inst = new ${c}(); } m() { return [${c}.n, this.base]; }`,
      `static n = ${v}; static make = () => new ${c}(); static get inst() { return ${c}.make(); } m() { return ${c}.n; }`,
      `static inst = new ${c}(); #n = ${v}; m() { return [this.#n, ${c}.name]; } static n = ${c}.inst.m();`,
    ][s.form]!;
    return [
      `class ${c}${s.form === 1 ? " extends h.Base" : ""} { ${body} }`,
      `h.t(${this.ids++}, h.keep(() => [${c}.name, ${c}.n, ${c}.inst.m(), new ${c}().m()]));`,
      `yield* ${this.fut(s.f)};`,
    ];
  }

  /**
   * A function in a binding of this block (maybe per-iteration), called plainly: strict, so `this` is
   * undefined in every form of call, here and in a closure read at the end.
   */
  private bare(s: Extract<Stmt, { k: "bare" }>, ind: string): string[] {
    const q = this.fresh("q");
    const v = this.recent(s.i);
    const fn = `function ${s.form === 1 ? q + "n" : ""}() { return h.who(this) + ":" + ${v}; }`;
    const calls = (tpl: string) => `[${q}(), ${q}\`${tpl}\`, (${q})(), ${q}?.(), (${q})\`${tpl}\`]`;
    const use = [`yield* ${this.fut(s.f)};`, `h.t(${this.ids++}, ${calls("x")});`, `h.t(${this.ids++}, h.keep(() => ${calls("y")}));`];
    switch (s.form) {
      case 0:
        return [`const ${q} = ${fn};`, ...use];
      case 1:
        return [`let ${q};`, `${q} = ${fn};`, ...use];
      case 2:
        // A block function: hoisted, called before its declaration too.
        return [`h.t(${this.ids++}, ${q}());`, ...use, `function ${q}() { return h.who(this) + ":" + ${v}; }`];
      default:
        // A for-of binding holding it: one per iteration.
        return [`for (const ${q} of [${fn}, function () { return h.who(this); }]) {`, ...use.map((l) => `  ${l}`), `}`];
    }
  }

  private loop(s: Extract<Stmt, { k: "for" | "while" | "do" }>, ind: string): string {
    const label = s.label ? this.fresh("L") : null;
    const prefix = label ? `${label}: ` : "";
    const i = this.fresh("i");
    const bound = `${i}++ < ${s.n}`;
    if (s.k === "for" && s.using) {
      // A resource heading the loop, disposed once the loop is left; the counter lives outside. No label:
      // TypeScript's downlevel of `using` (how the driver's copy reaches Node 20) moves it onto a block,
      // where `continue` to it is a syntax error.
      const u = this.fresh("u");
      const init = `h.res(${this.ids}, ${this.ids++ % 10}, 0)`;
      const c = s.c === null ? "" : ` && ${this.expr(s.c)}`;
      this.vars.push(u);
      const body = this.nested(s.body, ind + "  ", { kind: "loop", label: null });
      this.vars.pop();
      return `{\n${ind}  let ${i} = 0;\n${ind}  for (using ${u} = ${init}; ${i} < ${s.n}${c}; ${i}++) ${body}\n${ind}}`;
    }
    if (s.k === "for") {
      const c = s.c === null ? "" : ` && ${this.expr(s.c)}`;
      this.vars.push(i);
      const body = this.nested(s.body, ind, { kind: "loop", label });
      this.vars.pop();
      return `${prefix}for (let ${i} = 0; ${i} < ${s.n}${c}; ${i}++) ${body}`;
    }
    const c = s.c === null ? "" : ` && ${this.expr(s.c)}`;
    const body = this.nested(s.body, ind + "  ", { kind: "loop", label });
    const head = s.k === "while" ? `${prefix}while (${bound}${c}) ${body}` : `${prefix}do ${body} while (${bound}${c});`;
    return `{\n${ind}  let ${i} = 0;\n${ind}  ${head}\n${ind}}`;
  }

  private switch(s: Extract<Stmt, { k: "switch" }>, ind: string): string {
    const d = this.expr(s.d);
    const clauses = s.cases.map((c) => ({ head: `case ${caseTest(this.expr(c.t))}:`, body: c.body, brk: c.brk }));
    if (s.dflt !== null) clauses.splice(s.dpos % (clauses.length + 1), 0, { head: "default:", body: s.dflt, brk: false });
    this.targets.push({ kind: "switch", label: null });
    const text = clauses
      .map((c) => `${ind}  ${c.head} ${this.nested(c.body, ind + "  ")}${c.brk ? " break;" : ""}\n`)
      .join("");
    this.targets.pop();
    return `switch (${d}) {\n${text}${ind}}`;
  }

  /** Destructuring whose defaults, keys and targets may suspend: assignments, declarations, for-of heads. */
  private pattern(s: Extract<Stmt, { k: "pattern" }>): string {
    const [a, b] = [this.expr(s.a), this.expr(s.b)];
    const [u, v] = [this.assignable(s.i), this.assignable(s.i + 1)];
    const item = (bit: number, value: number) => (s.mask & bit ? String(value) : "undefined");
    switch (s.form) {
      case 0:
        return `[h.self.y, ${u} = ${a}, , ...${v}] = h.iter([${item(1, 1)}, ${item(2, 2)}, 3, 4]);`;
      case 1: {
        const r = this.fresh("r");
        const key = this.expr(s.key);
        this.vars.push(r);
        return `let ${r}; ({ [${key} ? "p" : "z"]: ${u} = ${a}, q: ${v} = ${b}, ...${r} } = h.pick(${s.mask}));`;
      }
      case 2: {
        const [x, y, z] = [this.fresh("d"), this.fresh("d"), this.fresh("d")];
        this.vars.push(x, y, z);
        return `const [{ p: ${x} = ${a} } = h.pick(${s.mask}), ${y} = ${b}, ...${z}] = h.iter([undefined, ${item(2, 2)}, 5]);`;
      }
      default: {
        const [x, y] = [this.fresh("d"), this.fresh("d")];
        return `for (const [${x}, ${y} = ${a}] of [h.list(${s.mask}), [7]]) h.t(${this.ids++}, h.keep(() => [${x}, ${y}]));`;
      }
    }
  }

  /** break/continue to a target that exists here; with none, a trace call instead. */
  private jump(s: Extract<Stmt, { k: "break" | "continue" }>): string {
    const fits = (t: Target) => (s.k === "break" || t.kind === "loop");
    const labelled = this.targets.filter((t) => t.label !== null && fits(t));
    const plain = this.targets.some((t) => t.kind !== "block" && fits(t));
    if (s.label && labelled.length > 0) return `${s.k} ${labelled[s.i % labelled.length]!.label};`;
    if (plain) return `${s.k};`;
    if (labelled.length > 0) return `${s.k} ${labelled[s.i % labelled.length]!.label};`;
    return `h.t(${this.ids++}, "no ${s.k}");`;
  }

  private assignable(i: number): string {
    return ["a", "v0", "v1", "v2", "v3"][i % 5]!;
  }

  /** A call of a later async function, or null when there is none. */
  private call(fn: number, args: Expr[]): string | null {
    const later = this.p.fns.length - 1 - this.fn;
    if (later <= 0) return null;
    const target = this.fn + 1 + (fn % later);
    return `f${target}.call(h.self${args.map((a) => `, ${this.expr(a)}`).join("")})`;
  }

  private fut(f: Fut): string {
    switch (f.k) {
      case "ok":
      case "later":
      case "sleep":
        return `h.${f.k}(${this.expr(f.e)})`;
      case "nap":
      case "cancelled":
      case "cancelLater":
        return `h.${f.k}()`;
      case "bad":
      case "badLater":
        return `h.${f.k}(${f.n})`;
      case "call": {
        const call = this.call(f.fn, f.args);
        if (call === null) return `h.later(${f.fn})`;
        return f.cancel ? `h.cancelSoon(${call})` : `h.c(${call})`;
      }
      case "gen":
        return `h.gen(${this.fut(f.a)}, ${this.fut(f.b)})`;
      case "held":
        return this.futs.length === 0 ? `h.ok(${f.i})` : this.futs[f.i % this.futs.length]!;
      case "inline": {
        // A nested async function, called at once: it shares the enclosing function's variables.
        const targets = this.targets;
        this.targets = [];
        const body = this.block(f.body, "      ");
        this.targets = targets;
        return `h.c(async(function* () {\n${body}    })())`;
      }
      case "deleg":
        return this.delegate(f);
    }
  }

  /**
   * A plain generator of the program's own, delegated to with `yield*` (called with the function's
   * `this`; it closes over the function's variables): a loop, a throw after a suspension, a try whose
   * finally reports, suspends or returns a value of its own, a labelled loop left from a switch.
   */
  private delegate(f: Extract<Fut, { k: "deleg" }>): string {
    const [r, i, e, l] = [this.fresh("r"), this.fresh("i"), this.fresh("e"), this.fresh("L")];
    const targets = this.targets;
    this.targets = [];
    const a = this.fut(f.a);
    const b = this.fut(f.b);
    let body: string;
    switch (f.form) {
      case 0:
        body = `const ${r} = []; try { for (let ${i} = 0; ${i} <= ${f.n}; ${i}++) { ${r}.push(yield* ${a}); if (${i} === ${f.t}) throw h.E(${f.t}); if (${i} % 2) continue; h.t(${this.ids++}, ${r}.length); } return ${r}; } finally { h.t(${this.ids++}, "ufin"); }`;
        break;
      case 1:
        body = `try { h.t(${this.ids++}, h.st(yield ${b})); if (${f.t} !== 2) throw h.E(${f.n}); return "no throw"; } catch (${e}) { h.t(${this.ids++}, h.err(${e})); return yield* ${a}; } finally { h.t(${this.ids++}, "ufin"); }`;
        break;
      case 2:
        body = `try { return yield* ${a}; } finally { h.t(${this.ids++}, yield* ${b}); if (${f.t} !== 1) return ${this.expr(f.e)}; }`;
        break;
      default:
        body = `let ${i} = 0; ${l}: while (true) { switch (${i}++) { case ${f.n}: break ${l}; default: h.t(${this.ids++}, yield* ${a}); } } return ${i};`;
    }
    this.targets = targets;
    return `(function* () { ${body} }).call(this)`;
  }

  private expr(e: Expr): string {
    switch (e.k) {
      case "num":
        return String(e.v);
      case "nil":
        return e.undef ? "undefined" : "null";
      case "var":
        return this.vars[e.i % this.vars.length]!;
      case "await":
        return `(yield* ${this.fut(e.f)})`;
      case "yield":
        return `h.st(yield ${this.fut(e.f)})`;
      case "notFuture":
        return `(yield ${e.v})`;
      case "bin":
      case "logic":
        return `(${this.expr(e.a)} ${e.op} ${this.expr(e.b)})`;
      case "cond":
        return `(${this.expr(e.c)} ? ${this.expr(e.a)} : ${this.expr(e.b)})`;
      case "call":
        return `h.f(${e.args.map((a) => this.expr(a)).join(", ")})`;
      case "tpl":
        return `\`<\${${this.expr(e.a)}}|\${${this.expr(e.b)}}>\``;
      case "obj":
        return `h.o({ p: ${this.expr(e.a)}, [${this.expr(e.key)}]: ${this.expr(e.b)} })`;
      case "arr":
        return `h.o([${this.expr(e.a)}, ...h.twice(${this.expr(e.b)})])`;
      case "assign":
        return `(${this.assignable(e.i)} ${e.op} ${this.expr(e.e)})`;
      case "keep":
        return `h.keep(() => ${this.vars[e.i % this.vars.length]})`;
      case "this":
        return "this.x";
      case "args":
        return "arguments.length";
      case "method":
        return `o.m(${e.args.map((a) => this.expr(a)).join(", ")})`;
      case "maybeMethod":
        // No function on an odd box: the engine's TypeError names the callee as written, after the arguments.
        return `${e.ctor ? "(new o.nm(" : "o.nm("}${e.args.map((a) => this.expr(a)).join(", ")})${e.ctor ? ", 0)" : ""}`;
      case "rebox":
        return `(o = h.box(${e.n})).n`;
      case "update": {
        const v = this.assignable(e.i);
        return e.prefix ? `(${e.op}${v})` : `(${v}${e.op})`;
      }
      case "comma": {
        // A comma gives a value, no reference: a method called through it gets no `this`, a property is not deleted.
        const [a, b] = [this.expr(e.a), this.expr(e.b)];
        return [`(${a}, ${b})`, `(${a}, o.m)(${b})`, `[delete (${a}, o.n), o.n, ${b}]`][e.form]!;
      }
      case "chain": {
        // Suspensions after the head of optional chains: nothing after a nullish head runs; calls keep `this`.
        const [head, a, b] = [`h.maybe(${e.n})`, this.expr(e.a), this.expr(e.b)];
        return [`${head}?.f(${a}, ${b})`, `${head}?.twice(${a})[${b}]`, `${head}?.box(${a}).m?.(${b})`, `(${head}?.f)?.(${a}, ${b})`][e.form]!;
      }
      case "tag":
        return `h.tag\`<\${${this.expr(e.a)}}|\${${this.expr(e.b)}}>\``;
      case "bump":
        // A closure writing its binding now and again at the end: per-iteration bindings, constants.
        return `h.keep(() => ++${this.vars[e.i % this.vars.length]})`;
      case "klass":
        // `extends` and a computed field name evaluated (and maybe suspending) where the class is made.
        return `h.o(new (class extends (${this.expr(e.a)}, h.Base) { [${this.expr(e.key)}] = 1; })())`;
      case "named": {
        // The names anonymous functions and classes take from where they stand, beside an operand that may suspend.
        const a = this.expr(e.a);
        return [
          `[() => 0, ${a}][0].name`,
          `((o) => o.p.name + o.r.name)({ p: () => 0, q: ${a}, r: class {} })`,
          `(${a}, function () {}).name`,
          `(${a} ? class {} : () => 0).name`,
          `((...fs) => fs.map((f) => f?.name).join())(() => 0, ${a}, function () {})`,
          `({ ["lit"]: () => 0, n: ${a} }).lit.name`,
        ][e.form]!;
      }
      case "key": {
        // Computed keys converted where JavaScript converts them, on an object reporting each read and write.
        const [a, b] = [this.expr(e.a), this.expr(e.b)];
        return [
          `(h.kv[h.key(${a})] += ${b})`,
          `(h.kv[h.key(${a})] ??= ${b})`,
          `h.o({ [h.key(${a})]: ${b} })`,
          `(h.kv[h.key(${a})] = ${b})`,
          `h.kv[h.key(${a})]++`,
          `(h.key(${a}) in h.kv)`,
        ][e.form]!;
      }
      case "jsx": {
        // Elements made by h.jsx (the harness compiles JSX to it): host and component tags, spreads, fragments.
        const [a, b] = [this.expr(e.a), this.expr(e.b)];
        return [
          `(<b p={${a}}>{${b}}</b>)`,
          `(<h.C {...h.props(${a})} q={${b}} />)`,
          `(<>{${a}}<b>{${b}}</b></>)`,
          `(<h.C>{...h.twice(${a})}{${b}}</h.C>)`,
        ][e.form]!;
      }
      case "methods": {
        // A literal that suspends, whose methods and accessors close over a (maybe per-iteration) binding; read now and at the end.
        const [f, a, v] = [this.fut(e.f), this.expr(e.a), this.recent(e.i)];
        const members = [
          `v: (yield* ${f}), m() { return ${v}; }, get g() { return ${v}; }, set s(x) { ${v} += x; }`,
          `m() { return [${v}, this.v]; }, v: ${a}, w: (yield* ${f}), get g() { return ${v}; }`,
          `["m"]() { return ${v}; }, [${a}]: (yield* ${f}), get g() { return ${v}; }, set s(x) { ${v} += x; }`,
          `...h.pick(${e.i % 4}), v: (yield* ${f}), m: () => ${v}, get g() { return [${v}, this.v]; }, u: ${a}`,
        ][e.form]!;
        return `h.keep(((o) => () => [o.m(), o.g, (o.s = 1), o.g, o.v])({ ${members} }))`;
      }
      case "suspkey": {
        // Computed keys an operand that suspended gave, converted (h.key's toString reports it) before the next operand runs.
        const [f, g, a, b] = [this.fut(e.f), this.fut(e.g), this.expr(e.a), this.expr(e.b)];
        return [
          `h.o({ [(yield* ${f}) || h.key(${a})]: 1, [yield* ${g}]: ${b} })`,
          `h.o({ [h.key(yield* ${f})]: ${a}, [h.key(${b})]: (yield* ${g}) })`,
          `h.o(new (class { [(yield* ${f}) || h.key(${a})] = 1; [yield* ${g}] = 2; })())`,
          `h.o(new (class { static [h.key(yield* ${f})] = 1; [h.key(${a})]() { return 0; } [(yield* ${g})] = 2; })())`,
          `h.o({ [(yield* ${f}) ?? h.key(${a})]: 1, n: (yield* ${g}), [h.key(${b})]: 3 })`,
        ][e.form]!;
      }
      case "selfref":
        return this.p.fns[this.fn]!.named ? `(typeof f${this.fn} + f${this.fn}.name + f${this.fn}.length)` : `"anonymous"`;
    }
  }
}

/**
 * TypeScript's parser reads `case (x = 0): { {` as an arrow function with a return type (V8 does not),
 * so a parenthesized case test goes through a call, which keeps both readings the same program.
 */
function caseTest(test: string): string {
  return test.startsWith("(") ? `h.f(${test})` : test;
}

/** The source of one program as an exported function `name`. */
export function printProgram(p: Program, name: string): string {
  return new Printer(p).program(name);
}

/** A module holding programs p0, p1, … that imports `async` from "chronots". */
export function printModule(programs: Program[]): string {
  return ['import { async } from "chronots";', ...programs.map((p, i) => printProgram(p, `p${i}`))].join("\n\n") + "\n";
}
