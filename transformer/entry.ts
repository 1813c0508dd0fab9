/**
 * chronots' entries in a tsconfig's `compilerOptions.plugins` and what they say.
 *
 *   { "transform": "chronots/transformer", "discarded": "error", "unlowered": "warning" }   the build (tspc)
 *   { "name": "chronots/service", "discarded": "error" }                                    the editor
 *
 * `"discarded"` is the severity of a dropped Future (TS90001, discards.ts). `"unlowered"` is the
 * severity of a function left to the run-time driver (TS99301): "warning" by default, "error" for
 * a project that wants every function lowered, "off". The editor and `chronots check` emit nothing,
 * so for them a function left to the driver matters only when the build lowers: there it defaults
 * to the build entry's setting, and to "off" in a project without one (one that runs untransformed).
 */
export type Severity = "error" | "warning" | "off";

export interface PluginEntry {
  name?: string;
  transform?: string;
  discarded?: unknown;
  unlowered?: unknown;
  [option: string]: unknown;
}

const isBuild = (p: PluginEntry) => p.transform === "chronots/transformer";
const isEditor = (p: PluginEntry) => p.name === "chronots/service";

/** Read one of the severities from an entry; absent means `fallback`. */
export function severityOption(entry: Pick<PluginEntry, "discarded" | "unlowered"> | undefined, option: "discarded" | "unlowered", fallback: Severity): Severity {
  const v = entry?.[option];
  if (v === undefined) return fallback;
  if (v === "error" || v === "warning" || v === "off") return v;
  throw new TypeError(`chronots: plugin option "${option}" must be "error", "warning" or "off", got ${JSON.stringify(v)}`);
}

/** The entry `chronots check` reads its options from: the editor's, else the build's. */
export function chronotsEntry(plugins: readonly PluginEntry[] | undefined): PluginEntry | undefined {
  return plugins?.find(isEditor) ?? plugins?.find(isBuild);
}

/**
 * The severity of a function left to the driver where nothing is emitted: `entry`'s own setting,
 * else the build entry's among `plugins`, else "off" when the project has no build entry.
 */
export function unloweredWithoutEmit(entry: PluginEntry | undefined, plugins: readonly PluginEntry[] | undefined): Severity {
  const build = plugins?.find(isBuild);
  return severityOption(entry, "unlowered", build ? severityOption(build, "unlowered", "warning") : "off");
}
