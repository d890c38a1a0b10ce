defmodule ElixirScope.Agent.Recording do
  @moduledoc false
  # An in-process recording for tests of the rewriter and hot path: the real store, runtime,
  # drain and row conversion, without a socket.

  alias ElixirScope.Agent.{Drain, Events, Instrumenter, Runtime, Store, Value}

  @doc "Instruments `modules` (plan entries or names) found under `lib_dir`."
  def instrument(lib_dir, modules) do
    plan =
      Enum.map(modules, fn
        %{} = m -> m
        name -> %{"module" => name, "functions" => nil}
      end)

    {loaded, skipped, _} = Instrumenter.instrument(plan, lib_dir, next_site())
    {loaded, skipped}
  end

  defp next_site, do: System.unique_integer([:positive, :monotonic]) * 10_000

  @doc "Starts recording: empties the store and turns it on."
  def start do
    ref = Store.atomics()
    Store.reset(ref)
    Runtime.reset()
    base = :erlang.unique_integer([:monotonic])
    t0 = :os.perf_counter()
    Store.enable(ref, true)
    %{base: base, t0: t0}
  end

  @doc "Runs `fun` recorded; returns `{result_or_exception, rows}`."
  def record(fun, values \\ Value.default_opts()) do
    rec = start()

    result =
      try do
        {:ok, fun.()}
      catch
        kind, reason -> {kind, reason, __STACKTRACE__}
      end

    {result, rows(rec, values)}
  end

  @doc "Drains everything recorded since `start/0` and returns rows as maps, in seq order."
  def rows(rec, values \\ Value.default_opts()) do
    Runtime.flush()
    {events, _} = Drain.run(Drain.new(), final: true)
    Store.enable(Store.atomics(), false)
    ctx = Events.context(rec.base, rec.t0, values)

    {rows, _} =
      Enum.flat_map_reduce(events, ctx, fn {_seq, pid, ev}, ctx ->
        Events.to_rows(ev, pid, ctx)
      end)

    # The shipper's short path over a whole slice must give exactly the same rows, in every
    # test that records something (calls, bindings, OTP callbacks, VM events, sampling).
    case Events.slice_rows(events, ctx) do
      {^rows, _} ->
        :ok

      {other, _} ->
        raise "Events.slice_rows/2 differs from Events.to_rows/3: " <>
                inspect(
                  Enum.find(Enum.zip(rows, other ++ List.duplicate(nil, length(rows))), fn {a, b} ->
                    a != b
                  end)
                )
    end

    names = Enum.map(Events.schema(), fn {name, _} -> String.to_atom(name) end)

    # Values in the external format read as the recorder prints them (Value.format/2).
    Enum.map(rows, fn row ->
      row = Map.new(Enum.zip(names, Tuple.to_list(row)))
      %{row | value: text(row.value, values)}
    end)
  end

  defp text(<<131, _::binary>> = etf, values),
    do: Value.format(:erlang.binary_to_term(etf), values)

  defp text(text, _values), do: text

  def kind(:call), do: 1
  def kind(:return), do: 2
  def kind(:exception), do: 3
  def kind(:binding), do: 4
end
