defmodule ElixirScope.Agent.Drain do
  @moduledoc false
  # Takes events out of the store in capture (seq) order across the whole recording.
  #
  # Events reach the table in per-process chunks, so a chunk flushed now may hold seqs smaller
  # than events already in the table. Each process with unflushed events publishes, in its
  # ordering slot, a number below all their seqs (`ElixirScope.Agent.Runtime`). A drain:
  #
  #   1. reads W = a fresh unique integer: every seq <= W has been handed out;
  #   2. reads the slots: M = the smallest bound of any unflushed buffer;
  #   3. takes every chunk from the table;
  #   4. releases, in seq order, the events below min(W + 1, M) and holds back the rest.
  #
  # A process that waits (outside instrumented code, e.g. in GenServer.call) inside an
  # instrumented call keeps its buffer and would hold everything back: after `@stuck_ms` its
  # buffer is read with `Process.info/2` while it is `:waiting` (so it cannot be in the middle
  # of adding an event), those events are released, and the process stops counting for M while
  # its reduction count shows it has not run since. When it flushes later, the events already
  # released are dropped from its chunk. Held-back events are bounded by `@force_ms` and
  # `@max_held`.

  alias ElixirScope.Agent.{Runtime, Store}

  @stuck_ms 50
  # A process that keeps running inside an instrumented call with unwritten events is read even
  # though it is not waiting, after this long: an event it is recording at that very moment may
  # then arrive late (counted, and reported in a LOG frame).
  @force_ms 250
  @max_held 100_000
  @full_check_every 100

  defstruct held: [],
            shipped_upto: %{},
            stolen: %{},
            stuck: %{},
            last_seq: nil,
            late: 0,
            drains: 0

  # Chunks read per `:ets.select/3` call.
  @select_chunks 500

  def new, do: %__MODULE__{}

  @doc """
  One drain. Returns `{events, state}` where events are `{seq, pid, raw_event}` in seq order.
  With `final: true` every buffered event of every live process is taken and nothing is held.
  `:stuck_ms` and `:force_ms` override the waiting times before a buffer is read (tests).
  """
  def run(%__MODULE__{} = st, opts \\ []) do
    final? = Keyword.get(opts, :final, false)
    limits = {Keyword.get(opts, :stuck_ms, @stuck_ms), Keyword.get(opts, :force_ms, @force_ms)}
    now = System.monotonic_time(:millisecond)

    case Store.atomics() do
      nil ->
        {[], st}

      ref ->
        w = :erlang.unique_integer([:monotonic])
        open = scan_slots(ref, st.drains)
        incoming = take_chunks(ref, st.shipped_upto)
        st = %{st | drains: st.drains + 1}
        # Forget processes whose buffer was flushed: their chunk was taken just now.
        open_pids = MapSet.new(open, fn {_slot, pid, _v} -> pid end)
        st = %{st | stolen: Map.take(st.stolen, MapSet.to_list(open_pids))}
        st = %{st | shipped_upto: Map.take(st.shipped_upto, MapSet.to_list(open_pids))}

        {stolen_events, bound, st} = bound_and_steal(open, w, now, final?, limits, st)
        # Runs in seq order, one per chunk (the VM tracer's need not be): `lists:sort` finds
        # the runs and merges them (measured faster than `lists:merge/1` of many short runs).
        incoming = :lists.sort(:lists.append([stolen_events | incoming]))
        all = :lists.merge(st.held, incoming)

        {ship, held} =
          cond do
            final? -> {all, []}
            true -> Enum.split_with(all, fn {seq, _, _} -> seq < bound end)
          end

        # Bounded memory: if one process holds everything back for too long, give up on order.
        {ship, held} = if length(held) > @max_held, do: {all, []}, else: {ship, held}
        st = count_late(ship, %{st | held: held})
        {ship, st}
    end
  end

  @doc "Events released out of order so far (0 unless the hold-back limit was hit)."
  def late(%__MODULE__{late: late}), do: late

  defp count_late([], st), do: st

  defp count_late([{first, _, _} | _] = ship, st) do
    {last, _, _} = List.last(ship)
    late = if st.last_seq != nil and first < st.last_seq, do: st.late + 1, else: st.late
    %{st | last_seq: max(last, st.last_seq || last), late: late}
  end

  # {slot, pid, bound} for every slot with an open buffer; frees the slots of dead processes.
  defp scan_slots(ref, drains) do
    base = Store.index(:slot_base)
    full? = rem(drains, @full_check_every) == 0

    :ets.foldl(
      fn {slot, pid}, acc ->
        v = :atomics.get(ref, base + slot)

        cond do
          (v != 0 or full?) and not Process.alive?(pid) ->
            # Its unflushed events died with it (a process killed inside instrumented code).
            :atomics.put(ref, base + slot, 0)
            :ets.delete(Store.slots_table(), slot)
            :ets.insert(Store.free_table(), {slot})
            acc

          v != 0 ->
            [{slot, pid, v} | acc]

          true ->
            acc
        end
      end,
      [],
      Store.slots_table()
    )
  end

  # Every chunk in the table, as runs of `{seq, pid, event}` (a chunk holds its events newest
  # first; each run is in seq order). Chunks are read a few hundred per call and deleted one by
  # one after they were read: only this process removes chunks, so none is lost or read twice.
  defp take_chunks(ref, shipped_upto) do
    tab = Store.events_table()
    {runs, words} = take_all(tab, :ets.select(tab, [{:_, [], [:"$_"]}], @select_chunks), shipped_upto, [], 0)
    if words > 0, do: :atomics.sub(ref, Store.index(:pending), words)
    runs
  end

  defp take_all(_tab, :"$end_of_table", _shipped, runs, words), do: {runs, words}

  defp take_all(tab, {chunks, cont}, shipped, runs, words) do
    {runs, words} = take_each(tab, chunks, shipped, runs, words)
    take_all(tab, :ets.select(cont), shipped, runs, words)
  end

  defp take_each(_tab, [], _shipped, runs, words), do: {runs, words}

  defp take_each(tab, [{key, pid, w, _n, evs} | rest], shipped, runs, words) do
    :ets.delete(tab, key)
    run = add_events(evs, pid, Map.get(shipped, pid, nil), [])
    take_each(tab, rest, shipped, [run | runs], words + w)
  end

  defp add_events([], _pid, _upto, acc), do: acc

  defp add_events([ev | rest], pid, upto, acc) do
    seq = :erlang.element(2, ev)

    if upto != nil and seq <= upto,
      do: add_events(rest, pid, upto, acc),
      else: add_events(rest, pid, upto, [{seq, pid, ev} | acc])
  end

  defp bound_and_steal(open, w, now, final?, {stuck_ms, force_ms}, st) do
    stuck = Map.new(open, fn {slot, _pid, v} -> {slot, since(st.stuck, slot, v, now)} end)
    st = %{st | stuck: stuck}

    Enum.reduce(open, {[], w + 1, st}, fn {slot, pid, v}, {evs, bound, st} ->
      {_, since} = Map.fetch!(stuck, slot)

      cond do
        final? ->
          {stolen, st} = steal(pid, slot, st, true)
          {stolen ++ evs, bound, st}

        Map.has_key?(st.stolen, pid) ->
          case Process.info(pid, :reductions) do
            {:reductions, r} when r == :erlang.map_get(pid, st.stolen) ->
              {evs, bound, st}

            _ ->
              # It ran since: take what it added if it is waiting again, else hold back.
              case steal(pid, slot, st, now - since >= force_ms) do
                {:busy, st} -> {evs, min(bound, Map.get(st.shipped_upto, pid, v) + 1), st}
                {stolen, st} -> {stolen ++ evs, bound, st}
              end
          end

        now - since >= stuck_ms ->
          case steal(pid, slot, st, now - since >= force_ms) do
            {:busy, st} -> {evs, min(bound, v), st}
            {stolen, st} -> {stolen ++ evs, bound, st}
          end

        true ->
          {evs, min(bound, v), st}
      end
    end)
  end

  defp since(stuck, slot, v, now) do
    case stuck do
      %{^slot => {^v, since}} -> {v, since}
      _ -> {v, now}
    end
  end

  # Reads a process's unflushed buffer. Only while it waits in `receive` (then it cannot be
  # half-way through recording an event), unless `force` (the final drain).
  defp steal(pid, slot, st, force) do
    case Process.info(pid, [:status, :reductions, :dictionary]) do
      [status: _, reductions: _, dictionary: dict] = info when is_list(dict) ->
        if Runtime.slot_in(dict) == slot,
          do: steal_buffer(pid, info, st, force),
          else: {[], free_stale_slot(slot, st)}

      nil ->
        {[], st}
    end
  end

  # The process erased its dictionary (`:erlang.erase/0`): its old slot bounds nothing now.
  defp free_stale_slot(slot, st) do
    case Store.atomics() do
      nil -> :ok
      ref -> :atomics.put(ref, Store.index(:slot_base) + slot, 0)
    end

    :ets.delete(Store.slots_table(), slot)
    :ets.insert(Store.free_table(), {slot})
    st
  end

  defp steal_buffer(pid, info, st, force) do
    case info do
      [status: status, reductions: r, dictionary: dict] when status == :waiting or force ->
        upto = Map.get(st.shipped_upto, pid)

        evs = add_events(Runtime.buffered(dict), pid, upto, [])

        # Seqs are unique integers, negative ones included: no 0 default here.
        shipped =
          case Enum.map(evs, &elem(&1, 0)) do
            [] -> st.shipped_upto
            seqs -> Map.put(st.shipped_upto, pid, Enum.max([upto || hd(seqs) | seqs]))
          end

        {evs, %{st | shipped_upto: shipped, stolen: Map.put(st.stolen, pid, r)}}

      _ ->
        {:busy, st}
    end
  end
end
