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
            shipped: %{},
            stolen: %{},
            stuck: %{},
            last_seq: nil,
            late: 0,
            drains: 0,
            more: false

  # Chunk keys read per `:ets.select/3` call when choosing a slice.
  @select_keys 1_000

  def new, do: %__MODULE__{}

  @doc """
  One drain. Returns `{events, state}` where events are `{seq, pid, raw_event}` in seq order.

  At most about `:max_events` events (default: no limit) are taken out of the table per run,
  the chunks with the smallest keys first (a chunk's key is its smallest seq, so the chunks
  left in the table bound what may be released); `more?/1` then says whether chunks were left.
  Taking a bounded slice at a time keeps the collector's heap small, which keeps its garbage
  collections cheap: with a backlog of 400,000 events taken at once, formatting and encoding
  cost ~5x more per event than in slices of a few thousand.

  With `final: true` every buffered event of every live process is taken and nothing is held
  back except behind chunks still in the table (call again while `more?/1`). `:stuck_ms` and
  `:force_ms` override the waiting times before a buffer is read (tests).
  """
  def run(%__MODULE__{} = st, opts \\ []) do
    final? = Keyword.get(opts, :final, false)
    max = Keyword.get(opts, :max_events, :infinity)
    limits = {Keyword.get(opts, :stuck_ms, @stuck_ms), Keyword.get(opts, :force_ms, @force_ms)}
    now = System.monotonic_time(:millisecond)

    case Store.atomics() do
      nil ->
        {[], %{st | more: false}}

      ref ->
        w = :erlang.unique_integer([:monotonic])
        open = scan_slots(ref, st.drains)
        {incoming, next_key} = take_chunks(ref, st.shipped, max)
        more? = next_key != nil
        st = %{st | drains: st.drains + 1, more: more?}

        # Forget processes whose buffer was flushed: their chunk is out of the table by now,
        # unless chunks were left there.
        st =
          if more? do
            st
          else
            open_pids = for {_slot, pid, _v} <- open, do: pid

            %{
              st
              | stolen: Map.take(st.stolen, open_pids),
                shipped: Map.take(st.shipped, open_pids)
            }
          end

        {stolen_events, bound, st} = bound_and_steal(open, w, now, final?, limits, st)
        # Every chunk left in the table has only seqs >= its key.
        bound = if more?, do: min(bound, next_key), else: bound
        # Runs in seq order, one per process (the VM tracer's need not be): `lists:keysort`
        # finds the runs and merges them, comparing seqs only (measured 1.5-2x faster than
        # `lists:sort` of the tuples, and faster than `lists:merge/1` of many short runs).
        incoming = :lists.keysort(1, :lists.append([stolen_events | incoming]))
        all = if st.held == [], do: incoming, else: :lists.merge(st.held, incoming)

        {ship, held} =
          cond do
            final? and not more? -> {all, []}
            true -> below(all, bound, [])
          end

        # Bounded memory: if one process holds everything back for too long, give up on order.
        {ship, held} = if length(held) > @max_held, do: {all, []}, else: {ship, held}
        st = count_late(ship, %{st | held: held})
        {ship, st}
    end
  end

  # The events of a sorted list below `bound`, and the rest.
  defp below([{seq, _, _} = ev | rest], bound, acc) when seq < bound,
    do: below(rest, bound, [ev | acc])

  defp below(rest, _bound, acc), do: {:lists.reverse(acc), rest}

  @doc "Whether the last `run/2` left chunks in the table (it was given `:max_events`)."
  def more?(%__MODULE__{more: more}), do: more

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

  # Chunks from the table, smallest keys first, until about `max` events: `{runs, next_key}`
  # with the events as runs of `{seq, pid, event}`, one per process (a chunk holds its events
  # newest first; each run is in seq order) and the key of the first chunk left (nil when none
  # was left). Only this process removes chunks, so none is lost or read twice.
  defp take_chunks(ref, shipped, max) do
    tab = Store.events_table()

    {runs, words, next} =
      take_keys(tab, :ets.select(tab, keys_ms(), @select_keys), shipped, max, %{}, 0)

    if words > 0, do: :atomics.sub(ref, Store.index(:pending), words)
    {per_process(runs), next}
  end

  # One run per process out of its chunks' runs (newest first): a process's chunks come out of
  # the table in key order, which is its events' order, so they join into one sorted run and
  # the merge has as many runs as processes instead of one per chunk (a GenServer writes a
  # chunk of a few events per callback).
  defp per_process(runs), do: for({_pid, rs} <- runs, do: :lists.append(:lists.reverse(rs)))

  defp keys_ms, do: [{{:"$1", :_, :_, :"$2", :_}, [], [{{:"$1", :"$2"}}]}]

  defp take_keys(_tab, :"$end_of_table", _shipped, _left, runs, words), do: {runs, words, nil}

  defp take_keys(tab, {keys, cont}, shipped, left, runs, words) do
    case take_each(tab, keys, shipped, left, runs, words) do
      {:more, left, runs, words} -> take_keys(tab, :ets.select(cont), shipped, left, runs, words)
      done -> done
    end
  end

  defp take_each(_tab, [], _shipped, left, runs, words), do: {:more, left, runs, words}

  defp take_each(_tab, [{key, _n} | _], _shipped, left, runs, words)
       when is_integer(left) and left <= 0,
       do: {runs, words, key}

  defp take_each(tab, [{key, n} | rest], shipped, left, runs, words) do
    left = if is_integer(left), do: left - n, else: left

    case :ets.take(tab, key) do
      [{_, pid, w, _n, evs}] ->
        run = add_events(evs, Map.get(shipped, pid), pid, [])

        runs =
          case runs do
            %{^pid => rs} -> %{runs | pid => [run | rs]}
            _ -> Map.put(runs, pid, [run])
          end

        take_each(tab, rest, shipped, left, runs, words + w)

      [] ->
        take_each(tab, rest, shipped, left, runs, words)
    end
  end

  # Events of `pid` as `{seq, pid, event}`, reversed, leaving out those already shipped from
  # its buffer (`{lo, hi}`: the seqs read from its process dictionary, see `steal/4`).
  defp add_events([], _range, _pid, acc), do: acc

  defp add_events([ev | rest], range, pid, acc) do
    seq = :erlang.element(2, ev)

    case range do
      {lo, hi} when seq >= lo and seq <= hi -> add_events(rest, range, pid, acc)
      _ -> add_events(rest, range, pid, [{seq, pid, ev} | acc])
    end
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
                {:busy, st} -> {evs, min(bound, shipped_hi(st, pid, v) + 1), st}
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
        range = Map.get(st.shipped, pid)
        evs = add_events(Runtime.buffered(dict), range, pid, [])

        # The buffer's events are consecutive seqs of this process: what was read from it is
        # one range, which its chunk (when it is flushed) leaves out. Seqs are unique integers,
        # negative ones included.
        shipped =
          case evs do
            [] ->
              st.shipped

            [{first, _, _} | _] ->
              {last, _, _} = List.last(evs)

              range =
                case range do
                  {lo, hi} -> {min(lo, first), max(hi, last)}
                  nil -> {first, last}
                end

              Map.put(st.shipped, pid, range)
          end

        {evs, %{st | shipped: shipped, stolen: Map.put(st.stolen, pid, r)}}

      _ ->
        {:busy, st}
    end
  end

  defp shipped_hi(st, pid, default) do
    case Map.get(st.shipped, pid) do
      {_lo, hi} -> hi
      nil -> default - 1
    end
  end
end
