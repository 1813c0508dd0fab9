/**
 * Analysis of one generator function before it is lowered, purely syntactic (no type checker), so
 * the ts-patch entry and `lowerText` see the same thing.
 *
 * One walk over the body builds the scope tree the way JavaScript does (function scopes with their
 * parameters and `var`s, block scopes for `let`/`const`/`class`/block functions, `for` headers and
 * `catch` clauses) and resolves every identifier in a value position to its binding, or records it
 * as a free name. Nested functions are walked too: a binding of the generator referenced from a
 * nested function is *captured* and must keep a single closure slot.
 *
 * A second question is which nodes contain a suspension: a `yield` of this generator, not one
 * inside a nested function. The walk collects the `yield`s; each of its own marks the nodes from
 * it up to the generator, so the answer is a set lookup. Constructs the lowering does not handle
 * are collected as `Unsupported`, so the caller leaves the function to the run-time driver.
 */
import type * as ts from "typescript";
import { factory as f, SK, tsi } from "./compiler.js";

/** Parentheses, a type assertion or type arguments: syntax around an expression that JavaScript does not see. */
export function isWrapper(n: ts.Node): n is ts.ParenthesizedExpression | ts.AssertionExpression | ts.NonNullExpression | ts.SatisfiesExpression | ts.ExpressionWithTypeArguments {
  return tsi.isParenthesizedExpression(n) || tsi.isAssertionExpression(n) || tsi.isNonNullExpression(n) || tsi.isSatisfiesExpression(n) || tsi.isExpressionWithTypeArguments(n);
}

/** `e` without the wrappers around it (what JavaScript sees). */
export function unparen(e: ts.Expression): ts.Expression {
  while (isWrapper(e)) e = e.expression;
  return e;
}

/** A `using` declaration of a block (not `await using`, which no generator may hold). */
export function isUsing(st: ts.Statement): st is ts.VariableStatement {
  return tsi.isVariableStatement(st) && (st.declarationList.flags & tsi.NodeFlags.AwaitUsing) === tsi.NodeFlags.Using;
}

/** The `using` declaration heading a `for` or `for…of` loop, if it has one. */
export function usingHead(n: ts.Node): ts.VariableDeclarationList | undefined {
  const head = tsi.isForStatement(n) || tsi.isForOfStatement(n) ? n.initializer : undefined;
  return head && tsi.isVariableDeclarationList(head) && head.flags & tsi.NodeFlags.Using ? head : undefined;
}

/** A generator the lowering takes: written in the `async()` call, or declared by name (declared.ts). */
export type GeneratorFunction = ts.FunctionExpression | GeneratorDeclaration;
export type GeneratorDeclaration = ts.FunctionDeclaration & { readonly body: ts.Block };

const LEXICAL: ReadonlySet<BindingKind> = new Set(["let", "const", "class"]);

export type BindingKind = "var" | "let" | "const" | "function" | "class" | "param" | "catch" | "self";

export interface Binding {
  name: string;
  kind: BindingKind;
  scope: Scope;
  /** Some reference sits in a function nested inside the one that declares it. */
  captured: boolean;
  /** Assigned after its declaration (`x = …`, `x++`, `x += …`). */
  written: boolean;
  referenced: boolean;
}

export interface Scope {
  node: ts.Node;
  parent: Scope | undefined;
  /** The function-like node whose activation owns this scope. */
  fn: ts.Node;
  names: Map<string, Binding>;
}

/** A construct the lowering leaves to the run-time driver. */
export class Unsupported extends Error {
  constructor(
    readonly node: ts.Node,
    reason: string,
  ) {
    super(reason);
  }
}

/**
 * Constructs TypeScript's downlevel transforms keep state for by the node as parsed: classes (below
 * ES2022: the temp for a class's own name, its private names), generators (in ES5: renamed catch
 * variables) and async functions (below ES2017: the captured `arguments`).
 */
export interface Downlevel {
  classes: boolean;
  generators: boolean;
  asyncs: boolean;
  /**
   * Below ES2020 TypeScript lowers `?.`: the engine then names a callee that is no function with plain
   * dots, where the chain starts with a plain name (else it names TypeScript's temporary). The
   * lowering's setting only.
   */
  optionalChains?: boolean;
}

/** Whether a function holding `holds` is lowered again by TypeScript where it lowers `downlevel`: printed twice, both prints would share that state. */
export const lowersAgain = (holds: Downlevel, downlevel: Downlevel): boolean =>
  (holds.classes && downlevel.classes) || (holds.generators && downlevel.generators) || (holds.asyncs && downlevel.asyncs);

export interface Analysis {
  fn: GeneratorFunction;
  /** Identifier node (reference or declaration name) → its binding. */
  bindingOf: Map<ts.Identifier, Binding>;
  /** Identifiers assigned to: targets of `=`, compound assignments, `++`/`--`, destructuring and for-in/of heads. */
  writes: Set<ts.Identifier>;
  /** Scope-creating node → scope. */
  scopeOf: Map<ts.Node, Scope>;
  /** Bindings declared in the generator's own scopes (not in nested functions). */
  own: Binding[];
  /** Names of every binding anywhere in the function, and of free references. */
  names: Set<string>;
  free: Set<string>;
  unsupported: Unsupported[];
  /** Whether `node` contains a suspension of the generator itself. */
  suspends(node: ts.Node | undefined): boolean;
  /** Whether a suspension of the generator itself runs on each iteration of one of its loops. */
  loopSuspends: boolean;
  /** The generator's own `yield`s, in source order. */
  suspensions: ts.YieldExpression[];
  /** The function holds JSX (whose transform, run later, refers to the JSX factory by name). */
  jsx: boolean;
  /**
   * What the function holds, here or in nested functions, that TypeScript's own downlevel transforms
   * keep state for by the node as parsed (Downlevel, above): printed twice, both prints would
   * share that state.
   */
  holds: Downlevel;
  /** The generator is strict code (its file, a class around it or a "use strict" directive makes it so). */
  strict: boolean;
  /** Where the body first reads the generator's own arguments object (maybe: any free `arguments` counts). */
  readsArguments: ts.Identifier | undefined;
}

// Node kinds are compared directly (one read of `kind`, no call per kind): these run on every node.
const isFunctionLike = (n: ts.Node): n is ts.SignatureDeclaration & { body?: ts.Node } => {
  switch (n.kind) {
    case SK.FunctionDeclaration:
    case SK.FunctionExpression:
    case SK.ArrowFunction:
    case SK.MethodDeclaration:
    case SK.GetAccessor:
    case SK.SetAccessor:
    case SK.Constructor:
      return true;
  }
  return false;
};

const isTypeOnly = (n: ts.Node): boolean => {
  const k = n.kind;
  if (k >= SK.FirstTypeNode && k <= SK.LastTypeNode) return true;
  switch (k) {
    case SK.TypeParameter:
    case SK.InterfaceDeclaration:
    case SK.TypeAliasDeclaration:
      return true;
    case SK.HeritageClause:
      return (n as ts.HeritageClause).token === SK.ImplementsKeyword;
  }
  return false;
};

/** A JSX tag naming a component (a value), not a host element: TypeScript's rule, lowercase or dashed is the host's. */
export function isComponentTag(tag: ts.JsxTagNameExpression): boolean {
  if (tsi.isJsxNamespacedName(tag)) return false;
  if (!tsi.isIdentifier(tag)) return true;
  const c = tag.text.charCodeAt(0);
  return !(c >= 97 && c <= 122) && !tag.text.includes("-");
}

/** A `key` attribute, which the automatic JSX runtime passes apart from the props (lower.ts keyApart). */
export const isKey = (a: ts.JsxAttributeLike): a is ts.JsxAttribute => tsi.isJsxAttribute(a) && tsi.isIdentifier(a.name) && a.name.text === "key";

/** Whether `child` of `p` runs once per iteration: any part of a loop but a `for`'s initializer and a `for…in`/`for…of`'s operand. */
const repeats = (p: ts.Node, child: ts.Node): boolean => {
  switch (p.kind) {
    case SK.WhileStatement:
    case SK.DoStatement:
      return true;
    case SK.ForStatement:
      return (p as ts.ForStatement).initializer !== child;
    case SK.ForInStatement:
    case SK.ForOfStatement:
      return (p as ts.ForInOrOfStatement).expression !== child;
  }
  return false;
};

/** The identifiers a binding name declares, in order. */
export function bindingNames(name: ts.BindingName): ts.Identifier[] {
  if (tsi.isIdentifier(name)) return [name];
  return name.elements.flatMap((e) => (tsi.isOmittedExpression(e) ? [] : bindingNames(e.name)));
}

/**
 * The directive prologue `statements` start with (`"use strict"`, `"use client"`): nothing may go
 * before it, or its statements stop being directives.
 */
export function directivePrologue(statements: readonly ts.Statement[]): ts.ExpressionStatement[] {
  const out: ts.ExpressionStatement[] = [];
  for (const st of statements) {
    if (!tsi.isExpressionStatement(st) || !tsi.isStringLiteral(st.expression)) break;
    out.push(st);
  }
  return out;
}

/** A directive that can mean something: one written without escapes (its text is then its source). */
export const isPlainDirective = (st: ts.ExpressionStatement): boolean => st.expression.getText().slice(1, -1) === (st.expression as ts.StringLiteral).text;

/** Parameters without defaults, rest or patterns: JavaScript binds them in the body's own scope. */
const simpleParameters = (fn: GeneratorFunction): boolean => !fn.parameters.some((p) => p.initializer || p.dotDotDotToken || !tsi.isIdentifier(p.name));

/** Parameters with defaults or patterns, which can throw: the lowered function declares them with `let` and binds them from `arguments` (emit.ts). */
export const boundFromArguments = (fn: GeneratorFunction): boolean => fn.parameters.some((p) => p.initializer || !tsi.isIdentifier(p.name));

/** The names the generator's parameters bind, TypeScript's `this:` left out. */
export const parameterNames = (fn: GeneratorFunction): string[] =>
  fn.parameters.filter((p) => !(tsi.isIdentifier(p.name) && p.name.text === "this")).flatMap((p) => bindingNames(p.name).map((x) => x.text));

/** Words strict code may not name a binding or label with, which TypeScript's parser lets through (as a binding, nor eval and arguments). */
const STRICT_RESERVED = new Set(["implements", "interface", "let", "package", "private", "protected", "public", "static", "yield"]);

/**
 * Whether `node` is strict code: in a class, under a "use strict" directive of a function around it
 * (below `stop`) or of the file, or in a file `strictFile` says is strict (a module, alwaysStrict).
 */
export function isStrict(node: ts.Node, strictFile: boolean, stop?: ts.Node): boolean {
  for (let n: ts.Node | undefined = node; n && n !== stop; n = n.parent) {
    if (tsi.isClassLike(n)) return true;
    const body = tsi.isSourceFile(n) ? n : isFunctionLike(n) ? n.body : undefined;
    if (body && (tsi.isBlock(body) || tsi.isSourceFile(body)) && directivePrologue(body.statements).some((st) => isPlainDirective(st) && (st.expression as ts.StringLiteral).text === "use strict")) return true;
  }
  return strictFile;
}

/**
 * Parameters the lowered function cannot bind as JavaScript does. It binds parameters with defaults,
 * rest or patterns inside its body, all at once from `arguments` (emit.ts), where JavaScript gives them
 * a scope of their own, which the body's declarations do not enter, and binds them one by one: so a
 * default naming a local of the body, or reading a parameter not bound yet, is left to the driver.
 * (A body `var` redeclaring a parameter is refused where it is declared.)
 */
function unboundParameters(fn: GeneratorFunction, bindingOf: Map<ts.Identifier, Binding>, unsupported: Unsupported[]): void {
  if (simpleParameters(fn)) return;
  for (const st of directivePrologue(fn.body.statements)) {
    // A syntax error as written (the driver's module fails to load), which the lowered parameters would hide.
    if (isPlainDirective(st) && (st.expression as ts.StringLiteral).text === "use strict") unsupported.push(new Unsupported(st, `"use strict" in a function with defaults, rest or patterns in its parameters (a syntax error)`));
  }
  // Parameters not bound yet: read before, one throws a ReferenceError, and the lowered function binds them all first.
  const unbound = new Set(fn.parameters.flatMap((p) => bindingNames(p.name)).map((id) => bindingOf.get(id)!));
  const visit = (n: ts.Node, nested: boolean): void => {
    const b = n.kind === SK.Identifier ? bindingOf.get(n as ts.Identifier) : undefined;
    // A syntax error TypeScript's parser lets through; lowered, it would run.
    if (n.kind === SK.YieldExpression && !nested) unsupported.push(new Unsupported(n, "a yield in a parameter's default (a syntax error)"));
    else if (b && b.scope.node === fn && b.kind !== "param") unsupported.push(new Unsupported(n, `a parameter's default naming '${b.name}', which the body declares,`));
    else if (b && !nested && unbound.has(b)) unsupported.push(new Unsupported(n, `a parameter's default reading '${b.name}' before it is bound`));
    else {
      const inner = nested || isFunctionLike(n) || tsi.isClassLike(n);
      tsi.forEachChild(n, (c) => visit(c, inner));
    }
  };
  /** Binds `name` in JavaScript's order: each element's computed key and default, then its names. */
  const bind = (name: ts.BindingName): void => {
    if (tsi.isIdentifier(name)) unbound.delete(bindingOf.get(name)!);
    else
      for (const e of name.elements) {
        if (tsi.isOmittedExpression(e)) continue;
        if (e.propertyName && tsi.isComputedPropertyName(e.propertyName)) visit(e.propertyName, false);
        if (e.initializer) visit(e.initializer, false);
        bind(e.name);
      }
  };
  for (const p of fn.parameters) {
    if (p.initializer) visit(p.initializer, false);
    bind(p.name);
  }
}

/** The first decorator of a class, its members or their parameters. */
function decoratorOf(c: ts.ClassLikeDeclaration): ts.Decorator | undefined {
  const first = (n: ts.Node) => (tsi.canHaveDecorators(n) ? tsi.getDecorators(n)?.[0] : undefined);
  const ofMember = (m: ts.ClassElement) => first(m) ?? (tsi.isFunctionLike(m) ? m.parameters.map(first).find((d) => d) : undefined);
  return first(c) ?? c.members.map(ofMember).find((d) => d);
}

/** How an expression is assigned to: by `=`, an arithmetic or bitwise compound assignment, a logical one, `++`/`--`, as a for-in/of loop's head, as an element of a destructuring pattern, or as its object rest. */
type TargetUse = "=" | "op=" | "logical" | "++" | "for" | "element" | "rest";

/**
 * Why `target`, assigned to as `use` says, is no target JavaScript accepts, or undefined when it is one.
 * TypeScript's parser takes any expression there; V8 rejects most at load (a syntax error), which the
 * lowering must not erase as it takes the assignment apart (`new.target = 1` became an assignment to
 * a variable, `([a]) = x` a destructuring). A call is the exception: in an assignment, a compound one
 * or `++`, V8 throws a ReferenceError when it runs, after calling it, and so does the lowered code; as
 * a for-in/of loop's head it names the error otherwise than the lowered code.
 */
function invalidTarget(target: ts.Expression, use: TargetUse, strictAt: (n: ts.Node) => boolean): Unsupported | undefined {
  let t = target;
  let parenthesized = false;
  while (isWrapper(t)) {
    // TypeScript's emit drops the parentheses around a type assertion: `([a] as T) = x` is `[a] = x`.
    if (tsi.isParenthesizedExpression(t)) {
      let inner = t.expression;
      while (tsi.isParenthesizedExpression(inner)) inner = inner.expression;
      if (!tsi.isAssertionExpression(inner) && !tsi.isSatisfiesExpression(inner)) parenthesized = true;
    }
    t = t.expression;
  }
  const role = use === "for" ? "a for-in/of loop's target" : use === "element" || use === "rest" ? "a destructuring target" : "an assignment target";
  if (tsi.isArrayLiteralExpression(t) || tsi.isObjectLiteralExpression(t)) {
    if (parenthesized) return new Unsupported(t, "a destructuring pattern in parentheses (a syntax error)");
    if (use !== "=" && use !== "for" && use !== "element") return new Unsupported(t, `a destructuring pattern as ${use === "rest" ? "an object rest's target" : "the target of a compound assignment or an increment"} (a syntax error)`);
    return invalidPattern(t, strictAt);
  }
  if (t.flags & tsi.NodeFlags.OptionalChain) return new Unsupported(t, `an optional chain as ${role} (a syntax error)`);
  switch (t.kind) {
    case SK.Identifier: {
      const name = (t as ts.Identifier).text;
      return (name === "eval" || name === "arguments") && strictAt(t) ? new Unsupported(t, `${name} as ${role} in strict code (a syntax error)`) : undefined;
    }
    case SK.PropertyAccessExpression:
    case SK.ElementAccessExpression:
      return undefined;
    case SK.CallExpression:
      if ((t as ts.CallExpression).expression.kind === SK.ImportKeyword) break;
      if (use === "=" || use === "op=" || use === "++") return undefined;
      return new Unsupported(t, use === "for" ? `a call as ${role} (a ReferenceError when the loop runs)` : `a call as ${role} (a syntax error)`);
  }
  const what =
    t.kind === SK.MetaProperty
      ? `${tsi.tokenToString((t as ts.MetaProperty).keywordToken)}.${(t as ts.MetaProperty).name.text}`
      : t.kind === SK.ThisKeyword
        ? "this"
        : t.kind === SK.SuperKeyword
          ? "super"
          : "an expression that is no reference";
  return new Unsupported(t, `${what} as ${role} (a syntax error)`);
}

/** Why a destructuring assignment's pattern is no valid one (see invalidTarget), or undefined. */
function invalidPattern(pattern: ts.ArrayLiteralExpression | ts.ObjectLiteralExpression, strictAt: (n: ts.Node) => boolean): Unsupported | undefined {
  /** An element, `target` or `target = default`. */
  const element = (e: ts.Expression) => (tsi.isBinaryExpression(e) && e.operatorToken.kind === SK.EqualsToken ? invalidTarget(e.left, "element", strictAt) : invalidTarget(e, "element", strictAt));
  const notLast = (list: ts.NodeArray<ts.Node>, i: number) => i < list.length - 1 || list.hasTrailingComma;
  if (tsi.isArrayLiteralExpression(pattern)) {
    for (const [i, e] of pattern.elements.entries()) {
      if (tsi.isOmittedExpression(e)) continue;
      const invalid = !tsi.isSpreadElement(e)
        ? element(e)
        : notLast(pattern.elements, i)
          ? new Unsupported(e, "a rest element before the end of a destructuring pattern (a syntax error)")
          : invalidTarget(e.expression, "element", strictAt);
      if (invalid) return invalid;
    }
    return undefined;
  }
  for (const [i, p] of pattern.properties.entries()) {
    let invalid: Unsupported | undefined;
    if (tsi.isPropertyAssignment(p)) invalid = element(p.initializer);
    else if (tsi.isShorthandPropertyAssignment(p)) invalid = invalidTarget(p.name, "element", strictAt);
    else if (tsi.isSpreadAssignment(p))
      invalid = notLast(pattern.properties, i) ? new Unsupported(p, "a rest element before the end of a destructuring pattern (a syntax error)") : invalidTarget(p.expression, "rest", strictAt);
    else invalid = new Unsupported(p, "a method or accessor in a destructuring pattern (a syntax error)");
    if (invalid) return invalid;
  }
  return undefined;
}

/** Modifiers TypeScript's emit drops. */
const TYPESCRIPT_MODIFIERS = new Set(["declare", "public", "private", "protected", "readonly", "abstract", "override", "const", "in", "out"]);

/** `strictFile`: the file is strict code as a whole (a module, or TypeScript's alwaysStrict); `moduleFile`: an ES module, where `await` is reserved too. */
export function analyze(fn: GeneratorFunction, strictFile: boolean, moduleFile: boolean): Analysis {
  const bindingOf = new Map<ts.Identifier, Binding>();
  const writes = new Set<ts.Identifier>();
  const scopeOf = new Map<ts.Node, Scope>();
  const own: Binding[] = [];
  const names = new Set<string>();
  const free = new Set<string>();
  const unsupported: Unsupported[] = [];
  const yields: ts.YieldExpression[] = [];
  /** `using` declarations directly in a case clause, with their case block. */
  const clauseUsing: [ts.Statement, ts.CaseBlock][] = [];
  /** Nodes of the body holding a suspension of the generator itself (filled from `yields` after the walk). */
  const suspending = new Set<ts.Node>();
  const suspensions: ts.YieldExpression[] = [];
  let loopSuspends = false;
  let jsx = false;
  const holds: Downlevel = { classes: false, generators: false, asyncs: false };
  let readsArguments: ts.Identifier | undefined;
  const strict = isStrict(fn, strictFile);
  /** Whether `n`, in the function, is strict code (asked only of rare constructs: it walks up to the function). */
  const strictAt = (n: ts.Node): boolean => strict || isStrict(n, false, fn);

  /** Marks a `yield` and the nodes from it up to the generator, unless it sits in a nested activation. */
  const markSuspension = (y: ts.YieldExpression): void => {
    const path: ts.Node[] = [y];
    let inLoop = false;
    for (let child: ts.Node = y, p = y.parent; p !== fn; child = p, p = p.parent) {
      if (p === undefined) return;
      // Only a computed name of a class member is evaluated in the generator's own activation.
      if ((isFunctionLike(p) || tsi.isPropertyDeclaration(p) || tsi.isClassStaticBlockDeclaration(p)) && !(p.name && tsi.isComputedPropertyName(p.name) && p.name === child)) return;
      if (repeats(p, child)) inLoop = true;
      path.push(p);
    }
    for (const n of path) suspending.add(n);
    suspensions.push(y);
    if (inLoop) loopSuspends = true;
  };

  const suspends = (node: ts.Node | undefined): boolean => {
    if (node === undefined) return false;
    if (suspending.has(node)) return true;
    // A node made by the lowering (no parent) may hold nodes of the body.
    return node.parent === undefined && node !== fn && (tsi.forEachChild(node, (c) => (suspends(c) ? true : undefined)) ?? false);
  };

  /** Function declarations of the body not at its top level. */
  const blockFunctions: ts.Identifier[] = [];

  const newScope = (node: ts.Node, parent: Scope | undefined, fnNode: ts.Node): Scope => {
    const s: Scope = { node, parent, fn: fnNode, names: new Map() };
    scopeOf.set(node, s);
    return s;
  };

  const declare = (scope: Scope, id: ts.Identifier, kind: BindingKind): void => {
    const name = id.text;
    names.add(name);
    let b = scope.names.get(name);
    // A `var` of the body naming a parameter is that parameter, which the rewriter assigns (rewrite.ts);
    // with defaults, rest or patterns it is a copy, and a function declaration replaces it before the body runs.
    // The lowered function binds its parameters from `arguments` and the step reads the call's through it.
    if (name === "arguments" && scope.fn === fn && kind !== "param" && kind !== "self") unsupported.push(new Unsupported(id, "a declaration named arguments"));
    // Sloppy code may name a `var` or function `let`; the lowered code declares its locals with `let`.
    if (name === "let" && scope.fn === fn && kind !== "param") unsupported.push(new Unsupported(id, "a declaration named let (sloppy code)"));
    // Such parameters are declared with `let` when bound from `arguments` (emit.ts): `let let` does not parse, and `let arguments` hides the call's.
    if ((name === "arguments" || name === "let") && kind === "param" && scope.fn === fn && boundFromArguments(fn))
      unsupported.push(new Unsupported(id, `a parameter named ${name} in a function with defaults or patterns in its parameters (sloppy code)`));
    // A syntax error TypeScript's parser lets through, which the lowering may hide by renaming the binding (static$2, env.static).
    if ((STRICT_RESERVED.has(name) || name === "eval" || name === "arguments") && strictAt(id)) unsupported.push(new Unsupported(id, `a binding named ${name} in strict code (a syntax error)`));
    if (name === "await" && moduleFile) unsupported.push(new Unsupported(id, "a binding named await in a module (a syntax error)"));
    if (b?.kind === "param" && scope.node === fn && (kind === "function" || (kind === "var" && !simpleParameters(fn))))
      unsupported.push(new Unsupported(id, `a ${kind === "var" ? "`var`" : "function"} redeclaring the parameter '${name}'${kind === "var" ? " of a function with defaults, rest or patterns in its parameters" : ""}`));
    // A redeclaration JavaScript rejects (`let [a, a]`, `let a` beside a parameter `a`): TypeScript's parser lets it through, and lowered it would run.
    if (b && b.scope === scope && b.kind !== "self" && (LEXICAL.has(kind) || LEXICAL.has(b.kind)) && !bindingOf.has(id))
      unsupported.push(new Unsupported(id, `'${name}' declared twice in one scope (a syntax error)`));
    if (b === undefined) {
      b = { name, kind, scope, captured: false, written: false, referenced: false };
      scope.names.set(name, b);
      if (scope.fn === fn) own.push(b);
    }
    bindingOf.set(id, b);
  };

  const declarePattern = (scope: ts.BindingName, into: Scope, kind: BindingKind): void => {
    if (tsi.isIdentifier(scope)) declare(into, scope, kind);
    else for (const e of scope.elements) if (!tsi.isOmittedExpression(e)) declarePattern(e.name, into, kind);
  };

  /**
   * A `var` JavaScript binds elsewhere than the function's scope, where the lowering would put it: in a
   * `catch` of its parameter's name, the parameter (Annex B).
   */
  const varQuirk = (id: ts.Identifier, list: ts.Node, root: ts.Node): void => {
    for (let n = list.parent; n && n !== root; n = n.parent)
      if (tsi.isCatchClause(n) && n.variableDeclaration && tsi.isIdentifier(n.variableDeclaration.name) && n.variableDeclaration.name.text === id.text)
        unsupported.push(new Unsupported(id, `a \`var\` redeclaring the catch parameter '${id.text}'`));
  };

  /** `var`s and, for the top level of a function, its function declarations: hoisted to `into`. */
  const hoistVars = (node: ts.Node, into: Scope): void => {
    const visit = (n: ts.Node): void => {
      if (isFunctionLike(n) || tsi.isClassLike(n)) return;
      if (tsi.isVariableDeclarationList(n) && !(n.flags & tsi.NodeFlags.BlockScoped)) {
        for (const d of n.declarations) {
          declarePattern(d.name, into, "var");
          for (const id of bindingNames(d.name)) varQuirk(id, n, node);
        }
      }
      tsi.forEachChild(n, visit);
    };
    tsi.forEachChild(node, visit);
  };

  /** Lexical declarations directly in a statement list. */
  const declareLexical = (statements: readonly ts.Statement[], into: Scope): void => {
    for (const st of statements) {
      if (tsi.isVariableStatement(st) && st.declarationList.flags & tsi.NodeFlags.BlockScoped) {
        const kind = st.declarationList.flags & (tsi.NodeFlags.Const | tsi.NodeFlags.Using) ? "const" : "let";
        for (const d of st.declarationList.declarations) declarePattern(d.name, into, kind);
      } else if (tsi.isFunctionDeclaration(st) && st.name) declare(into, st.name, "function");
      else if (tsi.isClassDeclaration(st) && st.name) declare(into, st.name, "class");
    }
  };

  const resolve = (id: ts.Identifier, scope: Scope, write: boolean): void => {
    if (!readsArguments && id.text === "arguments" && argumentsOwner(scope) === fn) readsArguments = id;
    for (let s: Scope | undefined = scope; s; s = s.parent) {
      const b = s.names.get(id.text);
      if (b) {
        bindingOf.set(id, b);
        b.referenced = true;
        if (write) b.written = true;
        // The driver's generator name is immutable (a TypeError in strict code, ignored in sloppy); the lowered one is a parameter.
        if (write && b.kind === "self" && b.scope.node === fn.name) unsupported.push(new Unsupported(id, `an assignment to the generator's own name '${id.text}'`));
        if (s.fn !== scope.fn) b.captured = true;
        return;
      }
    }
    free.add(id.text);
  };

  /** An assignment target: identifiers in it are written, patterns are taken apart, the rest is read. */
  const assignTargets = (target: ts.Expression, scope: Scope): void => {
    const t = unparen(target);
    if (tsi.isIdentifier(t)) {
      resolve(t, scope, true);
      writes.add(t);
    } else if (tsi.isArrayLiteralExpression(t)) {
      for (const e of t.elements) if (!tsi.isOmittedExpression(e)) assignTargets(tsi.isSpreadElement(e) ? e.expression : e, scope);
    } else if (tsi.isObjectLiteralExpression(t)) {
      for (const p of t.properties) {
        if (tsi.isPropertyAssignment(p)) {
          if (tsi.isComputedPropertyName(p.name)) walk(p.name, scope);
          assignTargets(p.initializer, scope);
        } else if (tsi.isShorthandPropertyAssignment(p)) {
          resolve(p.name, scope, true);
          writes.add(p.name);
          if (p.objectAssignmentInitializer) walk(p.objectAssignmentInitializer, scope);
        } else if (tsi.isSpreadAssignment(p)) assignTargets(p.expression, scope);
        else walk(p, scope);
      }
    } else if (tsi.isBinaryExpression(t) && t.operatorToken.kind === SK.EqualsToken) {
      // Inside a pattern `target = default`.
      assignTargets(t.left, scope);
      walk(t.right, scope);
    } else walk(target, scope);
  };

  /** An assignment target JavaScript rejects, which TypeScript's parser lets through (its checker reports it): see invalidTarget. */
  const checkTarget = (target: ts.Expression, use: TargetUse): void => {
    const invalid = invalidTarget(target, use, strictAt);
    if (invalid) unsupported.push(invalid);
  };

  const walkFunction = (node: ts.SignatureDeclaration & { body?: ts.Node }, outer: Scope): void => {
    if (node !== fn && (node as ts.FunctionLikeDeclaration).asteriskToken) holds.generators = true;
    if (tsi.getCombinedModifierFlags(node as ts.Declaration) & tsi.ModifierFlags.Async) holds.asyncs = true;
    if (tsi.isFunctionDeclaration(node) && node.name && outer.fn === fn && node.parent !== fn.body) blockFunctions.push(node.name);
    if (node.name && tsi.isComputedPropertyName(node.name)) walk(node.name, outer);
    let parent = outer;
    if (tsi.isFunctionExpression(node) && node.name) {
      parent = newScope(node.name, outer, outer.fn);
      declare(parent, node.name, "self");
    }
    const scope = newScope(node, parent, node);
    for (const p of node.parameters) declarePattern(p.name, scope, "param");
    if (node.body) {
      hoistVars(node.body, scope);
      if (tsi.isBlock(node.body)) declareLexical(node.body.statements, scope);
    }
    for (const p of node.parameters) walkBindingName(p.name, scope, p.initializer);
    if (node.body) {
      if (tsi.isBlock(node.body)) for (const st of node.body.statements) walk(st, scope);
      else walk(node.body, scope);
    }
  };

  const walkBindingName = (name: ts.BindingName, scope: Scope, init: ts.Expression | undefined): void => {
    if (!tsi.isIdentifier(name))
      for (const e of name.elements) {
        if (tsi.isOmittedExpression(e)) continue;
        if (e.propertyName && tsi.isComputedPropertyName(e.propertyName)) walk(e.propertyName, scope);
        walkBindingName(e.name, scope, e.initializer);
      }
    if (init) walk(init, scope);
  };

  /** The function whose arguments object `arguments` names in `scope`: not an arrow's; none when a binding of that name shadows it. */
  const argumentsOwner = (scope: Scope): ts.Node | undefined => {
    for (let s: Scope | undefined = scope; s; s = s.parent) {
      if (s.names.has("arguments")) return undefined;
      // A named class expression's scope counts as a function of its own (its name binds inside it), yet its keys see the body's `arguments`.
      if (s.node === s.fn && s.fn.kind !== SK.ArrowFunction && !tsi.isClassLike(s.fn)) return s.fn;
    }
    return undefined;
  };

  /**
   * Modifiers no statement in a function may have, which TypeScript's parser lets through (its checker
   * reports them): JavaScript's are syntax errors the lowering would erase, TypeScript's own it erases
   * itself (a `declare`d binding is none), where the lowering would keep the declaration.
   */
  const statementModifiers = (st: ts.VariableStatement | ts.FunctionDeclaration | ts.ClassDeclaration): void => {
    for (const m of st.modifiers ?? []) {
      if (m.kind === SK.Decorator || (m.kind === SK.AsyncKeyword && st.kind === SK.FunctionDeclaration) || (m.kind === SK.AbstractKeyword && st.kind === SK.ClassDeclaration)) continue;
      const word = tsi.tokenToString(m.kind);
      if (m.kind === SK.AsyncKeyword) unsupported.push(new Unsupported(m, "the modifier 'async' on a declaration that is no function (a syntax error)"));
      else if (TYPESCRIPT_MODIFIERS.has(word!)) unsupported.push(new Unsupported(m, `the modifier '${word}' on a declaration in a function (an error TypeScript reports)`));
      else unsupported.push(new Unsupported(m, `the modifier '${word}' on a declaration in a function (a syntax error)`));
    }
  };

  const walk = (node: ts.Node, scope: Scope): void => {
    if (isTypeOnly(node)) return;
    if (node.kind === SK.VariableStatement || node.kind === SK.FunctionDeclaration || node.kind === SK.ClassDeclaration) statementModifiers(node as ts.VariableStatement);
    if (isFunctionLike(node)) return walkFunction(node, scope);
    switch (node.kind) {
      case SK.Identifier:
        return resolve(node as ts.Identifier, scope, false);
      case SK.PropertyAccessExpression: {
        const p = node as ts.PropertyAccessExpression;
        // Sloppy code's `arguments.callee`: the generator under the driver, the lowered function here.
        if (p.name.text === "callee" && p.expression.kind === SK.Identifier && (p.expression as ts.Identifier).text === "arguments" && argumentsOwner(scope) === fn)
          unsupported.push(new Unsupported(node, "arguments.callee"));
        return walk(p.expression, scope);
      }
      case SK.ElementAccessExpression: {
        const e = node as ts.ElementAccessExpression;
        if (tsi.isStringLiteralLike(e.argumentExpression) && e.argumentExpression.text === "callee" && e.expression.kind === SK.Identifier && (e.expression as ts.Identifier).text === "arguments" && argumentsOwner(scope) === fn)
          unsupported.push(new Unsupported(node, "arguments.callee"));
        break;
      }
      case SK.QualifiedName:
      case SK.MetaProperty:
      case SK.BreakStatement:
      case SK.ContinueStatement:
        return;
      case SK.LabeledStatement: {
        // Syntax errors TypeScript's parser lets through, which the lowering would make run: labels become states.
        const { label, statement } = node as ts.LabeledStatement;
        for (let p = node.parent; p && !isFunctionLike(p) && !tsi.isClassStaticBlockDeclaration(p) && !tsi.isSourceFile(p); p = p.parent)
          if (tsi.isLabeledStatement(p) && p.label.text === label.text) unsupported.push(new Unsupported(node, `a label '${label.text}' inside a label of the same name (a syntax error)`));
        if (STRICT_RESERVED.has(label.text) && strictAt(node)) unsupported.push(new Unsupported(label, `a label named ${label.text} in strict code (a syntax error)`));
        if (label.text === "await" && moduleFile) unsupported.push(new Unsupported(label, "a label named await in a module (a syntax error)"));
        return walk(statement, scope);
      }
      case SK.DeleteExpression:
        // A syntax error in strict code TypeScript's parser lets through; the lowering makes that of a binding an environment object holds `false` (rewrite.ts).
        if (tsi.isIdentifier(unparen((node as ts.DeleteExpression).expression)) && strictAt(node)) unsupported.push(new Unsupported(node, "delete of a plain name in strict code (a syntax error)"));
        break;
      case SK.TaggedTemplateExpression:
        // A syntax error TypeScript's parser lets through (flagging the node part of the chain); lowered, the tag becomes a callee, `(o?.tag)($tpl0)`, which runs.
        if (node.flags & tsi.NodeFlags.OptionalChain) unsupported.push(new Unsupported(node, "a tagged template in an optional chain (a syntax error)"));
        break;
      case SK.PropertyAssignment: {
        const p = node as ts.PropertyAssignment;
        if (tsi.isComputedPropertyName(p.name)) walk(p.name, scope);
        return walk(p.initializer, scope);
      }
      case SK.ShorthandPropertyAssignment: {
        // A destructuring assignment's (`({ a = 1 } = o)`) is taken apart by assignTargets: here `{ a = 1 }` is an object literal, a
        // syntax error TypeScript's parser lets through; lowered, it printed as `{ a: a }`, the initializer dropped.
        const p = node as ts.ShorthandPropertyAssignment;
        resolve(p.name, scope, false);
        if (p.objectAssignmentInitializer) {
          unsupported.push(new Unsupported(p, "a shorthand property with an initializer in an object literal (a syntax error)"));
          walk(p.objectAssignmentInitializer, scope);
        }
        return;
      }
      case SK.PropertyDeclaration: {
        const p = node as ts.PropertyDeclaration;
        if (tsi.isComputedPropertyName(p.name)) walk(p.name, scope);
        if (p.initializer) walk(p.initializer, newScope(p, scope, p));
        return;
      }
      case SK.ClassStaticBlockDeclaration:
        return walk((node as ts.ClassStaticBlockDeclaration).body, newScope(node, scope, node));
      case SK.ClassDeclaration:
      case SK.ClassExpression: {
        const c = node as ts.ClassLikeDeclaration;
        holds.classes = true;
        // A lowered class declaration becomes a class expression, where TypeScript drops legacy decorators.
        const decorator = decoratorOf(c);
        if (decorator) unsupported.push(new Unsupported(decorator, "a decorator"));
        let inner = scope;
        if (c.name) {
          // The name a class binds inside itself belongs to the class, not to the body. A declaration's
          // name also binds outside, where it may be renamed or moved; inside, the class expression it
          // becomes binds it again, initialized before its static fields run.
          if (tsi.isClassExpression(c)) declare((inner = newScope(c, scope, c)), c.name, "class");
          else (inner = newScope(c, scope, scope.fn)).names.set(c.name.text, { name: c.name.text, kind: "class", scope: inner, captured: false, written: false, referenced: false });
        }
        for (const h of c.heritageClauses ?? []) for (const t of h.types) if (h.token === SK.ExtendsKeyword) walk(t.expression, inner);
        for (const m of c.members) walk(m, inner);
        return;
      }
      case SK.VariableDeclaration: {
        const d = node as ts.VariableDeclaration;
        return walkBindingName(d.name, scope, d.initializer);
      }
      case SK.VariableDeclarationList: {
        // `using` is lowered; `await using` is not valid in a generator.
        const list = node as ts.VariableDeclarationList;
        if ((list.flags & tsi.NodeFlags.AwaitUsing) === tsi.NodeFlags.AwaitUsing && scope.fn === fn) unsupported.push(new Unsupported(node, "an 'await using' declaration"));
        // Another syntax error TypeScript's parser lets through.
        const head = tsi.isForInStatement(list.parent) || tsi.isForOfStatement(list.parent);
        if (list.flags & tsi.NodeFlags.Const && !head) for (const d of list.declarations) if (!d.initializer) unsupported.push(new Unsupported(d, "a const without a value (a syntax error)"));
        // And a `var` of a name a block around it (a loop head, a case block) declares lexically: the lowering hoists the `var` and renames the block's binding, and the code V8 rejects at load runs.
        if (!(list.flags & tsi.NodeFlags.BlockScoped))
          for (const d of list.declarations)
            for (const id of bindingNames(d.name))
              for (let s: Scope | undefined = scope; s && s.node !== s.fn; s = s.parent) {
                const b = s.names.get(id.text);
                // A catch parameter's plain name may be redeclared (Annex B; varQuirk's), one in a pattern not.
                if (b && !(b.kind === "catch" && tsi.isIdentifier((s.node as ts.CatchClause).variableDeclaration!.name))) unsupported.push(new Unsupported(id, `a \`var\` redeclaring '${id.text}', which a block around it declares with ${b.kind === "catch" ? "its catch clause" : b.kind} (a syntax error)`));
                if (b) break;
              }
        break;
      }
      case SK.CaseClause:
      case SK.DefaultClause:
        // Lowered with its switch taken apart, a clause's resources would not be disposed (a block's are: runtime/dispose.ts).
        for (const st of (node as ts.CaseOrDefaultClause).statements) if (isUsing(st) && scope.fn === fn) clauseUsing.push([st, node.parent as ts.CaseBlock]);
        break;
      case SK.Block:
      case SK.CaseBlock: {
        // A syntax error TypeScript's parser lets through; lowered, the switch becomes states, where the second default is never reached.
        if (node.kind === SK.CaseBlock) {
          const defaults = (node as ts.CaseBlock).clauses.filter(tsi.isDefaultClause);
          if (defaults.length > 1) unsupported.push(new Unsupported(defaults[1]!, "more than one default clause in a switch (a syntax error)"));
        }
        const inner = newScope(node, scope, scope.fn);
        const stmts = tsi.isBlock(node) ? node.statements : (node as ts.CaseBlock).clauses.flatMap((c) => c.statements);
        declareLexical(stmts, inner);
        if (tsi.isBlock(node)) stmts.forEach((s) => walk(s, inner));
        else (node as ts.CaseBlock).clauses.forEach((c) => walk(c, inner));
        return;
      }
      case SK.ForStatement:
      case SK.ForInStatement:
      case SK.ForOfStatement: {
        // Like `await using`, not valid in a generator: refused whether or not the loop suspends (one that does not is copied as written).
        if (tsi.isForOfStatement(node) && node.awaitModifier && scope.fn === fn) unsupported.push(new Unsupported(node, "a 'for await' loop"));
        const inner = newScope(node, scope, scope.fn);
        const init = (node as ts.ForStatement).initializer;
        // Sloppy code's `for (let in o)` assigns a variable named let: TypeScript parses a declaration list of none.
        if (!tsi.isForStatement(node) && init && tsi.isVariableDeclarationList(init) && init.declarations.length === 0 && scope.fn === fn)
          unsupported.push(new Unsupported(init, "a for-in or for-of loop assigning a variable named let (sloppy code)"));
        // Sloppy code's `for (var k = v in o)` (Annex B) assigns v first; TypeScript reports it (TS1189) and drops v.
        if (tsi.isForInStatement(node) && init && tsi.isVariableDeclarationList(init) && init.declarations[0]?.initializer && scope.fn === fn)
          unsupported.push(new Unsupported(init, "a for-in variable with an initializer (sloppy code, a syntax error in strict code)"));
        if (init && tsi.isVariableDeclarationList(init) && init.flags & tsi.NodeFlags.BlockScoped)
          for (const d of init.declarations) declarePattern(d.name, inner, init.flags & (tsi.NodeFlags.Const | tsi.NodeFlags.Using) ? "const" : "let");
        if (init && !tsi.isVariableDeclarationList(init) && !tsi.isForStatement(node)) {
          checkTarget(init, "for");
          assignTargets(init, inner);
        }
        tsi.forEachChild(node, (c) => (c === init && !tsi.isForStatement(node) && !tsi.isVariableDeclarationList(init) ? undefined : walk(c, inner)));
        return;
      }
      case SK.CatchClause: {
        const c = node as ts.CatchClause;
        const inner = newScope(c, scope, scope.fn);
        if (c.variableDeclaration) {
          declarePattern(c.variableDeclaration.name, inner, "catch");
          walkBindingName(c.variableDeclaration.name, inner, undefined);
        }
        return walk(c.block, inner);
      }
      case SK.BinaryExpression: {
        const b = node as ts.BinaryExpression;
        const op = b.operatorToken.kind;
        if (op >= SK.FirstAssignment && op <= SK.LastAssignment) {
          const logical = op === SK.BarBarEqualsToken || op === SK.AmpersandAmpersandEqualsToken || op === SK.QuestionQuestionEqualsToken;
          checkTarget(b.left, op === SK.EqualsToken ? "=" : logical ? "logical" : "op=");
          assignTargets(b.left, scope);
          return walk(b.right, scope);
        }
        break;
      }
      case SK.PrefixUnaryExpression:
      case SK.PostfixUnaryExpression: {
        const u = node as ts.PrefixUnaryExpression;
        if (u.operator === SK.PlusPlusToken || u.operator === SK.MinusMinusToken) {
          checkTarget(u.operand, "++");
          return assignTargets(u.operand, scope);
        }
        break;
      }
      // Syntax errors TypeScript's parser lets through; an alias `import x = N.y` TypeScript compiles to a `var`, which the lowering left unbound.
      case SK.ImportDeclaration:
        unsupported.push(new Unsupported(node, "an import declaration in a function (a syntax error)"));
        return;
      case SK.ImportEqualsDeclaration:
        unsupported.push(new Unsupported(node, "an import alias (import x = …) in a function (an error TypeScript reports)"));
        return;
      case SK.ExportDeclaration:
      case SK.ExportAssignment:
      case SK.NamespaceExportDeclaration:
        unsupported.push(new Unsupported(node, "an export declaration in a function (a syntax error)"));
        return;
      case SK.WithStatement:
        unsupported.push(new Unsupported(node, "a 'with' statement"));
        break;
      case SK.EnumDeclaration:
      case SK.ModuleDeclaration:
        unsupported.push(new Unsupported(node, "an enum or namespace declaration"));
        return;
      case SK.CallExpression: {
        const callee = (node as ts.CallExpression).expression;
        // `(eval)(s)` is a direct eval too, and so is TypeScript's `(eval as any)(s)`.
        const c = unparen(callee);
        if (tsi.isIdentifier(c) && c.text === "eval") unsupported.push(new Unsupported(node, "a direct eval"));
        break;
      }
      case SK.SuperKeyword:
        // No function expression has a `super`: the program does not run in either mode.
        if (scope.fn === fn) unsupported.push(new Unsupported(node, "super, which no function expression can use (a syntax error TypeScript reports too),"));
        return;
      case SK.YieldExpression:
        yields.push(node as ts.YieldExpression);
        break;
      case SK.JsxElement:
      case SK.JsxFragment:
        jsx = true;
        break;
      case SK.JsxSelfClosingElement:
        jsx = true;
      // falls through: a tag names a binding only when it is a component's (`<div>` and `<svg:rect>` are the host's)
      case SK.JsxOpeningElement:
      case SK.JsxClosingElement: {
        const el = node as ts.JsxOpeningLikeElement | ts.JsxClosingElement;
        if (isComponentTag(el.tagName)) walk(el.tagName, scope);
        if (!tsi.isJsxClosingElement(el)) walk(el.attributes, scope);
        return;
      }
      // An attribute's name is not a reference.
      case SK.JsxAttribute: {
        const init = (node as ts.JsxAttribute).initializer;
        if (init) walk(init, scope);
        return;
      }
    }
    if (node.kind >= SK.FirstJSDocNode && node.kind <= SK.LastJSDocNode) return;
    tsi.forEachChild(node, (c) => walk(c, scope));
  };

  // The scope around the generator: its bindings are neither own nor resolved (all free).
  const outside: Scope = { node: fn, parent: undefined, fn: fn.parent ?? f.createBlock([]), names: new Map() };
  walkFunction(fn, outside);
  // Sloppy code also binds a block's function in the function's scope (Annex B), which the lowering does not.
  if (!strict)
    for (const id of blockFunctions)
      if (free.has(id.text) || own.some((b) => b.name === id.text && b.scope.node === fn))
        unsupported.push(new Unsupported(id, `a function declared in a block and named outside it ('${id.text}'), which sloppy code binds in the whole function,`));
  unboundParameters(fn, bindingOf, unsupported);
  yields.forEach(markSuspension);
  for (const [st, block] of clauseUsing) if (suspends(block)) unsupported.push(new Unsupported(st, "a 'using' declaration in a case clause of a switch that suspends"));
  return { fn, bindingOf, writes, scopeOf, own, names, free, unsupported, suspends, loopSuspends, suspensions, jsx, holds, strict, readsArguments };
}
