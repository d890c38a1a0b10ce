/**
 * The event schema tested from both ends: the BEAM agent's hand-written Arrow encoder writes an
 * EVENTS payload for known events (beam_agent/test_fixtures/emit_events.exs), apache-arrow reads
 * it, and every column's name, type and values must match protocol/src/events.ts `COLUMNS` and
 * what the agent meant to write.
 */
import { before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Table, tableFromIPC, Type } from "apache-arrow";
import { COLUMNS, EventKind, type ColumnType } from "../protocol/src/events";
import { withBinaryValues } from "../extension/src/recorder/columns";
import { withPrintedValues } from "./recorder/printed-values";
import type { ValueBounds } from "../protocol/src/values";

/** An EVENTS payload as readers show it: its values printed (protocol/src/values.ts). */
function recorded(wire: Table, bounds: ValueBounds): Table {
  return new Table(wire.batches.map((b) => withPrintedValues(b, bounds)));
}

let wire: Table;
let table: Table;
let expected: { columns: string[]; rows: (string | number)[][] };

before(() => {
  const dir = mkdtempSync(join(tmpdir(), "es-agent-arrow-"));
  const arrow = join(dir, "events.arrow");
  const json = join(dir, "expected.json");
  execFileSync("mix", ["run", "test_fixtures/emit_events.exs", arrow, json], {
    cwd: join(__dirname, "../beam_agent"),
    stdio: ["ignore", "inherit", "inherit"],
    env: { ...process.env, MIX_ENV: "dev" },
  });
  wire = tableFromIPC(readFileSync(arrow));
  // The bounds test_fixtures/emit_events.exs formats with.
  table = recorded(wire, { max_chars: 30, max_items: 5, max_depth: 3 });
  expected = JSON.parse(readFileSync(json, "utf8"));
});

const typeOf: Record<ColumnType, { typeId: Type; bitWidth?: number }> = {
  int64: { typeId: Type.Int, bitWidth: 64 },
  int32: { typeId: Type.Int, bitWidth: 32 },
  int8: { typeId: Type.Int, bitWidth: 8 },
  utf8: { typeId: Type.Utf8 },
  binary: { typeId: Type.Binary },
};

test("the schema is COLUMNS: names, order, types, non-nullable", () => {
  assert.deepEqual(
    wire.schema.fields.map((f) => f.name),
    COLUMNS.map((c) => c.name),
  );
  assert.deepEqual(expected.columns, COLUMNS.map((c) => c.name));
  COLUMNS.forEach((c, i) => {
    const field = wire.schema.fields[i];
    const want = typeOf[c.type];
    assert.equal(field.type.typeId, want.typeId, `${c.name} type`);
    if (want.bitWidth) {
      assert.equal((field.type as { bitWidth: number }).bitWidth, want.bitWidth, `${c.name} width`);
      assert.equal((field.type as { isSigned: boolean }).isSigned, true, `${c.name} signed`);
    }
    assert.equal(field.nullable, false, `${c.name} nullable`);
  });
});

test("EVENTS frames carry values as Binary (event schema 3), which the recorder keeps as they are", () => {
  const value = wire.schema.fields.find((f) => f.name === "value")!;
  assert.equal(value.type.typeId, Type.Binary);
  const bytes = wire.getChild("value")!.get(0) as Uint8Array;
  assert.equal(bytes[0], 131, "a call's argument list travels as a term");
  for (const b of wire.batches) assert.equal(withBinaryValues(b), b);
});

test("several record batches, all rows present", () => {
  assert.ok(table.batches.length > 1, "the payload was written in batches of 3 rows");
  assert.equal(table.numRows, expected.rows.length);
});

test("every cell reads back as the agent wrote it", () => {
  COLUMNS.forEach((c, j) => {
    const column = table.getChild(c.name)!;
    for (let i = 0; i < table.numRows; i++) {
      const got = column.get(i);
      const want = expected.rows[i][j];
      if (c.type === "int64") assert.equal(got, BigInt(want), `${c.name}[${i}]`);
      else if (c.type === "utf8" || c.type === "binary") assert.equal(got, want, `${c.name}[${i}]`);
      else assert.equal(got, Number(want), `${c.name}[${i}]`);
    }
  });
});

test("known events: rebased ids and times, Elixir-formatted text, visible truncation", () => {
  const row = (i: number) => table.get(i)!.toJSON() as Record<string, unknown>;
  assert.deepEqual(row(0), {
    // Row seqs are capture order × 64, leaving room for a CALL's BINDING rows right after it.
    seq: 64n,
    ts: 10n,
    kind: EventKind.Call,
    pid: "#PID<0.123.0>",
    module: "Sample.Ledger",
    function: "deposit",
    arity: 3,
    call_id: 64n,
    parent_id: 0n,
    file: "/work/app/lib/sample/ledger.ex",
    line: 17,
    name: "",
    value: '[#PID<0.123.0>, "alice", 100]',
  });
  assert.equal(row(1).kind, EventKind.Binding);
  assert.equal(row(1).name, "ledger");
  assert.equal(row(1).seq, 65n);
  assert.equal(row(1).call_id, 64n);
  assert.equal(row(1).value, "#PID<0.123.0>");
  assert.equal(row(2).name, "amount");
  assert.equal(row(2).seq, 66n);
  assert.equal(row(2).value, "100");
  assert.equal(row(3).module, ":lists");
  assert.equal(row(3).parent_id, 64n);
  assert.equal(row(3).value, "[[1, 2, 3, 4, 5, ...]]…");
  assert.equal(row(4).value, "%{deep: %{deeper: %{deepest: …");
  assert.equal(row(5).kind, EventKind.Exception);
  assert.equal(row(5).value, "** (RuntimeError) boom");
  assert.equal(row(6).seq, 9_007_199_254_740_993n * 64n);
  // Aliases are ASCII in Elixir, so inspect prints this module as a quoted atom.
  assert.equal(row(6).module, ':"Elixir.Sample.Ünïcode"');
  assert.equal(row(6).function, "résumé");
  assert.equal(row(6).line, 2_147_483_647);
  assert.equal(row(6).value, '["é…", :"quoted atom"]');
  assert.equal(row(7).value, `"${"x".repeat(28)}…`);
  assert.equal((row(7).value as string).length, 30);
});

/**
 * Process events and metric samples (kinds 6–17), from real processes traced by the agent's VM
 * tracer plus one GenServer callback (its Call and Return as the hot path records them), through
 * the real row conversion and encoder; read here with apache-arrow.
 */
const VM_SCRIPT = String.raw`
alias ElixirScope.Agent.{Arrow, Drain, Events, JSON, Runtime, Store, VMTracer}
{:ok, _} = Application.ensure_all_started(:elixir_scope_agent)
Events.register_sites([{990_002, {Sample.Worker, :run, 0, 3, "/work/app/lib/sample/worker.ex", nil}}])
ref = Store.atomics()
Store.reset(ref)
base = :erlang.unique_integer([:monotonic])
t0 = :os.perf_counter()
Store.enable(ref, true)
{:ok, tracer} = VMTracer.start_link(sample_ms: 10)
test = self()

worker =
  spawn(fn ->
    # A recorded call: the process gets its ordering slot and is enrolled, as instrumented
    # code would be.
    cid = Runtime.call(990_002, [], [])
    child = spawn(fn -> receive do: ({:work, from} -> send(from, :done)) end)
    send(child, {:work, self()})
    receive do: (:done -> :ok)
    Runtime.return(990_002, cid, :ok)
    Process.register(self(), :es_arrow_worker)
    send(test, {:finished, child})
    receive do: (:exit -> exit({:shutdown, :finished}))
  end)

child = receive do: ({:finished, c} -> c)
# Until one sample of the worker is in the store.
wait = fn wait ->
  found = :ets.foldl(fn {_, _, _, _, evs}, acc -> acc or Enum.any?(evs, &match?({17, _, _, ^worker, "mailbox", _}, &1)) end, false, Store.events_table())
  if not found, do: (:erlang.yield(); wait.(wait))
end
wait.(wait)
mref = Process.monitor(worker)
send(worker, :exit)
receive do: ({:DOWN, ^mref, _, _, _} -> :ok)
:ok = VMTracer.stop(tracer)

# A GenServer callback as the hot path records it: STATE before and after.
:ets.insert(Store.behaviours_table(), {Sample.Counter, :gen_server})
Events.register_sites([{990_001, {Sample.Counter, :handle_call, 3, 12, "/work/app/lib/sample/counter.ex", nil}}])
server = :erlang.list_to_pid(~c"<0.321.0>")
cb = base + 1
raw_cb = [
  {server, {1, cb, t0 + 5, 990_001, cb, 0, [:inc, {worker, :tag}, %{n: 1}]}},
  {server, {2, cb + 1, t0 + 6, 990_001, cb, 0, {:reply, :ok, %{n: 2}}}}
]

{events, _} = Drain.run(Drain.new(), final: true)
ctx = Events.context(base, t0, %{max_chars: 200, max_items: 10, max_depth: 4})
traced = for {_seq, pid, ev} <- events, do: {pid, ev}
{rows, _} = Enum.flat_map_reduce(raw_cb ++ traced, ctx, fn {p, ev}, ctx -> Events.to_rows(ev, p, ctx) end)
[arrow_path, json_path] = String.split(System.fetch_env!("ES_VM_OUT"), ",")
File.write!(arrow_path, Arrow.stream(Events.schema(), rows, 7))
text = fn
  <<131, _::binary>> = etf -> ElixirScope.Agent.Value.format(:erlang.binary_to_term(etf), %{max_chars: 200, max_items: 10, max_depth: 4})
  v when is_integer(v) -> Integer.to_string(v)
  v -> v
end
ints = fn row -> row |> Tuple.to_list() |> Enum.map(text) end
File.write!(json_path, JSON.encode(%{worker: inspect(worker), child: inspect(child), rows: Enum.map(rows, ints)}))
`;

test("process events and samples: kinds 6-17 read back with the meaning SCHEMA.md gives them", () => {
  const dir = mkdtempSync(join(tmpdir(), "es-agent-vm-"));
  const arrow = join(dir, "vm.arrow");
  const json = join(dir, "vm.json");
  execFileSync("mix", ["run", "-e", VM_SCRIPT], {
    cwd: join(__dirname, "../beam_agent"),
    stdio: ["ignore", "inherit", "inherit"],
    env: { ...process.env, MIX_ENV: "dev", ES_VM_OUT: `${arrow},${json}` },
  });
  const vm = recorded(tableFromIPC(readFileSync(arrow)), { max_chars: 200, max_items: 10, max_depth: 4 });
  const want = JSON.parse(readFileSync(json, "utf8")) as { worker: string; child: string; rows: string[][] };
  assert.equal(vm.numRows, want.rows.length);
  COLUMNS.forEach((c, j) => {
    const column = vm.getChild(c.name)!;
    for (let i = 0; i < vm.numRows; i++) {
      const w = want.rows[i][j];
      const got = column.get(i);
      if (c.type === "int64") assert.equal(got, BigInt(w), `${c.name}[${i}]`);
      else if (c.type === "utf8" || c.type === "binary") assert.equal(got, w, `${c.name}[${i}]`);
      else assert.equal(got, Number(w), `${c.name}[${i}]`);
    }
  });

  const rows = vm.toArray().map((r) => r.toJSON() as Record<string, unknown>);
  const of = (kind: number) => rows.filter((r) => r.kind === kind);
  const { worker, child } = want;

  const [spawn] = of(EventKind.Spawn).filter((r) => r.pid === worker);
  assert.equal(spawn.name, child);
  assert.match(spawn.function as string, /^fn in /);
  const [exit] = of(EventKind.Exit).filter((r) => r.pid === worker);
  assert.equal(exit.value, "{:shutdown, :finished}");
  assert.ok(of(EventKind.Exit).some((r) => r.pid === child && r.value === ":normal"));
  assert.deepEqual(
    of(EventKind.Register).map((r) => [r.pid, r.name]),
    [[worker, ":es_arrow_worker"]],
  );

  // The worker's message to its child, and the child's answer: each receive names its send.
  const [work] = of(EventKind.Send).filter((r) => r.pid === worker && r.name === child);
  assert.equal(work.value, `{:work, ${worker}}`);
  const [done] = of(EventKind.Receive).filter((r) => r.pid === worker && r.value === ":done");
  const answer = rows.find((r) => r.seq === done.call_id)!;
  assert.equal(answer.kind, EventKind.Send);
  assert.equal(answer.pid, child);
  assert.equal(done.name, child);
  assert.ok((done.seq as bigint) > (answer.seq as bigint));

  const states = of(EventKind.State);
  assert.deepEqual(
    states.map((r) => [r.name, r.value, r.function, r.call_id]),
    [
      ["before", "%{n: 1}", "handle_call", 64n],
      ["after", "%{n: 2}", "handle_call", 64n],
    ],
  );

  const samples = of(EventKind.Sample);
  const node = new Set(samples.filter((r) => r.pid === "").map((r) => r.name));
  for (const m of ["scheduler_utilisation", "memory", "process_count", "run_queue"]) assert.ok(node.has(m), m);
  const mine = samples.filter((r) => r.pid === worker);
  assert.ok(mine.some((r) => r.name === "mailbox" && Number.isFinite(Number(r.value))));
  assert.ok(samples.every((r) => Number.isFinite(Number(r.value)) && r.call_id === 0n && r.parent_id === 0n));
});
