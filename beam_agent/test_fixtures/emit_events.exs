# Writes an EVENTS payload (Arrow IPC stream) for known events, plus the rows the agent meant
# to write as JSON, for the cross-language test test/agent-arrow.test.ts:
#
#     mix run test_fixtures/emit_events.exs OUT.arrow OUT.json
#
# Goes through the real row conversion (site lookup, rebasing, value encoding) and encoder.
alias ElixirScope.Agent.{Arrow, Events, JSON}

[arrow_path, json_path] = System.argv()
{:ok, _} = Application.ensure_all_started(:elixir_scope_agent)

file = "/work/app/lib/sample/ledger.ex"

Events.register_sites([
  {900_001, {Sample.Ledger, :deposit, 3, 17, file, nil}},
  {900_002, {Sample.Ledger, :deposit, 3, 17, file, "ledger"}},
  {900_003, {Sample.Ledger, :deposit, 3, 17, file, "amount"}},
  {900_004, {:lists, :reverse, 1, 0, "", nil}},
  {900_005, {:"Elixir.Sample.Ünïcode", :"résumé", 2, 2_147_483_647, "/tmp/ü.ex", "été"}}
])

base = 1_000_000
t0 = 7_000_000_000
pid = :erlang.list_to_pid(~c"<0.123.0>")
other = :erlang.list_to_pid(~c"<0.4567.89>")
values = %{max_chars: 30, max_items: 5, max_depth: 3}

raw = [
  # A CALL carrying its two head variables: three rows.
  {pid, {1, base + 1, t0 + 10, 900_001, base + 1, 0, [pid, "alice", 100], [pid, 100]}},
  {pid, {1, base + 4, t0 + 25, 900_004, base + 4, base + 1, [Enum.to_list(1..100)]}},
  {pid, {2, base + 5, t0 + 99, 900_004, base + 4, base + 1, %{deep: %{deeper: %{deepest: 1}}}}},
  {pid, {3, base + 6, t0 + 150, 900_001, base + 1, 0, {:error, %RuntimeError{message: "boom"}, []}}},
  {other, {1, base + 9_007_199_254_740_993, t0 + 9_007_199_254_740_993, 900_005, base + 9_007_199_254_740_993, 0, ["é…", :"quoted atom"]}},
  {other, {2, base + 9_007_199_254_740_994, t0 + 9_007_199_254_740_994, 900_005, base + 9_007_199_254_740_993, 0, String.duplicate("x", 100)}}
]

ctx = Events.context(base, t0, values)
{rows, _ctx} = Enum.flat_map_reduce(raw, ctx, fn {p, ev}, ctx -> Events.to_rows(ev, p, ctx) end)
File.write!(arrow_path, Arrow.stream(Events.schema(), rows, 3))

# Integers as strings: JSON numbers cannot carry every int64. A value sent as a term (external
# format) is expected to read as the text Value.format/2 gives it with the same bounds.
text = fn
  <<131, _::binary>> = etf -> ElixirScope.Agent.Value.format(:erlang.binary_to_term(etf), values)
  v when is_integer(v) -> Integer.to_string(v)
  v -> v
end

expected = Enum.map(rows, fn row -> row |> Tuple.to_list() |> Enum.map(text) end)

File.write!(json_path, JSON.encode(%{columns: Enum.map(Events.schema(), &elem(&1, 0)), rows: expected}))
