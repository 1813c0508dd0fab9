/**
 * Hoisting: where each binding of a lowered generator lives once its body is cut into states.
 *
 * A binding declared in a scope that holds a suspension (an *exploded* scope, whose statements
 * become states of the step function) can no longer be declared where it stood, so it is hoisted:
 *  - to a plain local of the step function, copied into a closure *mirror* only when the body
 *    suspends on a pending future and copied back when it resumes (V8 keeps such locals in
 *    registers), or
 *  - to a closure variable of the outer function when a nested function captures it, since the
 *    closure must see one binding for the whole call.
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
import ts from "typescript";
import type { Analysis, Binding } from "./analyze.js";

/** Fresh names for one file: every generated name contains `mark`, which no identifier-like word of the file contains. */
export class Names {
  readonly mark: string;
  private counter = 0;
  constructor(text: string) {
    const words = (text.match(/[A-Za-z_$][\w$]+/g) ?? []).filter((w) => w.includes("$"));
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
  /** The environment object holding it as property `name`, for a captured per-iteration binding. */
  env: string | undefined;
}

const isLoop = (n: ts.Node): boolean => ts.isIterationStatement(n, false);

/** Whether the statements of this scope become states (the scope holds a suspension that needs them). */
export function isExploded(an: Analysis, node: ts.Node): boolean {
  if (node === an.fn) return an.suspends(an.fn.body);
  if (ts.isForInStatement(node) || ts.isForOfStatement(node)) return an.suspends(node.statement) || an.suspends(node.initializer);
  return an.suspends(node);
}

export function planHoisting(an: Analysis, names: Names): Map<Binding, Slot> {
  const slots = new Map<Binding, Slot>();
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
      slots.set(b, { binding: b, name: b.name === "__proto__" ? names.fresh(b.name) : b.name, mirror: undefined, env });
      continue;
    }
    const clash = count.get(b.name)! > 1 || an.free.has(b.name) || an.fn.name?.text === b.name;
    const name = clash ? names.fresh(b.name) : b.name;
    const closure = b.captured || (b.kind === "function" && node === an.fn);
    slots.set(b, { binding: b, name, mirror: closure ? undefined : names.mirror(name), env: undefined });
  }
  return slots;
}

function insideSuspendingLoop(an: Analysis, node: ts.Node): boolean {
  for (let n: ts.Node | undefined = node; n && n !== an.fn; n = n.parent) if (isLoop(n) && an.suspends(n)) return true;
  return false;
}
