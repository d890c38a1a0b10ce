/**
 * Turns repeated UTF-8 strings (pids, modules, functions, files) into small integer ids
 * without decoding every row: rows are hashed on their bytes and only the first occurrence of
 * each distinct string is decoded. Decoding every string of a 1M-event recording costs
 * ~300 ms; a recording has only hundreds of distinct pids/modules/functions.
 */
const decoder = new TextDecoder();
const encoder = new TextEncoder();

export class Interner {
  /** Decoded strings by id, in order of first appearance. */
  readonly strings: string[] = [];
  private readonly bytes: Uint8Array[] = [];
  private readonly firstByHash = new Map<number, number>();
  /** Next id with the same hash (collision chain), -1 at the end. */
  private readonly nextWithSameHash: number[] = [];

  get size(): number {
    return this.strings.length;
  }

  /** Id of the string made of `buf[start, end)`. */
  internBytes(buf: Uint8Array, start: number, end: number): number {
    let h = 0x811c9dc5 ^ (end - start);
    for (let i = start; i < end; i++) h = Math.imul(h ^ buf[i], 0x01000193);
    const first = this.firstByHash.get(h);
    for (let id = first ?? -1; id >= 0; id = this.nextWithSameHash[id]) {
      if (sameBytes(this.bytes[id], buf, start, end)) return id;
    }
    const id = this.strings.length;
    const copy = buf.slice(start, end);
    this.strings.push(decoder.decode(copy));
    this.bytes.push(copy);
    this.nextWithSameHash.push(first ?? -1);
    this.firstByHash.set(h, id);
    return id;
  }

  intern(text: string): number {
    const b = encoder.encode(text);
    return this.internBytes(b, 0, b.length);
  }
}

function sameBytes(a: Uint8Array, buf: Uint8Array, start: number, end: number): boolean {
  if (a.length !== end - start) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== buf[start + i]) return false;
  return true;
}
