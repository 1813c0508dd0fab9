/**
 * Which files are chronots' own: the nearest package.json above a file that has a name names the
 * package it belongs to. The asyncCheck rule asks it of a class named `Future` (discards.ts), the editor and the check
 * of a transform entry written as a path (entry.ts).
 */
import { tsi } from "./compiler.js";

/** Package roots by directory: the root of the chronots package holding it, or null. */
const roots = new Map<string, string | null>();

/**
 * Drop what the lookups read. A one-shot host (tspc, `chronots check`) never needs to; the editor
 * does at each new program, since a package.json may appear, go or be renamed while it runs.
 */
export function forgetPackages(): void {
  roots.clear();
}

/**
 * The root directory of the chronots package holding `dir` (forward slashes), or null. A package.json
 * without a name only marks its folder's module type (chronots' own dist/cjs/package.json), so the
 * walk goes on past it to the package's.
 */
export function chronotsRoot(dir: string): string | null {
  let root = roots.get(dir);
  if (root !== undefined) return root;
  const cut = dir.lastIndexOf("/");
  const parent = cut > 0 ? dir.slice(0, cut) : "";
  const up = () => (parent ? chronotsRoot(parent) : null);
  const pkg = `${dir}/package.json`;
  if (tsi.sys.fileExists(pkg)) {
    let name: unknown;
    try {
      name = JSON.parse(tsi.sys.readFile(pkg) ?? "{}").name;
    } catch {
      name = null; // an unreadable package.json is not chronots'
    }
    root = name === "chronots" ? dir : name === undefined ? up() : null;
  } else root = up();
  roots.set(dir, root);
  return root;
}

/** `file`'s path inside the chronots package, or undefined when it is not in it. */
export function pathInChronots(file: string): string | undefined {
  const normal = file.replace(/\\/g, "/");
  const root = chronotsRoot(normal.slice(0, normal.lastIndexOf("/")));
  return root === null ? undefined : normal.slice(root.length + 1);
}
