/** Every side checks its own result, so a broken side fails loudly instead of looking fast. */
export function expectValue(what: string, got: unknown, want: unknown): void {
  if (got !== want) throw new Error(`${what}: expected ${String(want)}, got ${String(got)}`);
}

/** `1000000` → `1,000,000`, for titles. */
export function count(n: number): string {
  return n.toLocaleString("en-US");
}
