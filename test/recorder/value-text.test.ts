/**
 * EVENTS batches with a Binary `value` column (terms in the external format, or text) become
 * recording batches with a Utf8 one; everything else is left as it is. The agent's side of this
 * is tested in test/agent-arrow.test.ts (real agent bytes) and the formatter against Elixir in
 * term-text.test.ts.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { DataType, Field, Int32, makeData, RecordBatch, Schema, Struct, Table, tableFromIPC, tableToIPC } from "apache-arrow";
import { binaryValueBatch as binaryBatch } from "./make-events";
import { withTextValues } from "../../extension/src/recorder/value-text";

const BOUNDS = { max_chars: 400, max_items: 25, max_depth: 6 };
const enc = new TextEncoder();

test("terms become their Elixir text, text stays as it is, other columns are untouched", () => {
  const batch = binaryBatch([
    Uint8Array.of(131, 97, 5), // 5
    Uint8Array.of(131, 107, 0, 3, 1, 2, 3), // [1, 2, 3] (STRING_EXT)
    Uint8Array.of(131, 119, 2, 111, 107), // :ok
    enc.encode("** (RuntimeError) boom"),
    enc.encode(""),
    enc.encode("déjà vu"),
  ]);
  const out = withTextValues(batch, BOUNDS);
  assert.ok(DataType.isUtf8(out.schema.fields[1].type));
  assert.equal(out.schema.fields[1].nullable, false);
  assert.deepEqual(out.getChild("value")!.toArray(), ["5", "[1, 2, 3]", ":ok", "** (RuntimeError) boom", "", "déjà vu"]);
  assert.deepEqual([...out.getChild("line")!.toArray()], [1, 2, 3, 4, 5, 6]);
  // What the ring buffer and the webview receive: the same rows through IPC.
  const back = tableFromIPC(tableToIPC(new Table([out]), "stream"));
  assert.equal(back.getChild("value")!.get(1), "[1, 2, 3]");
});

test("a term that cannot be decoded becomes a visible placeholder; the rows around it are kept", () => {
  const out = withTextValues(binaryBatch([Uint8Array.of(131, 250, 1), Uint8Array.of(131), Uint8Array.of(131, 97, 7)]), BOUNDS);
  assert.deepEqual(out.getChild("value")!.toArray(), ["#<unprintable value>", "#<unprintable value>", "7"]);
});

test("the plan's bounds apply: long lists are cut with inspect's ... and a visible …", () => {
  const list = Uint8Array.of(131, 107, 0, 30, ...Array.from({ length: 30 }, (_, i) => i + 1));
  const out = withTextValues(binaryBatch([list]), { max_chars: 400, max_items: 3, max_depth: 6 });
  assert.equal(out.getChild("value")!.get(0), "[1, 2, 3, ...]…");
});

test("a batch whose values are already text is returned as it is", () => {
  const fields = [new Field("value", new Int32(), false)];
  const plain = new RecordBatch(new Schema(fields), makeData({ type: new Struct(fields), length: 1, nullCount: 0, children: [makeData({ type: new Int32(), length: 1, nullCount: 0, data: Int32Array.of(1) })] }));
  assert.equal(withTextValues(plain, BOUNDS), plain);
});
