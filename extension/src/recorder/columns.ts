/**
 * Fast reads of Arrow columns for index building: numeric columns as typed arrays, and utf8
 * columns through a reader that reuses the previous row's string when the bytes are the same
 * (pid, module, function and file repeat in runs), so most rows decode nothing.
 */
import type { Data, RecordBatch, Utf8, Vector } from "apache-arrow";

const decoder = new TextDecoder();

export class Utf8Column {
  private readonly offsets: Int32Array;
  private readonly bytes: Uint8Array;
  private lastStart = -1;
  private lastEnd = -1;
  private last = "";

  constructor(vector: Vector<Utf8>) {
    // Index batches come from one IPC message each: a single Data chunk per column.
    const data = vector.data[0] as Data<Utf8>;
    this.offsets = data.valueOffsets;
    this.bytes = data.values;
  }

  get(row: number): string {
    const start = this.offsets[row];
    const end = this.offsets[row + 1];
    if (start === this.lastStart && end === this.lastEnd) return this.last;
    if (end - start === this.lastEnd - this.lastStart && this.sameAsLast(start, end)) {
      this.lastStart = start;
      this.lastEnd = end;
      return this.last;
    }
    this.last = decoder.decode(this.bytes.subarray(start, end));
    this.lastStart = start;
    this.lastEnd = end;
    return this.last;
  }

  private sameAsLast(start: number, end: number): boolean {
    const { bytes } = this;
    for (let i = 0, n = end - start; i < n; i++) if (bytes[start + i] !== bytes[this.lastStart + i]) return false;
    return true;
  }
}

/** The batch's numeric column as numbers (Int64 via Number: our values stay far below 2^53). */
export function numbers(batch: RecordBatch, name: string): ArrayLike<number> {
  const values = batch.getChild(name)!.toArray() as ArrayLike<number | bigint>;
  if (!(values instanceof BigInt64Array)) return values as ArrayLike<number>;
  // Read the two 32-bit halves: much faster than converting each bigint.
  const words = new Int32Array(values.buffer, values.byteOffset, values.length * 2);
  const out = new Float64Array(values.length);
  for (let i = 0; i < out.length; i++) out[i] = words[2 * i + 1] * 4294967296 + (words[2 * i] >>> 0);
  return out;
}

export function utf8(batch: RecordBatch, name: string): Utf8Column {
  return new Utf8Column(batch.getChild(name)! as Vector<Utf8>);
}
