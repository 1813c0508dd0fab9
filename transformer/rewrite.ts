/**
 * The rewriter for code that keeps its shape: statements and expressions without a suspension.
 *
 * It copies the tree, changing only what the lowering requires: identifiers of hoisted bindings
 * get their emitted names (`{x}` becomes `{x: x$1}` when renamed), declarations of hoisted
 * bindings become assignments (`let x;` → `x = void 0`, `var x = 1` → `x = 1`), and, outside
 * nested functions, `return` and `break`/`continue` that leave the copied code are handed to hooks
 * (the state machine turns them into jumps). Nested `async(function* …)` calls are lowered through
 * the `nested` hook.
 */
import ts from "typescript";
import type { Analysis, Binding } from "./analyze.js";
import type { Slot } from "./hoist.js";

const f = ts.factory;

export interface Hooks {
  /** A `return` of the body; `inTry`: inside a copied `try`, whose finally must run first. */
  ret(value: ts.Expression | undefined, inTry: boolean, origin: ts.Node): ts.Statement;
  /** A `break`/`continue` whose target lies outside the copied code. */
  jump(node: ts.BreakStatement | ts.ContinueStatement, inTry: boolean): ts.Statement;
}

export interface Scope {
  an: Analysis;
  slots: Map<Binding, Slot>;
  /** Renaming of the enclosing lowered function, for identifiers free in this one. */
  outer: ((id: ts.Identifier) => ts.Identifier | undefined) | undefined;
  /** Lower a nested `async(function* …)` call, or `undefined` to keep it. */
  nested: (call: ts.CallExpression, rename: (id: ts.Identifier) => ts.Identifier | undefined) => ts.Expression | undefined;
  context: ts.TransformationContext;
}

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

/** The emitted identifier for `id`, or `undefined` when it keeps its name. */
export function renamer(s: Scope): (id: ts.Identifier) => ts.Identifier | undefined {
  return (id) => {
    const b = s.an.bindingOf.get(id);
    if (b === undefined) return s.outer?.(id);
    const slot = s.slots.get(b);
    if (slot === undefined || slot.name === id.text) return undefined;
    return ts.setTextRange(f.createIdentifier(slot.name), id);
  };
}

export class Rewriter {
  private fnDepth = 0;
  private tryDepth = 0;
  /** Jump targets inside the copied code: loops, switches, labels. */
  private targets: { kind: "loop" | "switch" | "label"; label?: string }[] = [];
  readonly rename: (id: ts.Identifier) => ts.Identifier | undefined;
  /** Nodes replaced by an already lowered expression (a header whose suspension was exploded). */
  readonly substitute = new Map<ts.Node, ts.Expression>();

  constructor(
    private readonly s: Scope,
    private readonly hooks: Hooks,
  ) {
    this.rename = renamer(s);
  }

  slotOf(id: ts.Identifier): Slot | undefined {
    const b = this.s.an.bindingOf.get(id);
    return b && this.s.slots.get(b);
  }

  /** The emitted identifier for a declaration or reference. */
  ident(id: ts.Identifier): ts.Identifier {
    return this.rename(id) ?? id;
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
    const withInit = (t: ts.Expression, init: ts.Expression | undefined) => (init ? f.createAssignment(t, this.expr(init)) : t);
    if (ts.isArrayBindingPattern(name))
      return f.createArrayLiteralExpression(
        name.elements.map((e) =>
          ts.isOmittedExpression(e) ? f.createOmittedExpression() : e.dotDotDotToken ? f.createSpreadElement(this.target(e.name)) : withInit(this.target(e.name), e.initializer),
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
        return f.createPropertyAssignment(key, withInit(this.target(e.name), e.initializer));
      }),
    );
  }

  /** A declaration list of hoisted bindings as one expression of assignments, or `undefined`. */
  declarations(list: ts.VariableDeclarationList): ts.Expression | undefined {
    const lexical = (list.flags & ts.NodeFlags.BlockScoped) !== 0;
    const parts: ts.Expression[] = [];
    for (const d of list.declarations) {
      if (d.initializer) parts.push(f.createAssignment(this.target(d.name), this.expr(d.initializer)));
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
    if (ts.isIdentifier(node)) return this.rename(node) ?? node;
    if (ts.isShorthandPropertyAssignment(node)) {
      const r = this.rename(node.name);
      if (r === undefined) return ts.visitEachChild(node, this.visitor, this.s.context);
      const init = node.objectAssignmentInitializer;
      return ts.setTextRange(f.createPropertyAssignment(node.name.text, init ? f.createAssignment(r, this.expr(init)) : r), node);
    }
    if (ts.isCallExpression(node)) {
      const low = this.s.nested(node, this.rename);
      if (low) return low;
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
      if (ts.isClassDeclaration(node) && this.fnDepth === 0 && node.name && this.slotOf(node.name)) return this.classAssignment(node, r as ts.ClassDeclaration);
      if (ts.isFunctionDeclaration(node) && this.fnDepth === 0 && node.name && this.slotOf(node.name)) return undefined;
      return r;
    }
    if (this.fnDepth > 0) return ts.visitEachChild(node, this.visitor, this.s.context);
    switch (node.kind) {
      case ts.SyntaxKind.ReturnStatement: {
        const r = node as ts.ReturnStatement;
        return ts.setTextRange(this.hooks.ret(r.expression && this.expr(r.expression), this.tryDepth > 0, node), node);
      }
      case ts.SyntaxKind.BreakStatement:
      case ts.SyntaxKind.ContinueStatement: {
        const j = node as ts.BreakStatement | ts.ContinueStatement;
        const inside = j.label
          ? this.targets.some((t) => t.label === j.label!.text)
          : this.targets.some((t) => t.kind === "loop" || (t.kind === "switch" && ts.isBreakStatement(j)));
        return inside ? node : ts.setTextRange(this.hooks.jump(j, this.tryDepth > 0), node);
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
    const expr = f.createClassExpression(c.modifiers?.filter(ts.isDecorator), orig.name, c.typeParameters, c.heritageClauses, c.members);
    return ts.setTextRange(f.createExpressionStatement(f.createAssignment(this.ident(orig.name!), expr)), orig);
  }
}
