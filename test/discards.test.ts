/**
 * The asyncCheck rule against test/fixtures/diagnostics: each line marked `// @discarded 'a' 'b'` must get
 * exactly those reports (named by the expression text, positioned on it), and no other line any report.
 * Then the three ways users meet the rule — the ts-patch transformer (through emit and through a real
 * `tspc`), the tsserver plugin, and the `chronots check` CLI — must print identical diagnostics.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync, copyFileSync, mkdirSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DISCARDED_CODE, discardedFutures, severityOf, type Severity } from "../transformer/discards.js";
import init from "../transformer/service.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const fixtures = join(root, "test/fixtures/diagnostics");
const fixtureConfig = join(fixtures, "tsconfig.json");

function parseConfig(file: string): ts.ParsedCommandLine {
  const host = { ...ts.sys, onUnRecoverableConfigFileDiagnostic: (d: ts.Diagnostic) => { throw new Error(ts.flattenDiagnosticMessageText(d.messageText, "\n")); } };
  return ts.getParsedCommandLineOfConfigFile(file, {}, host)!;
}

function fixtureProgram(): ts.Program {
  const cfg = parseConfig(fixtureConfig);
  return ts.createProgram(cfg.fileNames, cfg.options);
}

const formatHost: ts.FormatDiagnosticsHost = { getCanonicalFileName: (f) => f, getCurrentDirectory: () => root, getNewLine: () => "\n" };

/** tsc's plain one-line form, sorted: what every entry point is compared by. */
function lines(diags: readonly ts.Diagnostic[]): string[] {
  return ts.formatDiagnostics(diags, formatHost).split("\n").filter(Boolean).sort();
}

/** `file:line 'name'` for each marker in the fixtures. */
function expectedMarks(): string[] {
  const out: string[] = [];
  for (const name of readdirSync(fixtures).filter((f) => f.endsWith(".ts"))) {
    readFileSync(join(fixtures, name), "utf8").split("\n").forEach((text, i) => {
      const mark = text.match(/\/\/ @discarded (.*)$/);
      if (mark) for (const [, expr] of mark[1]!.matchAll(/'(.*?)'(?= '|$)/g)) out.push(`${name}:${i + 1} '${expr}'`);
    });
  }
  return out.sort();
}

function actualMarks(diags: readonly ts.Diagnostic[]): string[] {
  return diags
    .map((d) => {
      const named = ts.flattenDiagnosticMessageText(d.messageText, "\n").match(/^Future returned by '(.*)' is discarded;/)![1]!;
      const line = d.file!.getLineAndCharacterOfPosition(d.start!).line + 1;
      return `${basename(d.file!.fileName)}:${line} '${named}'`;
    })
    .sort();
}

function ruleOver(program: ts.Program, severity: Severity, under = fixtures): ts.Diagnostic[] {
  return program
    .getSourceFiles()
    .filter((sf) => sf.fileName.startsWith(under))
    .flatMap((sf) => discardedFutures(program, sf, severity));
}

describe("the rule on the fixtures", () => {
  const program = fixtureProgram();
  const found = ruleOver(program, "error");

  it("the fixtures are valid TypeScript", () => {
    const own = ts.getPreEmitDiagnostics(program).filter((d) => d.file?.fileName.startsWith(fixtures));
    expect(lines(own)).toEqual([]);
  });

  it("reports exactly the marked expressions", () => {
    const marks = expectedMarks();
    expect(marks.length).toBeGreaterThan(40);
    expect(actualMarks(found)).toEqual(marks);
  });

  it("positions each report on the expression it names", () => {
    for (const d of found) {
      const span = d.file!.text.slice(d.start!, d.start! + d.length!).replace(/\/\/.*$/gm, "").replace(/\s+/g, " ");
      const named = (d.messageText as string).match(/'(.*)' is discarded/)![1]!;
      expect(named.endsWith("…") ? span.startsWith(named.slice(0, -1)) : span === named).toBe(true);
    }
  });

  it("says what to do, with a stable code", () => {
    const d = found.find((x) => (x.messageText as string).startsWith("Future returned by 'job()'"))!;
    expect(d.code).toBe(DISCARDED_CODE);
    expect(d.category).toBe(ts.DiagnosticCategory.Error);
    expect(d.messageText).toBe(
      "Future returned by 'job()' is discarded; wait for it with 'yield* …', hand it to 'asyncCheck(…)', or drop it on purpose with 'asyncDiscard(…)'",
    );
  });

  it("reports nothing in clean.ts and lookalike.ts", () => {
    expect(lines(found.filter((d) => /(clean|lookalike)\.ts$/.test(d.file!.fileName)))).toEqual([]);
  });

  it("follows the severity", () => {
    const warnings = ruleOver(program, "warning");
    expect(warnings.length).toBe(found.length);
    expect(warnings.every((d) => d.category === ts.DiagnosticCategory.Warning)).toBe(true);
    expect(ruleOver(program, "off")).toEqual([]);
  });

  it("reads the severity from a plugin entry and rejects a bad one by name", () => {
    expect(severityOf(undefined)).toBe("error");
    expect(severityOf({})).toBe("error");
    expect(severityOf({ discarded: "warning" })).toBe("warning");
    expect(() => severityOf({ discarded: "loud" })).toThrow(/"discarded" must be "error", "warning" or "off", got "loud"/);
  });
});

describe("the project's own code", () => {
  it("runtime/ and examples/ drop no Future", () => {
    const files = ts.sys.readDirectory(root, [".ts"], undefined, ["runtime/**/*", "examples/**/*"]);
    expect(files.length).toBeGreaterThan(5);
    const program = ts.createProgram(files, parseConfig(join(root, "tsconfig.json")).options);
    const found = [join(root, "runtime"), join(root, "examples")].flatMap((dir) => ruleOver(program, "error", dir));
    expect(lines(found)).toEqual([]);
  });
});
