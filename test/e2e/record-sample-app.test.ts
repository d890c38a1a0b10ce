/**
 * End to end with real parts: the language server's analysis plans the sample app, the real
 * BEAM agent is loaded into `mix test` through ELIXIR_ERL_OPTIONS, events arrive as Arrow over a
 * loopback socket, and we assert specific calls, arguments, returns and exceptions, in order,
 * in the right processes.
 */
import { before, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { RecordingSession, type RecordResult } from "../../extension/src/recorder/session";
import { planWorkspace } from "../../server/src/analysis/plan";
import { EventKind } from "../../protocol/src/events";
import { distDir, freshSampleApp, rows, type Row } from "./helpers";

let app: string;
let result: RecordResult;
let all: Row[];
let output = "";

before(async () => {
  app = freshSampleApp();
  const { modules } = await planWorkspace(app, { wasmDir: distDir });
  const session = new RecordingSession({
    cwd: app,
    command: "mix test --seed 0",
    modules,
    agentEbin: join(distDir, "agent/ebin"),
    connectTimeoutMs: 120_000,
    onOutput: (text) => (output += text),
  });
  result = await session.run();
  all = rows(result.ring.all());
});

const calls = (fn: string, arity?: number) =>
  all.filter((r) => r.kind === EventKind.Call && `${r.module}.${r.function}` === fn && (arity === undefined || r.arity === arity));
const endOf = (call: Row) => all.find((r) => r.call_id === call.call_id && (r.kind === EventKind.Return || r.kind === EventKind.Exception))!;

test("the sample app's suite passes unchanged while recorded", () => {
  assert.equal(result.exitCode, 0, output);
  assert.match(output, /8 tests, 0 failures/);
  assert.equal(result.bye?.reason !== undefined, true, "the agent said goodbye after flushing");
  assert.ok(result.ready!.instrumented.some((m) => m.module === "Sample.Ledger"));
});

test("events are in capture order with monotonic timestamps", () => {
  for (let i = 1; i < all.length; i++) {
    assert.ok(all[i].seq > all[i - 1].seq, `seq order at ${i}`);
  }
  assert.equal(result.stats.dropped, 0);
});

test("factorial(5) recurses down to 0 in one process, each call returning the right value", () => {
  const top = calls("Sample.Math.factorial").find((c) => c.value === "[5]");
  assert.ok(top, "factorial(5) recorded");
  let call = top;
  for (let n = 5; n >= 0; n--) {
    assert.equal(call.value, `[${n}]`);
    assert.equal(call.pid, top.pid);
    const ret = endOf(call);
    assert.equal(ret.kind, EventKind.Return);
    assert.equal(ret.value, String([1, 1, 2, 6, 24, 120][n]));
    if (n > 0) call = all.find((r) => r.kind === EventKind.Call && r.parent_id === call.call_id && r.function === "factorial")!;
  }
  assert.ok(top.file.endsWith("lib/sample/math.ex"));
  assert.ok(top.line > 0);
});

test("divide(1, 0) records its ArithmeticError", () => {
  const call = calls("Sample.Math.divide").find((c) => c.value === "[1, 0]")!;
  assert.ok(call);
  const end = endOf(call);
  assert.equal(end.kind, EventKind.Exception);
  assert.match(end.value, /ArithmeticError/);
});

test("the ledger's callbacks run in the GenServer, its API in the test process", () => {
  const deposit = calls("Sample.Ledger.deposit", 3).find((c) => c.value.includes('"alice", 100'))!;
  assert.ok(deposit, "deposit(ledger, \"alice\", 100) recorded");
  const handled = calls("Sample.Ledger.handle_call").find((c) => c.value.startsWith('[{:deposit, "alice", 100}'))!;
  assert.ok(handled, "handle_call({:deposit, \"alice\", 100}, ...) recorded");
  assert.notEqual(handled.pid, deposit.pid);
  assert.match(endOf(handled).value, /^\{:reply, \{:ok, 100\}, /);
  assert.equal(endOf(deposit).value, "{:ok, 100}");
  assert.ok(handled.seq > deposit.seq && endOf(deposit).seq > endOf(handled).seq, "call → callback → reply, in order");
});

test("withdraw! raises InsufficientFundsError in the caller", () => {
  const call = calls("Sample.Ledger.withdraw!", 3).find((c) => c.value.includes('"bob", 25'))!;
  assert.ok(call);
  const end = endOf(call);
  assert.equal(end.kind, EventKind.Exception);
  assert.match(end.value, /Sample\.InsufficientFundsError.*account bob has 10, cannot withdraw 25/);
});

test("pipeline workers square numbers in their own processes", () => {
  const squares = calls("Sample.Pipeline.square");
  assert.deepEqual(squares.map((c) => c.value).sort(), ["[1]", "[2]", "[3]", "[4]"]);
  assert.deepEqual(squares.map((c) => endOf(c).value).sort(), ["1", "16", "4", "9"]);
  const run = calls("Sample.Pipeline.run")[0];
  const workerPids = new Set(squares.map((c) => c.pid));
  assert.equal(workerPids.size, 2);
  assert.ok(!workerPids.has(run.pid));
});

test("parameters are recorded as named bindings", () => {
  const n = all.filter((r) => r.kind === EventKind.Binding && r.function === "factorial" && r.name === "n");
  assert.deepEqual([...new Set(n.map((b) => b.value))].sort(), ["1", "2", "3", "4", "5"]);
  const amount = all.filter((r) => r.kind === EventKind.Binding && r.function === "deposit" && r.name === "amount");
  assert.ok(amount.some((b) => b.value === "100"));
});

test("a receive loop's tail call is recorded as such: each worker iteration replaces the last", () => {
  const workers = calls("Sample.Pipeline.worker");
  // Per worker process: one call per message (2 jobs + :stop), all at the top of its stack.
  assert.equal(workers.length, 6);
  for (const w of workers) assert.equal(w.parent_id, 0);
  const tails = all.filter((r) => r.kind === EventKind.TailCall && r.function === "worker");
  assert.equal(tails.length, 4);
  for (const t of tails) assert.equal(t.name, "Sample.Pipeline.worker/0");
  const stops = workers.filter((w) => endOf(w)?.kind === EventKind.Return);
  assert.deepEqual(stops.map((w) => endOf(w).value), [":ok", ":ok"]);
});

test("bindings inside bodies: the fn in run/2 records its clause and match variables", () => {
  const inFn = all.filter((r) => r.kind === EventKind.Binding && r.function === "fn in run/2" && r.module === "Sample.Pipeline");
  const names = new Set(inFn.map((b) => b.name));
  for (const n of ["n", "i", "worker", "ref"]) assert.ok(names.has(n), `binding ${n} in the fn`);
  const fnCalls = calls("Sample.Pipeline.fn in run/2");
  const run = calls("Sample.Pipeline.run")[0];
  // Every fn written in run/2 (the job fn, `&send(&1, :stop)`) is a call under it; the `for` is not a fn.
  for (const c of fnCalls) assert.equal(c.parent_id, run.call_id);
  const jobs = fnCalls.filter((c) => c.value.startsWith("[{"));
  assert.deepEqual(jobs.map((c) => c.value), ["[{1, 0}]", "[{2, 1}]", "[{3, 2}]", "[{4, 3}]"]);
  const results = all.filter((r) => r.kind === EventKind.Binding && r.function === "run" && r.name === "results");
  assert.ok(results.length > 0, "the match `results = …` in run/2");
});
