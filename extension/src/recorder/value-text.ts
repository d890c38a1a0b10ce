/**
 * EVENTS frames → recording batches. The agent sends the `value` column as Binary: each value
 * either the term in Erlang's external format (first byte 131), or UTF-8 text it formatted
 * itself (no UTF-8 text starts with byte 0x83). Formatting terms here rather than in the user's
 * node is what keeps the agent's collector cheap (see `Value.encode/2` in beam_agent). Every
 * batch that enters the ring buffer has a Utf8 `value` column (the recording's schema), so the
 * index, the webview, saved files and the CLI only ever see text.
 */
import { Data, Field, makeData, RecordBatch, Schema, Struct, Utf8, type Binary, DataType } from "apache-arrow";
import type { InstrumentationPlan } from "../../../protocol/src/wire";
import { formatTermUtf8 } from "./term-text";

const ETF_VERSION = 131;
const UNPRINTABLE_UTF8 = new TextEncoder().encode("#<unprintable value>");

export type ValueBounds = InstrumentationPlan["values"];

/** The batch with its `value` column as text; the batch itself when it already is text. */
export function withTextValues(batch: RecordBatch, bounds: ValueBounds): RecordBatch {
  const index = batch.schema.fields.findIndex((f) => f.name === "value");
  if (index < 0) return batch;
  const field = batch.schema.fields[index];
  if (!DataType.isBinary(field.type)) return batch;
  const data = batch.getChildAt(index)!.data;
  const text = data.length === 1 ? textData(data[0] as Data<Binary>, bounds) : undefined;
  if (!text) throw new Error("a Binary value column must be one chunk per batch");
  const fields = batch.schema.fields.map((f, i) => (i === index ? new Field(f.name, new Utf8(), f.nullable, f.metadata) : f));
  const children = batch.data.children.map((c, i) => (i === index ? text : c));
  const schema = new Schema(fields, batch.schema.metadata);
  return new RecordBatch(schema, makeData({ type: new Struct(fields), length: batch.numRows, nullCount: 0, children }));
}

function textData(data: Data<Binary>, bounds: ValueBounds): Data<Utf8> {
  const opts = { maxChars: bounds.max_chars, maxItems: bounds.max_items, maxDepth: bounds.max_depth };
  const offsets = data.valueOffsets;
  const bytes = data.values;
  const n = data.length;
  const outOffsets = new Int32Array(n + 1);
  // Text is rarely longer than the term's bytes; grow when it is.
  let out: Uint8Array<ArrayBuffer> = new Uint8Array(Math.max(64, (offsets[n] - offsets[0]) * 2));
  let at = 0;
  for (let i = 0; i < n; i++) {
    const start = offsets[i];
    const end = offsets[i + 1];
    if (end > start && bytes[start] === ETF_VERSION) {
      const text = termText(bytes, opts, start, end - start);
      if (out.length - at < text.length) out = grow(out, at + text.length);
      out.set(text, at);
      at += text.length;
    } else {
      if (out.length - at < end - start) out = grow(out, at + end - start);
      out.set(bytes.subarray(start, end), at);
      at += end - start;
    }
    outOffsets[i + 1] = at;
  }
  return makeData({ type: new Utf8(), length: n, nullCount: 0, valueOffsets: outOffsets, data: out.subarray(0, at) });
}

function termText(bytes: Uint8Array, opts: Parameters<typeof formatTermUtf8>[1], offset: number, length: number): Uint8Array {
  try {
    return formatTermUtf8(bytes, opts, offset, length);
  } catch {
    return UNPRINTABLE_UTF8;
  }
}

function grow(buf: Uint8Array<ArrayBuffer>, need: number): Uint8Array<ArrayBuffer> {
  const next = new Uint8Array(Math.max(need, buf.length * 2));
  next.set(buf);
  return next;
}
