defmodule ElixirScope.Agent.Events do
  @moduledoc false
  # Turns raw hot-path events into rows of the event table (schema version 1, see
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

  @call 1
  @return 2
  @exception 3
  @binding 4

  def schema, do: @schema
  def kinds, do: %{call: @call, return: @return, exception: @exception, binding: @binding}

  @doc "Registers instrumentation sites: `[{site, {module, function, arity, line, file, name}}]`."
  def register_sites(sites), do: :ets.insert(Store.sites_table(), sites)

  @doc """
  Context for `to_row/4`: `base_seq` and `t0` are the session's first unique integer and
  perf counter; `values` the plan's value bounds.
  """
  def context(base_seq, t0, values) do
    # perf_counter units per second; 10^9 on Linux, so usually no conversion at all.
    unit = :erlang.convert_time_unit(1, :second, :perf_counter)
    %{base: base_seq, t0: t0, values: values, sites: %{}, pids: %{}, unit: unit}
  end

  @doc "Converts one raw event of process `pid`. Returns `{row, ctx}` (ctx caches sites)."
  def to_row({kind, seq, ts, site, cid, parent, value}, pid, ctx) do
    {{mod, fun, arity, line, file, name}, ctx} = site(site, ctx)
    {pid_text, ctx} = pid_text(pid, ctx)

    value =
      case kind do
        @exception -> Value.format_exception(value, ctx.values)
        _ -> Value.format(value, ctx.values)
      end

    row =
      {seq - ctx.base, ns(ts - ctx.t0, ctx.unit), kind, pid_text, mod, fun, arity, cid - ctx.base,
       rebase(parent, ctx.base), file, line, name, value}

    {row, ctx}
  end

  defp rebase(0, _base), do: 0
  defp rebase(id, base), do: id - base

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
              {inspect(mod), Atom.to_string(fun), arity, line, file, name || ""}

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
