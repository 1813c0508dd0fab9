/**
 * No part of chronots may take its host down (tspc, tsserver, `chronots check`): a part that fails
 * on a file gives one warning on that file naming the part and the error, whatever the entry's
 * severities say, and the host goes on with what the other parts found. The warning has a code of
 * its own, so that turning the driver warnings off (`"unlowered": "off"`) cannot hide it.
 */
import type * as ts from "typescript";
import { tsi } from "./compiler.js";

/** Diagnostic code of a part of chronots that failed on a file: `warning TS99303` in tsc's output. */
export const INTERNAL_CODE = 99303;

/** What a caught error says: its message, or the thrown value itself. */
export function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** The warning for a part of chronots that failed on `file`; `what` says what was not done. */
export function internalError(file: ts.SourceFile, what: string, e: unknown): ts.Diagnostic {
  return {
    file,
    start: 0,
    length: 0,
    category: tsi.DiagnosticCategory.Warning,
    code: INTERNAL_CODE,
    source: "chronots",
    messageText: `chronots: ${file.fileName} ${what}: internal error (${messageOf(e)})`,
  };
}

/** What `part` finds in `file`, or the warning that it failed. */
export function guarded(file: ts.SourceFile, what: string, part: () => ts.Diagnostic[]): ts.Diagnostic[] {
  try {
    return part();
  } catch (e) {
    return [internalError(file, what, e)];
  }
}
