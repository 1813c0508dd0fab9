/**
 * The rewriter for code that keeps its shape: statements and expressions without a suspension.
 *
 * It copies the tree, changing only what the lowering requires: identifiers of hoisted bindings
 * get their emitted names (`{x}` becomes `{x: x$1}` when renamed), declarations of hoisted
 * bindings become assignments (`let x;` → `x = void 0`, `var x = 1` → `x = 1`), and, outside
 * nested functions, `return` and `break`/`continue` that leave the copied code are handed to hooks
 * (the state machine turns them into jumps). Nested `async(function* …)` calls are lowered through
 * the `nested` hook.
 *
 * A write to a hoisted `const` becomes a write to a real `const` of the lowered function, so it
 * throws the TypeError JavaScript throws, after evaluating what JavaScript evaluates first. A
 * closure made directly in the generator's code that uses per-iteration bindings (hoist.ts) is
 * wrapped in an arrow called with the current environments: `(($env1) => () => $env1.i)($env1)`.
 * A tagged template becomes a call with its site's strings object, made once at module level
 * (lower.ts), as the lowering may copy a statement into two places and each copy would be a site.
 */
import ts from "typescript";
import { type Analysis, type Binding, Unsupported, unparen } from "./analyze.js";
import type { Slot } from "./hoist.js";

const f = ts.factory;

export interface Hooks {
  /** A `return` of the body; `inTry`: inside a copied `try`, whose finally must run first. */
  ret(value: ts.Expression | undefined, inTry: boolean, origin: ts.Node): ts.Statement;
  /** A `break`/`continue` whose target lies outside the copied code. */
  jump(node: ts.BreakStatement | ts.ContinueStatement, inTry: boolean): ts.Statement;
}

/** The emitted expression for an identifier, or `undefined` when it stays; `read`: the value, even of a write target. */
export type Rename = (id: ts.Identifier, read?: boolean) => ts.Expression | undefined;

export interface Scope {
  an: Analysis;
  slots: Map<Binding, Slot>;
  /** Renaming of the enclosing lowered function, for identifiers free in this one. */
  outer: Rename | undefined;
  /** Lower a nested `async(function* …)` call, or `undefined` to keep it. */
  nested: (call: ts.CallExpression, rename: Rename) => ts.Expression | undefined;
  context: ts.TransformationContext;
  /** A `const` of the lowered function, assigned to in place of a hoisted constant. */
  constant: string;
  /** The module-level constant holding the strings object of a tagged template's site. */
  template: (t: ts.TemplateLiteral) => string;
}

export const COMPOUND: Partial<Record<ts.SyntaxKind, ts.BinaryOperator>> = {
  [ts.SyntaxKind.PlusEqualsToken]: ts.SyntaxKind.PlusToken,
  [ts.SyntaxKind.MinusEqualsToken]: ts.SyntaxKind.MinusToken,
  [ts.SyntaxKind.AsteriskEqualsToken]: ts.SyntaxKind.AsteriskToken,
  [ts.SyntaxKind.AsteriskAsteriskEqualsToken]: ts.SyntaxKind.AsteriskAsteriskToken,
  [ts.SyntaxKind.SlashEqualsToken]: ts.SyntaxKind.SlashToken,
  [ts.SyntaxKind.PercentEqualsToken]: ts.SyntaxKind.PercentToken,
  [ts.SyntaxKind.LessThanLessThanEqualsToken]: ts.SyntaxKind.LessThanLessThanToken,
  [ts.SyntaxKind.GreaterThanGreaterThanEqualsToken]: ts.SyntaxKind.GreaterThanGreaterThanToken,
  [ts.SyntaxKind.GreaterThanGreaterThanGreaterThanEqualsToken]: ts.SyntaxKind.GreaterThanGreaterThanGreaterThanToken,
  [ts.SyntaxKind.AmpersandEqualsToken]: ts.SyntaxKind.AmpersandToken,
  [ts.SyntaxKind.BarEqualsToken]: ts.SyntaxKind.BarToken,
  [ts.SyntaxKind.CaretEqualsToken]: ts.SyntaxKind.CaretToken,
};

/** `||=`, `&&=`, `??=` → `||`, `&&`, `??`. */
export const LOGICAL_ASSIGN: Partial<Record<ts.SyntaxKind, ts.BinaryOperator>> = {
  [ts.SyntaxKind.BarBarEqualsToken]: ts.SyntaxKind.BarBarToken,
  [ts.SyntaxKind.AmpersandAmpersandEqualsToken]: ts.SyntaxKind.AmpersandAmpersandToken,
  [ts.SyntaxKind.QuestionQuestionEqualsToken]: ts.SyntaxKind.QuestionQuestionToken,
};

export const isFunctionLike = (n: ts.Node): boolean =>
  ts.isFunctionDeclaration(n) ||
  ts.isFunctionExpression(n) ||
  ts.isArrowFunction(n) ||
  ts.isMethodDeclaration(n) ||
  ts.isGetAccessorDeclaration(n) ||
  ts.isSetAccessorDeclaration(n) ||
  ts.isConstructorDeclaration(n) ||
  ts.isClassStaticBlockDeclaration(n) ||
  ts.isPropertyDeclaration(n);

export function renamer(s: Scope): Rename {
  return (id, read) => {
    const b = s.an.bindingOf.get(id);
    if (b === undefined) return s.outer?.(id, read);
    const slot = s.slots.get(b);
    if (slot === undefined) return undefined;
    if (!read && b.kind === "const" && s.an.writes.has(id)) return ts.setTextRange(f.createIdentifier(s.constant), id);
    if (slot.env) return ts.setTextRange(f.createPropertyAccessExpression(f.createIdentifier(slot.env), slot.name), id);
    if (slot.name === id.text) return undefined;
    return ts.setTextRange(f.createIdentifier(slot.name), id);
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
    return r !== undefined && ts.isIdentifier(r) && r.text === this.s.constant;
  }

  /** `copy` of the closure-making `node`, taking the environments it uses as they are now. */
  capture(node: ts.Node, copy: ts.Expression): ts.Expression {
    const envs = this.envsIn(node);
    if (envs.length === 0) return copy;
    // The wrapper hides an anonymous function from the binding or key that would name it: named inside instead.
    const name = contextName(node);
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
      if (ts.isIdentifier(n)) {
        const env = this.slotOf(n)?.env;
        if (env) found.add(env);
      } else ts.forEachChild(n, visit);
    };
    if (ts.isObjectLiteralExpression(node)) node.properties.filter(isFunctionLike).forEach(visit);
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
    if (ts.isIdentifier(name)) return this.ident(name);
    const withInit = (t: ts.Expression, init: ts.Expression | undefined, e: ts.BindingElement) =>
      init ? f.createAssignment(t, this.named(this.expr(init), init, ts.isIdentifier(e.name) ? e.name.text : undefined, t)) : t;
    if (ts.isArrayBindingPattern(name))
      return f.createArrayLiteralExpression(
        name.elements.map((e) =>
          ts.isOmittedExpression(e) ? f.createOmittedExpression() : e.dotDotDotToken ? f.createSpreadElement(this.target(e.name)) : withInit(this.target(e.name), e.initializer, e),
        ),
      );
    return f.createObjectLiteralExpression(
      name.elements.map((e) => {
        if (e.dotDotDotToken) return f.createSpreadAssignment(this.target(e.name));
        const key = e.propertyName
          ? ts.isComputedPropertyName(e.propertyName)
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
    if (name === undefined || (to && ts.isIdentifier(to) && to.text === name) || !isAnonymousFunction(init)) return value;
    return nameOf(value, name);
  }

  /** A declaration list of hoisted bindings as one expression of assignments, or `undefined`. */
  declarations(list: ts.VariableDeclarationList): ts.Expression | undefined {
    const lexical = (list.flags & ts.NodeFlags.BlockScoped) !== 0;
    const parts: ts.Expression[] = [];
    for (const d of list.declarations) {
      if (d.initializer) {
        const t = this.target(d.name);
        parts.push(f.createAssignment(t, this.named(this.expr(d.initializer), d.initializer, ts.isIdentifier(d.name) ? d.name.text : undefined, t)));
      }
      else if (lexical && ts.isIdentifier(d.name)) parts.push(f.createAssignment(this.ident(d.name), f.createVoidZero()));
    }
    return parts.length === 0 ? undefined : parts.reduce((a, b) => f.createComma(a, b));
  }

  private hoisted(list: ts.VariableDeclarationList): boolean {
    const first = list.declarations[0];
    if (!first) return false;
    let id: ts.BindingName = first.name;
    while (!ts.isIdentifier(id)) {
      const e = id.elements.find((x) => !ts.isOmittedExpression(x)) as ts.BindingElement | undefined;
      if (!e) return false;
      id = e.name;
    }
    return this.slotOf(id) !== undefined;
  }

  private readonly visitor = (node: ts.Node): ts.VisitResult<ts.Node | undefined> => this.visit(node);

  visit(node: ts.Node): ts.Node | undefined {
    const sub = this.substitute.get(node);
    if (sub) return sub;
    if (ts.isIdentifier(node)) {
      // A declaration's own name stays; `classAssignment` and the state machine place its value.
      const p = node.parent as ts.Node | undefined;
      if (p && (ts.isClassDeclaration(p) || ts.isFunctionDeclaration(p)) && p.name === node) return node;
      return this.rename(node) ?? node;
    }
    const constant = this.constantWrite(node);
    if (constant) return constant;
    if (ts.isBinaryExpression(node) && ts.isIdentifier(node.left) && isAnonymousFunction(node.right)) {
      const op = node.operatorToken.kind;
      const to = op === ts.SyntaxKind.EqualsToken || LOGICAL_ASSIGN[op] !== undefined ? this.rename(node.left) : undefined;
      if (to) return f.createBinaryExpression(to, node.operatorToken, this.named(this.expr(node.right), node.right, node.left.text, to));
    }
    if (ts.isTaggedTemplateExpression(node)) {
      const values = ts.isTemplateExpression(node.template) ? node.template.templateSpans.map((x) => this.expr(x.expression)) : [];
      return ts.setTextRange(f.createCallExpression(this.expr(node.tag), undefined, [f.createIdentifier(this.s.template(node.template)), ...values]), node);
    }
    if (ts.isShorthandPropertyAssignment(node)) {
      const r = this.rename(node.name);
      if (r === undefined) return ts.visitEachChild(node, this.visitor, this.s.context);
      const init = node.objectAssignmentInitializer;
      return ts.setTextRange(f.createPropertyAssignment(node.name.text, init ? f.createAssignment(r, this.named(this.expr(init), init, node.name.text, r)) : r), node);
    }
    if (ts.isCallExpression(node)) {
      const low = this.s.nested(node, this.rename);
      if (low) {
        this.hooked++;
        return this.fnDepth === 0 ? this.capture(node, low) : low;
      }
    }
    if (isFunctionLike(node) || ts.isClassLike(node)) {
      const saved = this.targets;
      this.targets = [];
      this.fnDepth += isFunctionLike(node) ? 1 : 0;
      const savedTry = this.tryDepth;
      if (isFunctionLike(node)) this.tryDepth = 0;
      const r = ts.visitEachChild(node, this.visitor, this.s.context);
      this.fnDepth -= isFunctionLike(node) ? 1 : 0;
      this.targets = saved;
      this.tryDepth = savedTry;
      if (this.fnDepth > 0) return r;
      if (ts.isClassDeclaration(node) && node.name && this.slotOf(node.name)) return this.classAssignment(node, r as ts.ClassDeclaration);
      if (ts.isFunctionDeclaration(node) && node.name && (this.slotOf(node.name) || this.moved.has(node))) return undefined;
      if (ts.isFunctionExpression(node) || ts.isArrowFunction(node) || ts.isClassExpression(node)) return this.capture(node, r as ts.Expression);
      // Members of classes and object literals: the class or literal takes the environments.
      if (!ts.isClassDeclaration(node) && !ts.isFunctionDeclaration(node)) return r;
      if (this.envsIn(node).length === 0) return r;
      if (ts.isClassDeclaration(node) && node.name) return ts.setTextRange(letStatement(node.name.text, this.capture(node, classExpression(node, r as ts.ClassDeclaration))), node);
      throw new Unsupported(node, "a function declaration outside a block that uses per-iteration bindings");
    }
    if (ts.isObjectLiteralExpression(node) && this.fnDepth === 0) return this.capture(node, ts.visitEachChild(node, this.visitor, this.s.context));
    if (ts.isBlock(node) && this.fnDepth === 0 && this.hasEnvs) return this.block(node);
    if (this.fnDepth > 0) return ts.visitEachChild(node, this.visitor, this.s.context);
    switch (node.kind) {
      case ts.SyntaxKind.ReturnStatement: {
        const r = node as ts.ReturnStatement;
        this.hooked++;
        return ts.setTextRange(this.hooks.ret(r.expression && this.expr(r.expression), this.tryDepth > 0, node), node);
      }
      case ts.SyntaxKind.BreakStatement:
      case ts.SyntaxKind.ContinueStatement: {
        const j = node as ts.BreakStatement | ts.ContinueStatement;
        const inside = j.label
          ? this.targets.some((t) => t.label === j.label!.text)
          : this.targets.some((t) => t.kind === "loop" || (t.kind === "switch" && ts.isBreakStatement(j)));
        if (inside) return node;
        this.hooked++;
        return ts.setTextRange(this.hooks.jump(j, this.tryDepth > 0), node);
      }
      case ts.SyntaxKind.VariableStatement: {
        const v = node as ts.VariableStatement;
        if (!this.hoisted(v.declarationList)) break;
        const e = this.declarations(v.declarationList);
        return e ? ts.setTextRange(f.createExpressionStatement(e), node) : undefined;
      }
      case ts.SyntaxKind.VariableDeclarationList: {
        const list = node as ts.VariableDeclarationList;
        if (!this.hoisted(list)) break;
        const p = (node as ts.Node).parent;
        if (p && (ts.isForInStatement(p) || ts.isForOfStatement(p))) return this.target(list.declarations[0]!.name);
        return this.declarations(list);
      }
      case ts.SyntaxKind.LabeledStatement:
        return this.within({ kind: "label", label: (node as ts.LabeledStatement).label.text }, node);
      case ts.SyntaxKind.SwitchStatement:
        return this.within({ kind: "switch" }, node);
      case ts.SyntaxKind.TryStatement: {
        this.tryDepth++;
        const r = ts.visitEachChild(node, this.visitor, this.s.context);
        this.tryDepth--;
        return r;
      }
    }
    if (ts.isIterationStatement(node, false)) return this.within({ kind: "loop" }, node);
    return ts.visitEachChild(node, this.visitor, this.s.context);
  }

  private within(t: { kind: "loop" | "switch" | "label"; label?: string }, node: ts.Node): ts.Node {
    this.targets.push(t);
    const r = ts.visitEachChild(node, this.visitor, this.s.context);
    this.targets.pop();
    return r;
  }

  private classAssignment(orig: ts.ClassDeclaration, c: ts.ClassDeclaration): ts.Statement {
    const expr = this.capture(orig, classExpression(orig, c));
    return ts.setTextRange(f.createExpressionStatement(f.createAssignment(this.ident(orig.name!), expr)), orig);
  }

  /** `function f(){}` declared as it is when the function takes no environment, else as `f = (($env) => function f(){})($env)`. */
  functionValue(decl: ts.FunctionDeclaration): ts.Expression {
    const async = decl.modifiers?.filter((m): m is ts.ModifierToken<ts.SyntaxKind.AsyncKeyword> => m.kind === ts.SyntaxKind.AsyncKeyword);
    const fn = f.createFunctionExpression(async, decl.asteriskToken, decl.name?.text, undefined, decl.parameters, undefined, decl.body ?? f.createBlock([]));
    return this.expr(ts.setTextRange(fn, decl));
  }

  /**
   * A block of copied code where closures use per-iteration bindings: a function declared in it that
   * uses them becomes a `let` at the top of the block, where the declaration would be initialized.
   */
  private block(node: ts.Block): ts.Block {
    const first: ts.Statement[] = [];
    for (const st of node.statements) {
      if (!ts.isFunctionDeclaration(st) || !st.name || !st.body || this.slotOf(st.name) || this.envsIn(st).length === 0) continue;
      if (this.s.an.bindingOf.get(st.name)?.written) throw new Unsupported(st, `an assignment to the function '${st.name.text}', which uses per-iteration bindings`);
      first.push(ts.setTextRange(letStatement(st.name.text, this.functionValue(st)), st));
      this.moved.add(st);
    }
    const rest = ts.visitNodes(node.statements, this.visitor, ts.isStatement);
    return f.updateBlock(node, [...first, ...rest]);
  }

  /** `x op= v`, `x++` and friends on a hoisted constant: read `x`, compute, then write the real constant (which throws). */
  private constantWrite(node: ts.Node): ts.Expression | undefined {
    const constant = () => f.createIdentifier(this.s.constant);
    if (ts.isBinaryExpression(node)) {
      const target = unparen(node.left);
      const op = node.operatorToken.kind;
      const compound = COMPOUND[op];
      const logical = LOGICAL_ASSIGN[op];
      if (!ts.isIdentifier(target) || (compound === undefined && logical === undefined) || !this.writesConstant(target)) return undefined;
      const value = this.expr(node.right);
      if (compound !== undefined) return f.createParenthesizedExpression(f.createAssignment(constant(), f.createBinaryExpression(this.read(target), compound, value)));
      return f.createParenthesizedExpression(f.createBinaryExpression(this.read(target), logical!, f.createParenthesizedExpression(f.createAssignment(constant(), value))));
    }
    if (ts.isPrefixUnaryExpression(node) || ts.isPostfixUnaryExpression(node)) {
      const target = unparen(node.operand);
      const step = node.operator === ts.SyntaxKind.PlusPlusToken || node.operator === ts.SyntaxKind.MinusMinusToken;
      if (!step || !ts.isIdentifier(target) || !this.writesConstant(target)) return undefined;
      // `- -x` converts x to a number (or bigint) as the increment would, then the write throws.
      const numeric = f.createPrefixUnaryExpression(ts.SyntaxKind.MinusToken, f.createPrefixUnaryExpression(ts.SyntaxKind.MinusToken, this.read(target)));
      return f.createParenthesizedExpression(f.createAssignment(constant(), numeric));
    }
    return undefined;
  }
}

/** `({ ["name"]: value })["name"]`: an anonymous function or class named as a property definition names it. */
export function nameOf(value: ts.Expression, name: string): ts.Expression {
  const key = f.createStringLiteral(name);
  const holder = f.createObjectLiteralExpression([f.createPropertyAssignment(f.createComputedPropertyName(key), value)]);
  return f.createElementAccessExpression(f.createParenthesizedExpression(holder), f.createStringLiteral(name));
}

/**
 * The name JavaScript gives the anonymous function or class `node` from where it stands: the binding,
 * parameter, property or assigned variable; `null` when a computed key decides it at run time.
 */
function contextName(node: ts.Node): string | null | undefined {
  if (!ts.isExpression(node) || !isAnonymousFunction(node)) return undefined;
  let child: ts.Node = node;
  let p = node.parent;
  while (p && (ts.isParenthesizedExpression(p) || ts.isAsExpression(p) || ts.isSatisfiesExpression(p) || ts.isNonNullExpression(p))) [child, p] = [p, p.parent];
  if (!p) return undefined;
  const key = (name: ts.PropertyName): string | null | undefined => {
    if (ts.isComputedPropertyName(name)) return null;
    if (ts.isNumericLiteral(name)) return String(Number(name.text));
    return ts.isIdentifier(name) || ts.isStringLiteral(name) || ts.isPrivateIdentifier(name) || ts.isNoSubstitutionTemplateLiteral(name) ? name.text : undefined;
  };
  if ((ts.isVariableDeclaration(p) || ts.isBindingElement(p) || ts.isParameter(p)) && p.initializer === child) return ts.isIdentifier(p.name) ? p.name.text : undefined;
  // A literal `__proto__: v` sets the prototype and names nothing.
  if (ts.isPropertyAssignment(p) && p.initializer === child) return key(p.name) === "__proto__" && !ts.isComputedPropertyName(p.name) ? undefined : key(p.name);
  if (ts.isPropertyDeclaration(p) && p.initializer === child) return key(p.name);
  if (ts.isShorthandPropertyAssignment(p) && p.objectAssignmentInitializer === child) return p.name.text;
  if (ts.isBinaryExpression(p) && p.right === child && ts.isIdentifier(p.left)) {
    const op = p.operatorToken.kind;
    return op === ts.SyntaxKind.EqualsToken || LOGICAL_ASSIGN[op] !== undefined ? p.left.text : undefined;
  }
  return undefined;
}

/** An anonymous function or class, which takes the name of the binding it initializes. */
export function isAnonymousFunction(e: ts.Expression): boolean {
  const u = unparen(e);
  return ts.isArrowFunction(u) || ((ts.isFunctionExpression(u) || ts.isClassExpression(u)) && u.name === undefined);
}

function classExpression(orig: ts.ClassDeclaration, c: ts.ClassDeclaration): ts.ClassExpression {
  return f.createClassExpression(c.modifiers?.filter(ts.isDecorator), orig.name, c.typeParameters, c.heritageClauses, c.members);
}

function letStatement(name: string, value: ts.Expression): ts.Statement {
  return f.createVariableStatement(undefined, f.createVariableDeclarationList([f.createVariableDeclaration(name, undefined, undefined, value)], ts.NodeFlags.Let));
}
