/**
 * Fast reads of Arrow columns for index building: numeric columns as typed arrays, and utf8
 * columns through a reader that reuses the previous row's string when the bytes are the same
 * (pid, module, function and file repeat in runs), so most rows decode nothing. Values (terms
 * or text, see protocol/src/values.ts) are printed one row at a time, when asked for.
 */
import { Binary, DataType, Field, makeData, RecordBatch, Schema, Struct, type Data, type Utf8, type Vector } from "apache-arrow";
import { valueText, type ValueBounds } from "../../../protocol/src/values";

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

/** The `value` column of one batch, printed a row at a time (terms with `bounds`). */
export class ValueColumn {
  private readonly offsets: Int32Array;
  private readonly bytes: Uint8Array;

  constructor(
    vector: Vector,
    private readonly bounds: ValueBounds,
  ) {
    const data = vector.data[0] as Data<Binary | Utf8>;
    this.offsets = data.valueOffsets;
    this.bytes = data.values;
  }

  get(row: number): string {
    return valueText(this.bytes, this.offsets[row], this.offsets[row + 1], this.bounds);
  }
}

/**
 * The batch with a Binary `value` column (event schema 3): a Utf8 one (schema 1 and 2, or text
 * sent as Utf8) is the same bytes under the other type, no copy. Every batch of a recording
 * then has one schema, which its file needs. Throws on a batch without a readable value column.
 */
export function withBinaryValues(batch: RecordBatch): RecordBatch {
  const index = batch.schema.fields.findIndex((f) => f.name === "value");
  if (index < 0) throw new Error('a batch of events has no "value" column');
  const field = batch.schema.fields[index];
  if (DataType.isBinary(field.type)) return batch;
  if (!DataType.isUtf8(field.type)) throw new Error(`the "value" column is ${field.type}, expected Binary or Utf8`);
  const old = batch.data.children[index] as Data<Utf8>;
  const data = makeData({ type: new Binary(), length: old.length, nullCount: 0, valueOffsets: old.valueOffsets, data: old.values });
  const fields = batch.schema.fields.map((f, i) => (i === index ? new Field(f.name, new Binary(), f.nullable, f.metadata) : f));
  const children = batch.data.children.map((c, i) => (i === index ? data : c));
  return new RecordBatch(new Schema(fields, batch.schema.metadata), makeData({ type: new Struct(fields), length: batch.numRows, nullCount: 0, children }));
}
