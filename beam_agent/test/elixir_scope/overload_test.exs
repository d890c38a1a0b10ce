defmodule ElixirScope.Agent.OverloadTest do
  # The hot path writes into the one shared store and reads one sampling table: one at a time.
  use ExUnit.Case, async: false

  @compile {:no_warn_undefined, [ESFix.Hot]}

  alias ElixirScope.Agent.{Fixtures, Instrumenter, Overload, Recording, Runtime}

  @source ~S'''
  defmodule ESFix.Hot do
    def outer(n), do: Enum.map(1..n, fn i -> hot(i) end) |> length()
    def hot(i) do
      j = i * 2
      leaf(j)
      j
    end
    def leaf(j), do: j + 1
    def maybe_raise(i) do
      if i == 7, do: raise(ArgumentError, "seven"), else: i
    end
  end
  '''

  setup_all do
    fix = Fixtures.compile(@source, name: "hot")
    {loaded, []} = Recording.instrument(fix.lib_dir, ["ESFix.Hot"])
    on_exit(fn -> Instrumenter.restore(loaded) end)
    :ok
  end

  setup do
    on_exit(&Overload.clear/0)
  end

  # The site of a function's clause, from a recording of one call.
  defp site_of(fun) do
    {_, rows} = Recording.record(fun)
    [call | _] = rows
    {call.module, call.function, rows}
  end

  defp sites_for(function) do
    for {site, {ESFix.Hot, f, _, _, _, nil}} <- :ets.tab2list(:elixir_scope_sites),
        f == function,
        do: site
  end

  test "an overloaded store samples the hottest sites; calm brings full recording back" do
    st = Overload.new()
    [hot_site] = sites_for(:hot)
    [leaf_site] = sites_for(:leaf)
    events = for i <- 1..900, do: {i, self(), {1, i, 0, hot_site, i, 0, []}}
    events = events ++ for i <- 1..100, do: {i, self(), {1, i, 0, leaf_site, i, 0, []}}
    t0 = 1_000_000

    # Behind: more than half the cap undrained.
    st = Overload.observe(st, events, {600, 1_000, 0}, t0)
    assert %{^hot_site => {_, _, 4}} = :persistent_term.get(Overload.key())
    refute Map.has_key?(:persistent_term.get(Overload.key()), leaf_site)

    # Still behind: the rate grows.
    st = Overload.observe(st, events, {900, 1_000, 0}, t0 + 300)
    assert %{^hot_site => {_, _, 16}} = :persistent_term.get(Overload.key())

    # Calm for a second: the rate halves, step by step, until sampling ends.
    st = Overload.observe(st, [], {0, 1_000, 0}, t0 + 600)
    assert %{^hot_site => {_, _, 16}} = :persistent_term.get(Overload.key())

    st =
      Enum.reduce(1..4, st, fn k, st ->
        Overload.observe(st, [], {0, 1_000, 0}, t0 + 600 + k * 1_100)
      end)

    assert :persistent_term.get(Overload.key(), nil) == nil
    assert [{^hot_site, 0, 1}] = Overload.skipped(st)
  end

  test "dropped events count as falling behind" do
    [hot_site] = sites_for(:hot)
    events = for i <- 1..10, do: {i, self(), {1, i, 0, hot_site, i, 0, []}}
    st = Overload.observe(Overload.new(), events, {0, 1_000, 5}, 1_000)
    assert %{^hot_site => _} = :persistent_term.get(Overload.key())
    _ = st
  end

  test "sampling off: nothing is ever sampled" do
    [hot_site] = sites_for(:hot)
    events = for i <- 1..10, do: {i, self(), {1, i, 0, hot_site, i, 0, []}}
    Overload.observe(Overload.new(false), events, {999, 1_000, 7}, 1_000)
    assert :persistent_term.get(Overload.key(), nil) == nil
  end

  test "a sampled site records one call in n, counts the rest, and keeps the tree consistent" do
    {_, _, _} = site_of(fn -> ESFix.Hot.hot(1) end)
    [hot_site] = sites_for(:hot)
    st = Overload.new()
    events = for i <- 1..10, do: {i, self(), {1, i, 0, hot_site, i, 0, []}}
    st = Overload.observe(st, events, {900, 1_000, 0}, 1_000)

    {{:ok, 40}, rows} = Recording.record(fn -> ESFix.Hot.outer(40) end)
    hots = for r <- rows, r.kind == 1, r.function == "hot", do: r
    assert length(hots) == 10
    assert [{^hot_site, 30, 4}] = Overload.skipped(st)

    # Every leaf call is recorded; a leaf under a sampled-out hot call hangs from the
    # nearest recorded caller (`outer`: the fn tail-called `hot`), one under a recorded hot
    # call from that call.
    leaves = for r <- rows, r.kind == 1, r.function == "leaf", do: r
    assert length(leaves) == 40
    hot_ids = MapSet.new(hots, & &1.call_id)
    [outer] = for r <- rows, r.kind == 1, r.function == "outer", do: r.call_id
    assert Enum.count(leaves, &MapSet.member?(hot_ids, &1.parent_id)) == 10
    assert Enum.count(leaves, &(&1.parent_id == outer)) == 30

    # Bindings of sampled-out calls are not recorded (nor attributed to another call).
    js = for r <- rows, r.kind == 4, r.name == "j", r.function == "hot", do: r
    assert length(js) == 10 and Enum.all?(js, &MapSet.member?(hot_ids, &1.call_id))
    # Every recorded call ends.
    ends = for r <- rows, r.kind in [2, 3, 5], do: r.call_id
    assert Enum.sort(ends) == Enum.sort(for r <- rows, r.kind == 1, do: r.call_id)
    assert Runtime.stack() == []
  end

  test "a sampled-out call that raises is recorded anyway" do
    [site] = sites_for(:maybe_raise)
    events = for i <- 1..10, do: {i, self(), {1, i, 0, site, i, 0, []}}
    Overload.observe(Overload.new(), events, {900, 1_000, 0}, 1_000)
    %{^site => {ref, slot, 4}} = :persistent_term.get(Overload.key())
    # The next call at this site is the 2nd seen: not recorded unless it raises.
    :atomics.put(ref, slot, 0)

    {{:error, %ArgumentError{}, _}, rows} = Recording.record(fn -> ESFix.Hot.maybe_raise(7) end)

    assert [
             %{kind: 1, value: "(arguments not recorded: this function was being sampled)"} =
               call,
             %{kind: 3, value: "** (ArgumentError) seven"} = exc
           ] = Enum.filter(rows, &(&1.function == "maybe_raise"))

    assert exc.call_id == call.call_id
    assert Runtime.stack() == []
  end
end
