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
