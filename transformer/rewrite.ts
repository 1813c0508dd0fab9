/**
 * The rewriter for code that keeps its shape: statements and expressions without a suspension.
 *
 * It copies the tree, changing only what the lowering requires: identifiers of hoisted bindings
 * get their emitted names (`{x}` becomes `{x: x$1}` when renamed), declarations of hoisted
 * bindings become assignments (`let x;` → `x = void 0`, `var x = 1` → `x = 1`), and, outside
 * nested functions, `return` and `break`/`continue` that leave the copied code are handed to hooks
 * (the state machine turns them into jumps). Nested `async(function* …)` calls are lowered through
 * the `nested` hook. A block holding `using` declarations goes inside a `try` that disposes its
 * resources (`statements`), as the state machine does for one it takes apart.
 *
 * A write to a hoisted `const` becomes a write to a real `const` of the lowered function, so it
 * throws the TypeError JavaScript throws, after evaluating what JavaScript evaluates first. A
 * closure made directly in the generator's code that uses per-iteration bindings (hoist.ts) is
 * wrapped in an arrow called with the current environments: `(($env1) => () => $env1.i)($env1)`.
 * A tagged template becomes a call with its site's strings object, from a module-level function
 * holding the site (lower.ts), as the lowering may copy a statement into two places and each copy
 * would be a site.
 */
import type * as ts from "typescript";
import { factory as f, SK, tsi } from "./compiler.js";
import { type Analysis, type Binding, bindingNames, type Downlevel, isUsing, isWrapper, Unsupported, unparen, usingHead } from "./analyze.js";
import type { Internals } from "./explode.js";
import type { Slot } from "./hoist.js";


export interface Hooks {
  /** A `return` of the body; `inTry`: inside a copied `try`, whose finally must run first. */
  ret(value: ts.Expression | undefined, inTry: boolean, origin: ts.Node): ts.Statement;
  /** A `break`/`continue` whose target lies outside the copied code. */
  jump(node: ts.BreakStatement | ts.ContinueStatement, inTry: boolean): ts.Statement;
  /** The locals a `ret` or `jump` from inside a copied `try` may write before leaving it (declared once asked for). */
  exitLocals(): readonly string[];
}

/** The emitted expression for an identifier, or `undefined` when it stays; `read`: the value, even of a write target. */
export type Rename = (id: ts.Identifier, read?: boolean) => ts.Expression | undefined;

export interface Scope {
  an: Analysis;
  /** The generator's name at run time, which its future takes: its own, or the variable's that names an anonymous one. */
  name: string;
  slots: Map<Binding, Slot>;
  /** Renaming of the enclosing lowered function, for identifiers free in this one. */
  outer: Rename | undefined;
  /** Lower a nested `async(function* …)` call, or `undefined` to keep it. */
  nested: (call: ts.CallExpression, rename: Rename) => ts.Expression | undefined;
  context: ts.TransformationContext;
  /** What TypeScript lowers again after this transform (none in the Vite plugin). */
  downlevel: Downlevel;
  /** The key the JSX transform run later passes apart, evaluated last (lower.ts keyApart). */
  keyApart: (attributes: ts.JsxAttributes) => ts.JsxAttribute | undefined;
  /** The lowered function's internal names. */
  n: Internals;
  /** The strings object of a tagged template's site, from the module-level function returning it. */
  template: (t: ts.TemplateLiteral) => ts.Expression;
}

/** The comments `ranges` of `text` given to `node` as synthetic ones, before it or after it. */
export function addComments(node: ts.Node, text: string, ranges: readonly ts.CommentRange[] | undefined, before: boolean): void {
  for (const c of ranges ?? []) {
    const body = text.slice(c.pos + 2, c.kind === SK.MultiLineCommentTrivia ? c.end - 2 : c.end);
    if (before) tsi.addSyntheticLeadingComment(node, c.kind, body, c.hasTrailingNewLine);
    else tsi.addSyntheticTrailingComment(node, c.kind, body, c.hasTrailingNewLine);
  }
}

/** A function declaration that gives its name a value: one with a body (an overload signature gives none). */
export type HoistedFunction = ts.FunctionDeclaration & { name: ts.Identifier; body: ts.Block };

/** The functions `statements` declare, each name's last one: the one JavaScript binds, where a name is declared twice. */
export function hoistedFunctions(statements: readonly ts.Statement[]): HoistedFunction[] {
  const last = new Map<string, HoistedFunction>();
  for (const st of statements) if (tsi.isFunctionDeclaration(st) && st.name && st.body) last.set(st.name.text, st as HoistedFunction);
  return [...last.values()];
}

/** The key of an own property `name` in an object literal: `__proto__` written plainly would set the prototype instead. */
export function ownKey(name: string): string | ts.PropertyName {
  return name === "__proto__" ? f.createComputedPropertyName(f.createStringLiteral(name)) : name;
}

/** The operator of a compound assignment (`+=` → `+`, …), or undefined. */
export function compoundOperator(op: ts.SyntaxKind): ts.BinaryOperator | undefined {
  switch (op) {
    case SK.PlusEqualsToken:
      return SK.PlusToken;
    case SK.MinusEqualsToken:
      return SK.MinusToken;
    case SK.AsteriskEqualsToken:
      return SK.AsteriskToken;
    case SK.AsteriskAsteriskEqualsToken:
      return SK.AsteriskAsteriskToken;
    case SK.SlashEqualsToken:
      return SK.SlashToken;
    case SK.PercentEqualsToken:
      return SK.PercentToken;
    case SK.LessThanLessThanEqualsToken:
      return SK.LessThanLessThanToken;
    case SK.GreaterThanGreaterThanEqualsToken:
      return SK.GreaterThanGreaterThanToken;
    case SK.GreaterThanGreaterThanGreaterThanEqualsToken:
      return SK.GreaterThanGreaterThanGreaterThanToken;
    case SK.AmpersandEqualsToken:
      return SK.AmpersandToken;
    case SK.BarEqualsToken:
      return SK.BarToken;
    case SK.CaretEqualsToken:
      return SK.CaretToken;
  }
  return undefined;
}

/** `||=`, `&&=`, `??=` → `||`, `&&`, `??`; undefined for any other operator. */
export function logicalOperator(op: ts.SyntaxKind): ts.BinaryOperator | undefined {
  switch (op) {
    case SK.BarBarEqualsToken:
      return SK.BarBarToken;
    case SK.AmpersandAmpersandEqualsToken:
      return SK.AmpersandAmpersandToken;
    case SK.QuestionQuestionEqualsToken:
      return SK.QuestionQuestionToken;
  }
  return undefined;
}

/** A rule of `Rewriter.visit` for one or more node kinds (see `Rewriter.rules`). */
type Rule = (this: Rewriter, node: ts.Node) => ts.Node | undefined;
const ruleTables = new WeakMap<typeof SK, (Rule | undefined)[]>();

export const isFunctionLike = (n: ts.Node): boolean =>
  tsi.isFunctionDeclaration(n) ||
  tsi.isFunctionExpression(n) ||
  tsi.isArrowFunction(n) ||
  tsi.isMethodDeclaration(n) ||
  tsi.isGetAccessorDeclaration(n) ||
  tsi.isSetAccessorDeclaration(n) ||
  tsi.isConstructorDeclaration(n) ||
  tsi.isClassStaticBlockDeclaration(n) ||
  tsi.isPropertyDeclaration(n);

/**
 * The function whose `new.target` `node` reads: the nearest enclosing function that is not an
 * arrow (a computed key belongs to the scope around its member). In the generator itself it is
 * `undefined`, since a generator is never constructed; the lowered function, an ordinary one,
 * must not see its own.
 */
function newTargetOf(node: ts.Node): ts.Node | undefined {
  let p = node.parent as ts.Node | undefined;
  while (p !== undefined && (tsi.isArrowFunction(p) || !isFunctionLike(p))) p = tsi.isComputedPropertyName(p) ? p.parent.parent : p.parent;
  return p;
}

/** Whether `node` is what a call or a tagged template calls, inside parentheses or type assertions or not. */
export function isCallee(node: ts.Node): boolean {
  let n = node;
  while (n.parent && isWrapper(n.parent)) n = n.parent;
  const p = n.parent;
  return !!p && ((tsi.isCallExpression(p) && p.expression === n) || (tsi.isTaggedTemplateExpression(p) && p.tag === n));
}

export function renamer(s: Scope): Rename {
  return (id, read) => {
    const b = s.an.bindingOf.get(id);
    if (b === undefined) return s.outer?.(id, read);
    const slot = s.slots.get(b);
    if (slot === undefined) return undefined;
    if (!read && b.kind === "const" && s.an.writes.has(id)) return tsi.setTextRange(f.createIdentifier(s.n.constant), id);
    if (slot.env) {
      const property = tsi.setTextRange(f.createPropertyAccessExpression(f.createIdentifier(slot.env), slot.name), id);
      // Called, a property would pass its environment as `this`: `(0, env.fn)()` calls it as `fn()` does.
      return isCallee(id) ? detached(property) : property;
    }
    // Below ES2015 TypeScript renames a captured block-scoped binding through the node as parsed, which
    // would rename the references kept and not the hoisted declaration made here: all are made anew.
    if (slot.name === id.text && !s.downlevel.generators) return undefined;
    return tsi.setTextRange(f.createIdentifier(slot.name), id);
  };
}

export class Rewriter {
  private fnDepth = 0;
  private tryDepth = 0;
  /** Jump targets inside the copied code: loops, switches, labels. */
  private targets: { kind: "loop" | "switch" | "label"; label?: string }[] = [];
  readonly rename: Rename;
  private readonly hasEnvs: boolean;
  /** Function declarations moved to the top of their block as `let` (see `block`). */
  private readonly moved = new Set<ts.Node>();
  /** Nodes replaced by an already lowered expression (a header whose suspension was exploded). */
  readonly substitute = new Map<ts.Node, ts.Expression>();
  /** Counts the hook calls and nested lowerings: while it stays, a copy owes nothing to this rewriter's hooks. */
  hooked = 0;
  /** Finally blocks given copies of the pending exit's locals (see `preserving`). */
  private preserved = 0;
  private readonly rules = Rewriter.rules();

  constructor(
    private readonly s: Scope,
    private readonly hooks: Hooks,
  ) {
    this.rename = renamer(s);
    this.hasEnvs = [...s.slots.values()].some((x) => x.env !== undefined);
  }

  slotOf(id: ts.Identifier): Slot | undefined {
    const b = this.s.an.bindingOf.get(id);
    return b && this.s.slots.get(b);
  }

  /** The emitted expression for a declaration or reference. */
  ident(id: ts.Identifier): ts.Expression {
    return this.rename(id) ?? id;
  }

  /** The value of `id`, also where `id` is written. */
  read(id: ts.Identifier): ts.Expression {
    return this.rename(id, true) ?? id;
  }

  /** Whether `id` is a write to a hoisted constant (which must throw). */
  writesConstant(id: ts.Identifier): boolean {
    const r = this.rename(id);
    return r !== undefined && tsi.isIdentifier(r) && r.text === this.s.n.constant;
  }

  /** Functions made here for declarations, with the names JavaScript gives them (functionValue). */
  private readonly givenNames = new Map<ts.Node, string>();

  /** `copy` of the closure-making `node`, taking the environments it uses as they are now. */
  capture(node: ts.Node, copy: ts.Expression): ts.Expression {
    const envs = this.envsIn(node);
    if (envs.length === 0) return copy;
    // The wrapper hides an anonymous function from the binding or key that would name it: named inside instead.
    const name = contextName(node) ?? this.givenNames.get(node);
    if (name === null) throw new Unsupported(node, "an anonymous function named by a computed key, using per-iteration bindings");
    const inner = name === undefined ? copy : nameOf(copy, name);
    const arrow = f.createArrowFunction(undefined, undefined, envs.map((e) => f.createParameterDeclaration(undefined, undefined, e)), undefined, undefined, inner);
    return f.createCallExpression(f.createParenthesizedExpression(arrow), undefined, envs.map((e) => f.createIdentifier(e)));
  }

  /** The environments (hoist.ts) that closures made by `node` use: for an object literal, its methods and accessors. */
  private envsIn(node: ts.Node): string[] {
    if (!this.hasEnvs) return [];
    const found = new Set<string>();
    const visit = (n: ts.Node): void => {
      if (tsi.isIdentifier(n)) {
        const env = this.slotOf(n)?.env;
        if (env) found.add(env);
      } else tsi.forEachChild(n, visit);
    };
    if (tsi.isObjectLiteralExpression(node)) node.properties.filter(isFunctionLike).forEach(visit);
    else visit(node);
    return [...found];
  }

  expr(node: ts.Expression): ts.Expression {
    return this.visit(node) as ts.Expression;
  }

  statement(node: ts.Statement): ts.Statement | undefined {
    const r = this.visit(node);
    return r as ts.Statement | undefined;
  }

  /** A binding pattern as the equivalent assignment target. */
  target(name: ts.BindingName): ts.Expression {
    if (tsi.isIdentifier(name)) return this.ident(name);
    const withInit = (t: ts.Expression, init: ts.Expression | undefined, e: ts.BindingElement) =>
      init ? f.createAssignment(t, this.named(this.expr(init), init, tsi.isIdentifier(e.name) ? e.name.text : undefined, t)) : t;
    if (tsi.isArrayBindingPattern(name))
      return f.createArrayLiteralExpression(
        name.elements.map((e) =>
          tsi.isOmittedExpression(e) ? f.createOmittedExpression() : e.dotDotDotToken ? f.createSpreadElement(this.target(e.name)) : withInit(this.target(e.name), e.initializer, e),
        ),
      );
    return f.createObjectLiteralExpression(
      name.elements.map((e) => {
        if (e.dotDotDotToken) return f.createSpreadAssignment(this.target(e.name));
        const key = e.propertyName
          ? tsi.isComputedPropertyName(e.propertyName)
            ? f.createComputedPropertyName(this.expr(e.propertyName.expression))
            : e.propertyName
          : f.createIdentifier((e.name as ts.Identifier).text);
        return f.createPropertyAssignment(key, withInit(this.target(e.name), e.initializer, e));
      }),
    );
  }

  /**
   * `value`, the copy of `init`, named `name` as JavaScript names an anonymous function or class
   * assigned to a binding, when `to` (where it goes) would not name it so: a renamed variable or an
   * environment property.
   */
  named(value: ts.Expression, init: ts.Expression, name: string | undefined, to: ts.Expression | undefined): ts.Expression {
    if (name === undefined || (to && tsi.isIdentifier(to) && to.text === name) || !isAnonymousFunction(init)) return value;
    return nameOf(value, name);
  }

  /** A declaration list of hoisted bindings as one expression of assignments, or `undefined`. */
  declarations(list: ts.VariableDeclarationList): ts.Expression | undefined {
    const lexical = (list.flags & tsi.NodeFlags.BlockScoped) !== 0;
    const parts: ts.Expression[] = [];
    for (const d of list.declarations) {
      if (d.initializer) {
        const t = this.target(d.name);
        parts.push(f.createAssignment(t, this.named(this.expr(d.initializer), d.initializer, tsi.isIdentifier(d.name) ? d.name.text : undefined, t)));
      }
      else if (lexical && tsi.isIdentifier(d.name)) parts.push(f.createAssignment(this.ident(d.name), f.createVoidZero()));
    }
    return parts.length === 0 ? undefined : parts.reduce((a, b) => f.createComma(a, b));
  }

  private hoisted(list: ts.VariableDeclarationList): boolean {
    const first = list.declarations[0];
    if (!first) return false;
    let id: ts.BindingName = first.name;
    while (!tsi.isIdentifier(id)) {
      const e = id.elements.find((x) => !tsi.isOmittedExpression(x)) as ts.BindingElement | undefined;
      if (!e) return false;
      id = e.name;
    }
    if (this.slotOf(id) !== undefined) return true;
    // A `var` naming a parameter (of simple parameters: analyze.ts) is that parameter: assigned where it
    // stands, unless the list declares a name that stays declared (a body without suspension keeps its `var`s).
    return this.isParameter(id) && list.declarations.flatMap((d) => bindingNames(d.name)).every((n) => this.slotOf(n) !== undefined || this.isParameter(n));
  }

  private isParameter(id: ts.Identifier): boolean {
    const b = this.s.an.bindingOf.get(id);
    return b?.kind === "param" && b.scope.node === this.s.an.fn;
  }

  private readonly visitor = (node: ts.Node): ts.VisitResult<ts.Node | undefined> => this.visit(node);

  visit(node: ts.Node): ts.Node | undefined {
    const sub = this.substitute.get(node);
    if (sub) return sub;
    // Most nodes are copied as they are, found by one table read (this runs on every copied node).
    const rule = this.rules[node.kind];
    return rule ? rule.call(this, node) : this.copy(node);
  }

  private copy(node: ts.Node): ts.Node {
    return tsi.visitEachChild(node, this.visitor, this.s.context);
  }

  /**
   * What `visit` does otherwise than copying, by node kind; every other kind is copied with its
   * children visited. Kind numbers differ between TypeScript versions: one table per compiler.
   */
  private static rules(): (Rule | undefined)[] {
    let table = ruleTables.get(SK);
    if (table) return table;
    table = [];
    const rule = (fn: (this: Rewriter, node: never) => ts.Node | undefined, ...kinds: ts.SyntaxKind[]) => kinds.forEach((k) => (table![k] = fn as Rule));
    const p = Rewriter.prototype;
    rule(p.identifier, SK.Identifier);
    rule(p.metaProperty, SK.MetaProperty);
    rule(p.binary, SK.BinaryExpression);
    rule(p.step, SK.PrefixUnaryExpression, SK.PostfixUnaryExpression);
    rule(p.taggedTemplate, SK.TaggedTemplateExpression);
    rule(p.shorthand, SK.ShorthandPropertyAssignment);
    rule(p.call, SK.CallExpression);
    rule(p.deletion, SK.DeleteExpression);
    rule(p.closure, SK.FunctionDeclaration, SK.FunctionExpression, SK.ArrowFunction, SK.MethodDeclaration, SK.GetAccessor, SK.SetAccessor, SK.Constructor);
    rule(p.closure, SK.ClassStaticBlockDeclaration, SK.PropertyDeclaration, SK.ClassDeclaration, SK.ClassExpression);
    rule(p.objectLiteral, SK.ObjectLiteralExpression);
    rule(p.block, SK.Block);
    // Statements that leave the copied code or hold jump targets: outside nested functions only.
    rule(p.ret, SK.ReturnStatement);
    rule(p.jump, SK.BreakStatement, SK.ContinueStatement);
    rule(p.variableStatement, SK.VariableStatement);
    rule(p.declarationList, SK.VariableDeclarationList);
    rule(p.labeled, SK.LabeledStatement);
    rule(p.switchStatement, SK.SwitchStatement);
    rule(p.tryStatement, SK.TryStatement);
    rule(p.loop, SK.ForStatement, SK.ForInStatement, SK.ForOfStatement, SK.WhileStatement, SK.DoStatement);
    ruleTables.set(SK, table);
    return table;
  }

  private identifier(node: ts.Identifier): ts.Node {
    // A declaration's own name stays; `classAssignment` and the state machine place its value.
    const p = node.parent as ts.Node | undefined;
    if (p && (tsi.isClassDeclaration(p) || tsi.isFunctionDeclaration(p)) && p.name === node) return node;
    return this.rename(node) ?? node;
  }

  /**
   * Sloppy code's `delete x` of a binding held in an environment object (hoist.ts): `false`, as for
   * any declared binding, where deleting the property would unbind it.
   */
  private deletion(node: ts.DeleteExpression): ts.Node {
    const target = unparen(node.expression);
    if (tsi.isIdentifier(target)) {
      const renamed = this.rename(target);
      if (renamed && !tsi.isIdentifier(renamed)) return tsi.setTextRange(f.createFalse(), node);
    }
    return this.copy(node);
  }

  private metaProperty(node: ts.MetaProperty): ts.Node {
    if (node.keywordToken === SK.NewKeyword && newTargetOf(node) === this.s.an.fn) return tsi.setTextRange(f.createVoidZero(), node);
    return this.copy(node);
  }

  private binary(node: ts.BinaryExpression): ts.Node {
    const constant = this.constantWrite(node);
    if (constant) return constant;
    if (tsi.isIdentifier(node.left) && isAnonymousFunction(node.right)) {
      const op = node.operatorToken.kind;
      const to = op === SK.EqualsToken || logicalOperator(op) !== undefined ? this.rename(node.left) : undefined;
      if (to) return f.createBinaryExpression(to, node.operatorToken, this.named(this.expr(node.right), node.right, node.left.text, to));
    }
    return this.copy(node);
  }

  private step(node: ts.PrefixUnaryExpression | ts.PostfixUnaryExpression): ts.Node {
    return this.constantWrite(node) ?? this.copy(node);
  }

  private taggedTemplate(node: ts.TaggedTemplateExpression): ts.Node {
    const values = tsi.isTemplateExpression(node.template) ? node.template.templateSpans.map((x) => this.expr(x.expression)) : [];
    return tsi.setTextRange(f.createCallExpression(this.expr(node.tag), undefined, [this.s.template(node.template), ...values]), node);
  }

  private shorthand(node: ts.ShorthandPropertyAssignment): ts.Node {
    const r = this.rename(node.name);
    if (r === undefined) return this.copy(node);
    const init = node.objectAssignmentInitializer;
    return tsi.setTextRange(f.createPropertyAssignment(ownKey(node.name.text), init ? f.createAssignment(r, this.named(this.expr(init), init, node.name.text, r)) : r), node);
  }

  private call(node: ts.CallExpression): ts.Node {
    const low = this.s.nested(node, this.rename);
    if (!low) return this.copy(node);
    this.hooked++;
    return this.fnDepth === 0 ? this.capture(node, low) : low;
  }

  /** Functions, classes and class members: their own jump targets, and the environments their closures take. */
  private closure(node: ts.Node): ts.Node | undefined {
    const saved = this.targets;
    this.targets = [];
    const fn = !tsi.isClassLike(node); // the rule's other kinds are all function-like
    this.fnDepth += fn ? 1 : 0;
    const savedTry = this.tryDepth;
    if (fn) this.tryDepth = 0;
    const r = this.copy(node);
    this.fnDepth -= fn ? 1 : 0;
    this.targets = saved;
    this.tryDepth = savedTry;
    if (this.fnDepth > 0) return r;
    if (tsi.isClassDeclaration(node) && node.name && this.slotOf(node.name)) return this.classAssignment(node, r as ts.ClassDeclaration);
    if (tsi.isFunctionDeclaration(node) && node.name && (this.slotOf(node.name) || this.moved.has(node))) return undefined;
    if (tsi.isFunctionExpression(node) || tsi.isArrowFunction(node) || tsi.isClassExpression(node)) return this.capture(node, r as ts.Expression);
    // Members of classes and object literals: the class or literal takes the environments.
    if (!tsi.isClassDeclaration(node) && !tsi.isFunctionDeclaration(node)) return r;
    if (this.envsIn(node).length === 0) return r;
    if (tsi.isClassDeclaration(node) && node.name) return tsi.setTextRange(letStatement(node.name.text, this.capture(node, classExpression(node, r as ts.ClassDeclaration))), node);
    throw new Unsupported(node, "a function declaration outside a block that uses per-iteration bindings");
  }

  private objectLiteral(node: ts.ObjectLiteralExpression): ts.Node {
    return this.fnDepth === 0 ? this.capture(node, this.copy(node) as ts.Expression) : this.copy(node);
  }

  private ret(node: ts.ReturnStatement): ts.Node {
    if (this.fnDepth > 0) return this.copy(node);
    this.hooked++;
    return tsi.setTextRange(this.hooks.ret(node.expression && this.expr(node.expression), this.tryDepth > 0, node), node);
  }

  private jump(node: ts.BreakStatement | ts.ContinueStatement): ts.Node {
    if (this.fnDepth > 0) return this.copy(node);
    const inside = node.label
      ? this.targets.some((t) => t.label === node.label!.text)
      : this.targets.some((t) => t.kind === "loop" || (t.kind === "switch" && tsi.isBreakStatement(node)));
    if (inside) return node;
    this.hooked++;
    return tsi.setTextRange(this.hooks.jump(node, this.tryDepth > 0), node);
  }

  private variableStatement(node: ts.VariableStatement): ts.Node | undefined {
    if (this.fnDepth > 0 || !this.hoisted(node.declarationList)) return this.copy(node);
    const e = this.declarations(node.declarationList);
    return e ? tsi.setTextRange(f.createExpressionStatement(e), node) : undefined;
  }

  private declarationList(node: ts.VariableDeclarationList): ts.Node | undefined {
    if (this.fnDepth > 0 || !this.hoisted(node)) return this.copy(node);
    const p = node.parent as ts.Node | undefined;
    if (p && (tsi.isForInStatement(p) || tsi.isForOfStatement(p))) return this.target(node.declarations[0]!.name);
    return this.declarations(node);
  }

  private labeled(node: ts.LabeledStatement): ts.Node {
    return this.fnDepth > 0 ? this.copy(node) : this.within({ kind: "label", label: node.label.text }, node);
  }

  private switchStatement(node: ts.SwitchStatement): ts.Node {
    return this.fnDepth > 0 ? this.copy(node) : this.within({ kind: "switch" }, node);
  }

  private tryStatement(node: ts.TryStatement): ts.Node {
    if (this.fnDepth > 0) return this.copy(node);
    return this.inTry(() => {
      const fin = node.finallyBlock;
      if (!fin) return this.copy(node);
      const tryBlock = this.visit(node.tryBlock) as ts.Block;
      const catchClause = node.catchClause && (this.visit(node.catchClause) as ts.CatchClause);
      const hooked = this.hooked;
      const finallyBlock = this.visit(fin) as ts.Block;
      return f.updateTryStatement(node, tryBlock, catchClause, this.hooked === hooked ? finallyBlock : this.preserving(finallyBlock));
    });
  }

  /**
   * A finally block holding a return or jump of the hooks': it writes the locals of a pending exit (`$rv`,
   * `$s`) that the try's own return or jump wrote before the finally ran, and a `break` in the block may
   * cancel it (`L: try { return 2 } finally { break L }`), after which the try's exit goes on with what it
   * wrote. Saved where the block starts, restored where it ends normally.
   */
  private preserving(block: ts.Block): ts.Block {
    const names = this.hooks.exitLocals();
    const k = this.preserved++;
    const copies = names.map((x) => `${x}${this.s.n.mark}p${k}`);
    const save = f.createVariableStatement(undefined, f.createVariableDeclarationList(names.map((x, i) => f.createVariableDeclaration(copies[i]!, undefined, undefined, f.createIdentifier(x))), tsi.NodeFlags.Const));
    const restore = names.map((x, i) => f.createExpressionStatement(f.createAssignment(f.createIdentifier(x), f.createIdentifier(copies[i]!))));
    return f.updateBlock(block, [save, ...block.statements, ...restore]);
  }

  private loop(node: ts.IterationStatement): ts.Node {
    if (this.fnDepth > 0) return this.copy(node);
    // Its body is a `try` once TypeScript lowers `using`: a return must not finish the result before the disposal.
    // A `for…of` closes its iterator as a return or jump leaves it, which may throw: as a `finally` would, first.
    if (usingHead(node) || tsi.isForOfStatement(node)) return this.inTry(() => this.within({ kind: "loop" }, node));
    return this.within({ kind: "loop" }, node);
  }

  /** Copy inside a `try` of the copied code: a return or jump leaving it goes through the hooks' `inTry` form, so its `finally` runs first. */
  private inTry<T>(copy: () => T): T {
    this.tryDepth++;
    const r = copy();
    this.tryDepth--;
    return r;
  }

  private within(t: { kind: "loop" | "switch" | "label"; label?: string }, node: ts.Node): ts.Node {
    this.targets.push(t);
    const r = this.copy(node);
    this.targets.pop();
    return r;
  }

  private classAssignment(orig: ts.ClassDeclaration, c: ts.ClassDeclaration): ts.Statement {
    const expr = this.capture(orig, classExpression(orig, c));
    return tsi.setTextRange(f.createExpressionStatement(f.createAssignment(this.ident(orig.name!), expr)), orig);
  }

  /**
   * `function f(){}` declared as it is when the function takes no environment, else as `f = (($env) => function f(){})($env)`.
   * A name the program writes is given as a property key instead, `({ ["f"]: function () {} })["f"]`
   * (inside the environments' wrapper when there is one, see capture): the expression's own name would be
   * a constant binding inside it, and `f = …` there would throw.
   */
  functionValue(decl: HoistedFunction): ts.Expression {
    const async = decl.modifiers?.filter((m): m is ts.ModifierToken<ts.SyntaxKind.AsyncKeyword> => m.kind === SK.AsyncKeyword);
    const name = decl.name.text;
    const written = this.s.an.bindingOf.get(decl.name)?.written;
    // The declaration stays its origin: TypeScript's async downlevel asks it whether the body reads `arguments`, and its return type.
    const fn = tsi.setOriginalNode(tsi.setTextRange(f.createFunctionExpression(async, decl.asteriskToken, written ? undefined : name, undefined, decl.parameters, undefined, decl.body), decl), decl);
    if (!written) return this.expr(fn);
    // A wrapper taking its environments (capture) names it inside.
    this.givenNames.set(fn, name);
    const value = this.expr(fn);
    return tsi.isFunctionExpression(value) ? nameOf(value, name) : value;
  }

  /**
   * A block of copied code holding `using` declarations (see `statements`), or where closures use
   * per-iteration bindings: a function declared in it that uses them becomes a `let` at the top of
   * the block, where the declaration would be initialized.
   */
  private block(node: ts.Block): ts.Node {
    if (this.fnDepth > 0 || !(this.hasEnvs || node.statements.some(isUsing))) return this.copy(node);
    const first: ts.Statement[] = [];
    for (const st of this.hasEnvs ? hoistedFunctions(node.statements) : []) {
      if (this.slotOf(st.name) || this.envsIn(st).length === 0) continue;
      first.push(tsi.setTextRange(letStatement(st.name.text, this.functionValue(st)), st));
      this.moved.add(st);
    }
    return f.updateBlock(node, this.statements(node.statements, first));
  }

  /**
   * The copies of a block's statements after `first`. When the block holds `using` declarations, all
   * of it goes inside the `try` that disposes its resources (runtime/dispose.ts), so that its
   * declarations keep their scope; a `return` or jump inside then leaves through that `finally`.
   */
  statements(list: readonly ts.Statement[], first: ts.Statement[] = []): ts.Statement[] {
    const copy = (st: ts.Statement) => {
      const r = isUsing(st) ? this.using(st) : this.visit(st);
      return r === undefined ? [] : [r as ts.Statement];
    };
    if (!list.some(isUsing)) return [...first, ...list.flatMap(copy)];
    const body = this.inTry(() => [...first, ...list.flatMap(copy)]);
    const { c, e, u } = this.s.n;
    const call = (name: string, args: ts.Expression[]) => f.createCallExpression(f.createPropertyAccessExpression(f.createIdentifier(c), name), undefined, args);
    const failed = f.createCatchClause(e, f.createBlock([f.createExpressionStatement(call("fail", [f.createIdentifier(u), f.createIdentifier(e)]))], true));
    const disposed = f.createBlock([f.createExpressionStatement(call("dispose", [f.createIdentifier(u)]))], true);
    return [constStatement(u, call("disposer", [])), f.createTryStatement(f.createBlock(body, true), failed, disposed)];
  }

  /**
   * `using a = A, …` as `const a = $c.use($u, A), …`. Copied code declares no hoisted binding (a
   * block's bindings are hoisted only when the machine takes the block apart), so `a` stays a
   * `const` of the copy.
   */
  private using(st: ts.VariableStatement): ts.Statement {
    const u = f.createIdentifier(this.s.n.u);
    const value = (d: ts.VariableDeclaration) => {
      const name = (d.name as ts.Identifier).text;
      return f.createCallExpression(f.createPropertyAccessExpression(f.createIdentifier(this.s.n.c), "use"), undefined, [u, this.named(this.expr(d.initializer!), d.initializer!, name, undefined)]);
    };
    const decls = st.declarationList.declarations;
    if (this.hoisted(st.declarationList)) throw new Unsupported(st, "a 'using' declaration whose binding is hoisted");
    const list = f.createVariableDeclarationList(decls.map((d) => f.createVariableDeclaration(d.name as ts.Identifier, undefined, undefined, value(d))), tsi.NodeFlags.Const);
    return tsi.setTextRange(f.createVariableStatement(undefined, list), st);
  }

  /** `x op= v`, `x++` and friends on a hoisted constant: read `x`, compute, then write the real constant (which throws). */
  private constantWrite(node: ts.Node): ts.Expression | undefined {
    const constant = () => f.createIdentifier(this.s.n.constant);
    if (tsi.isBinaryExpression(node)) {
      const target = unparen(node.left);
      const op = node.operatorToken.kind;
      const compound = compoundOperator(op);
      const logical = logicalOperator(op);
      if (!tsi.isIdentifier(target) || (compound === undefined && logical === undefined) || !this.writesConstant(target)) return undefined;
      const value = this.expr(node.right);
      if (compound !== undefined) return f.createParenthesizedExpression(f.createAssignment(constant(), f.createBinaryExpression(this.read(target), compound, value)));
      return f.createParenthesizedExpression(f.createBinaryExpression(this.read(target), logical!, f.createParenthesizedExpression(f.createAssignment(constant(), value))));
    }
    if (tsi.isPrefixUnaryExpression(node) || tsi.isPostfixUnaryExpression(node)) {
      const target = unparen(node.operand);
      const step = node.operator === SK.PlusPlusToken || node.operator === SK.MinusMinusToken;
      if (!step || !tsi.isIdentifier(target) || !this.writesConstant(target)) return undefined;
      // `- -x` converts x to a number (or bigint) as the increment would, then the write throws.
      const numeric = f.createPrefixUnaryExpression(SK.MinusToken, f.createPrefixUnaryExpression(SK.MinusToken, this.read(target)));
      return f.createParenthesizedExpression(f.createAssignment(constant(), numeric));
    }
    return undefined;
  }
}

/** `(0, value)`: its value, not a reference: a call of it passes no `this`. */
export function detached(value: ts.Expression): ts.Expression {
  return f.createParenthesizedExpression(f.createComma(f.createNumericLiteral(0), value));
}

/**
 * `({ "name": value })["name"]`: an anonymous function or class named as a property definition names
 * it; named "", it is kept anonymous where it is assigned, which bundlers keep as it is.
 */
export function nameOf(value: ts.Expression, name: string): ts.Expression {
  // A computed key only for the one that would set the prototype: one TypeScript lowers to an assignment in ES5, which names nothing.
  const key = name === "__proto__" ? f.createComputedPropertyName(f.createStringLiteral(name)) : f.createStringLiteral(name);
  const holder = f.createObjectLiteralExpression([f.createPropertyAssignment(key, value)]);
  return f.createElementAccessExpression(f.createParenthesizedExpression(holder), f.createStringLiteral(name));
}

/** A number or BigInt literal as the property key it is (`0x10` and `16n` are "16"). */
function literalKey(n: ts.NumericLiteral | ts.BigIntLiteral): string {
  return tsi.isBigIntLiteral(n) ? BigInt(n.text.slice(0, -1)).toString() : String(Number(n.text));
}

/**
 * The name JavaScript gives the anonymous function or class `node` from where it stands: the binding,
 * parameter, property or assigned variable; `null` when a computed key decides it at run time.
 */
export function contextName(node: ts.Node): string | null | undefined {
  if (!tsi.isExpression(node) || !isAnonymousFunction(node)) return undefined;
  let child: ts.Node = node;
  let p = node.parent;
  while (p && isWrapper(p)) [child, p] = [p, p.parent];
  if (!p) return undefined;
  const key = (name: ts.PropertyName): string | null | undefined => {
    if (tsi.isComputedPropertyName(name)) {
      // A literal key names it as written; any other, as it evaluates at run time.
      const e = unparen(name.expression);
      return tsi.isStringLiteralLike(e) ? e.text : tsi.isNumericLiteral(e) || tsi.isBigIntLiteral(e) ? literalKey(e) : null;
    }
    if (tsi.isNumericLiteral(name) || tsi.isBigIntLiteral(name)) return literalKey(name);
    return tsi.isIdentifier(name) || tsi.isStringLiteral(name) || tsi.isPrivateIdentifier(name) || tsi.isNoSubstitutionTemplateLiteral(name) ? name.text : undefined;
  };
  if ((tsi.isVariableDeclaration(p) || tsi.isBindingElement(p) || tsi.isParameter(p)) && p.initializer === child) return tsi.isIdentifier(p.name) ? p.name.text : undefined;
  // A literal `__proto__: v` sets the prototype and names nothing.
  if (tsi.isPropertyAssignment(p) && p.initializer === child) return key(p.name) === "__proto__" && !tsi.isComputedPropertyName(p.name) ? undefined : key(p.name);
  if (tsi.isPropertyDeclaration(p) && p.initializer === child) return key(p.name);
  if (tsi.isShorthandPropertyAssignment(p) && p.objectAssignmentInitializer === child) return p.name.text;
  if (tsi.isBinaryExpression(p) && p.right === child && tsi.isIdentifier(p.left)) {
    const op = p.operatorToken.kind;
    return op === SK.EqualsToken || logicalOperator(op) !== undefined ? p.left.text : undefined;
  }
  return undefined;
}

/** An anonymous function or class, which takes the name of the binding it initializes. */
export function isAnonymousFunction(e: ts.Expression): boolean {
  const u = unparen(e);
  return tsi.isArrowFunction(u) || ((tsi.isFunctionExpression(u) || tsi.isClassExpression(u)) && u.name === undefined);
}

/**
 * The class a declaration makes, as an expression. It stays the declaration's own node to TypeScript:
 * below ES2022 static fields move out of the class body, and TypeScript's class alias then finds the
 * class their references to its name resolve to.
 */
function classExpression(orig: ts.ClassDeclaration, c: ts.ClassDeclaration): ts.ClassExpression {
  return tsi.setOriginalNode(f.createClassExpression(c.modifiers?.filter(tsi.isDecorator), orig.name, c.typeParameters, c.heritageClauses, c.members), orig);
}

function letStatement(name: string, value: ts.Expression): ts.Statement {
  return f.createVariableStatement(undefined, f.createVariableDeclarationList([f.createVariableDeclaration(name, undefined, undefined, value)], tsi.NodeFlags.Let));
}

/** `const name = value;` */
export function constStatement(name: string, value: ts.Expression): ts.Statement {
  return f.createVariableStatement(undefined, f.createVariableDeclarationList([f.createVariableDeclaration(name, undefined, undefined, value)], tsi.NodeFlags.Const));
}
