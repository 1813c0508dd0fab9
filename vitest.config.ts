/**
 * Two projects run every test file: "untransformed" as written (async() drives real generators) and
 * "transformed" through the chronots/vite plugin (async(function* …) lowered to state machines), so
 * each runtime test is also a test of the lowering. Files about the transformer itself run once.
 * CHRONOTS_MODE tells a test which project it is in (test/modes.test.ts checks the plugin really ran).
 */
import { configDefaults, defineConfig } from "vitest/config";
import chronots from "./transformer/vite.js";

const tests = ["test/**/*.test.ts"];

export default defineConfig({
  test: {
    pool: "forks",
    testTimeout: 20000,
    setupFiles: ["test/setup.ts"],
    reporters: ["default", "./test/summary.ts"],
    projects: [
      {
        extends: true,
        test: { name: "untransformed", include: tests, env: { CHRONOTS_MODE: "untransformed" } },
      },
      {
        extends: true,
        // Tests import the runtime by relative path; the plugin matches those by the file they resolve to.
        plugins: [chronots({ modules: ["chronots", "./runtime/index.ts", "./runtime/async.ts"] })],
        test: {
          name: "transformed",
          include: tests,
          exclude: [...configDefaults.exclude, "test/lowering*", "test/discards*", "test/unlowered*", "test/fuzz*", "test/vite*", "test/watchdog*"],
          env: { CHRONOTS_MODE: "transformed" },
        },
      },
    ],
  },
});
