/**
 * Applying a splice so that its source map stays precise.
 *
 * A lowered function is new text for the whole `async(…)` call, but most of its tokens are the
 * original's: the statements and expressions of the body, in the same order. Overwriting the call as
 * one chunk would map every line of it to the call's first line. Instead the original and the new text
 * are aligned token by token with a patience diff: equal ends are paired, then tokens that occur once
 * in the original (at their first place in the new text), in the longest order both agree on, and the gaps between those pairs recursively. Kept tokens stay as original text in the MagicString (so a hires map sends each of their
 * characters home); only the text between them is overwritten or inserted. The result is
 * byte-for-byte the new text whatever the alignment finds; alignment only decides the map.
 */
import type MagicString from "magic-string";

interface Token {
  text: string;
  start: number;
  end: number;
}

const TOKEN = /[A-Za-z_$][\w$]*|\d[\w.]*|"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|\S/g;

function tokens(text: string, offset: number): Token[] {
  const out: Token[] = [];
  for (const m of text.matchAll(TOKEN)) out.push({ text: m[0], start: offset + m.index, end: offset + m.index + m[0].length });
  return out;
}

/** Replace `code[start, end)` by `text` in `s`, keeping the tokens they share as original text. */
export function spliceAligned(s: MagicString, code: string, start: number, end: number, text: string): void {
  const o = tokens(code.slice(start, end), start);
  const r = tokens(text, 0);
  let oPos = start;
  let rPos = 0;
  const gap = (oEnd: number, rEnd: number) => {
    const insert = text.slice(rPos, rEnd);
    if (oPos < oEnd) {
      if (insert === "") s.remove(oPos, oEnd);
      else s.overwrite(oPos, oEnd, insert);
    } else if (insert !== "") s.appendLeft(oPos, insert);
  };
  const pairs: [number, number][] = [];
  match(o, r, 0, o.length, 0, r.length, pairs);
  for (const [i, j] of pairs) {
    gap(o[i]!.start, r[j]!.start);
    oPos = o[i]!.end;
    rPos = r[j]!.end;
  }
  gap(end, text.length);
}

/**
 * Pairs of equal tokens of `o[oLo, oHi)` and `r[rLo, rHi)`, increasing in both, appended to `out` in
 * order: the equal prefix and suffix, then the tokens unique to both ranges, with the gaps between
 * them aligned the same way (patience diff).
 */
function match(o: Token[], r: Token[], oLo: number, oHi: number, rLo: number, rHi: number, out: [number, number][]): void {
  while (oLo < oHi && rLo < rHi && o[oLo]!.text === r[rLo]!.text) out.push([oLo++, rLo++]);
  let tail = 0;
  while (oHi - tail > oLo && rHi - tail > rLo && o[oHi - tail - 1]!.text === r[rHi - tail - 1]!.text) tail++;
  let i0 = oLo;
  let j0 = rLo;
  for (const [i, j] of increasing(uniquePairs(o, r, oLo, oHi - tail, rLo, rHi - tail))) {
    match(o, r, i0, i, j0, j, out);
    out.push([i, j]);
    i0 = i + 1;
    j0 = j + 1;
  }
  if (i0 > oLo) match(o, r, i0, oHi - tail, j0, rHi - tail, out);
  for (let k = tail; k > 0; k--) out.push([oHi - k, rHi - k]);
}

/** Pairs (i, j) of tokens whose text occurs once in `o[oLo, oHi)`, with its first occurrence in `r[rLo, rHi)`, ordered by j. */
function uniquePairs(o: Token[], r: Token[], oLo: number, oHi: number, rLo: number, rHi: number): [number, number][] {
  const once = (ts: Token[], lo: number, hi: number) => {
    const seen = new Map<string, number>();
    for (let i = lo; i < hi; i++) seen.set(ts[i]!.text, seen.has(ts[i]!.text) ? -1 : i);
    return seen;
  };
  const inO = once(o, oLo, oHi);
  // The lowering emits some statements twice (the structured fast path, then the resumable states):
  // anchor the first copy, the one that runs unless a future is still pending.
  const first = new Map<string, number>();
  for (let j = rLo; j < rHi; j++) if (!first.has(r[j]!.text)) first.set(r[j]!.text, j);
  const pairs: [number, number][] = [];
  for (const [text, j] of first) {
    const i = inO.get(text);
    if (i !== undefined && i >= 0) pairs.push([i, j]);
  }
  return pairs.sort((a, b) => a[1] - b[1]);
}

/** The longest subsequence of `pairs` (ordered by j) whose i also increases. */
function increasing(pairs: [number, number][]): [number, number][] {
  const tails: number[] = [];
  const prev: number[] = new Array(pairs.length);
  for (let k = 0; k < pairs.length; k++) {
    let lo = 0;
    let hi = tails.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (pairs[tails[mid]!]![0] < pairs[k]![0]) lo = mid + 1;
      else hi = mid;
    }
    prev[k] = lo > 0 ? tails[lo - 1]! : -1;
    tails[lo] = k;
  }
  const out: [number, number][] = [];
  for (let k = tails.length > 0 ? tails[tails.length - 1]! : -1; k >= 0; k = prev[k]!) out.push(pairs[k]!);
  return out.reverse();
}
