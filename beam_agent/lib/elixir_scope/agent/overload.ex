defmodule ElixirScope.Agent.Overload do
  @moduledoc false
  # Adaptive sampling when the collector falls behind (issue #4, overload protection).
  #
  # The collector calls `observe/3` after each drain with the raw events it took out. It keeps
  # a decaying count of CALL events per clause site. When undrained memory in the `Store`
  # passes half its cap (the collector is falling behind) or events were dropped since the
  # last look, the hottest sites — those making up most of the recent calls — are sampled:
  # only one call in `n` is recorded, `n` growing ×4 per overloaded look up to 1024. When the
  # backlog has stayed under a tenth of the cap for a second, `n` halves until sampling ends.
  #
  # Instrumented code reads the table `%{site => {atomics, slot, n}}` from `:persistent_term`
  # (one `get` per call; `nil`, the common case, costs nothing more). A sampled site counts
  # every call in `slot` (one in `n` is recorded) and every call it skips in `slot + 1`: the
  # calls not recorded are reported exactly, per function, in STATS. Only calls are sampled:
  # a sampled-out call that raises is still recorded (CALL + EXCEPTION, see `Runtime`), and
  # nothing else (bindings of recorded calls, returns, exceptions) is ever sampled away.

  alias ElixirScope.Agent.Store

  @key __MODULE__
  @max_sites 64
  @look_ms 200
  @calm_ms 1_000
  @max_n 1024

  def key, do: @key

  @doc "Fresh state for a session; `enabled?` false turns sampling off for the session."
  def new(enabled? \\ true) do
    clear()

    %{
      enabled?: enabled?,
      counts: %{},
      rates: %{},
      ref: :atomics.new(2 * @max_sites, signed: false),
      slots: %{},
      next_slot: 1,
      last_look: now(),
      calm_since: nil,
      last_dropped: 0
    }
  end

  @doc """
  Observes one drain: the raw events `{seq, pid, event}` taken out, and the store's
  `{pending_words, cap_words, dropped}` (`store_state/0`). `t` is now, in milliseconds.
  """
  def observe(st, events, store, t \\ now())
  def observe(%{enabled?: false} = st, _events, _store, _t), do: st

  def observe(st, events, store, t) do
    counts = count_calls(st.counts, events)
    st = %{st | counts: counts}

    if t - st.last_look < @look_ms do
      st
    else
      look(%{st | last_look: t}, store, t)
    end
  end

  @doc """
  Calls not recorded so far, for every site sampled in this session:
  `[{site, skipped, keep_one_in}]` (`keep_one_in` 1 once sampling there has ended).
  """
  def skipped(st) do
    for {site, slot} <- st.slots do
      {site, :atomics.get(st.ref, slot + 1), Map.get(st.rates, site, 1)}
    end
  end

  @doc "Ends sampling (session over)."
  def clear do
    :persistent_term.erase(@key)
    :ok
  end

  ## Internals

  defp look(st, store, t) do
    {pending, cap, dropped} = store
    behind? = pending * 2 > cap or dropped > st.last_dropped
    st = %{st | last_dropped: dropped}

    cond do
      behind? ->
        st |> tighten() |> Map.put(:calm_since, nil) |> decay() |> publish()

      pending * 10 < cap and st.rates != %{} ->
        since = st.calm_since || t

        if t - since >= @calm_ms,
          do: st |> relax() |> Map.put(:calm_since, t) |> decay() |> publish(),
          else: %{st | calm_since: since} |> decay()

      true ->
        %{st | calm_since: nil} |> decay()
    end
  end

  # The hottest sites covering 80% of recent calls get (or keep growing) a sampling rate.
  defp tighten(st) do
    ranked = st.counts |> Enum.sort_by(fn {_site, c} -> -c end)
    total = Enum.reduce(ranked, 0, fn {_, c}, acc -> acc + c end)

    {hot, _} =
      Enum.reduce_while(ranked, {[], 0}, fn {site, c}, {acc, sum} ->
        if sum >= total * 0.8 or length(acc) >= @max_sites,
          do: {:halt, {acc, sum}},
          else: {:cont, {[site | acc], sum + c}}
      end)

    Enum.reduce(hot, st, fn site, st ->
      case st.rates do
        %{^site => n} -> %{st | rates: Map.put(st.rates, site, min(n * 4, @max_n))}
        _ -> add_site(st, site)
      end
    end)
  end

  defp add_site(st, site) do
    case st.slots do
      %{^site => _} ->
        %{st | rates: Map.put(st.rates, site, 4)}

      _ when st.next_slot > 2 * @max_sites ->
        st

      _ ->
        %{
          st
          | rates: Map.put(st.rates, site, 4),
            slots: Map.put(st.slots, site, st.next_slot),
            next_slot: st.next_slot + 2
        }
    end
  end

  defp relax(st) do
    rates = for {site, n} <- st.rates, n > 2, into: %{}, do: {site, div(n, 2)}

    %{st | rates: rates}
  end

  defp decay(st), do: %{st | counts: Map.new(st.counts, fn {s, c} -> {s, div(c, 2)} end)}

  # The table instrumented code reads: site => {atomics, slot, n}.
  defp publish(%{rates: rates} = st) do
    table = Map.new(rates, fn {site, n} -> {site, {st.ref, Map.fetch!(st.slots, site), n}} end)

    # Replacing a persistent term costs every process a scan: only when the table changed.
    cond do
      table == Map.get(st, :published, %{}) -> :ok
      table == %{} -> clear()
      true -> :persistent_term.put(@key, table)
    end

    Map.put(st, :published, table)
  end

  defp count_calls(counts, events) do
    Enum.reduce(events, counts, fn
      {_seq, _pid, ev}, acc when elem(ev, 0) == 1 ->
        site = elem(ev, 3)

        case acc do
          %{^site => n} -> %{acc | site => n + 1}
          _ -> Map.put(acc, site, 1)
        end

      _, acc ->
        acc
    end)
  end

  defp now, do: System.monotonic_time(:millisecond)

  @doc false
  def store_state do
    case Store.atomics() do
      nil ->
        {0, 1, 0}

      ref ->
        {:atomics.get(ref, Store.index(:pending)), max(Store.cap(ref), 1),
         :atomics.get(ref, Store.index(:dropped))}
    end
  end
end
