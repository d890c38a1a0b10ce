/**
 * A small, realistic recording of the sample app (test/fixtures/sample_app): a test process
 * opening an account and depositing into the ledger GenServer, a withdraw! that raises, and a
 * pipeline worker computing factorial recursively. Three processes, nested calls, bindings and
 * an exception, in event schema v1.
 */
import type { RecordingHeader } from "../../protocol/src/events";
import { RecordingScript, recordingBytes } from "./recording-builder";

export const ROOT = "/home/dev/sample_app/lib/sample";
export const LEDGER = `${ROOT}/ledger.ex`;
export const MATH = `${ROOT}/math.ex`;
export const PIPELINE = `${ROOT}/pipeline.ex`;

export const TEST_PID = "#PID<0.210.0>";
export const LEDGER_PID = "#PID<0.198.0>";
export const WORKER_PID = "#PID<0.215.0>";

export function sampleScript(): RecordingScript {
  const s = new RecordingScript();
  // The test process opens an account and deposits 100.
  s.enter(TEST_PID, "Sample.Ledger.open/2", `[Sample.Ledger, "alice"]`, LEDGER, 13);
  s.advance(40_000);
  s.enter(LEDGER_PID, "Sample.Ledger.handle_call/3", `[{:open, "alice"}, {#PID<0.210.0>, #Reference<0.1.2.3>}, %{}]`, LEDGER, 46);
  s.advance(25_000);
  s.exit(LEDGER_PID, `{:reply, :ok, %{"alice" => %{balance: 0, entries: []}}}`);
  s.advance(30_000);
  s.exit(TEST_PID, ":ok");
  s.advance(60_000);

  s.enter(TEST_PID, "Sample.Ledger.deposit/3", `[Sample.Ledger, "alice", 100]`, LEDGER, 17);
  s.advance(35_000);
  s.enter(LEDGER_PID, "Sample.Ledger.handle_call/3", `[{:deposit, "alice", 100}, {#PID<0.210.0>, #Reference<0.1.2.4>}, %{"alice" => %{balance: 0, entries: []}}]`, LEDGER, 54);
  s.bind(LEDGER_PID, "acct", `%{balance: 0, entries: []}`, 56);
  s.advance(20_000);
  s.enter(LEDGER_PID, "Sample.Ledger.apply_entry/2", `[%{balance: 0, entries: []}, {:deposit, 100}]`, LEDGER, 86);
  s.advance(45_000);
  s.exit(LEDGER_PID, `%{balance: 100, entries: [deposit: 100]}`);
  s.bind(LEDGER_PID, "updated", `%{balance: 100, entries: [deposit: 100]}`, 57);
  s.advance(15_000);
  s.exit(LEDGER_PID, `{:reply, {:ok, 100}, %{"alice" => %{balance: 100, entries: [deposit: 100]}}}`);
  s.advance(30_000);
  s.exit(TEST_PID, "{:ok, 100}");
  s.advance(40_000);

  // A pipeline worker squares numbers and computes 4! recursively while the test goes on.
  s.enter(WORKER_PID, "Sample.Pipeline.worker/0", "[]", PIPELINE, 34);
  s.advance(20_000);
  s.enter(WORKER_PID, "Sample.Pipeline.square/1", "[7]", PIPELINE, 56);
  s.advance(10_000);
  s.exit(WORKER_PID, "49");
  s.advance(15_000);
  s.enter(WORKER_PID, "Sample.Math.factorial/1", "[4]", MATH, 6);
  for (let n = 3; n >= 0; n--) {
    s.advance(12_000);
    s.enter(WORKER_PID, "Sample.Math.factorial/1", `[${n}]`, MATH, n === 0 ? 5 : 6);
  }
  let acc = 1;
  for (let n = 0; n <= 4; n++) {
    acc *= Math.max(1, n);
    s.advance(9_000);
    s.exit(WORKER_PID, String(acc));
  }

  // withdraw! of more than the balance: the server answers an error and the caller raises.
  s.enter(TEST_PID, "Sample.Ledger.withdraw!/3", `[Sample.Ledger, "alice", 250]`, LEDGER, 31);
  s.advance(20_000);
  s.enter(TEST_PID, "Sample.Ledger.withdraw/3", `[Sample.Ledger, "alice", 250]`, LEDGER, 21);
  s.advance(25_000);
  s.enter(LEDGER_PID, "Sample.Ledger.handle_call/3", `[{:withdraw, "alice", 250}, {#PID<0.210.0>, #Reference<0.1.2.5>}, %{"alice" => %{balance: 100, entries: [deposit: 100]}}]`, LEDGER, 65);
  s.advance(30_000);
  s.exit(LEDGER_PID, `{:reply, {:error, {:insufficient_funds, 100}}, %{"alice" => %{balance: 100, entries: [deposit: 100]}}}`);
  s.advance(20_000);
  s.exit(TEST_PID, "{:error, {:insufficient_funds, 100}}");
  s.bind(TEST_PID, "balance", "100", 36);
  s.advance(25_000);
  s.raise(TEST_PID, "** (Sample.InsufficientFundsError) account alice has 100, cannot withdraw 250");
  s.advance(20_000);
  s.exit(WORKER_PID, ":ok");
  return s;
}

export const SAMPLE_HEADER: RecordingHeader = {
  schemaVersion: 1,
  app: "sample_app",
  command: "mix test test/ledger_test.exs",
  startedAt: "2025-11-23T21:30:00.000Z",
  node: "nonode@nohost",
  dropped: 0,
  events: 0,
};

export function sampleRecording(format: "stream" | "file" = "file"): { bytes: Uint8Array; script: RecordingScript } {
  const script = sampleScript();
  const header = { ...SAMPLE_HEADER, events: script.rows.length };
  return { bytes: recordingBytes(script.rows, { header, format, batchSize: 16 }), script };
}
