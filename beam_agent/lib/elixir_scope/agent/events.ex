defmodule ElixirScope.Agent.Events do
  @moduledoc false
  # Turns raw hot-path events into rows of the event table (schema version 2, see
  # `protocol/SCHEMA.md`): resolves sites, rebases seq/ids/timestamps to the session start and
  # formats values. Runs in the collector.

  alias ElixirScope.Agent.{Store, Value}

  @schema [
    {"seq", :int64},
    {"ts", :int64},
    {"kind", :int8},
    {"pid", :utf8},
    {"module", :utf8},
    {"function", :utf8},
    {"arity", :int32},
    {"call_id", :int64},
    {"parent_id", :int64},
    {"file", :utf8},
    {"line", :int32},
    {"name", :utf8},
    {"value", :utf8}
  ]

  # Room for a CALL's BINDING rows between two captured seqs (see `to_rows/3`).
  @seq_step 64

  @call 1
  @return 2
  @exception 3
  @binding 4
  @tail 5
  @sampled ElixirScope.Agent.Runtime.sampled_marker()

  def schema, do: @schema
  def seq_step, do: @seq_step

  def kinds,
    do: %{call: @call, return: @return, exception: @exception, binding: @binding, tail: @tail}

  @doc "Registers instrumentation sites: `[{site, {module, function, arity, line, file, name}}]`."
  def register_sites(sites), do: :ets.insert(Store.sites_table(), sites)

  @doc """
  Context for `to_rows/3`: `base_seq` and `t0` are the session's first unique integer and
  perf counter; `values` the plan's value bounds.
  """
  def context(base_seq, t0, values) do
    # perf_counter units per second; 10^9 on Linux, so usually no conversion at all.
    unit = :erlang.convert_time_unit(1, :second, :perf_counter)
    %{base: base_seq, t0: t0, values: values, sites: %{}, pids: %{}, unit: unit}
  end

  @doc """
  Converts one raw event of process `pid` into rows (a CALL carrying head variables gives one
  BINDING row per variable after it; a BINDING event carries a list, one row per variable). Returns `{rows, ctx}` (ctx caches sites and pids).

  Row `seq`s are the session-relative capture order times #{@seq_step}: a CALL at `s` and its
  bindings at `s + 1`, `s + 2`, … so they stay strictly increasing and unique.
  """
  def to_rows({@binding, seq, ts, site, cid, parent, values}, pid, ctx),
    do: binding_rows(values, 0, seq, ts, site, cid, parent, pid, ctx)

  def to_rows({kind, seq, ts, site, cid, parent, value}, pid, ctx) do
    {row, ctx} = row(kind, seq, ts, site, cid, parent, value, 0, pid, ctx)
    {[row], ctx}
  end

  def to_rows({@call, seq, ts, site, cid, parent, args, bindings}, pid, ctx) do
    {call, ctx} = row(@call, seq, ts, site, cid, parent, args, 0, pid, ctx)
    {rows, ctx} = binding_rows(bindings, 1, seq, ts, site, cid, parent, pid, ctx)
    {[call | rows], ctx}
  end

  # One BINDING row per value, the i-th at `seq` and site offset `first + i`.
  defp binding_rows(values, first, seq, ts, site, cid, parent, pid, ctx) do
    {rows, {ctx, _}} =
      values
      |> binding_values()
      |> Enum.map_reduce({ctx, first}, fn value, {ctx, i} ->
        {row, ctx} = row(@binding, seq, ts, site + i, cid, parent, value, i, pid, ctx)
        {row, {ctx, i + 1}}
      end)

    {rows, ctx}
  end

  # Pruned on the hot path: the list itself may have been cut.
  defp binding_values(values) when is_list(values), do: Enum.take(proper(values), @seq_step - 1)
  defp binding_values(_), do: []

  defp proper([h | t]), do: [h | proper(t)]
  defp proper(_), do: []

  defp row(kind, seq, ts, site, cid, parent, value, offset, pid, ctx) do
    {{mod, fun, arity, line, file, name}, ctx} = site(site, ctx)
    {pid_text, ctx} = pid_text(pid, ctx)

    text =
      case kind do
        @exception -> Value.format_exception(value, ctx.values)
        @call when value == @sampled -> "(arguments not recorded: this function was being sampled)"
        _ -> Value.format(value, ctx.values)
      end

    row =
      {rebase(seq, ctx.base) + offset, ns(ts - ctx.t0, ctx.unit), kind, pid_text, mod, fun, arity,
       rebase(cid, ctx.base), rebase(parent, ctx.base), file, line, name, text}

    {row, ctx}
  end

  defp rebase(0, _base), do: 0
  defp rebase(id, base), do: (id - base) * @seq_step

  defp ns(delta, _unit) when delta <= 0, do: 0
  defp ns(delta, 1_000_000_000), do: delta
  defp ns(delta, unit), do: div(delta * 1_000_000_000, unit)

  defp site(site, %{sites: sites} = ctx) do
    case sites do
      %{^site => info} ->
        {info, ctx}

      _ ->
        info =
          case :ets.lookup(Store.sites_table(), site) do
            [{_, {mod, fun, arity, line, file, name}}] ->
              {inspect(mod), to_string(fun), arity, line, file, name || ""}

            [] ->
              {"", "", 0, 0, "", ""}
          end

        {info, %{ctx | sites: Map.put(sites, site, info)}}
    end
  end

  defp pid_text(pid, %{pids: pids} = ctx) do
    case pids do
      %{^pid => text} ->
        {text, ctx}

      _ ->
        text = inspect(pid)
        # A long run sees many processes; keep the cache small.
        pids = if map_size(pids) > 10_000, do: %{}, else: pids
        {text, %{ctx | pids: Map.put(pids, pid, text)}}
    end
  end
end
