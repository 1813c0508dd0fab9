/**
 * How deep TypeScript's printer will recurse on a file and on each lowered function, so that one it
 * could not print is left to the run-time driver (lower.ts) rather than ending tspc's build.
 *
 * The printer walks a tree recursively, and tspc prints the lowered tree outside the transformer's
 * reach: its RangeError ends the build with nothing written. The lowering nests a body deeper than
 * written (the structured copy's blocks, the machine around a nested lowered function), and printing
 * lowered code leaves the printer less stack for the rest of the file. So the depth is counted as the
 * printer spends its stack, per node kind (costOf), per edge (edgeCost) and for what TypeScript's
 * downlevel for the target prints nested (unfoldedCost): once for the file as written (fileDepth), and
 * for a file deep enough to matter, once for each outermost lowered function (refuseTooDeep).
 */
import type * as ts from "typescript";
import { SK, tsi, type TypeScript } from "./compiler.js";
import { type GeneratorFunction, Unsupported } from "./analyze.js";

/**
 * How deep a lowered function's code may go, as depthOf counts. TypeScript's printer recurses, and
 * tspc prints the lowered tree outside the transformer's reach, where its RangeError ends the build
 * with nothing written. Inside tsc, its frames as large as node's JIT has left them (which varies some
 * 3% from run to run), it overflowed on 1,130 unbraced ifs each in the one before, 1,150 unbraced
 * loops, 1,490 links of an else-if chain, 620 links of a chain of method calls, 390 braced ifs
 * (1,360 as counted here), 550 blocks (1,380), 400 object literals (1,410), 240 switches (1,450), 590
 * array literals (1,470), 960 arrow functions (2,400), and where the target unfolds them, 258 links of
 * a `??` chain at ES2017 (1,160), 620 of a `**` chain at ES2015 (1,240). A file of 50 async functions
 * each in the one before, NESTING + 1 of them lowered (lower.ts), stays under it; so does an else-if
 * chain of 600 links that suspend.
 */
export const PRINT_DEPTH = 1000;

/**
 * What each node kind adds to the depth counted here, indexed by kind, for the compiler in use: LIGHT
 * for the printer's cheap ones (~1/1,100 of its stack or less: an if, a loop, a statement, a simple
 * expression, a call along its callee), HEAVY for the others (a block, an object or array literal, a
 * function, a case block, a parenthesized expression, a call into its arguments: up to ~1/550 of it),
 * NAMESPACE for a namespace (printed as a function called around its body), nothing for a type or a
 * declaration of an ambient context (nothing prints either). Whole numbers, so the walk adds integers.
 */
let costs: { of: TypeScript["SyntaxKind"]; cost: Uint8Array; ambient: number } | undefined;
const LIGHT = 4;
const HEAVY = 10;
/** An if that is the else of another: the printer loops over most of such a chain. */
const ELSE_IF = 3;
const NAMESPACE = 24;
/** The lowered function's wrapper that names it, `({ "": function … })[""]`, around what depthOf walks. */
const NAMING = 2 * LIGHT + 2 * HEAVY;
const LIMIT = PRINT_DEPTH * LIGHT;
/**
 * A file no deeper than this has each function checked as written, not once lowered: the lowering
 * nests a body at most some 3.5 times deeper than written (a block around each loop of the structured
 * copy, a loop and a switch around a nested lowered function's body), so such a file's lowered code
 * stays well short of LIMIT, and walking all of it would cost some 2% of a build that lowers much.
 */
const SHALLOW = LIMIT / 8;

function costOf(): Uint8Array {
  if (costs?.of === SK) return costs.cost;
  const cost = new Uint8Array(SK.Count).fill(HEAVY);
  for (let kind = 0; kind < SK.Count; kind++) if (tsi.isTypeNode({ kind } as ts.Node)) cost[kind] = 0;
  for (const kind of [
    SK.IfStatement, SK.ForStatement, SK.ForInStatement, SK.ForOfStatement, SK.WhileStatement, SK.DoStatement, SK.LabeledStatement, SK.TryStatement, SK.CatchClause, SK.SwitchStatement,
    SK.ExpressionStatement, SK.ReturnStatement, SK.ThrowStatement, SK.VariableStatement, SK.VariableDeclarationList, SK.VariableDeclaration,
    SK.PropertyAssignment, SK.ShorthandPropertyAssignment, SK.ConditionalExpression, SK.BinaryExpression, SK.PropertyAccessExpression, SK.ElementAccessExpression, SK.PrefixUnaryExpression, SK.PostfixUnaryExpression,
    SK.TypeOfExpression, SK.VoidExpression, SK.DeleteExpression, SK.AwaitExpression, SK.YieldExpression,
    SK.AsExpression, SK.SatisfiesExpression, SK.TypeAssertionExpression, SK.NonNullExpression,
    SK.Identifier, SK.PrivateIdentifier, SK.StringLiteral, SK.NumericLiteral, SK.BigIntLiteral, SK.NoSubstitutionTemplateLiteral, SK.RegularExpressionLiteral,
    SK.TrueKeyword, SK.FalseKeyword, SK.NullKeyword, SK.ThisKeyword, SK.SuperKeyword,
    // The arguments add the difference (edgeCost); a class's `extends` clause and `f<T>` print their expression.
    SK.CallExpression, SK.NewExpression, SK.ExpressionWithTypeArguments,
  ])
    cost[kind] = LIGHT;
  cost[SK.ModuleDeclaration] = NAMESPACE;
  // The flag the parser sets on everything in an ambient context (`declare`, a .d.ts): internal to TypeScript.
  costs = { of: SK, cost, ambient: (tsi.NodeFlags as unknown as { Ambient?: number }).Ambient ?? 0 };
  return cost;
}

/**
 * Syntax TypeScript's downlevel for the target prints nested deeper than written: below ES2018, an
 * object literal's spreads become calls each in the next (`Object.assign(Object.assign({}, a), b)`);
 * below ES2020, each link of an optional chain, and each `??`, a conditional in parentheses around the
 * rest; below ES2016, each `**` a `Math.pow` call around the rest. A chain of the last two, which the
 * printer loops over as written, is then a recursion as deep as the chain is long.
 */
export interface Unfolds {
  spreads: boolean;
  /** Below ES2020: optional chains and `??`. */
  chains: boolean;
  pow: boolean;
}

export const NO_UNFOLDS: Unfolds = { spreads: false, chains: false, pow: false };

export function unfoldsOf(options: ts.CompilerOptions): Unfolds {
  const target = options.target ?? tsi.ScriptTarget.ES5;
  return { spreads: target < tsi.ScriptTarget.ES2018, chains: target < tsi.ScriptTarget.ES2020, pow: target < tsi.ScriptTarget.ES2016 };
}

/** What printing `node` adds where `unfolds` says TypeScript prints it deeper than written. */
function unfoldedCost(node: ts.Node, unfolds: Unfolds): number {
  if (unfolds.chains && (node as { questionDotToken?: ts.Node }).questionDotToken) return HEAVY + LIGHT;
  if (node.kind === SK.BinaryExpression) {
    const op = (node as ts.BinaryExpression).operatorToken.kind;
    if (unfolds.chains && op === SK.QuestionQuestionToken) return HEAVY + 2 * LIGHT;
    if (unfolds.pow && op === SK.AsteriskAsteriskToken) return 2 * LIGHT;
    return 0;
  }
  if (unfolds.spreads && node.kind === SK.ObjectLiteralExpression) {
    let spreads = 0;
    for (const p of (node as ts.ObjectLiteralExpression).properties) if (p.kind === SK.SpreadAssignment) spreads++;
    return spreads * HEAVY;
  }
  return 0;
}

/** What reaching `child` from `parent` adds beyond the child's own cost. */
function edgeCost(parent: ts.Node, child: ts.Node): number {
  if ((parent.kind === SK.CallExpression || parent.kind === SK.NewExpression) && child !== (parent as ts.CallExpression).expression) return HEAVY - LIGHT;
  if (parent.kind === SK.IfStatement && child.kind === SK.IfStatement && child === (parent as ts.IfStatement).elseStatement) return ELSE_IF - LIGHT;
  return 0;
}

/** What reaching `child` from `parent` adds to the depth: its own cost, the edge's, what the target unfolds. */
function stepCost(parent: ts.Node, child: ts.Node, unfolds: Unfolds): number {
  // A binary expression an operand of another costs only what the target unfolds: the printer loops over such a chain.
  if (child.kind === SK.BinaryExpression && parent.kind === SK.BinaryExpression) return unfoldedCost(child, unfolds);
  return costs!.cost[child.kind]! + edgeCost(parent, child) + unfoldedCost(child, unfolds);
}

/**
 * The walk of depthOf, kept as stacks of its own (a recursion would overflow where the printer's
 * loops do not: a chain of binary expressions) and reused, as it visits every node of a file.
 */
const pending: ts.Node[] = [];
const depths: number[] = [];
let pushDepth = 0;
let pushParent: ts.Node;
let pushUnfolds: Unfolds;
const push = (child: ts.Node): void => {
  const cost = costs!.cost[child.kind]!;
  if (cost === 0 || child.flags & costs!.ambient) return;
  pending.push(child);
  depths.push(pushDepth + stepCost(pushParent, child, pushUnfolds));
};

/**
 * How deep TypeScript's printer recurses on `root`'s tree, `around` deep already: along a path, the
 * sum of each step's cost (stepCost). The walk stops at the first node past LIMIT.
 */
function depthOf(root: ts.Node, around: number, unfolds: Unfolds): { depth: number; deepest: ts.Node } {
  const cost = costOf();
  let deepest = root;
  let depth = around + cost[root.kind]! + unfoldedCost(root, unfolds);
  pushUnfolds = unfolds;
  pending.length = depths.length = 0;
  pending.push(root);
  depths.push(depth);
  while (pending.length > 0) {
    const node = pending.pop()!;
    pushDepth = depths.pop()!;
    if (pushDepth > depth) [depth, deepest] = [pushDepth, node];
    if (depth > LIMIT) break;
    pushParent = node;
    tsi.forEachChild(node, push);
  }
  pending.length = depths.length = 0;
  return { depth, deepest };
}

/** Throws `Unsupported` when the outermost lowered function `low`, standing at `origin`, nests past PRINT_DEPTH, counted from the file. */
export function refuseTooDeep(fn: GeneratorFunction, low: ts.FunctionExpression, origin: ts.Node, unfolds: Unfolds): void {
  costOf(); // the table stepCost reads
  // The wrapper stands where the call did, reached as the call was.
  let around = NAMING + edgeCost(origin.parent, origin);
  for (let n = origin.parent; n.kind !== SK.SourceFile; n = n.parent) around += stepCost(n.parent, n, unfolds);
  if (depthOf(low, around, unfolds).depth > LIMIT) throw new Unsupported(fn, `code nested more than ${PRINT_DEPTH} deep once lowered (counting an if, a loop or a statement 1, a block, a literal or a call's arguments ${HEAVY / LIGHT}: TypeScript's printer may overflow),`);
}

/**
 * "shallow": no lowered function of the file needs a check (SHALLOW); "deep": each is checked once
 * lowered (refuseTooDeep); or why none is lowered, when the file's own code is past PRINT_DEPTH.
 */
export type FileDepth = "shallow" | "deep" | { refused: string };

/**
 * How deep `file` goes, as FileDepth says. A file past PRINT_DEPTH has nothing lowered, as tspc prints
 * the whole file from the lowered tree, and printing the lowering's code leaves its printer less stack
 * for the rest: a file tsc printed within ~3% of its limit overflowed it, in code no lowering touched,
 * where the same file, nothing in it lowered, printed.
 */
export function fileDepth(file: ts.SourceFile, unfolds: Unfolds): FileDepth {
  const { depth, deepest } = depthOf(file, 0, unfolds);
  if (depth <= SHALLOW) return "shallow";
  if (depth <= LIMIT) return "deep";
  const { line, character } = file.getLineAndCharacterOfPosition(deepest.pos >= 0 ? deepest.getStart(file) : 0);
  return { refused: `a file holding code nested more than ${PRINT_DEPTH} deep (at ${line + 1}:${character + 1}: TypeScript's printer may overflow printing it around lowered code),` };
}
