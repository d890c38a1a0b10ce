/** Small schema-v1 recordings for the recorder tests, built with the shared recording builder. */
import { Binary, Field, Int32, makeData, RecordBatch, Schema, Struct, tableToIPC, type Table } from "apache-arrow";
import type { EventRow } from "../../protocol/src/events";
import { eventTable } from "../webview/recording-builder";

export type TestEvent = EventRow;

export function eventsTable(events: TestEvent[]): Table {
  return eventTable(events);
}

/** An EVENTS-like batch as the agent sends values: `line` and a Binary `value` column (terms or text). */
export function binaryValueBatch(values: Uint8Array[]): RecordBatch {
  const offsets = new Int32Array(values.length + 1);
  values.forEach((v, i) => (offsets[i + 1] = offsets[i] + v.length));
  const bytes = new Uint8Array(offsets[values.length]);
  values.forEach((v, i) => bytes.set(v, offsets[i]));
  const line = makeData({ type: new Int32(), length: values.length, nullCount: 0, data: Int32Array.from(values, (_, i) => i + 1) });
  const value = makeData({ type: new Binary(), length: values.length, nullCount: 0, valueOffsets: offsets, data: bytes });
  const fields = [new Field("line", new Int32(), false), new Field("value", new Binary(), false)];
  return new RecordBatch(new Schema(fields), makeData({ type: new Struct(fields), length: values.length, nullCount: 0, children: [line, value] }));
}

export function eventsStreamBytes(events: TestEvent[]): Uint8Array {
  return tableToIPC(eventsTable(events), "stream");
}

/** A call of Sample.Math.factorial(2) → 2 with a parameter binding, in one process. */
export function sampleEvents(file = "/app/lib/sample/math.ex"): TestEvent[] {
  const base = { pid: "#PID<0.100.0>", module: "Sample.Math", function: "factorial", arity: 1, parent_id: 0, file, name: "" };
  return [
    { ...base, seq: 1, ts: 100, kind: 1, call_id: 1, line: 6, value: "[2]" },
    { ...base, seq: 2, ts: 110, kind: 4, call_id: 1, line: 6, name: "n", value: "2" },
    { ...base, seq: 3, ts: 200, kind: 2, call_id: 1, line: 6, value: "2" },
  ];
}
