/** A vitest reporter that ends the run with one plain line, `N passed, N failed`, for CI logs. */
import type { Reporter, TestModule } from "vitest/node";

export default class Summary implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>, errors: ReadonlyArray<unknown>): void {
    let passed = 0;
    let failed = errors.length;
    for (const m of modules) {
      if (m.state() === "failed" && [...m.children.allTests()].length === 0) failed++;
      for (const t of m.children.allTests()) {
        const state = t.result().state;
        if (state === "passed") passed++;
        else if (state === "failed") failed++;
      }
      // A file whose own hooks failed (the leak check in test/setup.ts) counts as a failure too.
      if (m.errors().length > 0) failed += m.errors().length;
    }
    process.stdout.write(`\n${passed} passed, ${failed} failed\n`);
  }
}
