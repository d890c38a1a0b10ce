/** The webview's columnar model (webview/src/data/model.ts) on real Arrow IPC bytes, no DOM. */
import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import { Binary, Dictionary, Field, Int32, makeData, makeVector, Schema, Table, tableToIPC, Utf8 } from "apache-arrow";
import { EventKind, type RecordingHeader } from "../../protocol/src/events";
import { busiestWindow, CallFlag, RecordingFormatError, RecordingModel } from "../../webview/src/data/model";
import { batchFromColumns, eventSchema, eventTable, recordingBytes, utf8Data, type EventRow } from "./recording-builder";
import { syntheticRecording } from "../../bench/webview/synthetic-recording";
import { LEDGER, LEDGER_PID, MATH, sampleRecording, sampleScript, TEST_PID, WORKER_PID } from "./sample-recording";

function callBySeq(model: RecordingModel, seq: number): number {
  return model.callOf[model.rowOfSeq(seq)];
}

function findCall(model: RecordingModel, label: string, nth = 0): number {
  const found: number[] = [];
  for (let c = 0; c < model.callCount; c++) if (model.labelOf(model.callRow[c]) === label) found.push(c);
  assert.ok(found.length > nth, `no call #${nth} of ${label}`);
  return found[nth];
}

describe("RecordingModel", () => {
  const { bytes, script } = sampleRecording("file");
  const model = RecordingModel.fromIPC(bytes);

  it("counts events, processes, calls, exceptions and bindings", () => {
    const rows = script.rows;
    assert.deepEqual(model.summary(), {
      events: rows.length,
      processes: 3,
      calls: rows.filter((r) => r.kind === EventKind.Call).length,
      exceptions: 1,
      bindings: rows.filter((r) => r.kind === EventKind.Binding).length,
      dropped: 0,
    });
    assert.equal(model.header?.app, "sample_app");
  });

  it("orders lanes by each process's first event", () => {
    assert.deepEqual(
      model.lanes.map((l) => l.pid),
      [TEST_PID, LEDGER_PID, WORKER_PID],
    );
    assert.deepEqual(
      model.lanes.map((l) => l.events),
      [TEST_PID, LEDGER_PID, WORKER_PID].map((p) => script.rows.filter((r) => r.pid === p).length),
    );
  });

  it("copies every column exactly", () => {
    for (const [i, r] of script.rows.entries()) {
      const got = {
        seq: model.seq[i],
        ts: model.ts[i],
        kind: model.kind[i],
        pid: model.pidOf(i),
        module: model.moduleOf(i),
        function: model.functionOf(i),
        arity: model.arityOf(i),
        call_id: model.callIdOf(i),
        parent_id: model.parentIdOf(i),
        file: model.fileOf(i),
        line: model.lineOf(i),
        name: model.nameOf(i),
        value: model.valueOf(i),
      };
      assert.deepEqual(got, r, `row ${i}`);
    }
  });

  it("pairs calls with returns and exceptions and stacks them by depth", () => {
    const check = (label: string, nth: number, expected: { depth: number; flags: number; result: string; parent?: string }) => {
      const c = findCall(model, label, nth);
      assert.equal(model.callDepth[c], expected.depth, `${label} depth`);
      assert.equal(model.callFlags[c], expected.flags, `${label} flags`);
      assert.equal(model.valueOf(model.callEndRow[c]), expected.result, `${label} result`);
      const p = model.callParent[c];
      assert.equal(p >= 0 ? model.labelOf(model.callRow[p]) : undefined, expected.parent, `${label} parent`);
      assert.ok(model.callEnd[c] >= model.callStart[c]);
    };
    check("Sample.Ledger.deposit/3", 0, { depth: 0, flags: CallFlag.Returned, result: "{:ok, 100}" });
    check("Sample.Ledger.apply_entry/2", 0, {
      depth: 1,
      flags: CallFlag.Returned,
      result: "%{balance: 100, entries: [deposit: 100]}",
      parent: "Sample.Ledger.handle_call/3",
    });
    check("Sample.Math.factorial/1", 4, { depth: 5, flags: CallFlag.Returned, result: "1", parent: "Sample.Math.factorial/1" });
    check("Sample.Math.factorial/1", 0, { depth: 1, flags: CallFlag.Returned, result: "24", parent: "Sample.Pipeline.worker/0" });
    check("Sample.Ledger.withdraw!/3", 0, {
      depth: 0,
      flags: CallFlag.Raised,
      result: "** (Sample.InsufficientFundsError) account alice has 100, cannot withdraw 250",
    });
    assert.equal(model.lanes[2].maxDepth, 5);
    assert.deepEqual(
      model.lanes[2].tracks.map((t) => t.length),
      [1, 2, 1, 1, 1, 1],
    );
  });

  it("lists bindings per call and exceptions", () => {
    const handle = findCall(model, "Sample.Ledger.handle_call/3", 1);
    assert.deepEqual(
      model.bindingsOf(handle).map((r) => [model.nameOf(r), model.valueOf(r), model.lineOf(r)]),
      [
        ["acct", "%{balance: 0, entries: []}", 56],
        ["updated", "%{balance: 100, entries: [deposit: 100]}", 57],
      ],
    );
    assert.equal(model.exceptionRows.length, 1);
    const exc = model.exceptionRows.at(0);
    assert.equal(model.kind[exc], EventKind.Exception);
    assert.equal(model.labelOf(exc), "Sample.Ledger.withdraw!/3");
    assert.equal(model.fileOf(exc), LEDGER);
  });

  it("finds events by seq and time, and calls by position", () => {
    const check = (seq: number, row: number) => assert.equal(model.rowOfSeq(seq), row, `seq ${seq}`);
    check(1, 0);
    check(script.rows.length, script.rows.length - 1);
    check(0, -1);
    check(script.rows.length + 1, -1);
    assert.equal(model.rowAtTime(-1), -1);
    assert.equal(model.rowAtTime(model.ts[5]), 5);
    assert.equal(model.rowAtTime(model.ts[5] + 1), 5);
    assert.equal(model.rowAtTime(Infinity), model.count - 1);

    const fact = findCall(model, "Sample.Math.factorial/1", 2);
    const mid = (model.callStart[fact] + model.callEnd[fact]) / 2;
    assert.equal(model.callAt(2, model.callDepth[fact], mid), fact);
    assert.equal(model.callAt(2, 40, mid), -1);
    // Just before the call starts: only found with a tolerance.
    assert.equal(model.callAt(2, model.callDepth[fact], model.callStart[fact] - 500), -1);
    assert.equal(model.callAt(2, model.callDepth[fact], model.callStart[fact] - 500, 1_000), fact);
    assert.equal(callBySeq(model, model.seq[model.callRow[fact]]), fact);
  });

  it("reads stream format, many small batches and appended batches the same as one file", () => {
    const rows = sampleScript().rows;
    const whole = RecordingModel.fromIPC(recordingBytes(rows, { format: "stream", batchSize: 1_000 }));
    const live = new RecordingModel();
    for (let i = 0; i < rows.length; i += 7) live.append(recordingBytes(rows.slice(i, i + 7), { batchSize: 3 }));
    for (const m of [whole, live]) {
      assert.deepEqual(m.summary(), { ...model.summary(), dropped: 0 });
      assert.deepEqual([...m.callDepth.subarray(0, m.callCount)], [...model.callDepth.subarray(0, model.callCount)]);
      assert.deepEqual([...m.callEndRow.subarray(0, m.callCount)], [...model.callEndRow.subarray(0, model.callCount)]);
      assert.equal(m.valueOf(m.count - 1), rows.at(-1)!.value);
    }
    assert.ok(live.version > whole.version);
  });

  it("loads a big recording in slices, knowing its time span from the start", () => {
    const bytes = syntheticRecording(30_000, { processes: 6 });
    const whole = RecordingModel.fromIPC(bytes);
    const m = new RecordingModel();
    m.beginAppend(bytes);
    assert.ok(m.loading);
    assert.equal(m.pendingEvents, 30_000);
    assert.deepEqual(m.timeSpan(), [whole.tsMin, whole.tsMax]);
    const counts: number[] = [];
    while (!m.continueLoad(0)) counts.push(m.count); // a deadline in the past: one step each
    assert.deepEqual(counts, [8192, 16384, 24576]);
    assert.equal(m.pendingEvents, 0);
    assert.deepEqual(m.summary(), whole.summary());
    assert.deepEqual([...m.callEnd.subarray(0, m.callCount)], [...whole.callEnd.subarray(0, whole.callCount)]);
    assert.deepEqual(m.lanes.map((l) => [l.pid, l.maxDepth, l.calls]), whole.lanes.map((l) => [l.pid, l.maxDepth, l.calls]));
  });

  it("keeps a call open until its return arrives", () => {
    const rows = sampleScript().rows;
    const live = new RecordingModel();
    live.append(recordingBytes(rows.slice(0, 3)));
    const open = live.callOf[0];
    assert.equal(live.callEndRow[open], -1);
    assert.ok(Number.isNaN(live.callEnd[open]));
    assert.equal(live.endOf(open), live.tsMax);
    live.append(recordingBytes(rows.slice(3)));
    assert.equal(live.callFlags[open], CallFlag.Returned);
  });

  it("ends a call at its tail call and follows the chain to the call that produced the result", () => {
    const pid = "#PID<0.90.0>";
    const base = { pid, module: "W", function: "loop", arity: 1, file: "/w.ex", line: 3, name: "", value: "" };
    const rows: EventRow[] = [
      { ...base, seq: 64, ts: 10, kind: EventKind.Call, call_id: 64, parent_id: 0, value: "[2]" },
      { ...base, seq: 128, ts: 20, kind: EventKind.TailCall, call_id: 64, parent_id: 0, name: "W.loop/1", value: "[1]" },
      { ...base, seq: 192, ts: 21, kind: EventKind.Call, call_id: 192, parent_id: 0, value: "[1]" },
      { ...base, seq: 256, ts: 30, kind: EventKind.TailCall, call_id: 192, parent_id: 0, name: "W.done/1", value: "[0]" },
      { ...base, seq: 320, ts: 31, kind: EventKind.Call, call_id: 320, parent_id: 0, function: "done", value: "[0]" },
      { ...base, seq: 384, ts: 40, kind: EventKind.Return, call_id: 320, parent_id: 0, function: "done", value: ":ok" },
      // A tail call into something not recorded: the next call at that depth is not its callee.
      { ...base, seq: 448, ts: 50, kind: EventKind.Call, call_id: 448, parent_id: 0, value: "[9]" },
      { ...base, seq: 512, ts: 60, kind: EventKind.TailCall, call_id: 448, parent_id: 0, name: "Enum.map/2", value: "[[], f]" },
      { ...base, seq: 576, ts: 70, kind: EventKind.Call, call_id: 576, parent_id: 0, value: "[8]" },
    ];
    const m = RecordingModel.fromIPC(recordingBytes(rows));
    const [first, second, done, other, after] = [64, 192, 320, 448, 576].map((s) => callBySeq(m, s));
    assert.equal(m.callFlags[first], CallFlag.TailCalled);
    assert.equal(m.callEnd[first], 20);
    assert.deepEqual([m.callDepth[first], m.callDepth[second], m.callDepth[done]], [0, 0, 0]);
    assert.equal(m.tailTargetOf(first), second);
    assert.equal(m.tailTargetOf(second), done);
    assert.equal(m.tailTargetOf(done), -1);
    assert.equal(m.resultCallOf(first), done);
    assert.equal(m.valueOf(m.callEndRow[m.resultCallOf(first)]), ":ok");
    assert.equal(m.tailTargetOf(other), -1);
    assert.equal(m.resultCallOf(other), other);
    assert.equal(m.callEndRow[after], -1);
  });

  it("handles events whose call is not in the recording", () => {
    const rows = sampleScript().rows.slice(2); // drops the first Call and the server's Call
    const m = RecordingModel.fromIPC(recordingBytes(rows));
    assert.equal(m.callOf[0], -1);
    assert.equal(m.labelOf(0), `${rows[0].module}.${rows[0].function}/${rows[0].arity}`);
    assert.equal(m.fileOf(0), rows[0].file);
  });

  it("reads dictionary-encoded string columns", () => {
    const rows = sampleScript().rows;
    const plain = eventTable(rows);
    const pids = [...new Set(rows.map((r) => r.pid))];
    const dictType = new Dictionary(new Utf8(), new Int32(), 0);
    const pidData = makeData({
      type: dictType,
      length: rows.length,
      nullCount: 0,
      data: Int32Array.from(rows, (r) => pids.indexOf(r.pid)),
      dictionary: makeVector(utf8Data(pids)),
    });
    const fields = plain.schema.fields.map((f) => (f.name === "pid" ? new Field("pid", dictType, false) : f));
    const schema = new Schema(fields);
    const columns = plain.schema.fields.map((f) => (f.name === "pid" ? pidData : eventTable(rows, { batchSize: rows.length }).batches[0].getChild(f.name)!.data[0]));
    const bytes = tableToIPC(new Table(schema, [batchFromColumns(schema, columns)]), "stream");
    const m = RecordingModel.fromIPC(bytes);
    assert.deepEqual(
      m.lanes.map((l) => l.pid),
      [TEST_PID, LEDGER_PID, WORKER_PID],
    );
    assert.equal(m.pidOf(rows.length - 1), rows.at(-1)!.pid);
  });

  it("reads int64 values above 2^32 exactly", () => {
    const row: EventRow = {
      seq: 2 ** 40 + 3,
      ts: 5_000_000_000_123,
      kind: EventKind.Call,
      pid: TEST_PID,
      module: "Sample.Math",
      function: "fib",
      arity: 1,
      call_id: 2 ** 33 + 1,
      parent_id: 0,
      file: MATH,
      line: 9,
      name: "",
      value: "[30]",
    };
    const m = RecordingModel.fromIPC(recordingBytes([row, { ...row, seq: row.seq + 1, ts: row.ts + 10, kind: EventKind.Return, value: "832040" }]));
    assert.equal(m.seq[0], 2 ** 40 + 3);
    assert.equal(m.ts[1], 5_000_000_000_133);
    assert.equal(m.callIdOf(0), 2 ** 33 + 1);
    assert.equal(m.callFlags[0], CallFlag.Returned);
    assert.equal(m.rowOfSeq(2 ** 40 + 4), 1);
  });

  it("finds the busiest window of a recording", () => {
    const check = (ts: number[], share: number, expected: [number, number]) =>
      assert.deepEqual(busiestWindow(Float64Array.from(ts), ts.length, share), expected, `${ts} ${share}`);
    check([], 0.9, [0, 0]);
    check([5], 0.9, [5, 5]);
    check([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 0.9, [0, 8]);
    check([0, 1, 500, 501, 502, 503, 504, 505, 506, 507], 0.8, [500, 507]);
    check([0, 1, 2, 3, 4, 5, 6, 7, 1000, 2000], 0.8, [0, 7]);
  });

  it("reads an empty recording", () => {
    const m = RecordingModel.fromIPC(recordingBytes([]));
    assert.deepEqual(m.summary(), { events: 0, processes: 0, calls: 0, exceptions: 0, bindings: 0, dropped: 0 });
    assert.equal(m.rowAtTime(0), -1);
    assert.equal(m.rowOfSeq(1), -1);
    assert.equal(m.callAt(0, 0, 0), -1);
  });

  it("rejects what is not a recording with a clear sentence", () => {
    const check = (bytes: Uint8Array, message: RegExp) =>
      assert.throws(() => RecordingModel.fromIPC(bytes), (e: Error) => e instanceof RecordingFormatError && message.test(e.message));
    check(new TextEncoder().encode("hello, not arrow"), /not an ElixirScope recording/);
    const other = new Schema([new Field("x", new Int32(), false)]);
    check(tableToIPC(new Table(other, [batchFromColumns(other, [makeData({ type: new Int32(), length: 1, nullCount: 0, data: new Int32Array([1]) })])])), /no "seq" column/);
    const future = eventTable(sampleScript().rows, { header: { schemaVersion: 99, app: "a", command: "c", startedAt: "", node: "", dropped: 0, events: 1 } });
    check(tableToIPC(future), /event schema 99.*update the extension/);
    assert.ok(eventSchema().fields.length > 0);
  });
});

describe("RecordingModel values", () => {
  // Row 0: [1..30] and row 1: 7 as terms (what the agent sends), row 2: text the agent printed.
  const list = Uint8Array.of(131, 107, 0, 30, ...Array.from({ length: 30 }, (_, i) => i + 1));
  const special: Uint8Array[] = [list, Uint8Array.of(131, 97, 7), new TextEncoder().encode("** (RuntimeError) boom")];

  function withTerms(header?: RecordingHeader): Uint8Array {
    const rows = sampleScript().rows;
    const table = eventTable(rows, { header, batchSize: rows.length });
    const values = rows.map((r, i) => special[i] ?? new TextEncoder().encode(r.value));
    const offsets = new Int32Array(values.length + 1);
    values.forEach((v, i) => (offsets[i + 1] = offsets[i] + v.length));
    const bytes = new Uint8Array(offsets[values.length]);
    values.forEach((v, i) => bytes.set(v, offsets[i]));
    const value = makeData({ type: new Binary(), length: values.length, nullCount: 0, valueOffsets: offsets, data: bytes });
    const schema = table.schema;
    const columns = schema.fields.map((f, j) => (f.name === "value" ? value : table.batches[0].data.children[j]));
    return tableToIPC(new Table(schema, [batchFromColumns(schema, columns)]));
  }

  const header = (values?: RecordingHeader["values"]): RecordingHeader => ({
    schemaVersion: 3, app: "a", command: "c", startedAt: "", node: "", dropped: 0, events: 1, ...(values ? { values } : {}),
  });

  it("prints terms with the bounds in the recording's header, and text as it is", () => {
    const m = RecordingModel.fromIPC(withTerms(header({ max_chars: 400, max_items: 3, max_depth: 6 })));
    assert.equal(m.valueOf(0), "[1, 2, 3, ...]…");
    assert.equal(m.valueOf(1), "7");
    assert.equal(m.valueOf(2), "** (RuntimeError) boom");
    assert.equal(m.valueOf(3), sampleScript().rows[3].value);
  });

  it("without a header, the host's bounds (a live recording) or else the defaults", () => {
    const live = new RecordingModel();
    live.valueBounds = { max_chars: 10, max_items: 25, max_depth: 6 };
    live.append(withTerms());
    assert.equal(live.valueOf(0), "[1, 2, 3,…");
    const plain = RecordingModel.fromIPC(withTerms());
    assert.equal(plain.valueOf(0), `[${Array.from({ length: 25 }, (_, i) => i + 1).join(", ")}, ...]…`);
  });

  it("a term that cannot be read prints as a placeholder; the other events are there", () => {
    special[1] = Uint8Array.of(131, 250);
    try {
      const m = RecordingModel.fromIPC(withTerms(header()));
      assert.equal(m.valueOf(1), "#<unprintable value>");
      assert.equal(m.valueOf(2), "** (RuntimeError) boom");
      assert.equal(m.count, sampleScript().rows.length);
    } finally {
      special[1] = Uint8Array.of(131, 97, 7);
    }
  });
});
