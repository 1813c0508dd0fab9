/**
 * Which types are chronots' Future: a class named `Future` declared in `runtime/future.ts` or
 * `dist/**\/future.d.ts` of the package whose package.json says `"name": "chronots"` (a user's own
 * class named Future is not it), its subclasses, and a type parameter constrained to one. Unions
 * and intersections include a Future when one of their members is one. The asyncCheck rule
 * (discards.ts) and the yield rule (yields.ts) ask it.
 */
import type * as ts from "typescript";
import { SK, tsi } from "./compiler.js";
import { pathInChronots } from "./package.js";

export interface FutureTypes {
  isFuture(t: ts.Type): boolean;
  /** A Future, or a union or intersection with one among its members. */
  includesFuture(t: ts.Type): boolean;
  /** A Future whatever it is at run time: each member of a union is one. */
  alwaysFuture(t: ts.Type): boolean;
  /** The type of `e`; a call's from its resolved signature, which the type check has cached (asking for the call's type checks its callee again). */
  typeOf(e: ts.Expression): ts.Type;
}

/** The test for one checker, remembering each class it has judged. */
export function futureTypes(checker: ts.TypeChecker): FutureTypes {
  const judged = new Map<ts.Type, boolean>();

  function isFuture(t: ts.Type): boolean {
    if (t.flags & tsi.TypeFlags.TypeParameter) {
      const c = checker.getBaseConstraintOfType(t);
      return c !== undefined && c !== t && includesFuture(c);
    }
    const target = t.flags & tsi.TypeFlags.Object && (t as ts.ObjectType).objectFlags & tsi.ObjectFlags.Reference ? (t as ts.TypeReference).target : t;
    let known = judged.get(target);
    if (known === undefined) {
      judged.set(target, false); // a class hierarchy cannot loop, but a broken program might
      const sym = target.getSymbol();
      known =
        (sym?.name === "Future" && sym.declarations?.some((d) => tsi.isClassDeclaration(d) && isChronotsFutureFile(d.getSourceFile().fileName))) ||
        (!!((target as ts.ObjectType).objectFlags & tsi.ObjectFlags.ClassOrInterface) &&
          checker.getBaseTypes(target as ts.InterfaceType).some(isFuture));
      judged.set(target, known);
    }
    return known;
  }

  function includesFuture(t: ts.Type): boolean {
    return t.isUnionOrIntersection() ? t.types.some(includesFuture) : isFuture(t);
  }

  function alwaysFuture(t: ts.Type): boolean {
    return t.isUnion() ? t.types.every(isFuture) : includesFuture(t);
  }

  function typeOf(e: ts.Expression): ts.Type {
    if ((tsi.isCallExpression(e) || tsi.isNewExpression(e)) && e.expression.kind !== SK.ImportKeyword && e.expression.kind !== SK.SuperKeyword) {
      const sig = checker.getResolvedSignature(e);
      if (sig) return checker.getReturnTypeOfSignature(sig);
    }
    return checker.getTypeAtLocation(e);
  }

  return { isFuture, includesFuture, alwaysFuture, typeOf };
}

function isChronotsFutureFile(fileName: string): boolean {
  if (!/[\\/]future\.(ts|d\.[cm]?ts)$/.test(fileName)) return false;
  const inner = pathInChronots(fileName);
  return inner !== undefined && /^(runtime\/future\.ts|dist\/(.+\/)?future\.d\.[cm]?ts)$/.test(inner);
}

/** Whether TypeScript reports type errors in `sf` (the rules report none where it does not): not under `--noCheck` or `// @ts-nocheck`, and a JavaScript file only with `checkJs` or `// @ts-check`. */
export function typeChecked(sf: ts.SourceFile, options: ts.CompilerOptions): boolean {
  if (options.noCheck) return false;
  // `checkJsDirective` is internal to TypeScript: the parser sets it from a file's @ts-check / @ts-nocheck.
  const directive = (sf as { checkJsDirective?: { enabled: boolean } }).checkJsDirective;
  if (directive) return directive.enabled;
  return !/\.[cm]?jsx?$/.test(sf.fileName) || !!options.checkJs;
}
