import { test } from "node:test";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tableFromIPC } from "apache-arrow";
import { tmpdir } from "node:os";
import { join } from "node:path";
import assert from "node:assert/strict";
import { encodeRecording, decodeRecording } from "../../extension/src/recorder/recording-file";
import { RecordingIndex, percentile } from "../../extension/src/recorder/recording-index";
import { numbers, utf8 } from "../../extension/src/recorder/columns";
import { RingBuffer } from "../../extension/src/recorder/ring-buffer";
import { FrameDecoder, encodeFrame } from "../../extension/src/recorder/frames";
import { FrameType } from "../../protocol/src/wire";
import { SCHEMA_VERSION, type RecordingHeader } from "../../protocol/src/events";
import { eventsTable, sampleEvents } from "./make-events";
import { rows } from "../e2e/helpers";

const header: RecordingHeader = {
  schemaVersion: SCHEMA_VERSION, app: "sample_app", command: "mix test", startedAt: "2026-11-23T00:00:00.000Z",
  node: "nonode@nohost", dropped: 0, events: 3,
};

test("a saved recording round-trips its events and header", () => {
  const table = eventsTable(sampleEvents());
  const bytes = encodeRecording(table.batches, header);
  const loaded = decodeRecording(bytes);
  assert.deepEqual(loaded.header, header);
  assert.equal(loaded.table.numRows, 3);
  assert.equal(rows(loaded.table)[1].value, "2");
  assert.equal(loaded.table.getChild("name")!.get(1), "n");
});

test("garbage is not a recording, with a clear error", () => {
  assert.throws(() => decodeRecording(new TextEncoder().encode("hello world, not arrow")), /not an ElixirScope recording/);
});

test("a recording from a newer schema is refused with the next step", () => {
  const bytes = encodeRecording(eventsTable(sampleEvents()).batches, { ...header, schemaVersion: SCHEMA_VERSION + 1 });
  assert.throws(() => decodeRecording(bytes), /update the extension/);
});

test("the index answers variable history newest first and counts calls per line", () => {
  const file = "/app/lib/sample/math.ex";
  const events = [...sampleEvents(file), ...sampleEvents(file).map((e) => ({ ...e, seq: e.seq + 10, value: e.name ? "5" : e.value }))];
  const index = RecordingIndex.fromTable(eventsTable(events));
  assert.deepEqual(index.history(file, "n").map((b) => b.value), ["5", "2"]);
  assert.deepEqual(index.history(file, "n", { line: 7 }), []);
  assert.equal(index.history(file, "n", { module: "Sample.Math", function: "factorial" }).length, 2);
  assert.equal(index.callsByLine.get(file)!.get(6), 2);
});

test("the ring buffer stays under its cap and counts what it evicted", () => {
  const batch = eventsTable(sampleEvents()).batches[0];
  const ring = new RingBuffer(1000);
  for (let i = 0; i < 5; i++) ring.push(batch, 400);
  assert.ok(ring.byteLength <= 1000);
  assert.equal(ring.events + ring.evictedEvents, 15);
  assert.equal(ring.evictedBatches, 3);
});

test("frames split anywhere are reassembled; bad lengths are errors", () => {
  const bytes = Buffer.concat([encodeFrame(FrameType.Log, '{"level":"info","message":"a"}'), encodeFrame(FrameType.Stop)]);
  for (let cut = 0; cut <= bytes.length; cut++) {
    const d = new FrameDecoder();
    const frames = [...d.push(bytes.subarray(0, cut)), ...d.push(bytes.subarray(cut))];
    assert.deepEqual(frames.map((f) => f.type), [FrameType.Log, FrameType.Stop]);
  }
  assert.throws(() => new FrameDecoder(10).push(Buffer.from([0, 0, 0, 11, 1])), /outside 1\.\.10/);
  assert.throws(() => new FrameDecoder().push(Buffer.from([0, 0, 0, 0])), /outside/);
});

test("the index finds events by seq (or the one before a gap) and steps within a process", () => {
  const other = sampleEvents().map((e) => ({ ...e, pid: "#PID<0.200.0>", seq: e.seq * 10 + 5, call_id: 9 }));
  const mine = sampleEvents().map((e) => ({ ...e, seq: e.seq * 10 }));
  const events = [...mine, ...other].sort((a, b) => a.seq - b.seq);
  const index = RecordingIndex.fromTable(eventsTable(events));
  assert.equal(index.eventAt(20)!.kind, 4);
  assert.equal(index.eventAt(24)!.seq, 20, "a gap resolves to the event before it");
  assert.equal(index.eventAt(5), undefined);
  const first = index.eventAt(10)!;
  const next = index.step(first, 1)!;
  assert.equal(next.seq, 30, "skips the binding and the other process");
  assert.equal(index.step(next, 1), undefined);
  assert.equal(index.step(next, -1)!.seq, 10);
  assert.deepEqual(index.bindingsOfCall(1).map((b) => `${b.name}=${b.value}`), ["n=2"]);
});

test("function statistics: calls, durations from call to return, raised, slowest call", () => {
  const file = "/app/lib/sample/math.ex";
  const base = { pid: "#PID<0.1.0>", module: "Sample.Math", function: "divide", arity: 2, parent_id: 0, file, name: "", value: "" };
  const index = RecordingIndex.fromTable(
    eventsTable([
      { ...base, seq: 1, ts: 1000, kind: 1, call_id: 1, line: 20 },
      { ...base, seq: 2, ts: 1500, kind: 2, call_id: 1, line: 20 },
      { ...base, seq: 3, ts: 2000, kind: 1, call_id: 3, line: 19 },
      { ...base, seq: 4, ts: 9000, kind: 3, call_id: 3, line: 19 },
      { ...base, seq: 5, ts: 9500, kind: 1, call_id: 5, line: 20 },
    ]),
  );
  const [stats] = index.functionStats(file);
  assert.equal(stats.calls, 3);
  assert.equal(stats.raised, 1);
  assert.equal(stats.line, 19, "the first clause line");
  assert.deepEqual(stats.durations, [500, 7000], "the call still running has no duration");
  assert.equal(stats.slowestSeq, 3);
  assert.equal(percentile(stats.durations, 50), 500);
  assert.equal(percentile(stats.durations, 99), 7000);
  assert.ok(Number.isNaN(percentile([], 50)));
});

test("beyond the cap, batches spill to disk and come back in order: nothing lost", () => {
  const dir = mkdtempSync(join(tmpdir(), "es-spill-"));
  const ring = new RingBuffer(1000, join(dir, "spill.arrows"));
  for (let i = 0; i < 5; i++) {
    ring.push(eventsTable(sampleEvents().map((e) => ({ ...e, seq: e.seq + i * 10 }))).batches[0], 400);
  }
  assert.equal(ring.spilledEvents, 9);
  assert.equal(ring.evictedEvents, 0);
  assert.equal(ring.keptEvents, 15);
  const seqs = ring.all().flatMap((b) => [...b.getChild("seq")!].map(Number));
  assert.deepEqual(seqs, [1, 2, 3, 11, 12, 13, 21, 22, 23, 31, 32, 33, 41, 42, 43]);
  // The spill file is one Arrow IPC stream any Arrow reader opens (here while still recording).
  const spilled = tableFromIPC(readFileSync(join(dir, "spill.arrows")));
  assert.equal(spilled.batches.length, 3);
  assert.deepEqual([...spilled.getChild("seq")!].map(Number), [1, 2, 3, 11, 12, 13, 21, 22, 23]);
  assert.equal(spilled.getChild("module")!.get(0), sampleEvents()[0].module);
  ring.dispose();
  assert.ok(!existsSync(join(dir, "spill.arrows")));
});

test("with a spill file, even one batch larger than the cap leaves memory", () => {
  const dir = mkdtempSync(join(tmpdir(), "es-spill-"));
  const ring = new RingBuffer(100, join(dir, "spill.arrows"));
  ring.push(eventsTable(sampleEvents()).batches[0], 400);
  assert.equal(ring.byteLength, 0);
  assert.equal(ring.events, 0);
  assert.equal(ring.spilledEvents, 3);
  assert.deepEqual(ring.all().flatMap((b) => [...b.getChild("seq")!].map(Number)), [1, 2, 3]);
  ring.dispose();
});

test("events that arrived late (a process event behind later ones) are put back in seq order", () => {
  const ring = new RingBuffer(1 << 20);
  const base = sampleEvents();
  ring.push(eventsTable(base.map((e) => ({ ...e, seq: e.seq + 10 }))).batches[0], 100);
  // A late one: seq 2, after 11–13 (what a tracer's late trace message gives).
  ring.push(eventsTable([{ ...base[1], seq: 2 }]).batches[0], 100);
  ring.push(eventsTable(base.map((e) => ({ ...e, seq: e.seq + 20 }))).batches[0], 100);
  const sorted = ring.all();
  const seqs = sorted.flatMap((b) => [...b.getChild("seq")!].map(Number));
  assert.deepEqual(seqs, [2, 11, 12, 13, 21, 22, 23]);
  // Every column moved with its row, and the file and index read the sorted rows.
  const reopened = decodeRecording(encodeRecording(sorted, header));
  assert.equal(reopened.table.getChild("function")!.get(0), base[1].function);
  assert.equal(rows(reopened.table)[0].value, base[1].value);
  assert.equal(reopened.table.getChild("line")!.get(1), base[0].line);
  const index = RecordingIndex.fromBatches(sorted);
  assert.equal(index.eventAt(12)?.seq, 12);
  // In order already: the same batches, untouched.
  const plain = new RingBuffer(1 << 20);
  const batch = eventsTable(base).batches[0];
  plain.push(batch, 100);
  assert.equal(plain.all()[0], batch);
});

test("a full disk: the spill failure is reported and the lost events are counted", () => {
  const ring = new RingBuffer(1000, "/dev/full");
  for (let i = 0; i < 5; i++) ring.push(eventsTable(sampleEvents()).batches[0], 400);
  assert.match(ring.spillError ?? "", /could not spill events to \/dev\/full: ENOSPC/);
  assert.equal(ring.evictedEvents, 9);
  assert.equal(ring.keptEvents, 6);
});

test("column readers: int64 beyond 2^32 exactly, repeated strings reused, changed ones decoded", () => {
  const big = 2 ** 40 + 12345;
  const events = sampleEvents().map((e, i) => ({ ...e, ts: big + i, module: i === 2 ? "Other.Mod" : e.module }));
  const batch = eventsTable(events).batches[0];
  assert.deepEqual(Array.from(numbers(batch, "ts")), [big, big + 1, big + 2]);
  const mod = utf8(batch, "module");
  assert.deepEqual([0, 1, 2, 1].map((i) => mod.get(i)), ["Sample.Math", "Sample.Math", "Other.Mod", "Sample.Math"]);
});
