/**
 * A captured value's text from its external term format: `formatTerm(bytes, opts)` decodes one
 * ETF term (`:erlang.term_to_binary/1`, first byte 131) and prints it exactly as the agent's
 * `ElixirScope.Agent.Value.format(term, %{max_chars:, max_items:, max_depth:})` does on Elixir
 * 1.14 / OTP 25, so that the agent can send bytes instead of formatting on the user's node.
 *
 * It is a port of value.ex, clause by clause: the integer/atom/short-binary fast paths, `fmt/4`
 * with its byte budget (`left`), "…" where something was left out, "..." after `max_items`,
 * containers deeper than `max_depth` as "…", and the final cut to `max_chars` code points.
 * Where value.ex calls `inspect/2`, the parts of Elixir's Inspect implementations it reaches are
 * ported too: atoms (Macro.inspect_atom/2 and the identifier tokenizer it relies on), strings
 * and charlists with Code.Identifier.escape/3, non-printable binaries, floats (OTP's shortest
 * round-trip form). test/recorder/term-text.test.ts compares the two on a real BEAM.
 *
 * The bytes are read in place: no tree is built, the text is written as UTF-8 into one reused
 * buffer (value.ex's budget counts bytes) and decoded once, and what the budget leaves out is
 * skipped without being decoded. Only `Uint8Array` work and standard JavaScript (TextDecoder),
 * no Node or vscode API, so that the webview can use it as well.
 *
 * Map pairs are printed in the order the bytes give them, which is `:maps.to_list/1`'s order for
 * everything term_to_binary writes (small maps sorted, large ones in hash-trie order); bytes
 * written otherwise (unsorted small maps, non-normalized big integers used as characters) may
 * print differently from the term binary_to_term would make of them.
 *
 * Terms the agent never sends as bytes (funs, bitstrings, structs outside its prune markers,
 * compressed terms) and malformed bytes throw a TermTextError; the caller prints a placeholder.
 * Where Elixir itself raises inside `Value.format` (whose rescue prints "#<unprintable value>"),
 * that text is returned.
 */

/** The limits of `Value.format/2`'s options map. */
export interface TermTextOptions {
  maxChars: number;
  maxItems: number;
  maxDepth: number;
}

/** A term that is not decoded here: malformed bytes, or a kind the agent never sends. */
export class TermTextError extends Error {
  override name = "TermTextError";
}

const UNPRINTABLE = "#<unprintable value>";

/** Thrown where value.ex would raise; formatGeneral turns it into UNPRINTABLE. */
const unprintable = { unprintable: true };

// ETF tags (erts external.h), a const enum so that they are inlined (module-level constants
// are loads in the hot paths).
const enum Tag {
  SMALL_INTEGER = 97,
  INTEGER = 98,
  FLOAT = 70,
  SMALL_BIG = 110,
  LARGE_BIG = 111,
  ATOM = 100,
  SMALL_ATOM = 115,
  ATOM_UTF8 = 118,
  SMALL_ATOM_UTF8 = 119,
  SMALL_TUPLE = 104,
  LARGE_TUPLE = 105,
  NIL = 106,
  STRING = 107,
  LIST = 108,
  BINARY = 109,
  BIT_BINARY = 77,
  MAP = 116,
  NEW_PID = 88,
  PID = 103,
  NEWER_REFERENCE = 90,
  NEW_REFERENCE = 114,
  V4_PORT = 120,
  NEW_PORT = 89,
  PORT = 102,
}

const TAG_NAMES: Record<number, string> = {
  68: "distribution header", 77: "bitstring", 80: "compressed term", 82: "atom cache reference",
  99: "old float", 101: "old reference", 112: "fun", 113: "external fun", 117: "old fun",
};

// The state of one formatTerm call, module-level so that the recursive formatter passes only
// positions and budgets around (formatTerm is synchronous and never reentered).
let B: Uint8Array = new Uint8Array(0);
let START = 0;
let END = 0;
/** The position after the term that the last fmt/atomAt/integerText/... call read. */
let next = 0;
/** The text so far, in UTF-8: value.ex's budget counts the bytes of its iodata. */
let O = new Uint8Array(1024);
let op = 0;
let maxItems = 0, maxDepth = 0, maxChars = 0;
/** Inside `{:"$elixir_scope_pruned", term}`, where value.ex reads the prune markers. */
let pruned = false;

// Whether something was left out: the `truncated?` that value.ex's functions return and
// combine with `or`. A prune marker's `cut?` may be any term (the marker is matched, not
// checked), and Elixir's `or` raises on a non-boolean left operand, so besides true and false
// there are other terms: nil (X_NIL, which `if` takes as false) and the rest (X).
const enum Trunc {
  F,
  T,
  X,
  X_NIL,
}
/** The truncated? of the last fmt call. */
let rt: Trunc = Trunc.F;

/** Elixir's `a or b`. */
function or(a: Trunc, b: Trunc): Trunc {
  if (a === Trunc.F) return b;
  if (a === Trunc.T) return Trunc.T;
  throw unprintable; // BadBooleanError
}

const EMPTY: Uint8Array = new Uint8Array(0);

/**
 * The text `Value.format(term, opts)` gives for the ETF term at `offset` (its version byte 131)
 * that fills `length` bytes. Throws a TermTextError on malformed or unsupported terms.
 */
export function formatTerm(
  bytes: Uint8Array,
  opts: TermTextOptions,
  offset = 0,
  length = bytes.length - offset,
): string {
  if (offset < 0 || length < 0 || offset + length > bytes.length) {
    throw new TermTextError(`term range ${offset}+${length} is outside the ${bytes.length} bytes given`);
  }
  if (length < 2 || bytes[offset] !== 131) {
    const first = length ? String(bytes[offset]) : "missing";
    throw new TermTextError(`not an external term: the first byte is ${first}, expected 131 (term_to_binary)`);
  }
  B = bytes;
  START = offset;
  END = offset + length;
  maxItems = opts.maxItems;
  maxDepth = opts.maxDepth;
  maxChars = opts.maxChars;
  try {
    const text = formatTop(offset + 1);
    if (next !== END) throw new TermTextError(`${END - next} stray bytes after the term, at byte ${next - START}`);
    return text;
  } finally {
    B = EMPTY; // keep neither the caller's buffer nor a huge text alive
    if (O.length > 1 << 20) O = new Uint8Array(1024);
  }
}

// `Value.format/2`: integers, atoms and short binaries without the general machinery.
function formatTop(p: number): string {
  const tag = tagAt(p);
  if (isIntegerTag(tag)) return integerText(p);
  if (isAtomTag(tag)) {
    const a = atomAt(p);
    if (a.literalBytes <= maxChars) return a.literal;
  } else if (tag === Tag.BINARY) {
    const text = topBinary(p);
    if (text !== null) return text;
  }
  return formatGeneral(p);
}

function topBinary(p: number): string | null {
  const len = u32(p + 1), s = p + 5, e = s + len;
  if (e > END) malformed(p, "a binary runs past the end");
  next = e;
  if (len > maxChars) return null;
  if (plainAscii(s, e)) return len + 2 <= maxChars ? '"' + asciiText(s, e) + '"' : null;
  if (!printable(s, e)) return null;
  const text = inspectString(s, e, 4096); // inspect/1's default printable_limit
  return utf8Length(text) <= maxChars ? text : null;
}

function formatGeneral(p: number): string {
  op = 0;
  pruned = false;
  const start = p;
  if (B[p] === Tag.SMALL_TUPLE && B[p + 1] === 2 && isAtomTag(tagAt(p + 2)) && atomAt(p + 2).marker === Marker.Pruned) {
    pruned = true;
    p = next;
  }
  try {
    // The byte budget lets generation stop early on huge values; the exact character limit is
    // applied at the end (as value.ex does).
    fmt(p, 1, maxChars * 4 + 16);
    return finish(or(rt, pruned ? Trunc.T : Trunc.F) === Trunc.T, maxChars);
  } catch (e) {
    if (e !== unprintable) throw e;
    next = skip(start);
    return UNPRINTABLE;
  }
}

// Character counts are in code points; a longer text is cut to `max - 1` of them and "…".
function finish(truncated: boolean, max: number): string {
  if (op > max) {
    const keep = Math.max(max - 1, 0);
    let cps = 0, cutAt = 0;
    for (let i = 0; i < op; i++) {
      if ((O[i] & 0xc0) === 0x80) continue;
      if (cps === keep) cutAt = i;
      cps++;
    }
    if (cps > max) {
      op = cutAt;
      putEllipsis();
    }
  }
  if (truncated && !(op >= 3 && O[op - 3] === 0xe2 && O[op - 2] === 0x80 && O[op - 1] === 0xa6)) putEllipsis();
  return outText();
}

// ## Output

function room(n: number): void {
  if (op + n <= O.length) return;
  const bigger = new Uint8Array(Math.max(O.length * 2, op + n));
  bigger.set(O.subarray(0, op));
  O = bigger;
}

// The writers copy the output state into locals: module-level variables cost a memory access
// each time, which adds up a byte at a time.
function putAscii(t: string): void {
  room(t.length);
  const o = O;
  let q = op;
  for (let i = 0; i < t.length; i++) o[q++] = t.charCodeAt(i);
  op = q;
}

/** A string in UTF-8. */
function putText(t: string): void {
  room(t.length * 3);
  const o = O;
  let q = op;
  for (let i = 0; i < t.length; i++) {
    let c = t.charCodeAt(i);
    if (c < 0x80) o[q++] = c;
    else if (c < 0x800) {
      o[q++] = 0xc0 | (c >> 6);
      o[q++] = 0x80 | (c & 63);
    } else if (c >= 0xd800 && c <= 0xdbff && i + 1 < t.length) {
      c = 0x10000 + ((c - 0xd800) << 10) + (t.charCodeAt(++i) - 0xdc00);
      o[q++] = 0xf0 | (c >> 18);
      o[q++] = 0x80 | ((c >> 12) & 63);
      o[q++] = 0x80 | ((c >> 6) & 63);
      o[q++] = 0x80 | (c & 63);
    } else {
      o[q++] = 0xe0 | (c >> 12);
      o[q++] = 0x80 | ((c >> 6) & 63);
      o[q++] = 0x80 | (c & 63);
    }
  }
  op = q;
}

function putBytes(src: Uint8Array, s: number, e: number): void {
  room(e - s);
  const o = O;
  if (e - s > 32) o.set(src.subarray(s, e), op);
  else for (let i = s, q = op; i < e; i++) o[q++] = src[i];
  op += e - s;
}

/** "…": three bytes, which is how value.ex's budget counts it. */
function putEllipsis(): void {
  room(3);
  O[op++] = 0xe2;
  O[op++] = 0x80;
  O[op++] = 0xa6;
}

function putComma(): void {
  room(2);
  O[op++] = 44;
  O[op++] = 32;
}

/** The decimal digits of a non-negative integer below 2^53. */
function putUint(n: number): void {
  if (n < 4294967296) {
    room(10);
    op = writeUint(O, op, n);
  } else putAscii(String(n));
}

/** Writes the decimal digits of n (below 2^32) at q; returns the position after them. */
function writeUint(o: Uint8Array, q: number, n: number): number {
  if (n < 10) {
    o[q] = 48 + n;
    return q + 1;
  }
  if (n < 100) {
    o[q] = DIGIT_PAIRS[2 * n];
    o[q + 1] = DIGIT_PAIRS[2 * n + 1];
    return q + 2;
  }
  if (n >= 0x80000000) {
    // The high digits, then the low five, to stay in int32 arithmetic.
    const hi = (n / 100000) | 0;
    q = writeUint(o, q, hi);
    let lo = n - hi * 100000;
    for (let i = q + 4; i > q; i -= 2) {
      const d = (lo / 100) | 0, r = 2 * (lo - d * 100);
      o[i] = DIGIT_PAIRS[r + 1];
      o[i - 1] = DIGIT_PAIRS[r];
      lo = d;
    }
    o[q] = 48 + lo;
    return q + 5;
  }
  let digits = 3;
  for (let m = n; m >= 1000; m = (m / 10) | 0) digits++;
  const end = q + digits;
  let i = end;
  while (n >= 100) {
    const d = (n / 100) | 0, r = 2 * (n - d * 100);
    o[--i] = DIGIT_PAIRS[r + 1];
    o[--i] = DIGIT_PAIRS[r];
    n = d;
  }
  if (n >= 10) {
    o[--i] = DIGIT_PAIRS[2 * n + 1];
    o[--i] = DIGIT_PAIRS[2 * n];
  } else o[--i] = 48 + n;
  return end;
}

const DIGIT_PAIRS = Uint8Array.from({ length: 200 }, (_, i) => 48 + (i % 2 ? (i >> 1) % 10 : Math.floor((i >> 1) / 10)));

function putInt(n: number): void {
  if (n < 0) {
    room(1);
    O[op++] = 45;
    n = -n;
  }
  putUint(n);
}

// ignoreBOM: a text that starts with U+FEFF keeps it (inspect escapes it anyway).
const textDecoder = new TextDecoder("utf-8", { ignoreBOM: true });

// A TextDecoder call costs more than building a string of up to 40 characters by hand.
function outText(): string {
  const o = O, n = op;
  if (n > 40) return textDecoder.decode(o.subarray(0, n));
  for (let i = 0; i < n; i++) if (o[i] >= 0x80) return textDecoder.decode(o.subarray(0, n));
  if (n <= 8) {
    let t = "";
    for (let i = 0; i < n; i++) t += String.fromCharCode(o[i]);
    return t;
  }
  // One call with forty arguments (O is never shorter), cut to size: a flat string at once.
  const t = String.fromCharCode(
    o[0], o[1], o[2], o[3], o[4], o[5], o[6], o[7], o[8], o[9], o[10], o[11], o[12], o[13], o[14], o[15], o[16], o[17], o[18], o[19],
    o[20], o[21], o[22], o[23], o[24], o[25], o[26], o[27], o[28], o[29], o[30], o[31], o[32], o[33], o[34], o[35], o[36], o[37], o[38], o[39],
  );
  return n === 40 ? t : t.slice(0, n);
}

// ## fmt(term, depth, left): appends the term's text to the output and returns the budget left.

function fmt(p: number, depth: number, left: number): number {
  if (left <= 0) {
    putEllipsis();
    rt = Trunc.T;
    next = skip(p);
    return left;
  }
  const tag = tagAt(p);
  rt = Trunc.F;
  const o0 = op;
  switch (tag) {
    case Tag.SMALL_INTEGER:
      putUint(u8(p + 1));
      next = p + 2;
      return left - (op - o0);
    case Tag.INTEGER:
      putInt(u32(p + 1) | 0);
      next = p + 5;
      return left - (op - o0);
    case Tag.SMALL_BIG:
    case Tag.LARGE_BIG:
      putAscii(integerText(p));
      return left - (op - o0);
    case Tag.FLOAT:
      putAscii(floatText(p));
      return left - (op - o0);
    case Tag.NEW_PID:
    case Tag.PID:
    case Tag.NEWER_REFERENCE:
    case Tag.NEW_REFERENCE:
    case Tag.V4_PORT:
    case Tag.NEW_PORT:
    case Tag.PORT:
      putIdentifier(p);
      return left - (op - o0);
    case Tag.ATOM:
    case Tag.SMALL_ATOM:
    case Tag.ATOM_UTF8:
    case Tag.SMALL_ATOM_UTF8: {
      const a = atomAt(p);
      putBytes(a.literalUtf8, 0, a.literalBytes);
      return left - a.literalBytes;
    }
    case Tag.BINARY:
      return fmtBinary(p, left);
    case Tag.SMALL_TUPLE:
    case Tag.LARGE_TUPLE:
    case Tag.NIL:
    case Tag.STRING:
    case Tag.LIST:
    case Tag.MAP:
      if (depth > maxDepth) {
        putEllipsis();
        rt = Trunc.T;
        next = skip(p);
        return left - 3;
      }
      if (tag === Tag.MAP) return fmtMap(p, depth, left);
      if (tag === Tag.SMALL_TUPLE || tag === Tag.LARGE_TUPLE) return fmtTuple(p, depth, left);
      return fmtList(p, depth, left);
    default:
      return unsupported(p);
  }
}

/** fmt/4 of a small integer (a STRING_EXT element). */
function fmtSmall(c: number, left: number): number {
  if (left <= 0) {
    putEllipsis();
    rt = Trunc.T;
    return left;
  }
  rt = Trunc.F;
  putUint(c);
  return left - (c < 10 ? 1 : c < 100 ? 2 : 3);
}

function fmtTuple(p: number, depth: number, left: number): number {
  const big = B[p] === Tag.LARGE_TUPLE;
  const arity = big ? u32(p + 1) : u8(p + 1);
  const first = p + (big ? 5 : 2);
  if (pruned && arity === 3 && isAtomTag(tagAt(first))) {
    const marker = atomAt(first).marker;
    const second = next;
    if (marker === Marker.CutBin && isIntegerTag(tagAt(second))) return fmtCutBin(skip(second), left);
    if (marker === Marker.Map) return fmtMapMarker(second, depth, left);
    if (marker === Marker.CutTuple) {
      left = fmtSeq(second, second, -1, "{", "}", depth, left, true);
      next = skip(next); // the tuple's size
      return left;
    }
  }
  return fmtSeq(p, first, arity, "{", "}", depth, left, false);
}

// {@cut_bin, size, prefix}: the prefix as a binary, then "…".
function fmtCutBin(prefix: number, left: number): number {
  if (tagAt(prefix) !== Tag.BINARY) throw unprintable;
  left = fmtBinary(prefix, left);
  putEllipsis();
  rt = Trunc.T;
  return left - 3;
}

// {@map, pairs, cut?}: the pairs, as `%Mod{...}` when the first `:__struct__` one names a module.
function fmtMapMarker(pairs: number, depth: number, left: number): number {
  const cutAt = skip(pairs);
  const cut = truncValue(cutAt);
  const end = skip(cutAt);
  const found = keytakeStruct(pairs);
  const open = found >= 0 ? "%" + atomAt(structModule).literal + "{" : "%{";
  left = fmtPairs(pairs, pairs, -1, found, open, "}", depth, left, cut, isKeyword(pairs, found));
  next = end;
  return left;
}

function fmtMap(p: number, depth: number, left: number): number {
  const n = u32(p + 1);
  let pos = p + 5, keyword = true;
  for (let i = 0; i < n; i++) {
    if (isAtomTag(tagAt(pos))) {
      const a = atomAt(pos);
      if (a.elixirPrefix) keyword = false;
      pos = next;
      if (a.marker === Marker.Struct && isAtomTag(tagAt(pos))) {
        throw new TermTextError("a struct is not sent as an external term (its Inspect implementation prints it)");
      }
    } else {
      keyword = false;
      pos = skip(pos);
    }
    pos = skip(pos);
  }
  return fmtPairs(p, p + 5, n, -1, "%{", "}", depth, left, Trunc.F, keyword);
}

function fmtList(p: number, depth: number, left: number): number {
  if (B[p] === Tag.NIL || (B[p] === Tag.STRING && u16(p + 1) === 0)) {
    putAscii("[]");
    next = p + (B[p] === Tag.NIL ? 1 : 3);
    return left - 2;
  }
  if (!pruned && asciiPrintable(p, maxChars) && isProper(p)) return fmtCharlist(p, left);
  if (isKeyword(p, -1)) return fmtPairs(p, p, -1, -1, "[", "]", depth, left, Trunc.F, true);
  return fmtSeq(p, p, -1, "[", "]", depth, left, false);
}

// ## Lists, read with a cursor
//
// openRest(pos) reads "the rest of a list" at pos and leaves in cState whether it has elements
// (cCount of them at cPos, the bytes of a STRING_EXT when cStr), ends with [] (cPos is then
// the end) or is an improper tail (the term at cPos). A LIST_EXT whose tail is itself a list
// is read on into that list, as binary_to_term joins them. Callers copy the state into locals
// at once, since nested reads reuse it.

const enum Rest {
  Elems,
  Nil,
  Tail,
}
let cState = Rest.Nil, cPos = 0, cCount = 0, cStr = false;

function openRest(pos: number): void {
  {
    const tag = tagAt(pos);
    if (tag === Tag.NIL) {
      cState = Rest.Nil;
      cPos = pos + 1;
    } else if (tag === Tag.LIST) {
      const n = u32(pos + 1);
      // binary_to_term reads this as just its tail; term_to_binary never writes it, and
      // allowing it everywhere a term may start is not worth it.
      if (n === 0) malformed(pos, "a list of no elements");
      cState = Rest.Elems;
      cPos = pos + 5;
      cCount = n;
      cStr = false;
    } else if (tag === Tag.STRING) {
      const n = u16(pos + 1);
      if (pos + 3 + n > END) malformed(pos, "a string runs past the end");
      cState = n === 0 ? Rest.Nil : Rest.Elems;
      cPos = pos + 3;
      cCount = n;
      cStr = true;
    } else {
      cState = Rest.Tail;
      cPos = pos;
    }
    return;
  }
}

/** Moves on past one element, which ended at `pos`, of a segment that had `count` left. */
function stepCursor(pos: number, count: number, str: boolean): void {
  if (count > 1) {
    cState = Rest.Elems;
    cPos = pos;
    cCount = count - 1;
    cStr = str;
  } else if (str) {
    cState = Rest.Nil;
    cPos = pos;
  } else openRest(pos);
}

/** The position after the list element (or tuple element) at pos. */
function elemEnd(pos: number, str: boolean): number {
  return str ? pos + 1 : skip(pos);
}

// ## Sequences: fmt_seq/7 and seq_parts/7
//
// `count >= 0`: a tuple's `count` elements, the first at `first`; `count < 0`: the list (or,
// for a cut tuple's elems, any term) at `first`. `start` is where the whole term begins.

function fmtSeq(start: number, first: number, count: number, open: string, close: string, depth: number, left: number, cut: boolean): number {
  putText(open);
  const tuple = count >= 0;
  let state: Rest, pos: number, str = false;
  if (tuple) {
    state = count > 0 ? Rest.Elems : Rest.Nil;
    pos = first;
  } else {
    openRest(first);
    state = cState;
    pos = cPos;
    count = cCount;
    str = cStr;
  }
  let n = maxItems, none = true, early = false, tail = false, tr: Trunc = Trunc.F;
  for (;;) {
    if (state === Rest.Nil) break;
    if (left <= 0) {
      if (!none) putComma();
      putEllipsis();
      none = false;
      tr = Trunc.T;
      early = true;
      break;
    }
    if (state === Rest.Tail) {
      if (pruned && isCut(pos)) {
        if (!none) putComma();
      putEllipsis();
        none = false;
        tr = Trunc.T;
      } else {
        putAscii(" | ");
        left = fmt(pos, depth + 1, left - 3);
        tr = or(tr, rt);
        tail = true;
      }
      pos = next;
      break;
    }
    if (pruned && !str && count === 1 && isCut(pos) && (tuple || restIsNil(next))) {
      if (!none) putComma();
      putEllipsis();
      none = false;
      tr = Trunc.T;
      early = true;
      break;
    }
    if (n === 0) {
      if (!none) putComma();
      putAscii("...");
      none = false;
      left -= 5;
      tr = Trunc.T;
      early = true;
      break;
    }
    if (!none) putComma();
    none = false;
    if (str) left = fmtSmall(B[pos++], left - 2);
    else {
      left = fmt(pos, depth + 1, left - 2);
      pos = next;
    }
    tr = or(tr, rt);
    n--;
    if (--count === 0) {
      if (tuple || str) state = Rest.Nil;
      else {
        openRest(pos);
        state = cState;
        pos = cPos;
        count = cCount;
        str = cStr;
      }
    }
  }
  if (cut && !tail) {
    if (!none) putComma();
    putEllipsis();
  }
  putAscii(close);
  rt = or(tr, cut ? Trunc.T : Trunc.F);
  next = early ? skip(start) : pos;
  return left - 2;
}

function restIsNil(pos: number): boolean {
  openRest(pos);
  return cState === Rest.Nil;
}

function isCut(pos: number): boolean {
  return isAtomTag(tagAt(pos)) && atomAt(pos).marker === Marker.Cut;
}

// ## Pairs: fmt_pairs/7 and pair_parts/8, for maps (count >= 0 pairs of terms from `first`)
// and for lists of `{key, value}` tuples (count < 0), leaving out the element at `skipIndex`.

function fmtPairs(start: number, first: number, count: number, skipIndex: number, open: string, close: string, depth: number, left: number, cut: Trunc, keyword: boolean): number {
  putText(open);
  const map = count >= 0;
  let state: Rest, pos: number, str = false;
  if (map) {
    state = count > 0 ? Rest.Elems : Rest.Nil;
    pos = first;
  } else {
    openRest(first);
    state = cState;
    pos = cPos;
    count = cCount;
    str = cStr;
  }
  let n = maxItems, none = true, early = false, index = 0, tr: Trunc = Trunc.F;
  for (;;) {
    if (state === Rest.Nil) break;
    if (index === skipIndex) {
      pos = skip(pos);
    } else {
      if (left <= 0) {
        if (!none) putComma();
      putEllipsis();
        none = false;
        tr = Trunc.T;
        early = true;
        break;
      }
      if (n === 0) {
        if (!none) putComma();
      putAscii("...");
        none = false;
        left -= 5;
        tr = Trunc.T;
        early = true;
        break;
      }
      let k = pos;
      if (!map) {
        // pair_parts/8 matches only `[{k, v} | rest]`: anything else raises.
        if (state === Rest.Tail || str) throw unprintable;
        k = pairKey(pos);
      }
      if (!none) putComma();
      none = false;
      let tk: Trunc = Trunc.F;
      if (keyword) {
        const a = atomAt(k);
        putBytes(a.keyUtf8, 0, a.keyBytes);
        room(1);
        O[op++] = 32;
        left -= a.keyBytes + 1;
      } else {
        left = fmt(k, depth + 1, left - 4);
        tk = rt;
        putAscii(" => ");
      }
      left = fmt(next, depth + 1, left - 2);
      tr = or(or(tr, tk), rt);
      pos = next;
      n--;
    }
    index++;
    if (--count === 0) {
      if (map || str) state = Rest.Nil;
      else {
        openRest(pos);
        state = cState;
        pos = cPos;
        count = cCount;
        str = cStr;
      }
    }
  }
  if (cut === Trunc.T || cut === Trunc.X) {
    if (!none) putComma();
    putEllipsis();
  }
  putAscii(close);
  rt = or(tr, cut);
  next = early ? skip(start) : pos;
  return left - 2;
}

/** The key's position in the `{k, v}` tuple at pos; raises (as pair_parts/8 does) otherwise. */
function pairKey(pos: number): number {
  const tag = tagAt(pos);
  if (tag === Tag.SMALL_TUPLE && u8(pos + 1) === 2) return pos + 2;
  if (tag === Tag.LARGE_TUPLE && u32(pos + 1) === 2) return pos + 5;
  throw unprintable;
}

/** Inspect.List.keyword?/1 of the list at p without its element at skipIndex. */
function isKeyword(p: number, skipIndex: number): boolean {
  openRest(p);
  let state = cState, pos = cPos, count = cCount, index = 0;
  const str = cStr;
  for (;;) {
    if (state === Rest.Nil) return true;
    if (state === Rest.Tail || str) return false;
    if (index === skipIndex) pos = skip(pos);
    else {
      const tag = tagAt(pos);
      if (!(tag === Tag.SMALL_TUPLE && u8(pos + 1) === 2) && !(tag === Tag.LARGE_TUPLE && u32(pos + 1) === 2)) return false;
      const k = pos + (tag === Tag.SMALL_TUPLE ? 2 : 5);
      if (!isAtomTag(tagAt(k)) || atomAt(k).elixirPrefix) return false;
      pos = skip(next);
    }
    index++;
    stepCursor(pos, count, false);
    state = cState;
    pos = cPos;
    count = cCount;
  }
}

let structModule = 0;

/**
 * List.keytake(pairs, :__struct__, 0) matched against `{{:__struct__, mod}, rest} when
 * is_atom(mod)`: the index of that pair (its module's position in structModule), or -1.
 * Raises where :lists.keytake/3 does (pairs not a proper list before a match).
 */
function keytakeStruct(pairs: number): number {
  const tag = tagAt(pairs);
  if (tag !== Tag.LIST && tag !== Tag.NIL && tag !== Tag.STRING) throw unprintable;
  openRest(pairs);
  let state = cState, pos = cPos, count = cCount, index = 0;
  const str = cStr;
  for (;;) {
    if (state === Rest.Nil) return -1;
    if (state === Rest.Tail) throw unprintable;
    if (str) return -1; // integers only: no tuple to match
    const t = tagAt(pos);
    const arity = t === Tag.SMALL_TUPLE ? u8(pos + 1) : t === Tag.LARGE_TUPLE ? u32(pos + 1) : 0;
    if (arity >= 1) {
      const k = pos + (t === Tag.SMALL_TUPLE ? 2 : 5);
      if (isAtomTag(tagAt(k)) && atomAt(k).marker === Marker.Struct) {
        if (arity !== 2 || !isAtomTag(tagAt(next))) return -1;
        structModule = next;
        return index;
      }
    }
    pos = skip(pos);
    index++;
    stepCursor(pos, count, false);
    state = cState;
    pos = cPos;
    count = cCount;
  }
}

/** A marker's `cut?` term at pos as a Trunc. */
function truncValue(pos: number): Trunc {
  if (!isAtomTag(tagAt(pos))) return Trunc.X;
  const name = atomAt(pos).name;
  return name === "true" ? Trunc.T : name === "false" ? Trunc.F : name === "nil" ? Trunc.X_NIL : Trunc.X;
}

// ## Charlists: List.ascii_printable?/2 and inspect/2 of a list

function isAsciiPrintableChar(c: number): boolean {
  return (c >= 32 && c <= 126) || (c >= 7 && c <= 13) || c === 27;
}

/** List.ascii_printable?(list, limit): only the first `limit` elements are looked at. */
function asciiPrintable(p: number, limit: number): boolean {
  openRest(p);
  let state = cState, pos = cPos, count = cCount, str = cStr, counter = limit;
  for (;;) {
    if (counter === 0 || state === Rest.Nil) return true;
    if (state === Rest.Tail) return false;
    let c: number;
    if (str) c = B[pos++];
    else {
      const tag = B[pos];
      if (tag === Tag.SMALL_INTEGER) c = u8(pos + 1);
      else if (tag === Tag.INTEGER) c = u32(pos + 1) | 0;
      else return false;
      pos += tag === Tag.SMALL_INTEGER ? 2 : 5;
    }
    if (!isAsciiPrintableChar(c)) return false;
    counter--;
    stepCursor(pos, count, str);
    state = cState;
    pos = cPos;
    count = cCount;
    str = cStr;
  }
}

/** Walks the list at p to its end: whether that is [], its length, and where it ends. */
let listLength = 0;
function isProper(p: number): boolean {
  openRest(p);
  let state = cState, pos = cPos, count = cCount, str = cStr;
  listLength = 0;
  for (;;) {
    if (state === Rest.Nil) return true;
    if (state === Rest.Tail) return false;
    if (str) {
      listLength += count;
      pos += count;
      count = 1;
    } else {
      listLength++;
      pos = elemEnd(pos, false);
    }
    stepCursor(pos, count, str);
    state = cState;
    pos = cPos;
    count = cCount;
    str = cStr;
  }
}

// inspect(list, printable_limit: chars): Code.Identifier.escape(List.to_string(list), ?', chars).
// A list longer than the limit is converted whole, as List.to_string/1 does (and raises on
// what is not chardata beyond the part ascii_printable?/2 looked at).
function fmtCharlist(p: number, left: number): number {
  isProper(p);
  const length = listLength;
  const cps: number[] = [];
  const end = chardata(p, cps);
  const escaped = escapeCodepoints(cps, 39, maxChars);
  const text = "'" + escaped + (escapedRest ? "' ++ ..." : "'");
  rt = length > maxChars ? Trunc.T : Trunc.F;
  const o0 = op;
  putText(text);
  next = end;
  return left - (op - o0);
}

/** Appends the code points of the chardata list at p (List.to_string/1), returns its end. */
function chardata(p: number, cps: number[]): number {
  openRest(p);
  let state = cState, pos = cPos, count = cCount, str = cStr;
  for (;;) {
    if (state === Rest.Nil) return pos;
    if (state === Rest.Tail) {
      if (tagAt(pos) !== Tag.BINARY) throw unprintable;
      return binaryCodepoints(pos, cps);
    }
    if (str) cps.push(B[pos++]);
    else {
      const tag = tagAt(pos);
      if (tag === Tag.SMALL_INTEGER) {
        cps.push(u8(pos + 1));
        pos += 2;
      } else if (tag === Tag.INTEGER) {
        const c = u32(pos + 1) | 0;
        if (c < 0 || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) throw unprintable;
        cps.push(c);
        pos += 5;
      } else if (tag === Tag.BINARY) pos = binaryCodepoints(pos, cps);
      else if (tag === Tag.NIL || tag === Tag.LIST || tag === Tag.STRING) pos = chardata(pos, cps);
      else throw unprintable;
    }
    stepCursor(pos, count, str);
    state = cState;
    pos = cPos;
    count = cCount;
    str = cStr;
  }
}

function binaryCodepoints(p: number, cps: number[]): number {
  const len = u32(p + 1), s = p + 5, e = s + len;
  if (e > END) malformed(p, "a binary runs past the end");
  for (let i = s; i < e; ) {
    const c = utf8At(i, e);
    if (c < 0) throw unprintable;
    cps.push(c);
    i = utf8Next;
  }
  return e;
}

// ## Binaries: fmt_binary/3 and inspect/2 of a binary

function fmtBinary(p: number, left: number): number {
  const len = u32(p + 1), s = p + 5, e = s + len;
  if (e > END) malformed(p, "a binary runs past the end");
  next = e;
  rt = Trunc.F;
  const o0 = op;
  if (len <= maxChars && plainAscii(s, e)) {
    room(len + 2);
    O[op++] = 34;
    putBytes(B, s, e);
    O[op++] = 34;
  } else if (printable(s, e)) {
    putText(inspectString(s, e, maxChars));
    rt = len > maxChars && codepointCount(s, e) > maxChars ? Trunc.T : Trunc.F;
  } else {
    putInspectBytes(s, e, maxItems);
    rt = len > maxItems ? Trunc.T : Trunc.F;
  }
  return left - (op - o0);
}

/** Printable ASCII with nothing inspect escapes: it prints as itself in quotes. */
function plainAscii(s: number, e: number): boolean {
  for (let i = s; i < e; i++) {
    const c = B[i];
    if (c < 0x20 || c > 0x7e || c === 34 || c === 92 || c === 35) return false;
  }
  return true;
}

// Eight characters at a time: String.fromCharCode with several arguments is several times
// faster on short strings than one at a time or a TextDecoder.
function asciiText(s: number, e: number): string {
  if (e - s > 64) return textDecoder.decode(B.subarray(s, e));
  let t = "", i = s;
  for (; i + 8 <= e; i += 8) t += String.fromCharCode(B[i], B[i + 1], B[i + 2], B[i + 3], B[i + 4], B[i + 5], B[i + 6], B[i + 7]);
  switch (e - i) {
    case 1: return t + String.fromCharCode(B[i]);
    case 2: return t + String.fromCharCode(B[i], B[i + 1]);
    case 3: return t + String.fromCharCode(B[i], B[i + 1], B[i + 2]);
    case 4: return t + String.fromCharCode(B[i], B[i + 1], B[i + 2], B[i + 3]);
    case 5: return t + String.fromCharCode(B[i], B[i + 1], B[i + 2], B[i + 3], B[i + 4]);
    case 6: return t + String.fromCharCode(B[i], B[i + 1], B[i + 2], B[i + 3], B[i + 4], B[i + 5]);
    case 7: return t + String.fromCharCode(B[i], B[i + 1], B[i + 2], B[i + 3], B[i + 4], B[i + 5], B[i + 6]);
    default: return t;
  }
}

/** String.printable?/1. */
function printable(s: number, e: number): boolean {
  for (let i = s; i < e; ) {
    const c = B[i];
    if (c < 0x80) {
      if (!((c >= 0x20 && c <= 0x7e) || (c >= 7 && c <= 13) || c === 27 || c === 127)) return false;
      i++;
      continue;
    }
    const cp = utf8At(i, e);
    if (cp < 0xa0 || (cp > 0xd7ff && cp < 0xe000) || cp === 0xfffe || cp === 0xffff) return false;
    i = utf8Next;
  }
  return true;
}

function codepointCount(s: number, e: number): number {
  let n = 0;
  for (let i = s; i < e; i++) if ((B[i] & 0xc0) !== 0x80) n++;
  return n;
}

/** Where utf8At's code point ends. */
let utf8Next = 0;

/** The code point at i (as Erlang's `<<c::utf8>>` reads it), or -1 for an invalid sequence. */
function utf8At(i: number, e: number): number {
  const c = B[i];
  if (c < 0x80) {
    utf8Next = i + 1;
    return c;
  }
  let n: number, cp: number, min: number;
  if (c >= 0xc2 && c <= 0xdf) (n = 1), (cp = c & 0x1f), (min = 0x80);
  else if (c >= 0xe0 && c <= 0xef) (n = 2), (cp = c & 0x0f), (min = 0x800);
  else if (c >= 0xf0 && c <= 0xf4) (n = 3), (cp = c & 0x07), (min = 0x10000);
  else return -1;
  if (i + n >= e) return -1;
  for (let k = 1; k <= n; k++) {
    const d = B[i + k];
    if ((d & 0xc0) !== 0x80) return -1;
    cp = (cp << 6) | (d & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return -1;
  utf8Next = i + n + 1;
  return cp;
}

/** inspect(bin, printable_limit: limit) of a printable binary. */
function inspectString(s: number, e: number, limit: number): string {
  let t = '"', steps = 0, i = s;
  while (i < e) {
    if (steps === limit) return t + '" <> ...';
    const c = B[i];
    if (c === 34) {
      t += '\\"';
      i++;
    } else if (c === 35 && i + 1 < e && B[i + 1] === 123) {
      t += "\\#{";
      i += 2;
    } else if (c < 0x80) {
      t += escapeCodepoint(c);
      i++;
    } else {
      t += escapeCodepoint(utf8At(i, e));
      i = utf8Next;
    }
    steps++;
  }
  return t + '"';
}

/** Whether escapeCodepoints stopped at its limit with code points left. */
let escapedRest = false;

/** Code.Identifier.escape(string, quote, limit) of a string given as code points. */
function escapeCodepoints(cps: readonly number[], quote: number, limit: number): string {
  let t = "", steps = 0, i = 0;
  escapedRest = false;
  while (i < cps.length) {
    if (steps === limit) {
      escapedRest = true;
      break;
    }
    const c = cps[i];
    if (c === quote) {
      t += "\\" + String.fromCharCode(quote);
      i++;
    } else if (c === 35 && cps[i + 1] === 123) {
      t += "\\#{";
      i += 2;
    } else {
      t += escapeCodepoint(c);
      i++;
    }
    steps++;
  }
  return t;
}

const ESCAPES: Record<number, string> = {
  7: "\\a", 8: "\\b", 9: "\\t", 10: "\\n", 11: "\\v", 12: "\\f", 13: "\\r", 27: "\\e", 92: "\\\\", 127: "\\d", 0: "\\0",
};

/** Code.Identifier's escape_map/1, then escape_char/1. */
function escapeCodepoint(c: number): string {
  if (c >= 0x20 && c <= 0x7e && c !== 92) return String.fromCharCode(c);
  const e = ESCAPES[c];
  if (e !== undefined) return e;
  if (c === 0xfeff) return "\\uFEFF";
  if ((c >= 0xa0 && c <= 0xd7ff) || (c >= 0xe000 && c <= 0xfffd) || (c >= 0x10000 && c <= 0x10ffff)) return String.fromCodePoint(c);
  if (c < 0x100) return "\\x" + hex(c, 2);
  if (c < 0x10000) return "\\x{" + hex(c, 4) + "}";
  return "\\x{" + hex(c, 6) + "}";
}

function hex(c: number, digits: number): string {
  return c.toString(16).toUpperCase().padStart(digits, "0");
}

/** inspect(bin, limit: items) of a non-printable (so not empty) binary: `<<1, 2, ...>>`. */
function putInspectBytes(s: number, e: number, limit: number): void {
  putAscii("<<");
  for (let i = s, counter = limit; i < e; i++, counter--) {
    if (counter === 0) {
      putAscii("...");
      break;
    }
    putUint(B[i]);
    if (i + 1 < e) putComma();
  }
  putAscii(">>");
}

function utf8Length(t: string): number {
  let n = t.length;
  for (let i = 0; i < t.length; i++) {
    const c = t.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) n += 1;
    else if (c >= 0xd800 && c <= 0xdbff) n += 1, i++; // a pair: 4 bytes for 2 units
    else n += 2;
  }
  return n;
}

// ## Numbers, pids, references, ports

const SMALL_INTS: string[] = Array.from({ length: 256 }, (_, i) => String(i));

function integerText(p: number): string {
  const tag = B[p];
  if (tag === Tag.SMALL_INTEGER) {
    next = p + 2;
    return SMALL_INTS[u8(p + 1)];
  }
  if (tag === Tag.INTEGER) {
    next = p + 5;
    return String(u32(p + 1) | 0);
  }
  const large = tag === Tag.LARGE_BIG;
  const n = large ? u32(p + 1) : u8(p + 1);
  const sign = u8(p + (large ? 5 : 2));
  const s = p + (large ? 6 : 3), e = s + n;
  if (e > END) malformed(p, "a big integer runs past the end");
  next = e;
  let text: string;
  if (n <= 6) {
    let v = 0;
    for (let i = e - 1; i >= s; i--) v = v * 256 + B[i];
    text = String(v);
  } else {
    let h = "0x";
    for (let i = e - 1; i >= s; i--) h += HEX_BYTES[B[i]];
    text = BigInt(h).toString();
  }
  return sign !== 0 && text !== "0" ? "-" + text : text;
}

const HEX_BYTES: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

const float64 = new Float64Array(1);
const float64Bytes = new Uint8Array(float64.buffer);
const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function floatText(p: number): string {
  need(p, 9);
  for (let i = 0; i < 8; i++) float64Bytes[littleEndian ? 7 - i : i] = B[p + 1 + i];
  next = p + 9;
  const f = float64[0];
  if (!Number.isFinite(f)) malformed(p, "a float is not finite");
  return floatString(f);
}

/**
 * Inspect.Float: integral values below 1.0e16 as `123.0`; everything else as OTP's
 * `float_to_list(f, [:short])`, the shortest digits that read back as the same float (the
 * digits JavaScript's toExponential() gives), in fixed or exponent notation, whichever is
 * shorter (the fixed one on a tie, and never for 2^53 and above).
 */
export function floatString(f: number): string {
  const a = Math.abs(f);
  if (a >= 1 && a < 1e16 && Math.trunc(f) === f) return String(f) + ".0";
  if (f === 0) return Object.is(f, -0) ? "-0.0" : "0.0";
  const exp = a.toExponential();
  const ePos = exp.indexOf("e");
  const digits = exp[1] === "." ? exp[0] + exp.slice(2, ePos) : exp.slice(0, ePos);
  const e10 = Number(exp.slice(ePos + 1));
  const body = insertDecimal(e10 - (digits.length - 1), digits, a);
  return f < 0 ? "-" + body : body;
}

// value = digits * 10^place; exp is the exponent of scientific notation.
function insertDecimal(place: number, digits: string, a: number): string {
  const l = digits.length;
  const exp = place + l - 1;
  const expText = String(exp);
  const expCost = expText.length + 2;
  const dot = l === 1 ? 1 : 0;
  if (place < 0) {
    if (exp >= 0) return digits.slice(0, l + place) + "." + digits.slice(l + place);
    if (2 - place - l <= expCost + dot) return "0." + "0".repeat(-place - l) + digits;
  } else if (expCost + dot >= place + 2 && a < 9007199254740992) {
    return digits + "0".repeat(place) + ".0";
  }
  return l === 1 ? digits + ".0e" + expText : digits[0] + "." + digits.slice(1) + "e" + expText;
}

/** inspect/1 of a local pid, reference or port: #PID<0.1.0>, #Reference<0.1.2.3>, #Port<0.5>. */
function putIdentifier(p: number): void {
  const tag = B[p];
  if (tag === Tag.NEW_PID || tag === Tag.PID) {
    const a = skipAtom(p + 1);
    need(a, tag === Tag.NEW_PID ? 12 : 9);
    next = a + (tag === Tag.NEW_PID ? 12 : 9);
    room(32);
    const o = O;
    let q = writeConst(o, op, PID_OPEN);
    q = writeUint(o, q, u32(a));
    o[q++] = 46;
    q = writeUint(o, q, u32(a + 4));
    o[q++] = 62;
    op = q;
  } else if (tag === Tag.NEWER_REFERENCE || tag === Tag.NEW_REFERENCE) {
    const n = u16(p + 1);
    const w = skipAtom(p + 3) + (tag === Tag.NEWER_REFERENCE ? 4 : 1);
    need(w, 4 * n);
    next = w + 4 * n;
    // ref_to_list/1 prints the words most significant first, and at least three of them;
    // ETF has them the other way round.
    room(16 + 11 * Math.max(n, 3));
    const o = O;
    let q = writeConst(o, op, REF_OPEN);
    for (let i = Math.max(n, 3) - 1; i >= 0; i--) {
      o[q++] = 46;
      q = writeUint(o, q, i < n ? u32(w + 4 * i) : 0);
    }
    o[q++] = 62;
    op = q;
  } else {
    const a = skipAtom(p + 1);
    const size = tag === Tag.V4_PORT ? 12 : tag === Tag.NEW_PORT ? 8 : 5;
    need(a, size);
    next = a + size;
    putAscii("#Port<0.");
    putUint(tag === Tag.V4_PORT ? u32(a) * 4294967296 + u32(a + 4) : u32(a));
    putAscii(">");
  }
}

const PID_OPEN = textEncoderBytes("#PID<0.");
const REF_OPEN = textEncoderBytes("#Reference<0");

function textEncoderBytes(t: string): Uint8Array {
  return Uint8Array.from(t, (c) => c.charCodeAt(0));
}

function writeConst(o: Uint8Array, q: number, bytes: Uint8Array): number {
  for (let i = 0; i < bytes.length; i++) o[q + i] = bytes[i];
  return q + bytes.length;
}

// ## Skipping and reading

/** The position after the term at p, checked against the end but not decoded. */
function skip(p: number): number {
  // A count of terms still to skip rather than recursion: deep nesting cannot overflow the
  // stack, and every step moves on at least one byte, so malformed counts end at END.
  let todo = 1;
  while (todo > 0) {
    todo--;
    const tag = tagAt(p);
    switch (tag) {
      case Tag.SMALL_INTEGER: p += 2; break;
      case Tag.INTEGER: p += 5; break;
      case Tag.FLOAT: p += 9; break;
      case Tag.SMALL_BIG: p += 3 + u8(p + 1); break;
      case Tag.LARGE_BIG: p += 6 + u32(p + 1); break;
      case Tag.ATOM: case Tag.ATOM_UTF8: p += 3 + u16(p + 1); break;
      case Tag.SMALL_ATOM: case Tag.SMALL_ATOM_UTF8: p += 2 + u8(p + 1); break;
      case Tag.SMALL_TUPLE: todo += u8(p + 1); p += 2; break;
      case Tag.LARGE_TUPLE: todo += u32(p + 1); p += 5; break;
      case Tag.NIL: p += 1; break;
      case Tag.STRING: p += 3 + u16(p + 1); break;
      case Tag.LIST: todo += u32(p + 1) + 1; p += 5; break;
      case Tag.BINARY: p += 5 + u32(p + 1); break;
      case Tag.BIT_BINARY: return unsupported(p);
      case Tag.MAP: todo += 2 * u32(p + 1); p += 5; break;
      case Tag.NEW_PID: p = skipAtom(p + 1) + 12; break;
      case Tag.PID: p = skipAtom(p + 1) + 9; break;
      case Tag.NEWER_REFERENCE: p = skipAtom(p + 3) + 4 + 4 * u16(p + 1); break;
      case Tag.NEW_REFERENCE: p = skipAtom(p + 3) + 1 + 4 * u16(p + 1); break;
      case Tag.V4_PORT: p = skipAtom(p + 1) + 12; break;
      case Tag.NEW_PORT: p = skipAtom(p + 1) + 8; break;
      case Tag.PORT: p = skipAtom(p + 1) + 5; break;
      default: return unsupported(p);
    }
    if (p > END) malformed(p, "a term runs past the end");
  }
  return p;
}

function skipAtom(p: number): number {
  const tag = tagAt(p);
  if (!isAtomTag(tag)) malformed(p, "a node name is not an atom");
  const e = tag === Tag.ATOM || tag === Tag.ATOM_UTF8 ? p + 3 + u16(p + 1) : p + 2 + u8(p + 1);
  if (e > END) malformed(p, "an atom runs past the end");
  return e;
}

function isAtomTag(tag: number): boolean {
  return tag === Tag.ATOM_UTF8 || tag === Tag.SMALL_ATOM_UTF8 || tag === Tag.ATOM || tag === Tag.SMALL_ATOM;
}

function isIntegerTag(tag: number): boolean {
  return tag === Tag.SMALL_INTEGER || tag === Tag.INTEGER || tag === Tag.SMALL_BIG || tag === Tag.LARGE_BIG;
}

function tagAt(p: number): number {
  if (p >= END) malformed(p, "the term ends early");
  return B[p];
}

function need(p: number, n: number): void {
  if (p + n > END) malformed(p, "the term ends early");
}

function u8(p: number): number {
  if (p >= END) malformed(p, "the term ends early");
  return B[p];
}

function u16(p: number): number {
  if (p + 2 > END) malformed(p, "the term ends early");
  return (B[p] << 8) | B[p + 1];
}

function u32(p: number): number {
  if (p + 4 > END) malformed(p, "the term ends early");
  return ((B[p] << 24) | (B[p + 1] << 16) | (B[p + 2] << 8) | B[p + 3]) >>> 0;
}

function malformed(p: number, what: string): never {
  throw new TermTextError(`malformed external term: ${what} (byte ${p - START} of ${END - START})`);
}

function unsupported(p: number): never {
  const tag = B[p];
  const name = TAG_NAMES[tag];
  throw new TermTextError(
    name ? `a ${name} (external term tag ${tag}, byte ${p - START}) is not sent as an external term` : `unknown external term tag ${tag} at byte ${p - START}`,
  );
}

// ## Atoms

const enum Marker {
  None,
  Pruned,
  Cut,
  CutTuple,
  Map,
  CutBin,
  Struct,
}

const MARKERS: Record<string, Marker> = {
  $elixir_scope_pruned: Marker.Pruned,
  $elixir_scope_cut: Marker.Cut,
  $elixir_scope_cut_tuple: Marker.CutTuple,
  $elixir_scope_map: Marker.Map,
  $elixir_scope_cut_bin: Marker.CutBin,
  __struct__: Marker.Struct,
};

interface AtomInfo {
  utf8: boolean;
  bytes: Uint8Array;
  name: string;
  /** inspect/1 (Macro.inspect_atom(:literal, atom)), also in UTF-8. */
  literal: string;
  literalUtf8: Uint8Array;
  literalBytes: number;
  /** Macro.inspect_atom(:key, atom) in UTF-8. */
  keyUtf8: Uint8Array;
  keyBytes: number;
  marker: Marker;
  /** Whether the name starts with "Elixir." (such keys make a list not a keyword list). */
  elixirPrefix: boolean;
}

// The collector sees the same few atoms over and over: their texts are kept, found by a hash
// of their bytes so that a repeated atom costs no string at all.
const ATOM_SLOTS = 4096; // a power of two
const atoms: (AtomInfo | undefined)[] = new Array(ATOM_SLOTS).fill(undefined);

/** The atom at p (any of the four atom tags); sets `next`. */
function atomAt(p: number): AtomInfo {
  const tag = B[p];
  const long = tag === Tag.ATOM || tag === Tag.ATOM_UTF8;
  const len = long ? u16(p + 1) : u8(p + 1);
  const s = p + (long ? 3 : 2), e = s + len;
  if (e > END) malformed(p, "an atom runs past the end");
  next = e;
  const utf8 = tag === Tag.ATOM_UTF8 || tag === Tag.SMALL_ATOM_UTF8;
  let h = utf8 ? len + 0x10000 : len;
  for (let i = s; i < e; i++) h = Math.imul(h ^ B[i], 16777619);
  const slot = (h ^ (h >>> 15)) & (ATOM_SLOTS - 1);
  const known = atoms[slot];
  if (known !== undefined && known.utf8 === utf8 && sameBytes(known.bytes, s, len)) return known;
  return (atoms[slot] = makeAtom(s, e, utf8));
}

const textEncoder = new TextEncoder();

function sameBytes(bytes: Uint8Array, s: number, len: number): boolean {
  if (bytes.length !== len) return false;
  for (let i = 0; i < len; i++) if (bytes[i] !== B[s + i]) return false;
  return true;
}

function makeAtom(s: number, e: number, utf8: boolean): AtomInfo {
  let name = "";
  for (let i = s; i < e; ) {
    if (!utf8 || B[i] < 0x80) name += String.fromCharCode(B[i++]);
    else {
      const c = utf8At(i, e);
      if (c < 0) malformed(i, "an atom is not valid UTF-8");
      name += String.fromCodePoint(c);
      i = utf8Next;
    }
  }
  const literal = inspectAtom(name);
  const literalUtf8 = textEncoder.encode(literal), keyUtf8 = textEncoder.encode(inspectKey(name));
  return {
    utf8, bytes: B.slice(s, e), name, literal, literalUtf8, literalBytes: literalUtf8.length, keyUtf8,
    keyBytes: keyUtf8.length, marker: MARKERS[name] ?? Marker.None, elixirPrefix: name.startsWith("Elixir."),
  };
}

/** Macro.inspect_atom(:literal, atom). */
export function inspectAtom(name: string): string {
  if (name === "nil" || name === "true" || name === "false") return name;
  switch (classifyAtom(name)) {
    case "alias":
      return name === "Elixir" || name === "Elixir.Elixir" || name.startsWith("Elixir.Elixir.") ? name : name.slice(7);
    case "quoted":
      return ':"' + escapeAtom(name) + '"';
    default:
      return ":" + name;
  }
}

/** Macro.inspect_atom(:key, atom). */
function inspectKey(name: string): string {
  switch (classifyAtom(name)) {
    case "alias":
      return '"' + name + '":';
    case "quoted":
      return '"' + escapeAtom(name) + '":';
    default:
      return name + ":";
  }
}

function escapeAtom(name: string): string {
  const cps: number[] = [];
  for (const ch of name) cps.push(ch.codePointAt(0)!);
  return escapeCodepoints(cps, 34, Infinity);
}

const NOT_CALLABLE = new Set(["%", "%{}", "{}", "<<>>", "...", "..", ".", "..//", "->"]);
const QUOTED_OPERATORS = new Set(["::", "^^^", "~~~", "<|>"]);
// Code.Identifier's unary and binary operators (Macro.operator?/2 leaves out "//").
const OPERATORS = new Set([
  "&", "!", "^", "not", "+", "-", "@", "<-", "\\\\", "when", "|", "=", "||", "|||", "or", "&&", "&&&",
  "and", "==", "!=", "=~", "===", "!==", "<", "<=", ">=", ">", "|>", "<<<", ">>>", "<~", "~>", "<<~",
  "~>>", "<~>", "in", "++", "--", "<>", "+++", "---", "*", "/", "**",
]);
const ALIAS = /^Elixir(?:\.[A-Z][A-Za-z0-9_]*)*$/;

/** Macro.classify_atom/1 (through its inner_classify/1). */
function classifyAtom(name: string): "alias" | "identifier" | "unquoted" | "quoted" {
  if (NOT_CALLABLE.has(name)) return "unquoted";
  if (QUOTED_OPERATORS.has(name)) return "quoted";
  if (OPERATORS.has(name)) return "unquoted";
  if (ALIAS.test(name)) return "alias";
  const t = tokenize(name);
  if (t === null || !t.restEmpty) return "quoted";
  if (t.kind !== "identifier" || t.at) return "unquoted";
  return t.nfkc ? "quoted" : "identifier";
}

interface Token {
  kind: "alias" | "identifier" | "atom";
  restEmpty: boolean;
  at: boolean;
  nfkc: boolean;
}

const MICRO = 0xb5, MU = 0x3bc; // String.Tokenizer normalizes µ to μ (and marks it :nfkc)

function isLetter(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

/** String.Tokenizer.tokenize/1 as far as inspect_atom looks at it; null for an error. */
function tokenize(name: string): Token | null {
  const cps: number[] = [];
  for (const ch of name) cps.push(ch.codePointAt(0)!);
  if (cps.length === 0) return null;
  const head = cps[0];
  const t: Token = { kind: "identifier", restEmpty: true, at: false, nfkc: false };
  let ascii = true, ss: Scripts = TOP;
  const acc: number[] = [head];
  if (head >= 65 && head <= 90) (t.kind = "alias"), (ss = LATIN);
  else if (head >= 97 && head <= 122) ss = LATIN;
  else if (head === 95) ss = TOP;
  else if (head > 127 && identifierClass(head) === IdClass.Upper) (t.kind = "atom"), (ascii = false), (ss = scriptsOf(head));
  else if (head > 127 && identifierClass(head) === IdClass.Start) (ascii = false), (ss = scriptsOf(head));
  else if (head === MICRO) (ascii = false), (t.nfkc = true), (ss = scriptsOf(MU)), (acc[0] = MU);
  else return null;
  let i = 1;
  for (; i < cps.length; i++) {
    const c = cps[i];
    if (c === 33 || c === 63) {
      acc.push(c);
      i++;
      break;
    }
    if (c === 64) t.at = true;
    else if (isLetter(c)) ss = onlyLatin(ss);
    else if (c === 95 || (c >= 48 && c <= 57)) {
      // neither changes the scripts
    } else if (c <= 127) break;
    else if (identifierClass(c) !== IdClass.None) {
      ascii = false;
      ss = intersect(ss, scriptsOf(c));
      if (isErlangNonNfc(c)) t.nfkc = true;
    } else if (c === MICRO) {
      ascii = false;
      t.nfkc = true;
      ss = intersect(ss, scriptsOf(MU));
      acc.push(MU);
      continue;
    } else return null;
    acc.push(c);
  }
  t.restEmpty = i >= cps.length;
  if (ascii) return t;
  const original = String.fromCodePoint(...acc);
  const nfc = original.normalize("NFC");
  if (nfc !== original) t.nfkc = true;
  if (ss !== TOP && ss.length === 0 && !highlyRestrictive(nfc)) return null;
  return t;
}

// Script sets, for the tokenizer's mixed-script rule (UTS 39): an identifier's characters must
// share a script, or all fit Latin plus Japanese, Chinese or Korean. TOP is "any script"
// (Common, Inherited, and characters outside the identifier tables).
type Scripts = readonly string[] | typeof TOP;
const TOP = null;
const LATIN: readonly string[] = ["Latn"];

// The scripts of characters String.Tokenizer accepts, and the scripts Elixir adds to some of
// them ("Han with Bopomofo", Japanese, Korean).
const SCRIPT_NAMES =
  "Zyyy Zinh Latn Grek Cyrl Armn Hebr Arab Syrc Thaa Deva Beng Guru Gujr Orya Taml Telu Knda " +
  "Mlym Sinh Thai Laoo Tibt Mymr Geor Hang Ethi Cher Khmr Hira Kana Bopo Hani Avst Cari Copt " +
  "Dupl Elba Glag Gong Goth Lydi Mahj Perm Shaw Lisu Toto Tale Osge Tfng Aghb Yezi Dogr Kthi " +
  "Cakm Sylo Mult Khoj Gran Nand";
const AUGMENT: Record<string, readonly string[]> = {
  Hani: ["Hanb", "Jpan", "Kore"], Hira: ["Jpan"], Kana: ["Jpan"], Hang: ["Kore"], Bopo: ["Hanb"],
};
let scriptTests: [string, RegExp][] | null = null;
const scriptCache = new Map<number, Scripts>();

// Characters that Unicode 14 (Elixir 1.14's data) gives no script extensions, so any script,
// and that later versions (JavaScript's) give some.
const ANY_SCRIPT_IN_UNICODE_14 = new Set([
  0xb7, 0x2bc, 0x300, 0x301, 0x302, 0x303, 0x304, 0x306, 0x307, 0x308, 0x309, 0x30a, 0x30b, 0x30c,
  0x310, 0x311, 0x313, 0x323, 0x324, 0x325, 0x32d, 0x32e, 0x330, 0x331,
]);

function scriptsOf(c: number): Scripts {
  // Elixir merges µ's scripts (Common) into μ's, which makes μ fit any script.
  if (c === MU || ANY_SCRIPT_IN_UNICODE_14.has(c)) return TOP;
  let s = scriptCache.get(c);
  if (s !== undefined) return s;
  scriptTests ??= SCRIPT_NAMES.split(" ").map((n) => [n, new RegExp(`^\\p{scx=${n}}$`, "u")]);
  const ch = String.fromCodePoint(c);
  const found: string[] = [];
  for (const [n, re] of scriptTests) if (re.test(ch)) found.push(n, ...(AUGMENT[n] ?? []));
  s = found.length === 0 || found.includes("Zyyy") || found.includes("Zinh") ? TOP : found;
  scriptCache.set(c, s);
  return s;
}

function intersect(a: Scripts, b: Scripts): Scripts {
  if (a === TOP) return b;
  if (b === TOP) return a;
  return a.filter((x) => b.includes(x));
}

function onlyLatin(s: Scripts): Scripts {
  return s === TOP || s.includes("Latn") ? LATIN : [];
}

const RESTRICTIVE = [["Latn", "Jpan"], ["Latn", "Hanb"], ["Latn", "Kore"]];

function highlyRestrictive(nfc: string): boolean {
  const sets: Scripts[] = [];
  for (const ch of nfc) {
    const c = ch.codePointAt(0)!;
    if (isLetter(c)) sets.push(LATIN);
    else if (c > 127 && identifierClass(c) !== IdClass.None) sets.push(scriptsOf(c));
  }
  return RESTRICTIVE.some((r) => sets.every((s) => s === TOP || s.some((x) => r.includes(x))));
}

// The non-ASCII characters String.Tokenizer (Elixir 1.14, Unicode 14) accepts in identifiers:
// letters, marks, digits and connectors that UTS 39 recommends, as ranges (the distance from
// the previous range's end and the length minus one, base 36). They were read off the BEAM
// (String.Tokenizer.tokenize/1 of every code point); whether one is an uppercase letter (which
// makes an atom need no quotes but not be an identifier) or may start an identifier is left
// to JavaScript's Unicode properties, which agree on all of them.
const ID_RANGES =
  "53.0 9.m 2.u 2.1l 3.a 3.7 2.1g h.0 h.1 e.1 t.f 2.5 3.a 4.1 3.z 3.1 7.d 12.0 2q.1 1c.0 k.4 " +
  "2.6 3.2 2.1 7.0 8.5 5.1 2.1 4.0 3.1 9.0 3.0 1i.2 9.0 2.2 2.0 2.j 2.17 1a.2r 17.39 h.p 5.1 " +
  "2.11 3.0 8.11 1a.0 s.q 5.3 1a.v 2.k b.9 7.2 2.0 5.k 2.h 2.1d 2.0 g.1 8.e 3.0 29.2p 5b.n 2.5 " +
  "i.c 6.0 3.k 1k.24 2.1 6.1 9.3 3.9 2.6 2.6 2.2 2.7 3.1 3.l 2.6 2.0 4.3 3.8 3.1 3.3 9.0 9.3 " +
  "3.b d.0 3.2 2.5 5.1 3.l 2.6 2.0 3.0 3.1 3.0 2.4 5.1 3.2 f.0 a.e d.2 2.8 2.2 2.l 2.6 2.1 2.4 " +
  "3.9 2.2 2.2 3.0 g.3 3.9 b.5 2.2 2.7 3.1 3.l 2.6 2.1 2.4 3.7 4.1 3.2 8.2 8.2 5.9 2.0 h.1 2.5 " +
  "4.2 2.3 4.1 2.0 2.1 4.1 4.2 4.b 5.4 4.2 2.3 3.0 7.0 f.9 i.b 2.2 2.m 2.9 2.4 3.8 2.2 2.3 8.1 " +
  "7.0 3.1 5.9 h.0 2.1 2.7 2.2 2.m 2.9 2.4 3.8 2.2 2.3 8.1 7.0 3.3 3.9 2.1 e.0 2.1 2.7 2.2 2.14 " +
  "3.6 3.2 2.4 6.3 9.1 5.9 b.5 3.1 2.9 3.5 4.b 2.a 2.8 2.0 3.6 4.0 5.5 2.0 2.6 k.0 f.1d 2.6 6.e " +
  "2.9 14.1 2.0 2.4 2.n 2.0 2.b 2.9 3.4 2.0 2.5 3.9 5.1 x.0 w.9 c.0 2.0 7.4 2.3 2.3 2.3 2.3 2.3 " +
  "2.b 2.2 5.1 2.0 6.6 2.2 2.c 2.3 2.3 2.3 2.3 2.3 2.b 2.2 a.0 1m.21 7.25 16.0 6.0 3.w 7.3 3.2 " +
  "75.20 2.3 3.6 2.0 2.3 3.14 2.3 3.w 2.3 3.6 2.0 2.3 3.e 2.1k 2.3 3.1u 3.2 x.f s1.y 3.2 2.a " +
  "3.n 3.0 2.0 5.0 5.0 4.9 x3.16 3.2 8x.49 5.0 2.2h 7.l 3.5 3.11 3.5 3.7 2.0 2.0 2.0 2.h 2.0 " +
  "2.0 2.0 2.0 2.0 2.0 4.1g 2.4 2.0 6.2 2.2 2.0 2.0 4.2 4.4 6.2 2.6 2.0 6.2 2.2 2.0 2.0 2ln.0 " +
  "6.0 2b.m a.6 2.6 2.6 2.6 2.6 2.6 2.6 2.6 fb.2 1m.2d 3.1 3.1 3.2h 2.2 7.14 2.0 35.v g1.533 " +
  "1t.g73 1a8.0 48.8 2x.0 5.0 5.1 n.0 4.0 a.1 7.a 6.1 2.0 2.4 em.n 2q.m 4.5 3m.5 3.5 3.5 a.6 " +
  "2.6 1k.1 49.8mb 6sr.1 2.0 2.1 b.0 2.0 2.1 3.2 4wo.0 2.0 1k.1 ib8.1 cvi.3 1a.2 i.3 909.u " +
  "1qa.6 2.3 2.1 2.e 4qq.wyn x.37c 8.65 3.4g1 f.5rk 3z4.3t6";
// Vowel signs that OTP 25's :unicode.characters_to_nfc_list/1 decomposes after a letter (so
// the tokenizer marks the identifier :nfkc) although NFC keeps them.
const ERLANG_NON_NFC = [[2507, 2508], [2888, 2888], [2891, 2892], [3018, 3020], [3144, 3144], [3264, 3264], [3271, 3272], [3274, 3275], [3402, 3404], [3546, 3546], [3548, 3550]];

function isErlangNonNfc(c: number): boolean {
  return ERLANG_NON_NFC.some(([a, b]) => c >= a && c <= b);
}

const enum IdClass {
  None,
  Upper,
  Start,
  Continue,
}

let idStarts: Int32Array | null = null, idEnds: Int32Array | null = null;
const UPPER = /^[\p{Lu}\p{Lt}]$/u, ID_START = /^\p{ID_Start}$/u;

function identifierClass(c: number): IdClass {
  if (idStarts === null) {
    const parts = ID_RANGES.split(" ");
    idStarts = new Int32Array(parts.length);
    idEnds = new Int32Array(parts.length);
    let prev = 0;
    parts.forEach((part, i) => {
      const [gap, len] = part.split(".").map((x) => parseInt(x, 36));
      idStarts![i] = prev + gap;
      idEnds![i] = prev = prev + gap + len;
    });
  }
  let lo = 0, hi = idStarts.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (c < idStarts[mid]) hi = mid - 1;
    else if (c > idEnds![mid]) lo = mid + 1;
    else {
      const ch = String.fromCodePoint(c);
      return UPPER.test(ch) ? IdClass.Upper : ID_START.test(ch) ? IdClass.Start : IdClass.Continue;
    }
  }
  return IdClass.None;
}
