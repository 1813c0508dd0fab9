#!/usr/bin/env node
// The `chronots` command. Commands live in the CommonJS build of transformer/ (dist/cjs), next to the
// ts-patch transformer, so that they share its TypeScript instance and rule implementation.
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const [command, ...args] = process.argv.slice(2);

// A reader that stops early (`chronots check | head`) closes the pipe: the rest is not wanted, as tsc takes it.
process.stdout.on("error", (e) => {
  if (e.code !== "EPIPE") throw e;
  process.exit(process.exitCode ?? 0);
});

const { usage } = require("../dist/cjs/transformer/usage.js");

const help = (a) => a === "-h" || a === "--help";

// Help, `check --help` too, needs no compiler.
if (help(command) || (command === "check" && args.some(help))) console.log(usage);
else if (command === "check") process.exitCode = loadCheck().main(args);
else if (command === "-v" || command === "--version") console.log(require("../package.json").version);
else {
  console.error(`${command === undefined ? "chronots: no command given" : `chronots: unknown command '${command}'`}\n${usage}`);
  process.exitCode = 2;
}

/** The check, which needs the typescript package: a peer dependency the project may lack. */
function loadCheck() {
  try {
    return require("../dist/cjs/transformer/check.js");
  } catch (e) {
    if (e?.code !== "MODULE_NOT_FOUND" || !/'typescript'/.test(e.message)) throw e;
    console.error("chronots: the typescript package is not installed here, and chronots check runs TypeScript's checker (5.9 or 6): npm install -D typescript@~5.9");
    process.exit(2);
  }
}
