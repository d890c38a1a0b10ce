/**
 * Tests compare recorded values as text: a batch whose `value` column is printed into a Utf8
 * one with the readers' own `valueText` (protocol/src/values.ts).
 */
import { Field, makeData, RecordBatch, Schema, Struct, Utf8, vectorFromArray, type Data } from "apache-arrow";
import { valueText, type ValueBounds } from "../../protocol/src/values";

export function withPrintedValues(batch: RecordBatch, bounds: ValueBounds): RecordBatch {
  const index = batch.schema.fields.findIndex((f) => f.name === "value");
  const data = batch.data.children[index] as Data;
  const offsets = data.valueOffsets as Int32Array;
  const texts = Array.from({ length: data.length }, (_, i) => valueText(data.values as Uint8Array, offsets[i], offsets[i + 1], bounds));
  const printed = vectorFromArray(texts, new Utf8()).data[0];
  const fields = batch.schema.fields.map((f, i) => (i === index ? new Field(f.name, new Utf8(), f.nullable, f.metadata) : f));
  const children = batch.data.children.map((c, i) => (i === index ? printed : c));
  return new RecordBatch(new Schema(fields, batch.schema.metadata), makeData({ type: new Struct(fields), length: batch.numRows, nullCount: 0, children }));
}
