defmodule ElixirScope.Agent.EventsTest do
  # Rows of raw events recorded through the real hot path (Runtime) for sites registered by
  # hand; `Recording.rows/1` also checks that `Events.slice_rows/2` (the shipper's short path)
  # gives exactly the rows of `Events.to_rows/3`.
  use ExUnit.Case, async: false

  alias ElixirScope.Agent.{Events, Recording, Runtime}

  @seq_step Events.seq_step()

  setup do
    site = System.unique_integer([:positive, :monotonic]) * 10_000
    file = "/app/lib/many.ex"

    Events.register_sites(
      [{site, {Many, :run, 1, 3, file, nil}}] ++
        for(i <- 1..100, do: {site + i, {Many, :run, 1, 3, file, "a#{i}"}}) ++
        for(i <- 0..100, do: {site + 200 + i, {Many, :run, 1, 5, file, "b#{i}"}})
    )

    %{site: site}
  end

  test "a call's head variables and a body's bindings beyond #{@seq_step - 1} are cut there",
       %{site: site} do
    rec = Recording.start()
    values = Enum.to_list(1..80)

    # The first time sites and the process are not cached yet (the general path), the last
    # time they are (the short path). The first body binds from `b1` on, so that the site after
    # the others' last (`b63`) is cached too.
    for first <- [1, 0, 0] do
      cid = Runtime.call(site, [first], values)
      Runtime.bind(site + 200 + first, values)
      Runtime.return(site, cid, :ok)
    end

    rows = Recording.rows(rec)
    heads = Enum.filter(rows, &(&1.kind == 4 and &1.line == 3))
    body = Enum.filter(rows, &(&1.kind == 4 and &1.line == 5))

    # Seq offsets stay below the step: CALL at s, its head variables at s+1..s+63; a BINDING
    # event's variables at s..s+62.
    assert length(heads) == 3 * (@seq_step - 1)
    assert length(body) == 3 * (@seq_step - 1)
    assert Enum.take(heads, @seq_step - 1) |> Enum.map(& &1.name) == for(i <- 1..63, do: "a#{i}")
    assert Enum.map(body, & &1.name) == for(i <- Enum.concat([1..63, 0..62, 0..62]), do: "b#{i}")

    assert Enum.map(body, & &1.value) ==
             Enum.map(Enum.concat(List.duplicate(Enum.take(values, 63), 3)), &to_string/1)

    seqs = Enum.map(rows, & &1.seq)
    assert seqs == Enum.sort(Enum.uniq(seqs))
  end

  # The short path is a matter of speed only (its rows are checked against `to_rows/3`'s by
  # `Recording.rows/1`), so this counts what takes the general one: a guard that raises (as
  # `is_map_key/2` with its arguments swapped did) sends every RETURN there, ~40% slower rows.
  test "calls and returns of a cached site and process take the short path", %{site: site} do
    ctx = Events.context(0, 0, ElixirScope.Agent.Value.default_opts())
    pid = self()
    ev = fn kind, seq -> {seq, pid, {kind, seq, seq, site, 1, 0, [seq]}} end
    {_, ctx} = Events.slice_rows([ev.(1, 1), ev.(2, 2)], ctx)

    :erlang.trace_pattern({Events, :to_rows, 3}, true, [:call_count])

    try do
      {rows, _} =
        Events.slice_rows(for(i <- 3..12, do: ev.(if(rem(i, 2) == 1, do: 1, else: 2), i)), ctx)

      assert length(rows) == 10
      assert {:call_count, 0} = :erlang.trace_info({Events, :to_rows, 3}, :call_count)
    after
      :erlang.trace_pattern({Events, :to_rows, 3}, false, [:call_count])
    end
  end
end
