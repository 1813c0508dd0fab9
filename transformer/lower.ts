/**
 * Lowering of `async(function* …)` calls: the entry both front ends share.
 *
 * `lowerCall` turns one recognised call into the lowered function expression (analyze → hoist →
 * explode → emit), lowering nested async calls on the way, or returns `undefined` after reporting
 * a warning when the function holds something the lowering does not handle: that function is then
 * left to the run-time driver. Nothing here throws out to the compiler. The lowered function has
 * the generator's name and `length`, as the driver's result has: a named generator's name is given
 * to it, an anonymous one's stays "" (`(0, function …)` is not named by the binding it initializes).
 *
 * `lowerFile` is the ts-patch side (a recogniser backed by the type checker, an import of the
 * runtime object added to the file); `lowerText` is the syntactic side for the Vite plugin and
 * the fuzzer: imports of `async` from the given modules (renamed or through a namespace) mark
 * the calls, and the result is a list of text splices plus the import line to prepend.
 */
import type * as ts from "typescript";
import { factory as f, kindName, SK, strictOption, tsi, type TypeScript, useCompiler } from "./compiler.js";
import { type Analysis, analyze, directivePrologue, type Downlevel, type GeneratorFunction, isKey, lowersAgain, Unsupported, unparen } from "./analyze.js";
import { type Declared, type DeclaredGenerator, declaredGenerators, GENERATOR } from "./declared.js";
import { emitLazy, emitMachine, emitPlain, initOf } from "./emit.js";
import { categoryOf, type Severity } from "./entry.js";
import { INTERNAL_CODE, messageOf } from "./guard.js";
import { type Internals, Machine } from "./explode.js";
import { isExploded, Names, planHoisting } from "./hoist.js";
import { aliasUnsupported } from "./recognize.js";
import { addComments, detached, type Hooks, isCallee, nameOf, type Rename, Rewriter, type Scope } from "./rewrite.js";
import { type FileDepth, fileDepth, NO_UNFOLDS, refuseTooDeep, type Unfolds, unfoldsOf } from "./depth.js";

/** Diagnostic code of "left to the run-time driver" warnings. */
export const UNSUPPORTED_CODE = 99301;

export interface LowerTextOptions {
  /** The compiler to parse and print with (see compiler.ts). */
  typescript: TypeScript;
  modules?: string[];
  /** The factories (`h`, `React.createElement`) the JSX transform run after the lowering calls, when not `React`'s or set by a pragma in the file. */
  jsxFactories?: string[];
  /**
   * The JSX runtime Vite's transform uses for a file without a `@jsxRuntime` pragma; default "automatic",
   * oxc's. "unknown" (its tsconfig.json could not be read): a function holding JSX is left to the driver.
   */
  jsxRuntime?: "classic" | "automatic" | "unknown";
}
export interface Splice {
  start: number;
  end: number;
  text: string;
  /** Where the printer took each piece of `text` from, in order: [line, column] in `text` → [line, column] in the file. */
  mappings: Mapping[];
}
export type Mapping = [line: number, column: number, sourceLine: number, sourceColumn: number];

/**
 * `node` printed as `printNode` prints it, with the positions TypeScript's printer records for a source
 * map: it does so only for a whole file, so `node` is printed as the one statement of a copy of `file`
 * (an expression as the initializer of `var $ = …`, whose text is then cut off again).
 */
function printMapped(printer: ts.Printer, file: ts.SourceFile, node: ts.Node, expression: boolean): { text: string; mappings: Mapping[] } {
  let mappings: Mapping[] = [];
  // The part of TypeScript's SourceMapGenerator the printer calls.
  const collect = {
    addSource: () => 0,
    setSourceContent() {},
    addName: () => 0,
    addMapping(line: number, column: number, _source: number, sourceLine: number, sourceColumn: number) {
      mappings.push([line, column, sourceLine, sourceColumn]);
    },
    appendSourceMap() {},
    getSources: () => [file.fileName],
    toJSON: () => ({}),
    toString: () => "",
  };
  // The copy takes the file's line starts, which TypeScript caches on the file (lineMap) as it first needs them:
  // computed for the file once, not for each copy (in a file of 4000 small async functions, over half the time).
  tsi.getLineAndCharacterOfPosition(file, 0);
  const statement = expression ? f.createVariableStatement(undefined, [f.createVariableDeclaration("$", undefined, undefined, node as ts.Expression)]) : (node as ts.Statement);
  const copy = tsi.setEmitFlags(f.updateSourceFile(file, [statement]), tsi.EmitFlags.NoComments);
  // Both are internal to TypeScript (the emitter's own way to print a file with its map), in 5.x and 6.x alike.
  const writer = (tsi as unknown as { createTextWriter(newLine: string): { getText(): string } }).createTextWriter("\n");
  (printer as unknown as { writeFile(f: ts.SourceFile, w: unknown, m: typeof collect): void }).writeFile(copy, writer, collect);
  let text = writer.getText();
  // The copy keeps the file's hashbang, which the printer writes first.
  if (text.startsWith("#!")) {
    text = text.slice(text.indexOf("\n") + 1);
    mappings = mappings.filter((m) => m[0] > 0).map(([l, c, sl, sc]) => [l - 1, c, sl, sc]);
  }
  const cut = expression ? "var $ = ".length : 0;
  text = text.slice(cut, text.length - (expression ? ";\n" : "\n").length);
  return { text, mappings: mappings.map(([l, c, sl, sc]) => [l, l === 0 ? Math.max(0, c - cut) : c, sl, sc]) };
}

/**
 * Says whether a call's callee is chronots' `async`, giving the module specifier to read chronots'
 * runtime object from; throws `Unsupported` for one that cannot be lowered.
 */
export type Recognizer = (call: ts.CallExpression) => string | undefined;

interface Lowering {
  file: ts.SourceFile;
  names: Names;
  context: ts.TransformationContext;
  /** What TypeScript lowers again after this transform. */
  downlevel: Downlevel;
  /** The file is strict code as a whole (see analyze). */
  strict: boolean;
  /** The file is emitted as an ES module, where `await` is reserved. */
  module: boolean;
  recognize: Recognizer;
  /** `async` and the names the file imports it under: their calls are recognised whatever their argument, to warn about `async(gen)`. */
  asyncNames: ReadonlySet<string>;
  /** Nodes the lowering replaces outside the calls it lowers: declared generators and their calls (declared.ts). */
  replaced: Map<ts.Node, ts.Node>;
  /** Calls of declared generators the lowering gave up on, already warned about at the reason. */
  warned: Set<ts.CallExpression>;
  /** How many lowered async functions stand around the one being lowered (see NESTING). */
  depth: number;
  /** How deep the file's code goes for TypeScript's printer (fileDepth). */
  fileDepth: FileDepth;
  /** What TypeScript's downlevel for the target prints deeper than written (depthOf). */
  unfolds: Unfolds;
  /** Calls `async(name)` of a generator declaration, with the declaration or why it stays a generator (declared.ts). */
  declared: Declared;
  /** The names the JSX transform run later writes into the file (see jsxNames). */
  jsxNames: Set<string>;
  /** Those names and the runtime are unknown (the Vite plugin could not read the file's tsconfig.json). */
  jsxUnknown?: boolean;
  /** The key the JSX transform run later passes apart, evaluated last (see keyApart). */
  keyApart: (attributes: ts.JsxAttributes) => ts.JsxAttribute | undefined;
  /** The identifier of the runtime object for a module specifier (recorded as used). */
  runtime(spec: string): string;
  /** The strings object of a tagged template's site, from the module-level function returning it (see rewrite.ts). */
  template(t: ts.TemplateLiteral): ts.Expression;
  report(d: ts.Diagnostic): void;
}

/**
 * `report`, passing each diagnostic once: the visit goes on into a function the lowering gave up
 * on after trying what it nests, and tries those again.
 */
function once(report: (d: ts.Diagnostic) => void): (d: ts.Diagnostic) => void {
  const seen = new Set<string>();
  return (d) => {
    const key = `${d.start}:${d.code}:${String(d.messageText)}`;
    if (seen.has(key)) return;
    seen.add(key);
    report(d);
  };
}

/**
 * Tagged templates' strings objects, one per site: a function declaration per site returns its strings
 * object, which JavaScript makes once per site, so a site copied twice keeps one object. A function
 * declaration, not a constant, as it is there before the module's code runs: in an import cycle a
 * lowered function may run first.
 */
class Templates {
  readonly sites = new Map<ts.TemplateLiteral, string>();
  constructor(private readonly names: Names) {}
  /** `$tpl0()`, the strings object of `t`'s site. */
  strings = (t: ts.TemplateLiteral): ts.Expression => {
    let name = this.sites.get(t);
    if (!name) this.sites.set(t, (name = this.names.internal("tpl") + this.sites.size));
    return f.createCallExpression(f.createIdentifier(name), undefined, []);
  };
  /** `function $tpl0() { return ((s) => s)\`a${0}b\`; }` for each site. */
  statements(): ts.Statement[] {
    return [...this.sites].map(([t, name]) => {
      const shape = tsi.isTemplateExpression(t) ? f.createTemplateExpression(t.head, t.templateSpans.map((x) => f.createTemplateSpan(f.createNumericLiteral(0), x.literal))) : t;
      const identity = f.createParenthesizedExpression(f.createArrowFunction(undefined, undefined, [f.createParameterDeclaration(undefined, undefined, "s")], undefined, undefined, f.createIdentifier("s")));
      const value = f.createTaggedTemplateExpression(identity, undefined, shape);
      return f.createFunctionDeclaration(undefined, undefined, name, undefined, [], undefined, f.createBlock([f.createReturnStatement(value)], false));
    });
  }
}

/** The generator function expression a call passes, through parentheses and type assertions, or `undefined`. */
function generatorOf(call: ts.CallExpression): ts.FunctionExpression | undefined {
  const arg = call.arguments.length === 1 ? unparen(call.arguments[0]!) : undefined;
  return arg && isGenerator(arg) && !arg.modifiers?.some((m) => m.kind === SK.AsyncKeyword) ? arg : undefined;
}

const isGenerator = (e: ts.Expression): e is ts.FunctionExpression => tsi.isFunctionExpression(e) && e.asteriskToken !== undefined;

/** A warning at `node` when it is a node of `file` as parsed (a file a transform rebuilt still names it), else at the file's start. */
function warning(file: ts.SourceFile, node: ts.Node, text: string, code = UNSUPPORTED_CODE): ts.Diagnostic {
  const parsed = node.pos >= 0 ? node.getSourceFile?.() : undefined;
  const at = parsed?.fileName === file.fileName ? parsed : undefined;
  const start = at ? node.getStart(at) : 0;
  return { file: at ?? file, start, length: at ? node.end - start : 0, category: tsi.DiagnosticCategory.Warning, code, source: "chronots", messageText: text };
}

/**
 * `d` as reported under the entry's `"unlowered"` severity: a function left to the driver (TS99301)
 * takes it, and is dropped under "off"; an internal error (TS99303) stays a warning whatever it says.
 */
export function asUnlowered(d: ts.Diagnostic, severity: Severity): ts.Diagnostic | undefined {
  if (d.code === INTERNAL_CODE) return d;
  return severity === "off" ? undefined : { ...d, category: categoryOf(severity) };
}

/**
 * A call of one argument through one of `names` or a namespace's `async`: a call that may be
 * chronots' `async` of a generator the lowering cannot see (`async(gen)`), to be warned about.
 */
function namesAsync(call: ts.CallExpression, names: ReadonlySet<string>): boolean {
  const c = call.expression;
  return call.arguments.length === 1 && (tsi.isIdentifier(c) ? names.has(c.text) : tsi.isPropertyAccessExpression(c) && c.name.text === "async");
}

function lowerCall(call: ts.CallExpression, l: Lowering, outer: Rename | undefined): ts.Expression | undefined {
  const fn = generatorOf(call);
  if ((!fn && !namesAsync(call, l.asyncNames)) || l.warned.has(call)) return undefined;
  const arg = call.arguments[0]!;
  return reporting(l, arg, () => {
    const spec = l.recognize(call);
    if (spec === undefined) return undefined;
    if (!fn) {
      const given = unparen(arg);
      const why = l.declared.get(call);
      const whyNot = typeof why === "string" ? why : undefined;
      throw new Unsupported(
        arg,
        isGenerator(given)
          ? "an async generator function (async() takes a function*)"
          : tsi.isArrowFunction(given) || tsi.isFunctionExpression(given)
            ? "a function that is not a generator (async() takes a function*)"
            : isValue(given)
              ? `an argument that is no generator function (${tsi.tokenToString(given.kind) ? `'${tsi.tokenToString(given.kind)}'` : kindName(given)}; async() takes a function*)`
              : (whyNot ?? "a generator function neither written in the async() call nor declared in a block around it"),
      );
    }
    const { low, an, plain } = lowerGenerator(fn, spec, l, outer, call);
    // withSelf prints the generator's own copy, with the comments around it.
    if (fn.name && an.bindingOf.get(fn.name)?.referenced) return withSelf(fn, fn.name.text, nameOf(low, fn.name.text), plain);
    // The comments written around the generator inside the call, `async(/* … */ function* …)`; those
    // on the line of `async(` count as the parenthesis's trailing comments.
    const text = l.file.text;
    addComments(low, text, [...(tsi.getTrailingCommentRanges(text, fn.pos) ?? []), ...(tsi.getLeadingCommentRanges(text, fn.pos) ?? [])], true);
    addComments(low, text, tsi.getTrailingCommentRanges(text, fn.end), false);
    // Named as the generator is, and by nothing else: an anonymous one "", also where a bundler folds
    // `(0, function …)` into `function …` (Vite's, rolldown), which the name of what it is assigned to would name.
    // Called where it stands, it is detached from the object holding it, which would be its `this`.
    if (!fn.name) return isCallee(call) ? detached(nameOf(low, "")) : nameOf(low, "");
    return f.updateFunctionExpression(low, low.modifiers, low.asteriskToken, f.createIdentifier(fn.name.text), low.typeParameters, low.parameters, low.type, low.body);
  });
}

/**
 * The generator of a call `async(worker)` (declared.ts) lowered in place, and the call replaced by
 * `worker`: `function* worker` becomes a plain function declaration of the same name, the anonymous
 * generator of `const worker = function* …` a plain function expression, named by the binding.
 */
function lowerDeclaration(call: ts.CallExpression, generator: DeclaredGenerator, l: Lowering): void {
  let foreign = false;
  const at = tsi.isFunctionDeclaration(generator) ? generator.name! : generator;
  const low = reporting(l, at, () => {
    const spec = l.recognize(call);
    foreign = spec === undefined;
    return foreign ? undefined : lowerGenerator(generator, spec!, l, undefined, generator, (unparen(call.arguments[0]!) as ts.Identifier).text).low;
  });
  if (!low) {
    if (!foreign) l.warned.add(call);
    return;
  }
  const replacement = tsi.isFunctionDeclaration(generator) ? f.createFunctionDeclaration(undefined, undefined, generator.name!.text, low.typeParameters, low.parameters, undefined, low.body) : low;
  l.replaced.set(generator, tsi.setTextRange(replacement, generator));
  l.replaced.set(call, unparen(call.arguments[0]!));
}

/** Lowers the generators of the file that `async(name)` calls name and may lower in place, before the visit meets either. */
function lowerDeclared(l: Lowering): void {
  l.declared = declaredGenerators(l.file, (c) => namesAsync(c, l.asyncNames), l.jsxNames);
  for (const [call, decl] of l.declared) if (typeof decl !== "string") lowerDeclaration(call, decl, l);
}

/** `lower()`, or `undefined` after a warning at `at` (or at what it names) when it throws: the function is then left to the driver. */
function reporting<T>(l: Lowering, at: ts.Node, lower: () => T | undefined): T | undefined {
  try {
    return lower();
  } catch (e) {
    const where = e instanceof Unsupported ? e.node : at;
    const [why, code] =
      e instanceof Unsupported
        ? [`${e.message} is not lowered`, UNSUPPORTED_CODE]
        : e instanceof RangeError
          ? [`code nested this deeply (${e.message}) is not lowered`, UNSUPPORTED_CODE]
          : [`the lowering failed with an internal error (${messageOf(e)})`, INTERNAL_CODE];
    l.report(warning(l.file, where, `chronots: this async function is left to the run-time driver: ${why}`, code));
    return undefined;
  }
}

/**
 * How many lowered async functions may stand around one that is lowered. Each level of lowering
 * nests the output some 15 nodes deeper than the input, and TypeScript's printer recurses: a file of
 * 50 async functions each in the one before, which tsc builds, overflowed the stack in tspc's emit
 * (its uncaught RangeError ended the build with nothing written; past 48 levels at the default
 * stack). Deeper ones are left to the driver, where nesting costs what it costs in the source.
 */
export const NESTING = 16;

/** `fn` as the lowered function expression (analyze → hoist → explode → emit), nested async calls lowered on the way; throws `Unsupported`. */
function lowerGenerator(fn: GeneratorFunction, spec: string, l: Lowering, outer: Rename | undefined, origin: ts.Node, name = fn.name?.text ?? ""): { low: ts.FunctionExpression; an: Analysis; plain: Scope } {
  // The analysis walks the tree as parsed (parents, positions); a transform that ran first has rebuilt it.
  if (!tsi.isParseTreeNode(fn))
    throw new Unsupported(tsi.getParseTreeNode(origin) ?? origin, `a function a transform that ran first rewrote (TypeScript's own, for a transformer run after it, or a plugin listed before chronots)`);
  if (l.depth > NESTING) throw new Unsupported(fn, `an async function nested more than ${NESTING} deep in other lowered async functions`);
  if (typeof l.fileDepth === "object") throw new Unsupported(fn, l.fileDepth.refused);
  l.depth++;
  try {
    const lowered = lowerGeneratorAt(fn, spec, l, outer, origin, name);
    // The outermost holds the others, lowered: its depth is theirs too.
    if (l.depth === 1 && l.fileDepth === "deep") refuseTooDeep(fn, lowered.low, origin, l.unfolds);
    return lowered;
  } finally {
    l.depth--;
  }
}

/**
 * In ES5 TypeScript lowers again, keeping state by the node as parsed, what the lowered body, printed from
 * the same nodes, would share: a class (the alias its loop holds, the name it takes from where it stood),
 * the generator kept for its own name (its catch variables renamed), and a binding named `__proto__`
 * (named through a computed key, which ES5 output makes an assignment that names nothing). And a `let` or
 * `const` a closure captures, declared in a block left as written whose nearest loop suspends: TypeScript
 * gives each iteration its own only in a loop its checker flagged, and that loop is now the lowering's
 * (the copy's or the state machine's), so every closure of the step would see the last iteration's.
 */
function refuseSharedInES5(fn: GeneratorFunction, an: Analysis): void {
  if (an.holds.classes) throw new Unsupported(fn, "a class, in ES5 output,");
  const proto = [...an.bindingOf].find(([, b]) => b.name === "__proto__");
  if (proto) throw new Unsupported(proto[0], "a binding named __proto__, in ES5 output,");
  if (fn.name && an.bindingOf.get(fn.name)?.referenced && [...an.bindingOf.values()].some((b) => b.kind === "catch"))
    throw new Unsupported(fn.name, "a generator naming itself and catching, in ES5 output,");
  const perIteration = an.own.find((b) => (b.kind === "let" || b.kind === "const") && b.captured && !isExploded(an, b.scope.node) && nearestLoopSuspends(an, b.scope.node));
  if (perIteration) {
    const declared = [...an.bindingOf].find(([, b]) => b === perIteration)![0];
    throw new Unsupported(declared, `a closure capturing '${perIteration.name}', declared in a block of a loop that suspends, in ES5 output,`);
  }
}

/** Whether the loop around `node` nearest to it (in the generator, `node` itself included) suspends: the lowering then rewrites it. */
function nearestLoopSuspends(an: Analysis, node: ts.Node): boolean {
  for (let n: ts.Node | undefined = node; n && n !== an.fn; n = n.parent) if (tsi.isIterationStatement(n, false)) return an.suspends(n);
  return false;
}

function lowerGeneratorAt(fn: GeneratorFunction, spec: string, l: Lowering, outer: Rename | undefined, origin: ts.Node, name: string): { low: ts.FunctionExpression; an: Analysis; plain: Scope } {
  const an = analyze(fn, l.strict, l.module);
  if (an.unsupported.length > 0) throw an.unsupported[0];
  // Which factory a local may shadow, and where the key goes, is not known.
  if (an.jsx && l.jsxUnknown) throw new Unsupported(fn, "JSX whose runtime and factory are unknown (the tsconfig.json Vite's transform reads for the file could not be read)");
  // The factory JSX compiles to is found by name where the JSX stands, and a local of the
  // generator may live elsewhere once lowered (a per-iteration environment, say).
  const shadow = an.jsx ? an.own.find((b) => l.jsxNames.has(b.name)) : undefined;
  if (shadow) {
    const declared = [...an.bindingOf].find(([, b]) => b === shadow)![0];
    throw new Unsupported(declared, `JSX next to a local named '${shadow.name}', as the JSX factory is,`);
  }
  if (l.downlevel.generators) refuseSharedInES5(fn, an);
  // The generator kept for its own name (withSelf) is printed from the same nodes as the lowered body.
  if (fn.name && an.bindingOf.get(fn.name)?.referenced && lowersAgain(an.holds, l.downlevel))
    throw new Unsupported(fn.name, "a generator naming itself and holding what TypeScript lowers again for this target (a class below ES2022, a generator in ES5, an async function below ES2017),");
  const m = l.names.mark;
  const own = stepName(name || standingName(origin), an, l);
  const n: Internals = {
    r: m + "r",
    s: m + "s",
    step: own ?? m + "step",
    a: m + "a",
    h: m + "h",
    err: m + "err",
    e: m + "e",
    rv: m + "rv",
    loop: m + "loop",
    constant: m + "const",
    u: m + "u",
    c: l.runtime(spec),
    mark: m,
  };
  // The structured copy of a loop rewrites its body a second time: a nested function is lowered once, and both copies hold it.
  const lowered = new Map<ts.CallExpression, ts.Expression | undefined>();
  const nested = (c: ts.CallExpression, rename: Rename) => {
    if (!lowered.has(c)) lowered.set(c, lowerCall(c, l, rename));
    return lowered.get(c);
  };
  const plain: Scope = { an, name, slots: new Map(), outer, nested, context: l.context, downlevel: l.downlevel, keyApart: l.keyApart, template: l.template, n };
  if (!an.suspends(fn.body)) return { low: emitPlain(plain, n, origin), an, plain };
  // The step is an arrow, which TypeScript's ES5 output makes a function with its own arguments object:
  // it captures the outer one only for arrows the checker saw in the source.
  if (l.downlevel.generators && an.readsArguments) throw new Unsupported(an.readsArguments, "arguments, in ES5 output,");
  const scope: Scope = { ...plain, slots: planHoisting(an, l.names) };
  if (fitsLazy(scope, l.downlevel)) {
    const machine = new Machine(scope, n, true);
    const cases = machine.body(fn.body);
    // Temps of a statement with many suspensions live in the closure (explode.ts), which the first step does not have.
    if (machine.closureLocals.length === 0 && machine.hoistedFunctions.length === 0) return { low: emitLazy(scope, machine, cases, n, origin), an, plain };
  }
  const machine = new Machine(scope, n);
  const cases = machine.body(fn.body);
  return { low: emitMachine(scope, machine, cases, n, origin), an, plain };
}

/**
 * Whether the first step may run in the lowered function itself (emitLazy), which then hands its
 * locals over to the machine: not when a nested function captures one of them (a parameter, or a
 * binding hoisted to the closure or to a per-iteration environment), nor when the body reads
 * `arguments`, where the first step and the machine would see different ones; nor where TypeScript
 * lowers the body again, which rules out the structured copy the first step runs as.
 */
function fitsLazy(s: Scope, downlevel: Downlevel): boolean {
  const an = s.an;
  if (an.readsArguments || lowersAgain(an.holds, downlevel)) return false;
  if (an.own.some((b) => b.kind === "param" && b.captured)) return false;
  return [...s.slots.values()].every((x) => x.mirror !== undefined && x.env === undefined);
}

/**
 * The name for the step function, so that a stack trace names the frames of the body by the
 * generator's name, as the driver's do, or for an anonymous one by where its async() call stands
 * (standingName); `undefined` when there is none, or it cannot name a constant, or something in the
 * body or a later transform (the JSX factory) refers to it, which would find the step.
 */
function stepName(name: string, an: Analysis, l: Lowering): string | undefined {
  if (!IDENTIFIER.test(name) || RESERVED.test(name)) return undefined;
  const named = an.free.has(name) || l.jsxNames.has(name) || [...an.bindingOf.keys()].some((id) => id !== an.fn.name && id.text === name);
  return named ? undefined : name;
}

/**
 * The variable an async() call initializes, or the plain key of the property or field it is the value
 * of (`handle = async(function* …)`). A key binds nothing, so it must not be a name the emitted code
 * reads from outside: CommonJS's `exports` and `require` (RESERVED), or a global, which are capitalized
 * (`Object`, `Symbol` in TypeScript's helpers).
 */
function standingName(call: ts.Node): string {
  const p = call.parent;
  if (!p) return "";
  if (tsi.isVariableDeclaration(p) && p.initializer === call && tsi.isIdentifier(p.name)) return p.name.text;
  const key = (tsi.isPropertyAssignment(p) || tsi.isPropertyDeclaration(p)) && p.initializer === call && tsi.isIdentifier(p.name) ? p.name.text : "";
  return /^[A-Z]/.test(key) ? "" : key;
}

const IDENTIFIER = /^[\p{L}_$][\p{L}\p{N}_$]*$/u;
/** Words no constant may be named, in strict code, and names CommonJS code reads from outside. */
const RESERVED =
  /^(?:break|case|catch|class|const|continue|debugger|default|delete|do|else|enum|export|extends|false|finally|for|function|if|import|in|instanceof|new|null|return|super|switch|this|throw|true|try|typeof|var|void|while|with|yield|let|static|implements|interface|package|private|protected|public|await|arguments|eval|undefined|exports|require|module|__filename|__dirname)$/;

const nothingToLeave: Hooks = {
  ret(_value, _inTry, origin) {
    throw new Unsupported(origin, "a return outside the generator's own code");
  },
  jump(node) {
    throw new Unsupported(node, "a jump outside the generator's own code");
  },
  exitLocals: () => [],
};

/**
 * A generator that names itself: as under the run-time driver, the name is the generator function
 * (a copy of it, made once where the call was), so `f.name`, `f.length` and `yield* f(…)` behave
 * as written: `((f) => lowered)(function* f(…) { … })`.
 */
function withSelf(fn: ts.FunctionExpression, name: string, low: ts.Expression, s: Scope): ts.Expression {
  const copy = new Rewriter({ ...s, nested: () => undefined }, nothingToLeave).expr(fn);
  const wrap = f.createArrowFunction(undefined, undefined, [f.createParameterDeclaration(undefined, undefined, name)], undefined, undefined, low);
  return f.createCallExpression(f.createParenthesizedExpression(wrap), undefined, [copy]);
}

/** The ts-patch side: lower every recognised call of a source file and import the runtime object. */
export function lowerFile(file: ts.SourceFile, context: ts.TransformationContext, recognize: Recognizer, report: (d: ts.Diagnostic) => void): ts.SourceFile {
  const asyncNames = asyncNamesOf(file);
  const holds = candidatesIn(file.text, asyncNames);
  if (holds === undefined) return file;
  const names = new Names(file.text);
  const used = new Map<string, string>();
  const unfolds = unfoldsOf(context.getCompilerOptions());
  const templates = new Templates(names);
  const l: Lowering = {
    file,
    names,
    context,
    downlevel: downlevelOf(context.getCompilerOptions()),
    // As TypeScript's emit makes it: "use strict" first (a directive of the file is seen by analyze), or an ES module.
    strict: alwaysStrict(context.getCompilerOptions()) || tsi.isExternalModule(file),
    // Emitted as CommonJS, a module's code is a script's, where `await` names a binding.
    module: tsi.isExternalModule(file) && !emitsCommonJS(file, context.getCompilerOptions()),
    recognize,
    asyncNames,
    report: once(report),
    replaced: new Map(),
    warned: new Set(),
    depth: 0,
    fileDepth: fileDepth(file, unfolds),
    unfolds,
    declared: new Map(),
    jsxNames: jsxNames(file, context.getCompilerOptions()),
    keyApart: keyApart(automaticJsx(file, context.getCompilerOptions()), false),
    template: templates.strings,
    runtime(spec) {
      let name = used.get(spec);
      if (!name) used.set(spec, (name = names.internal("c") + (used.size || "")));
      return name;
    },
  };
  lowerDeclared(l);
  // The visit must reach every replaced node, also a call the text test missed (`async /* c */ (w)`).
  const replaced = encloses([...l.replaced.keys()]);
  const visit = (node: ts.Node): ts.Node => {
    if (!holds(node) && !replaced(node)) return node;
    const replacement = l.replaced.get(node);
    if (replacement) return replacement;
    if (tsi.isCallExpression(node)) {
      const low = lowerCall(node, l, undefined);
      if (low) return tsi.isParenthesizedExpression(low) ? low : f.createParenthesizedExpression(low);
    }
    return tsi.visitEachChild(node, visit, context);
  };
  const out = tsi.visitEachChild(file, visit, context);
  if (used.size === 0) return out;
  const form = importFormOf(file, context.getCompilerOptions());
  const imports = [...used].flatMap(([spec, name]) => runtimeOf(form === "require" ? emittedSpecifier(spec, context.getCompilerOptions()) : spec, name, form));
  let split = directivePrologue(out.statements).length;
  while (split < out.statements.length && tsi.isImportDeclaration(out.statements[split]!)) split++;
  return f.updateSourceFile(out, [...out.statements.slice(0, split), ...imports, ...templates.statements(), ...out.statements.slice(split)]);
}

/**
 * The warnings a `tspc` build gives `file` for functions left to the run-time driver, in the category
 * `severity` names, for a host that does not emit (the editor, `chronots check`): the same lowering,
 * its output dropped. Disposing of the transformation clears what it attached to the parse tree,
 * which the host keeps.
 */
export function driverWarnings(file: ts.SourceFile, options: ts.CompilerOptions, recognize: Recognizer, severity: Severity): ts.Diagnostic[] {
  const found: ts.Diagnostic[] = [];
  if (severity === "off") return found;
  tsi.transform(file, [(context) => (sf) => lowerFile(sf, context, recognize, (d) => found.push(asUnlowered(d, severity)!))], options).dispose();
  return found;
}

/**
 * The names TypeScript's JSX transform writes into `file`: the roots of its element and fragment
 * factories, from the file's `@jsx`/`@jsxFrag` pragmas, the compiler options or `extra`, and
 * `React`, the default. (The automatic runtime imports its functions under fresh names.)
 */
function jsxNames(file: ts.SourceFile, options: ts.CompilerOptions, extra: string[] = []): Set<string> {
  const factories = [options.reactNamespace ?? "React", options.jsxFactory, options.jsxFragmentFactory, pragmaOf(file, "jsx", "first"), pragmaOf(file, "jsxfrag", "first"), ...extra];
  return new Set(factories.filter((x): x is string => !!x).map((x) => x.split(".")[0]!.trim()));
}

/**
 * The argument of `file`'s `@name` pragma; of several, the one TypeScript reads: the first `@jsx` and
 * `@jsxFrag`, the last `@jsxRuntime` and `@jsxImportSource`. TypeScript's parser fills `pragmas`
 * (internal) for every file.
 */
function pragmaOf(file: ts.SourceFile, name: string, which: "first" | "last"): string | undefined {
  const pragmas = (file as { pragmas?: ReadonlyMap<string, { arguments: { factory?: string } } | { arguments: { factory?: string } }[]> }).pragmas;
  const p = pragmas?.get(name);
  return (Array.isArray(p) ? p[which === "first" ? 0 : p.length - 1] : p)?.arguments.factory;
}

/** Whether TypeScript's JSX transform uses the automatic runtime in `file` (its getJSXImplicitImportBase). */
function automaticJsx(file: ts.SourceFile, options: ts.CompilerOptions): boolean {
  const runtime = pragmaOf(file, "jsxruntime", "last");
  if (runtime === "classic") return false;
  const { ReactJSX, ReactJSXDev } = tsi.JsxEmit;
  return options.jsx === ReactJSX || options.jsx === ReactJSXDev || !!options.jsxImportSource || !!pragmaOf(file, "jsximportsource", "last") || runtime === "automatic";
}

/**
 * The `key` attribute the JSX transform run after the lowering evaluates after an element's other
 * attributes and children: the automatic runtime passes it apart, `jsx(type, props, key)`. Where a
 * `key` follows a spread, both transforms fall back to `createElement(type, props)`, the key among the
 * props in source order; TypeScript counts no spread of an object literal without spreads of its own
 * (it inlines those), oxc (Vite) counts every one. Of several keys (TS17001 to tsc), TypeScript passes
 * the first apart and the others among the props; oxc the last, and drops the others unevaluated.
 */
function keyApart(automatic: boolean, oxc: boolean): (attributes: ts.JsxAttributes) => ts.JsxAttribute | undefined {
  if (!automatic) return () => undefined;
  return (attributes) => {
    let spread = false;
    let key: ts.JsxAttribute | undefined;
    for (const a of attributes.properties) {
      if (tsi.isJsxSpreadAttribute(a)) spread ||= oxc || !tsi.isObjectLiteralExpression(a.expression) || a.expression.properties.some(tsi.isSpreadAssignment);
      else if (isKey(a)) {
        if (spread) return undefined;
        if (!key || oxc) key = a;
      }
    }
    return key;
  };
}

/**
 * `async`, the names `file` imports an `async` under (`import { async as go }`), from whatever
 * module, and its module-level copies of those (`const run = async`, `const { async: run } = C`):
 * the recogniser tells which are chronots', and warns at a call through a copy.
 */
function asyncNamesOf(file: ts.SourceFile): Set<string> {
  const names = new Set(["async"]);
  for (const st of file.statements) {
    const b = tsi.isImportDeclaration(st) ? st.importClause?.namedBindings : undefined;
    if (b && tsi.isNamedImports(b)) for (const e of b.elements) if (e.propertyName?.text === "async") names.add(e.name.text);
    if (!tsi.isVariableStatement(st)) continue;
    for (const { name, initializer } of st.declarationList.declarations) {
      if (!initializer || !tsi.isIdentifier(initializer)) continue;
      if (tsi.isIdentifier(name)) {
        if (names.has(initializer.text)) names.add(name.text);
      } else if (tsi.isObjectBindingPattern(name))
        for (const e of name.elements) if (e.propertyName && tsi.isIdentifier(e.propertyName) && e.propertyName.text === "async" && tsi.isIdentifier(e.name)) names.add(e.name.text);
    }
  }
  return names;
}

/**
 * Where a call to lower or to warn about may be: a test of whether a node's text holds a generator
 * function or a call through one of `asyncNames`, or `undefined` when the file has neither. Most
 * files of a project have none, and most of a file is other code: the visit goes down only where
 * the test holds.
 */
function candidatesIn(text: string, asyncNames: ReadonlySet<string>): ((node: ts.Node) => boolean) | undefined {
  // Up to what may follow the name in a call: `(`, `<`, `?.(` or a comment.
  const calls = new RegExp(`(?<![\\w$])(?:${[...asyncNames].map((n) => n.replace(/\$/g, "\\$")).join("|")})\\s*[(<?/]`, "g");
  const at = [...text.matchAll(GENERATOR), ...text.matchAll(calls)].map((m) => m.index).sort((a, b) => a - b);
  if (at.length === 0) return undefined;
  return (node) => {
    let lo = 0;
    let hi = at.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (at[mid]! < node.pos) lo = mid + 1;
      else hi = mid;
    }
    return lo < at.length && at[lo]! < node.end;
  };
}

/**
 * A test of whether a node encloses one of `nodes` (one of them lies within its range), asked of
 * every node the visit meets: a binary search in `nodes` sorted by position, not a scan of them all.
 */
function encloses(nodes: readonly ts.Node[]): (node: ts.Node) => boolean {
  if (nodes.length === 0) return () => false;
  const sorted = [...nodes].sort((a, b) => a.pos - b.pos);
  return (node) => {
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (sorted[mid]!.pos < node.pos) lo = mid + 1;
      else hi = mid;
    }
    // Those starting within it: nodes of one tree, all but an ancestor starting where it does end within it too.
    for (let i = lo; i < sorted.length && sorted[i]!.pos <= node.end; i++) if (sorted[i]!.end <= node.end) return true;
    return false;
  };
}

/**
 * Whether `file` is certainly emitted as CommonJS or as a script, where the runtime object is read
 * with `require`. Under `commonjs` and `node16`/`nodenext` TypeScript says; under the other module
 * kinds (ES modules, `preserve`) it keeps each import as written, so a file with no import or export
 * of an ES module (one reading chronots with `import C = require(…)`, a JavaScript file's
 * `require()`) stays CommonJS, where an import statement would not load. Elsewhere the import
 * stays, which TypeScript turns into whatever the file becomes: an import under `"module": "commonjs"`
 * would come out with its interop helpers, a tenth of a small file's output, and under it an .mts
 * file is still emitted as an ES module.
 */
function emitsCommonJS(file: ts.SourceFile, options: ts.CompilerOptions): boolean {
  const m = options.module;
  if (m !== undefined && m >= tsi.ModuleKind.Node16 && m <= tsi.ModuleKind.NodeNext) return file.impliedNodeFormat === tsi.ModuleKind.CommonJS;
  if (m === tsi.ModuleKind.CommonJS) return !/\.m[jt]sx?$/.test(file.fileName);
  return !file.statements.some(isModuleSyntax);
}

/**
 * How the lowered code reads the runtime object: with `require` where the file is emitted as
 * CommonJS, else through an import. AMD, UMD and System turn a namespace import into an interop
 * helper under `esModuleInterop` (tslib's under `importHelpers`, which the program may not have),
 * where `import $cns = require(…)` needs none and binds the module as their loader gives it; an ES
 * module keeps the namespace import.
 */
function importFormOf(file: ts.SourceFile, options: ts.CompilerOptions): RuntimeImport {
  if (emitsCommonJS(file, options)) return "require";
  const m = options.module;
  return m === tsi.ModuleKind.AMD || m === tsi.ModuleKind.UMD || m === tsi.ModuleKind.System ? "loader" : "namespace";
}

type RuntimeImport = "require" | "namespace" | "loader";

/**
 * `spec` as TypeScript's emit writes a module specifier under `rewriteRelativeImportExtensions`
 * (`./rt.ts` becomes `./rt.js`): it rewrites those of imports, not of a `require` the lowering adds.
 */
function emittedSpecifier(spec: string, options: ts.CompilerOptions): string {
  const internal = tsi as unknown as {
    shouldRewriteModuleSpecifier(spec: string, options: ts.CompilerOptions): boolean;
    changeExtension(path: string, extension: string): string;
    getOutputExtension(fileName: string, options: ts.CompilerOptions): string;
  };
  return internal.shouldRewriteModuleSpecifier(spec, options) ? internal.changeExtension(spec, internal.getOutputExtension(spec, options)) : spec;
}

/** An import or export of an ES module (not `import x = require(…)` nor `export =`, which are CommonJS's). */
function isModuleSyntax(st: ts.Statement): boolean {
  if (tsi.isImportDeclaration(st)) return !st.importClause?.isTypeOnly;
  if (tsi.isExportDeclaration(st)) return !st.isTypeOnly;
  if (tsi.isExportAssignment(st)) return !st.isExportEquals;
  // An exported type or declaration is erased.
  const modifiers = tsi.canHaveModifiers(st) ? tsi.getModifiers(st) : undefined;
  if (!modifiers?.some((m) => m.kind === SK.ExportKeyword) || modifiers.some((m) => m.kind === SK.DeclareKeyword)) return false;
  return !tsi.isInterfaceDeclaration(st) && !tsi.isTypeAliasDeclaration(st);
}

/** TypeScript's alwaysStrict as it reads it (its default differs between versions). */
const alwaysStrict = (options: ts.CompilerOptions): boolean => strictOption(options, "alwaysStrict");

/** What TypeScript lowers again under `options` (an unset target being its ES5 default, where that is it). */
function downlevelOf(options: ts.CompilerOptions): Downlevel {
  const target = options.target ?? tsi.ScriptTarget.ES5;
  return {
    classes: target < tsi.ScriptTarget.ES2022 || options.useDefineForClassFields === false,
    generators: target < tsi.ScriptTarget.ES2015,
    asyncs: target < tsi.ScriptTarget.ES2017,
    optionalChains: target < tsi.ScriptTarget.ES2020,
  };
}

/**
 * The runtime object `$c` of `spec`, where the user's imports leave it: `import * as $cns from
 * "chronots"; var $c = $cns.__chronots;`, in CommonJS `var $c = require("chronots").__chronots;`
 * (no interop helpers), in AMD, UMD and System `import $cns = require("chronots"); var $c =
 * $cns.__chronots;` (importFormOf), and beside it `function $cinit() { return $c = …; }`. A lowered function
 * starts with `($c || $cinit())`: in an import cycle it may run before its module's own code has set
 * `$c`, where a declared function is already there (a constant would throw, an imported binding would
 * cost every read of it through Vite's module runner).
 */
function runtimeOf(spec: string, name: string, form: RuntimeImport): ts.Statement[] {
  const ns = name + "ns";
  const read = () => f.createPropertyAccessExpression(form === "require" ? f.createCallExpression(f.createIdentifier("require"), undefined, [f.createStringLiteral(spec)]) : f.createIdentifier(ns), "__chronots");
  const load = f.createVariableStatement(undefined, f.createVariableDeclarationList([f.createVariableDeclaration(name, undefined, undefined, read())], tsi.NodeFlags.None));
  const init = f.createFunctionDeclaration(undefined, undefined, initOf(name), undefined, [], undefined, f.createBlock([f.createReturnStatement(f.createAssignment(f.createIdentifier(name), read()))], false));
  if (form === "require") return [load, init];
  const source = f.createStringLiteral(spec);
  const binding =
    form === "loader"
      ? f.createImportEqualsDeclaration(undefined, false, f.createIdentifier(ns), f.createExternalModuleReference(source))
      : f.createImportDeclaration(undefined, f.createImportClause(false, undefined, f.createNamespaceImport(f.createIdentifier(ns))), source);
  return [binding, load, init];
}

/** Calls of `async` imported from one of `modules`, recognised from the syntax alone. */
function syntacticRecognizer(file: ts.SourceFile, modules: string[]): Recognizer {
  const direct = new Map<string, string>();
  const namespaces = new Map<string, string>();
  for (const st of file.statements) {
    if (!tsi.isImportDeclaration(st) || !tsi.isStringLiteral(st.moduleSpecifier) || !modules.includes(st.moduleSpecifier.text)) continue;
    const b = st.importClause?.namedBindings;
    if (!b || st.importClause?.isTypeOnly) continue;
    if (tsi.isNamespaceImport(b)) namespaces.set(b.name.text, st.moduleSpecifier.text);
    else for (const e of b.elements) if ((e.propertyName ?? e.name).text === "async" && !e.isTypeOnly) direct.set(e.name.text, st.moduleSpecifier.text);
  }
  // A name declared again elsewhere in the file may shadow the import where that declaration binds:
  // each declaration is kept with the node(s) it binds the name in, a call inside two is left alone.
  const scopes = new Map<string, ts.Node[]>();
  const declarations: ts.NamedDeclaration[] = [];
  const declare = (d: ts.NamedDeclaration, merged: NamespaceMerges) => {
    if (d.name && tsi.isIdentifier(d.name)) scopes.set(d.name.text, [...(scopes.get(d.name.text) ?? []), ...(merged.exportedIn(d) ?? [bindsIn(d)])]);
  };
  /** How many declarations of the name `id` reads bind it where `id` stands. */
  const bindings = (id: ts.Identifier) => (scopes.get(id.text) ?? []).filter((s) => s.pos <= id.pos && id.end <= s.end).length;
  /** `const x = y` and `const { … } = y`: maybe aliases of the import. */
  const copies: (ts.VariableDeclaration & { initializer: ts.Identifier })[] = [];
  // A loop, not a recursion: an expression may nest deeper than the stack goes.
  const pending: ts.Node[] = [file];
  const add = (n: ts.Node) => void pending.push(n);
  for (let n = pending.pop(); n !== undefined; n = pending.pop()) {
    // A namespace, `import x = …` or enum declares a value too; a parameter of a signature without a body (a type's) none.
    const declares =
      tsi.isVariableDeclaration(n) || tsi.isBindingElement(n) || tsi.isFunctionDeclaration(n) || tsi.isFunctionExpression(n) || tsi.isClassLike(n) || tsi.isImportSpecifier(n) ||
      tsi.isNamespaceImport(n) || tsi.isImportClause(n) || tsi.isModuleDeclaration(n) || tsi.isImportEqualsDeclaration(n) || tsi.isEnumDeclaration(n) || tsi.isEnumMember(n) ||
      (tsi.isParameter(n) && (n.parent as ts.SignatureDeclaration & { body?: ts.Node }).body !== undefined);
    if (declares) declarations.push(n as ts.NamedDeclaration);
    if (tsi.isVariableDeclaration(n) && n.initializer && tsi.isIdentifier(n.initializer)) copies.push(n as (typeof copies)[number]);
    tsi.forEachChild(n, add);
  }
  // Declared once all the file's namespaces are known: a namespace's export binds in each of its blocks.
  const merged = new NamespaceMerges(declarations.filter(tsi.isModuleDeclaration));
  for (const d of declarations) declare(d, merged);
  // Aliases, to warn about calls through them, which the lowering does not follow: `const run = async`,
  // `const { async: run } = C`, `const ns = C`, and aliases of those. Only as written: one passed
  // through anything else (a parameter, a property, an assignment) is beyond a syntactic test.
  const aliases = new Set<string>();
  const alias = (name: ts.Identifier, to: Map<string, string>, spec: string) => {
    if (aliases.has(name.text)) return false;
    to.set(name.text, spec);
    aliases.add(name.text);
    return true;
  };
  for (let grew = true; grew; ) {
    grew = false;
    for (const { name, initializer: from } of copies) {
      if (bindings(from) !== 1) continue;
      const ns = namespaces.get(from.text);
      const fn = direct.get(from.text);
      if (tsi.isIdentifier(name)) grew = (ns !== undefined && alias(name, namespaces, ns)) || (fn !== undefined && alias(name, direct, fn)) || grew;
      else if (ns !== undefined && tsi.isObjectBindingPattern(name))
        for (const e of name.elements) {
          const key = e.propertyName ?? e.name;
          if (!e.dotDotDotToken && tsi.isIdentifier(e.name) && tsi.isIdentifier(key) && key.text === "async") grew = alias(e.name, direct, ns) || grew;
        }
    }
  }
  return (call) => {
    const c = call.expression;
    const local = tsi.isIdentifier(c) ? c : tsi.isPropertyAccessExpression(c) && tsi.isIdentifier(c.expression) && c.name.text === "async" ? c.expression : undefined;
    if (!local || bindings(local) !== 1) return undefined;
    const spec = (local === c ? direct : namespaces).get(local.text);
    if (spec !== undefined && aliases.has(local.text)) throw aliasUnsupported(c, spec);
    return spec;
  };
}

/**
 * The node a declaration binds its name in, or one around it: a function expression's or class
 * expression's own name, in that function or class; an enum member, in its enum; a `var`, a function declaration (sloppy code
 * binds one in a block in its whole function) or a parameter, in the function; any other, in the
 * nearest block, loop head, catch clause, module or file.
 */
function bindsIn(d: ts.NamedDeclaration): ts.Node {
  if (tsi.isFunctionExpression(d) || tsi.isClassExpression(d)) return d;
  // The enum's initializers read its members by name.
  if (tsi.isEnumMember(d)) return d.parent;
  let list: ts.Node = d;
  while (tsi.isBindingElement(list) || tsi.isArrayBindingPattern(list) || tsi.isObjectBindingPattern(list) || tsi.isVariableDeclaration(list)) list = list.parent;
  const functionWide = tsi.isFunctionDeclaration(d) || tsi.isParameter(d) || (tsi.isVariableDeclarationList(list) && !(list.flags & tsi.NodeFlags.BlockScoped));
  for (let n = d.parent; n; n = n.parent) {
    if (tsi.isFunctionLike(n) || tsi.isClassStaticBlockDeclaration(n) || tsi.isSourceFile(n) || tsi.isModuleBlock(n)) return n;
    if (!functionWide && (tsi.isBlock(n) || tsi.isCaseBlock(n) || tsi.isCatchClause(n) || tsi.isIterationStatement(n, false))) return n;
  }
  return d.getSourceFile();
}

/**
 * The blocks of a file's merged namespaces. TypeScript merges the declarations of a namespace of one
 * name in one scope (`namespace N {…} namespace N {…}`, `namespace A.B {…}` with `namespace A {
 * export namespace B {…} }`), ambient ones too, and what one block exports is in scope in every
 * block: a reference there is compiled to `N.name`. Which blocks merge is read from the syntax: a
 * namespace is named by the scope it is declared in and its name, and an exported one (or one in a
 * dotted name, or in an ambient namespace, where all is exported) by its parent namespace's name.
 */
class NamespaceMerges {
  private readonly groups = new Map<string, ts.ModuleDeclaration[]>();
  private readonly keys = new Map<ts.ModuleDeclaration, string>();
  private readonly scopeIds = new Map<ts.Node, number>();

  constructor(namespaces: readonly ts.ModuleDeclaration[]) {
    for (const m of namespaces) {
      const key = this.keyOf(m);
      const group = this.groups.get(key);
      if (group) group.push(m);
      else this.groups.set(key, [m]);
    }
  }

  /** Every block of the namespace `d` is exported from, when it is: the nodes its name binds in. */
  exportedIn(d: ts.NamedDeclaration): ts.Node[] | undefined {
    const block = bindsIn(d);
    if (!tsi.isModuleBlock(block) || !(isExported(d) || isAmbient(block))) return undefined;
    return this.groups.get(this.keyOf(block.parent));
  }

  private keyOf(m: ts.ModuleDeclaration): string {
    let key = this.keys.get(m);
    if (key !== undefined) return key;
    const p = m.parent;
    const member = tsi.isModuleDeclaration(p) ? p : tsi.isModuleBlock(p) && (isExported(m) || isAmbient(p)) ? p.parent : undefined;
    let outer: string;
    if (member && tsi.isIdentifier(member.name)) outer = this.keyOf(member);
    else {
      let id = this.scopeIds.get(p);
      if (id === undefined) this.scopeIds.set(p, (id = this.scopeIds.size));
      outer = `#${id}`;
    }
    // A module named by a string (`declare module "x"`) merges with no namespace.
    key = tsi.isIdentifier(m.name) ? `${outer}.${m.name.text}` : `${outer}#${m.pos}`;
    this.keys.set(m, key);
    return key;
  }
}

const isExported = (d: ts.Node): boolean => (tsi.getCombinedModifierFlags(d as ts.Declaration) & tsi.ModifierFlags.Export) !== 0;

/** Whether `n` sits in a `declare namespace` (or `declare module`, `declare global`). */
function isAmbient(n: ts.Node): boolean {
  for (let p: ts.Node | undefined = n; p; p = p.parent) if (tsi.isModuleDeclaration(p) && tsi.getCombinedModifierFlags(p) & tsi.ModifierFlags.Ambient) return true;
  return false;
}

function scriptKind(fileName: string): ts.ScriptKind {
  if (/\.[cm]?tsx$/.test(fileName)) return tsi.ScriptKind.TSX;
  if (/\.[cm]?jsx$/.test(fileName)) return tsi.ScriptKind.JSX;
  if (/\.[cm]?js$/.test(fileName)) return tsi.ScriptKind.JS;
  return tsi.ScriptKind.TS;
}

/** lowerText's result. */
export interface LoweredText {
  /** One for each outermost recognised call, replacing it. */
  splices: Splice[];
  /** The import line(s) to insert at `preludeAt`. */
  prelude: string;
  preludeAt: number;
  /** Where in `prelude` the load-time checks of modules of the user's stand, [start, end). */
  preludeChecks: [number, number][];
  diagnostics: ts.Diagnostic[];
}

/** The syntactic side of the lowering, for a host that splices text (the Vite plugin). */
export function lowerText(fileName: string, text: string, options: LowerTextOptions): LoweredText {
  const diagnostics: ts.Diagnostic[] = [];
  const splices: Splice[] = [];
  const used = new Map<string, string>();
  let runtimes = "";
  let consts = "";
  let at = 0;
  const checks: [number, number][] = [];
  useCompiler(options.typescript);
  try {
    const file = tsi.createSourceFile(fileName, text, tsi.ScriptTarget.Latest, true, scriptKind(fileName));
    // Lowered, a function with a syntax error can print as valid code, and the error would never reach
    // the user: the file stays as it is, for Vite's own parser to report.
    const broken = (file as unknown as { parseDiagnostics: readonly ts.DiagnosticWithLocation[] }).parseDiagnostics[0];
    if (broken) {
      const message = tsi.flattenDiagnosticMessageText(broken.messageText, " ");
      diagnostics.push({ ...broken, category: tsi.DiagnosticCategory.Warning, code: UNSUPPORTED_CODE, source: "chronots", messageText: `chronots left this file to the run-time driver: TypeScript reports a syntax error here (${message})` });
      return { splices: [], prelude: "", preludeAt: 0, preludeChecks: [], diagnostics };
    }
    const prologue = directivePrologue(file.statements).length;
    at = prologue > 0 ? file.statements[prologue - 1]!.end : preludeOffset(text);
    const names = new Names(text);
    const templates = new Templates(names);
    const printer = tsi.createPrinter({ newLine: tsi.NewLineKind.LineFeed });
    const recognize = syntacticRecognizer(file, options.modules ?? ["chronots"]);
    const result = tsi.transform(file, [
      (context) => (root) => {
        const l: Lowering = {
          file,
          names,
          context,
          // Vite's own transform, not TypeScript's, lowers the output further.
          downlevel: { classes: false, generators: false, asyncs: false },
          // An ES module: the file imports async.
          strict: tsi.isExternalModule(file),
          module: tsi.isExternalModule(file),
          recognize,
          asyncNames: asyncNamesOf(file),
          replaced: new Map(),
          warned: new Set(),
          depth: 0,
          // Vite's own transform lowers the output further, printing it its own way.
          fileDepth: fileDepth(file, NO_UNFOLDS),
          unfolds: NO_UNFOLDS,
          declared: new Map(),
          jsxNames: jsxNames(file, {}, options.jsxFactories),
          jsxUnknown: options.jsxRuntime === "unknown",
          // oxc's pragma wins over its options.
          keyApart: keyApart((pragmaOf(file, "jsxruntime", "last") ?? options.jsxRuntime ?? "automatic") === "automatic", true),
          report: once((d) => diagnostics.push(d)),
          template: templates.strings,
          runtime(spec) {
            let name = used.get(spec);
            if (!name) used.set(spec, (name = names.internal("c") + (used.size || "")));
            return name;
          },
        };
        lowerDeclared(l);
        // TypeScript's printer recurses, and a function nested deep enough overflows it: that function
        // is left to the driver with a warning at it (through `reporting`), and the rest of the file is
        // still lowered. A declared generator is printed first, so that its call, replaced by its name,
        // stays as it is when the generator does.
        const print = (node: ts.Node, replacement: ts.Node, at: ts.Node) =>
          reporting(l, at, () => ({ start: node.getStart(file), end: node.end, ...printMapped(printer, file, replacement, !tsi.isStatement(replacement)) }));
        const printed = new Map<ts.Node, Splice>();
        for (const [call, decl] of l.declared) {
          const replacement = typeof decl !== "string" && l.replaced.get(decl);
          if (!replacement) continue;
          // The comments around it stay outside the splice.
          tsi.setEmitFlags(replacement, tsi.EmitFlags.NoComments);
          const splice = print(decl, replacement, tsi.isFunctionDeclaration(decl) ? decl.name! : decl);
          if (splice) printed.set(decl, splice);
          else {
            l.replaced.delete(decl);
            l.replaced.delete(call);
            l.warned.add(call);
          }
        }
        // Only where the text holds a call or a generator: the rest may nest deeper than a recursive walk goes.
        const holds = candidatesIn(text, l.asyncNames);
        const replaced = encloses([...l.replaced.keys()]);
        const visit = (node: ts.Node): void => {
          if (!holds?.(node) && !replaced(node)) return;
          const replacement = l.replaced.get(node);
          if (replacement) {
            tsi.setEmitFlags(replacement, tsi.EmitFlags.NoComments);
            splices.push(printed.get(node) ?? print(node, replacement, node)!);
            return;
          }
          if (tsi.isCallExpression(node)) {
            const low = lowerCall(node, l, undefined);
            const splice = low && print(node, tsi.isParenthesizedExpression(low) ? low : f.createParenthesizedExpression(low), node.arguments[0]!);
            if (splice) return void splices.push(startsListedStatement(node, file) ? afterSemicolon(splice) : splice);
          }
          tsi.forEachChild(node, visit);
        };
        visit(root);
        return root;
      },
    ]);
    result.dispose();
    const print = (st: ts.Statement) => printer.printNode(tsi.EmitHint.Unspecified, st, file);
    // One line per module, runtimeOf's statements. A module of the user's that does not re-export all of
    // chronots has no runtime object: said at load, on the same line.
    const check = (spec: string, name: string) =>
      spec === "chronots" ? "" : `if (!${name}) throw new TypeError(${JSON.stringify(`chronots: '${spec}', listed in 'modules', must re-export all of chronots (export * from "chronots"): the lowered code reads its runtime from it`)}); `;
    for (const [spec, name] of used) {
      const [load, set, init] = runtimeOf(spec, name, "namespace").map(print);
      runtimes += `${load} ${set} `;
      const c = check(spec, name);
      if (c) checks.push([runtimes.length, runtimes.length + c.length - 1]);
      runtimes += `${c}${init}\n`;
    }
    consts = templates.statements().map((st) => print(st) + "\n").join("");
  } catch (e) {
    diagnostics.push({ file: undefined, start: undefined, length: undefined, category: tsi.DiagnosticCategory.Warning, code: INTERNAL_CODE, source: "chronots", messageText: `chronots: ${fileName} was not lowered: internal error (${messageOf(e)})` });
    return { splices: [], prelude: "", preludeAt: 0, preludeChecks: [], diagnostics };
  }
  const prelude = runtimes + consts;
  const lead = prelude && at > 0 && text[at - 1] !== "\n" ? 1 : 0;
  return { splices, prelude: (lead ? "\n" : "") + prelude, preludeAt: at, preludeChecks: checks.map(([s, e]) => [s + lead, e + lead]), diagnostics };
}

/**
 * Whether `call` is where a statement of a statement list starts: its splice, which begins with `(`, would
 * there continue the expression of a line above that has no `;` (`x = 1` then `async(…)()` reads `1(…)`).
 */
function startsListedStatement(call: ts.CallExpression, file: ts.SourceFile): boolean {
  const start = call.getStart(file);
  for (let n: ts.Node = call.parent; !tsi.isSourceFile(n); n = n.parent) {
    if (n.getStart(file) !== start) return false;
    // The body of an `if`, a loop or a label follows a `)`, `else`, `do` or `:`: a `;` there would become that body.
    if (tsi.isExpressionStatement(n)) return tsi.isBlock(n.parent) || tsi.isSourceFile(n.parent) || tsi.isCaseOrDefaultClause(n.parent) || tsi.isModuleBlock(n.parent);
    if (tsi.isStatement(n)) return false;
  }
  return false;
}

/** `splice` after a `;` of its own, its mappings moved one column to the right on its first line. */
function afterSemicolon(splice: Splice): Splice {
  return { ...splice, text: ";" + splice.text, mappings: splice.mappings.map(([line, column, sourceLine, sourceColumn]) => [line, line === 0 ? column + 1 : column, sourceLine, sourceColumn]) };
}

/**
 * Where the prelude goes: after a hashbang and the comments the file starts with, since pragmas
 * (`@jsx`, `@ts-nocheck`) count only there. That is the start of the next line, unless code follows
 * the last comment on its line: then right after the comment, before the code that may use it. (After
 * a directive prologue, when the file has one: lowerText.)
 */
function preludeOffset(text: string): number {
  const start = tsi.getShebang(text)?.length ?? 0;
  const end = tsi.getLeadingCommentRanges(text, start)?.at(-1)?.end ?? start;
  if (end === 0) return 0;
  const eol = text.indexOf("\n", end);
  const line = eol < 0 ? text.length : eol + 1;
  return text.slice(end, line).trim() === "" ? line : end;
}

/** An argument that is plainly no generator function: a literal of any kind, `null`, `true`, `false`, a class, or a unary operator's result. */
function isValue(e: ts.Expression): boolean {
  const k = e.kind;
  return (
    (k >= SK.FirstLiteralToken && k <= SK.LastLiteralToken) ||
    k === SK.TemplateExpression ||
    k === SK.ObjectLiteralExpression ||
    k === SK.ArrayLiteralExpression ||
    k === SK.NullKeyword ||
    k === SK.TrueKeyword ||
    k === SK.FalseKeyword ||
    k === SK.ClassExpression ||
    k === SK.PrefixUnaryExpression ||
    k === SK.VoidExpression ||
    k === SK.TypeOfExpression
  );
}
