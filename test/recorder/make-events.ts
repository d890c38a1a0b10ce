/** Builds schema-v1 event batches in TypeScript, for tests that need Arrow bytes. */
import { makeVector, tableToIPC, vectorFromArray, Table as ArrowTable, Int8, Int32, Int64, Utf8 } from "apache-arrow";
import type { Table } from "apache-arrow";

export interface TestEvent {
  seq: number;
  ts: number;
  kind: number;
  pid: string;
  module: string;
  function: string;
  arity: number;
  call_id: number;
  parent_id: number;
  file: string;
  line: number;
  name: string;
  value: string;
}

export function eventsTable(events: TestEvent[]): Table {
  const col = <K extends keyof TestEvent>(k: K) => events.map((e) => e[k]);
  const big = (k: "seq" | "ts" | "call_id" | "parent_id") => makeVector(BigInt64Array.from(events.map((e) => BigInt(e[k]))));
  return new ArrowTable({
    seq: big("seq"),
    ts: big("ts"),
    kind: makeVector(Int8Array.from(col("kind"))),
    pid: vectorFromArray(col("pid"), new Utf8()),
    module: vectorFromArray(col("module"), new Utf8()),
    function: vectorFromArray(col("function"), new Utf8()),
    arity: makeVector(Int32Array.from(col("arity"))),
    call_id: big("call_id"),
    parent_id: big("parent_id"),
    file: vectorFromArray(col("file"), new Utf8()),
    line: makeVector(Int32Array.from(col("line"))),
    name: vectorFromArray(col("name"), new Utf8()),
    value: vectorFromArray(col("value"), new Utf8()),
  });
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
// Int8/Int32/Int64 are re-exported for tests that check column types.
export { Int8, Int32, Int64, Utf8 };
