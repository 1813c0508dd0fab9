/**
 * The `chronots` command's usage text, apart from the commands themselves: `--help` and a wrong command
 * print it without loading TypeScript, which a runtime-only install does not have.
 */
export const usage = `Usage: chronots check [-p <tsconfig.json or directory>] [--pretty | --no-pretty]
Reports the program's type errors, every discarded Future, every yield of a non-Future and, when the
build lowers, every function left to the run-time driver, like tsc; exits 1 on errors. Without -p, the
tsconfig.json of the current folder or the nearest one above it, as tsc finds it.`;
