/**
 * Raw access to Arrow column chunks (`Data`) without per-row `Vector.get` calls: integers are
 * copied column-wise into the model's typed arrays and strings are either interned on their
 * bytes or decoded lazily, one row at a time, when a view asks for them.
 */
import { DataType, makeVector, type Data, type Vector } from "apache-arrow";
import type { Interner } from "./interner";
import { valueText, type ValueBounds } from "../../../protocol/src/values";

export class RecordingFormatError extends Error {}

type Out = Float64Array | Int32Array | Int8Array;

/** Copies the integer column chunk `data` into `out[at, at + data.length)`. */
export function copyIntegers(data: Data, column: string, out: Out, at: number): void {
  if (!DataType.isInt(data.type)) {
    throw new RecordingFormatError(`Column "${column}" has Arrow type ${data.type}; event schema v1 expects an integer.`);
  }
  const n = data.length;
  const values = data.values as ArrayLike<number> | BigInt64Array | BigUint64Array;
  if (values instanceof BigInt64Array || values instanceof BigUint64Array) {
    // Two int32 halves are ~10x faster than BigInt → Number per row. Exact below 2^53,
    // which covers nanosecond timestamps for 104 days and any realistic seq/call_id.
    const halves = new Int32Array(values.buffer, values.byteOffset, n * 2);
    if (values instanceof BigUint64Array) {
      for (let j = 0; j < n; j++) out[at + j] = (halves[2 * j + 1] >>> 0) * 4294967296 + (halves[2 * j] >>> 0);
    } else {
      for (let j = 0; j < n; j++) out[at + j] = halves[2 * j + 1] * 4294967296 + (halves[2 * j] >>> 0);
    }
  } else {
    out.set((values as Int32Array).subarray(0, n), at);
  }
}

/**
 * An integer column chunk read in place (no copy): int64 through two int32 halves, exact
 * below 2^53.
 */
export class IntColumn {
  private readonly halves: Int32Array | undefined;
  private readonly values: ArrayLike<number>;
  private readonly unsigned: boolean;

  constructor(data: Data, column: string) {
    if (!DataType.isInt(data.type)) {
      throw new RecordingFormatError(`Column "${column}" has Arrow type ${data.type}; event schema v1 expects an integer.`);
    }
    const values = data.values as ArrayLike<number> | BigInt64Array | BigUint64Array;
    this.unsigned = values instanceof BigUint64Array;
    if (values instanceof BigInt64Array || values instanceof BigUint64Array) {
      this.halves = new Int32Array(values.buffer, values.byteOffset, data.length * 2);
      this.values = [];
    } else {
      this.values = values;
    }
  }

  at(row: number): number {
    const h = this.halves;
    if (!h) return this.values[row];
    const hi = this.unsigned ? h[2 * row + 1] >>> 0 : h[2 * row + 1];
    return hi * 4294967296 + (h[2 * row] >>> 0);
  }
}

/** One chunk of a string column: decode a row, or intern it without decoding. */
export interface StringChunk {
  textAt(row: number): string;
  internAt(row: number, interner: Interner): number;
}

const decoder = new TextDecoder();

class Utf8Chunk implements StringChunk {
  private lastStart = -1;
  private lastEnd = -1;
  private lastId = -1;
  private lastInterner: Interner | undefined;

  constructor(
    private readonly offsets: Int32Array,
    private readonly bytes: Uint8Array,
  ) {}

  textAt(row: number): string {
    return decoder.decode(this.bytes.subarray(this.offsets[row], this.offsets[row + 1]));
  }

  internAt(row: number, interner: Interner): number {
    const start = this.offsets[row];
    const end = this.offsets[row + 1];
    // Consecutive rows very often repeat the previous value (same process, same module).
    if (interner === this.lastInterner && end - start === this.lastEnd - this.lastStart && this.sameAsLast(start, end)) {
      return this.lastId;
    }
    const id = interner.internBytes(this.bytes, start, end);
    this.lastStart = start;
    this.lastEnd = end;
    this.lastId = id;
    this.lastInterner = interner;
    return id;
  }

  private sameAsLast(start: number, end: number): boolean {
    const b = this.bytes;
    const d = this.lastStart - start;
    for (let i = start; i < end; i++) if (b[i] !== b[i + d]) return false;
    return true;
  }
}

class DictionaryChunk implements StringChunk {
  private readonly ids = new Map<Interner, Int32Array>();

  constructor(
    private readonly indices: ArrayLike<number>,
    private readonly dictionary: Vector,
  ) {}

  textAt(row: number): string {
    return String(this.dictionary.get(Number(this.indices[row])) ?? "");
  }

  internAt(row: number, interner: Interner): number {
    let ids = this.ids.get(interner);
    if (!ids) this.ids.set(interner, (ids = new Int32Array(this.dictionary.length).fill(-1)));
    const k = Number(this.indices[row]);
    if (ids[k] < 0) ids[k] = interner.intern(this.textAt(row));
    return ids[k];
  }
}

/** Any other string layout (LargeUtf8, Utf8View): correct, slower, through Vector.get. */
class GenericChunk implements StringChunk {
  constructor(private readonly vector: Vector) {}

  textAt(row: number): string {
    return String(this.vector.get(row) ?? "");
  }

  internAt(row: number, interner: Interner): number {
    return interner.intern(this.textAt(row));
  }
}

export function stringChunk(data: Data, column: string): StringChunk {
  const type = data.type;
  if (DataType.isDictionary(type)) {
    if (!data.dictionary) throw new RecordingFormatError(`Column "${column}" is dictionary-encoded but has no dictionary.`);
    return new DictionaryChunk(data.values as ArrayLike<number>, data.dictionary);
  }
  if (DataType.isUtf8(type) && data.valueOffsets instanceof Int32Array) {
    return new Utf8Chunk(data.valueOffsets, data.values as Uint8Array);
  }
  if (DataType.isUtf8(type) || DataType.isLargeUtf8(type) || DataType.isUtf8View(type)) return new GenericChunk(makeVector(data));
  throw new RecordingFormatError(`Column "${column}" has Arrow type ${type}; event schema v1 expects utf8.`);
}

/**
 * The `value` column: Binary (schema 3: terms printed here with the recording's bounds, or
 * text) or Utf8 (schema 1 and 2). The last row printed is kept: views ask for the same value
 * several times while they draw.
 */
class ValueChunk implements StringChunk {
  private lastRow = -1;
  private last = "";

  constructor(
    private readonly offsets: Int32Array,
    private readonly bytes: Uint8Array,
    private readonly bounds: ValueBounds,
  ) {}

  textAt(row: number): string {
    if (row !== this.lastRow) {
      this.last = valueText(this.bytes, this.offsets[row], this.offsets[row + 1], this.bounds);
      this.lastRow = row;
    }
    return this.last;
  }

  internAt(row: number, interner: Interner): number {
    return interner.intern(this.textAt(row));
  }
}

export function valueChunk(data: Data, bounds: ValueBounds): StringChunk {
  if ((DataType.isBinary(data.type) || DataType.isUtf8(data.type)) && data.valueOffsets instanceof Int32Array) {
    return new ValueChunk(data.valueOffsets, data.values as Uint8Array, bounds);
  }
  if (DataType.isBinary(data.type) || DataType.isLargeBinary(data.type)) {
    throw new RecordingFormatError(`Column "value" has Arrow type ${data.type}; event schema v3 expects Binary.`);
  }
  return stringChunk(data, "value");
}
