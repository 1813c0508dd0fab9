#!/usr/bin/env node
// The `chronots` command. Commands live in the CommonJS build of transformer/ (dist/cjs), next to the
// ts-patch transformer, so that they share its TypeScript instance and rule implementation.
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const [command, ...args] = process.argv.slice(2);
const check = require("../dist/cjs/transformer/check.js");

if (command === "check") process.exitCode = check.main(args);
else if (command === "-h" || command === "--help") console.log(check.usage);
else if (command === "-v" || command === "--version") console.log(require("../package.json").version);
else {
  console.error(`${command === undefined ? "chronots: no command given" : `chronots: unknown command '${command}'`}\n${check.usage}`);
  process.exitCode = 2;
}
