// Runs every compiled example (dist/examples/*.js) in turn, each in its own process with source
// maps on; stops at the first one that fails.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";

const dir = new URL("../dist/examples/", import.meta.url).pathname;
for (const file of readdirSync(dir).filter((f) => f.endsWith(".js")).sort()) {
  const source = file.replace(/\.js$/, existsSync(new URL(`../examples/${file.replace(/\.js$/, ".tsx")}`, import.meta.url)) ? ".tsx" : ".ts");
  console.log(`\n== examples/${source}`);
  const run = spawnSync(process.execPath, ["--enable-source-maps", join(dir, file)], { stdio: "inherit", timeout: 60_000 });
  if (run.status !== 0) {
    console.error(`examples/${file}: exited with ${run.status ?? run.signal}`);
    process.exit(1);
  }
}
