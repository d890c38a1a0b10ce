/**
 * ext.hover_history_ms: a variable's history on a 1M-event recording (the hover provider's
 * query), and ext.open_to_index_ms_1m: a saved 1M-event recording file → decoded → editor
 * indexes built (what the first decorations wait for). Baseline: decoding the same file alone.
 */
import { RecordingIndex } from "../../extension/src/recorder/recording-index";
import { decodeRecording, encodeRecording } from "../../extension/src/recorder/recording-file";
import { SCHEMA_VERSION } from "../../protocol/src/events";
import { eventTable, type EventRow } from "../../test/webview/recording-builder";

const N = 1_000_000;
const FILES = 40;

function rows(): EventRow[] {
  const out: EventRow[] = [];
  let seq = 0;
  for (let call = 0; out.length < N; call++) {
    const file = `/app/lib/app/mod${call % FILES}.ex`;
    const base = { pid: `#PID<0.${100 + (call % 50)}.0>`, module: `App.Mod${call % FILES}`, function: `fun${call % 7}`, arity: 2, parent_id: 0, file };
    const id = ++seq;
    out.push({ ...base, seq: id, ts: id * 100, kind: 1, call_id: id, line: 10 + (call % 7), name: "", value: `[${call}, :ok]` });
    out.push({ ...base, seq: ++seq, ts: seq * 100, kind: 4, call_id: id, line: 10 + (call % 7), name: "count", value: String(call) });
    out.push({ ...base, seq: ++seq, ts: seq * 100, kind: 4, call_id: id, line: 10 + (call % 7), name: "state", value: `%{n: ${call}}` });
    out.push({ ...base, seq: ++seq, ts: seq * 100, kind: 2, call_id: id, line: 10 + (call % 7), name: "", value: ":ok" });
  }
  return out.slice(0, N);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

const table = eventTable(rows(), { batchSize: 65536 });
const bytes = encodeRecording(table.batches, {
  schemaVersion: SCHEMA_VERSION, app: "bench", command: "bench", startedAt: new Date().toISOString(), node: "bench@host", dropped: 0, events: N,
});

const decodeMs: number[] = [];
const openMs: number[] = [];
let index: RecordingIndex | undefined;
for (let i = 0; i < 3; i++) {
  let t = performance.now();
  decodeRecording(bytes);
  decodeMs.push(performance.now() - t);
  t = performance.now();
  index = RecordingIndex.fromTable(decodeRecording(bytes).table);
  openMs.push(performance.now() - t);
}

const hoverMs: number[] = [];
let found = 0;
for (let i = 0; i < 50; i++) {
  const t = performance.now();
  const h = index!.history(`/app/lib/app/mod${i % FILES}.ex`, "count", { module: `App.Mod${i % FILES}`, function: `fun${i % 7}` });
  // The values a hover shows (hover.ts shows 12) are printed when it is built.
  for (const b of h.slice(0, 12)) if (b.value === "") throw new Error("a binding without a value");
  hoverMs.push(performance.now() - t);
  found += h.length;
}
if (found === 0) throw new Error("the history queries found nothing");

console.log(JSON.stringify({
  name: "ext.hover_history_ms", value: median(hoverMs), unit: "ms", target: 50, better: "lower",
  baseline: `median of 50 history queries on ${N} events (${Math.round(found / 50)} values each); max ${Math.max(...hoverMs).toFixed(1)} ms`,
}));
console.log(JSON.stringify({
  name: "ext.open_to_index_ms_1m", value: median(openMs), unit: "ms", target: 2000, better: "lower",
  baseline: `saved ${(bytes.byteLength / 1e6).toFixed(0)} MB recording → decoded → line/variable/function indexes, median of 3; decoding alone ${median(decodeMs).toFixed(0)} ms`,
}));
