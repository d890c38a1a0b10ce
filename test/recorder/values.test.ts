/**
 * Recorded values as readers show them (protocol/src/values.ts): terms in the external format
 * printed with the recording's bounds, text as it is, and what the recorder does to a batch
 * (Utf8 values become Binary ones, same bytes). The agent's side is tested in
 * test/agent-arrow.test.ts (real agent bytes) and the printer against Elixir in term-text.test.ts.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { DataType, Field, Int32, makeData, RecordBatch, Schema, Struct, Table, tableFromIPC, tableToIPC, Utf8, vectorFromArray } from "apache-arrow";
import { binaryValueBatch as binaryBatch } from "./make-events";
import { ValueColumn, withBinaryValues } from "../../extension/src/recorder/columns";
import { DEFAULT_VALUE_BOUNDS, parseValueBounds, UNPRINTABLE, valueText } from "../../protocol/src/values";

const BOUNDS = { max_chars: 400, max_items: 25, max_depth: 6 };
const enc = new TextEncoder();

function texts(batch: RecordBatch, bounds = BOUNDS): string[] {
  const column = new ValueColumn(batch.getChild("value")!, bounds);
  return Array.from({ length: batch.numRows }, (_, i) => column.get(i));
}

test("terms print as their Elixir text, text stays as it is", () => {
  const batch = binaryBatch([
    Uint8Array.of(131, 97, 5), // 5
    Uint8Array.of(131, 107, 0, 3, 1, 2, 3), // [1, 2, 3] (STRING_EXT)
    Uint8Array.of(131, 119, 2, 111, 107), // :ok
    enc.encode("** (RuntimeError) boom"),
    enc.encode(""),
    enc.encode("déjà vu"),
  ]);
  assert.deepEqual(texts(batch), ["5", "[1, 2, 3]", ":ok", "** (RuntimeError) boom", "", "déjà vu"]);
  // What the ring buffer, files and the webview hold: the same bytes through IPC.
  const back = tableFromIPC(tableToIPC(new Table([batch]), "stream")).batches[0];
  assert.deepEqual(texts(back), texts(batch));
});

test("a term that cannot be decoded prints as a visible placeholder; the rows around it read", () => {
  const batch = binaryBatch([Uint8Array.of(131, 250, 1), Uint8Array.of(131), Uint8Array.of(131, 97, 7)]);
  assert.deepEqual(texts(batch), [UNPRINTABLE, UNPRINTABLE, "7"]);
});

test("the recording's bounds apply: long lists are cut with inspect's ... and a visible …", () => {
  const list = Uint8Array.of(131, 107, 0, 30, ...Array.from({ length: 30 }, (_, i) => i + 1));
  assert.deepEqual(texts(binaryBatch([list]), { max_chars: 400, max_items: 3, max_depth: 6 }), ["[1, 2, 3, ...]…"]);
  assert.equal(valueText(list, 0, list.length, DEFAULT_VALUE_BOUNDS).split(",").length, 25 + 1);
});

test("a Utf8 value column (recordings of schema 1 and 2) reads the same and becomes Binary without a copy", () => {
  const fields = [new Field("line", new Int32(), false), new Field("value", new Utf8(), false)];
  const value = vectorFromArray(["[2]", "déjà vu", ""], new Utf8()).data[0];
  const line = makeData({ type: new Int32(), length: 3, nullCount: 0, data: Int32Array.of(1, 2, 3) });
  const batch = new RecordBatch(new Schema(fields), makeData({ type: new Struct(fields), length: 3, nullCount: 0, children: [line, value] }));
  assert.deepEqual(texts(batch), ["[2]", "déjà vu", ""]);
  const binary = withBinaryValues(batch);
  assert.ok(DataType.isBinary(binary.schema.fields[1].type));
  assert.equal(binary.schema.fields[1].nullable, false);
  assert.equal(binary.getChild("value")!.data[0].values.buffer, value.values.buffer, "the same bytes, not a copy");
  assert.deepEqual(texts(binary), ["[2]", "déjà vu", ""]);
  assert.deepEqual([...binary.getChild("line")!.toArray()], [1, 2, 3]);
  assert.equal(withBinaryValues(binary), binary, "a Binary column is left as it is");
});

test("a batch without a readable value column is refused with its reason", () => {
  const fields = [new Field("value", new Int32(), false)];
  const plain = new RecordBatch(new Schema(fields), makeData({ type: new Struct(fields), length: 1, nullCount: 0, children: [makeData({ type: new Int32(), length: 1, nullCount: 0, data: Int32Array.of(1) })] }));
  assert.throws(() => withBinaryValues(plain), /"value" column is Int32, expected Binary or Utf8/);
  const none = new RecordBatch(new Schema([]), makeData({ type: new Struct([]), length: 0, nullCount: 0, children: [] }));
  assert.throws(() => withBinaryValues(none), /no "value" column/);
});

test("bounds from a header are checked", () => {
  assert.deepEqual(parseValueBounds({ max_chars: 10, max_items: 2, max_depth: 1 }), { max_chars: 10, max_items: 2, max_depth: 1 });
  assert.equal(parseValueBounds({ max_chars: "10", max_items: 2, max_depth: 1 }), undefined);
  assert.equal(parseValueBounds({ max_chars: 0, max_items: 2, max_depth: 1 }), undefined);
  assert.equal(parseValueBounds(undefined), undefined);
});
