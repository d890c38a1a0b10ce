defmodule ElixirScope.Agent.Runtime do
  @moduledoc false
  # The hot path: called from instrumented code (see `ElixirScope.Agent.Rewriter`), in the
  # user's processes. It never waits on another process and never raises.
  #
  # Per process, in the process dictionary, ONE entry (one get and one put per event):
  #
  #   `@state` = `{stack, n, words, events}`: the call ids of the instrumented calls this
  #   process is inside (innermost first), and the events not yet flushed (newest first), their
  #   count and their approximate size in words.
  #
  # and `@slot`, this process's ordering slot (an index into the atomics array).
  #
  # An event is `{kind, seq, ts, site, call_id, parent_id, value}` (a CALL with head variables
  # has an eighth element, their values) holding RAW terms: `seq` is
  # `:erlang.unique_integer([:monotonic])` (node-wide strictly increasing), `ts` is
  # `:os.perf_counter()`, `site` says which module/function/clause/variable (registered by the
  # instrumenter), and the collector turns all of it into text later. A call's id is its own
  # CALL event's `seq`.
  #
  # A buffer is written as one ETS object when it holds `@chunk` events, when the process
  # returns from its outermost instrumented call, when an exception leaves an instrumented
  # call, and before a `receive` in instrumented code, so a finished, crashing or waiting
  # process loses nothing. While a buffer
  # is non-empty the process's slot holds a number smaller than the seq of every event in it:
  # the collector never ships an event before all smaller seqs are known, which keeps the
  # recording in capture order (see `ElixirScope.Agent.Drain`).

  alias ElixirScope.Agent.{Prune, Store, VMTracer}

  @state :"$elixir_scope"
  @sampling ElixirScope.Agent.Overload
  # The arguments of a call recorded only because it raised while its site was sampled.
  @sampled :"$elixir_scope_sampled"
  @slot :"$elixir_scope_slot"

  @chunk 512
  # Words charged per event on top of its value (the event tuple, list cell, ETS overhead).
  @event_words 10
  @budget Prune.budget()

  use ElixirScope.Agent.Kinds

  @on Store.index(:on)
  @pending Store.index(:pending)
  @cap Store.index(:cap)
  @dropped Store.index(:dropped)
  @next_slot Store.index(:next_slot)
  @slot_base Store.index(:slot_base)
  @max_slots Store.max_slots()
  @slots Store.slots_table()
  @free Store.free_table()
  @key Store.key()

  def state_key, do: @state
  def sampled_marker, do: @sampled

  @doc "The calling process's stack of open call ids (innermost first)."
  def stack do
    case :erlang.get(@state) do
      {stack, _, _, _} -> stack
      _ -> []
    end
  end

  @doc "The ordering slot recorded in a process dictionary (from `Process.info/2`), or nil."
  def slot_in(dictionary) do
    case List.keyfind(dictionary, @slot, 0) do
      {_, slot} -> slot
      _ -> nil
    end
  end

  @doc "Buffered events in a process dictionary as returned by `Process.info(pid, :dictionary)`."
  def buffered(dictionary) do
    case List.keyfind(dictionary, @state, 0) do
      {_, {_stack, _n, _words, events}} -> events
      _ -> []
    end
  end

  @doc """
  Entering a clause: records CALL (value = `args`) carrying the values of the clause's head
  variables (`bindings`, which the collector turns into one BINDING row each, sites
  `site + 1`, `site + 2`, …), pushes the call on the process's stack and returns its id.

  When the collector is sampling this site (`ElixirScope.Agent.Overload`), a call that is not
  to be recorded pushes `0` instead and returns `0`: its return, tail call and bindings are
  not recorded either, its callees' parent is the nearest recorded caller, and if it raises
  it is recorded after all (`exception/5`).
  """
  def call(site, args, bindings) do
    case :persistent_term.get(@sampling, nil) do
      nil ->
        record_call(site, args, bindings)

      table ->
        case table do
          %{^site => {ref, slot, n}} ->
            if rem(:atomics.add_get(ref, slot, 1), n) == 0 do
              record_call(site, args, bindings)
            else
              :atomics.add(ref, slot + 1, 1)
              skip_call()
            end

          _ ->
            record_call(site, args, bindings)
        end
    end
  end

  defp skip_call do
    case :erlang.get(@state) do
      {stack, n, words, evs} -> :erlang.put(@state, {[0 | stack], n, words, evs})
      _ -> :erlang.put(@state, {[0], 0, 0, []})
    end

    0
  end

  defp record_call(site, args, bindings) do
    {stack, n, words, evs} = open(:erlang.get(@state))
    seq = :erlang.unique_integer([:monotonic])
    ts = :os.perf_counter()
    parent = parent(stack)
    {v, w} = bound(args)

    {evs, n, words} =
      case bindings do
        [] ->
          {[{@call, seq, ts, site, seq, parent, v} | evs], n + 1, words + w}

        _ ->
          {b, wb} = bound_each(bindings)

          {[{@call, seq, ts, site, seq, parent, v, b} | evs], n + 1 + length(bindings),
           words + w + wb}
      end

    if n >= @chunk do
      write(evs, n, words)
      :erlang.put(@state, {[seq | stack], 0, 0, []})
    else
      :erlang.put(@state, {[seq | stack], n, words, evs})
    end

    seq
  end

  @doc "Leaving a clause normally: records RETURN, pops the stack and returns `value`."
  def return(site, cid, value) do
    close(@return, site, cid, value, true)
    value
  end

  @doc """
  Leaving a clause by a call in tail position (the call is made right after, in the caller's
  frame): records TAIL_CALL (value = the callee's `args`) and pops the stack, so the callee's
  CALL gets this call's parent. `tail_out/3` is for a callee that may not be instrumented:
  when this was the outermost call, the buffer is written out as at a RETURN.
  """
  def tail(site, cid, args), do: close(@tail, site, cid, args, false)
  def tail_out(site, cid, args), do: close(@tail, site, cid, args, true)

  # Records the event that ends call `cid` and pops it; writes the buffer out when it is full,
  # or when `top_flush?` and this was the process's outermost recorded call.
  defp close(_kind, _site, 0, _value, _top_flush?) do
    case :erlang.get(@state) do
      {stack, n, words, evs} ->
        rest = pop(stack, 0)

        if rest == [] and n > 0 do
          write(evs, n, words)
          :erlang.put(@state, {rest, 0, 0, []})
        else
          :erlang.put(@state, {rest, n, words, evs})
        end

      _ ->
        :ok
    end

    :ok
  end

  defp close(kind, site, cid, value, top_flush?) do
    {stack, n, words, evs} = open(:erlang.get(@state))
    seq = :erlang.unique_integer([:monotonic])
    ts = :os.perf_counter()
    rest = pop(stack, cid)
    {v, w} = bound(value)
    evs = [{kind, seq, ts, site, cid, parent(rest), v} | evs]
    n = n + 1

    if (top_flush? and rest == []) or n >= @chunk do
      write(evs, n, words + w)
      :erlang.put(@state, {rest, 0, 0, []})
    else
      :erlang.put(@state, {rest, n, words + w, evs})
    end

    :ok
  end

  @doc """
  Variables bound inside a call's body (by `=`, a `case`/`receive` clause, a comprehension):
  one BINDING event of the innermost open call carrying their `values`, which the collector
  turns into one row per variable (sites `site`, `site + 1`, …). Outside any recorded call
  (the process dictionary was erased) nothing is recorded.
  """
  def bind(site, values) do
    case :erlang.get(@state) do
      # Inside a call that is not recorded (sampled out): neither are its bindings.
      {[0 | _], _, _, _} ->
        :ok

      {[_ | _], _, _, _} = state ->
        {[cid | rest] = stack, n, words, evs} = open(state)
        seq = :erlang.unique_integer([:monotonic])
        ts = :os.perf_counter()
        {b, w} = bound_each(values)
        w = w + @event_words
        evs = [{@binding, seq, ts, site, cid, parent(rest), b} | evs]
        n = n + length(values)

        if n >= @chunk do
          write(evs, n, words + w)
          :erlang.put(@state, {stack, 0, 0, []})
        else
          :erlang.put(@state, {stack, n, words + w, evs})
        end

      _ ->
        :ok
    end

    :ok
  end

  @doc """
  Leaving a clause by an exception: records EXCEPTION, pops the stack, writes the buffer out
  and re-raises exactly what was caught.
  """
  def exception(site, cid, class, reason, stacktrace) do
    try do
      {stack, n, words, evs} = open(:erlang.get(@state))
      rest = pop(stack, cid)

      # A sampled-out call that raises is recorded after all, its arguments unknown.
      {cid, evs, n} =
        case cid do
          0 ->
            c = :erlang.unique_integer([:monotonic])
            {c, [{@call, c, :os.perf_counter(), site, c, parent(rest), @sampled} | evs], n + 1}

          _ ->
            {cid, evs, n}
        end

      seq = :erlang.unique_integer([:monotonic])
      ts = :os.perf_counter()
      # The banner is formatted by the collector; it only needs the innermost frame.
      {v, w} = bound({class, reason, Enum.take(stacktrace, 1)})
      evs = [{@exception, seq, ts, site, cid, parent(rest), v} | evs]
      # Always written out: the process may be about to die of it, or be killed later while
      # it waits; exceptions are rare enough for the ETS write not to matter.
      write(evs, n + 1, words + w, true)
      :erlang.put(@state, {rest, 0, 0, []})
    catch
      _, _ -> :ok
    end

    :erlang.raise(class, reason, stacktrace)
  end

  @doc "Writes the calling process's buffered events now (before a receive, before halt)."
  def flush do
    case :erlang.get(@state) do
      {stack, n, words, evs} when n > 0 ->
        write(evs, n, words)
        :erlang.put(@state, {stack, 0, 0, []})

      _ ->
        :ok
    end

    :ok
  end

  @doc "Forgets this process's recording state (used by tests)."
  def reset do
    :erlang.erase(@state)
    :ok
  end

  ## Internals

  # The list as it is when it fits (the common case, no copy), else each value bounded.
  defp bound_each(values) do
    case Prune.fits(values, @budget) do
      left when left >= 0 -> {values, @budget - left}
      _ -> {Enum.map(values, &elem(bound(&1), 0)), @budget * length(values)}
    end
  end

  # The innermost recorded call (sampled-out calls sit on the stack as 0).
  defp parent([0 | rest]), do: parent(rest)
  defp parent([p | _]), do: p
  defp parent(_), do: 0

  # Out of step (user code erased the dictionary, or a session began mid-call): unwind to
  # this call, or start over.
  defp pop([cid | rest], cid), do: rest
  defp pop(stack, cid), do: unwind(stack, cid)

  defp unwind([cid | rest], cid), do: rest
  defp unwind([_ | rest], cid), do: unwind(rest, cid)
  defp unwind(_, _), do: []

  # Values are kept as they are when small; a value over the budget (or holding a large or
  # shared binary) is replaced by a bounded copy, so undrained memory stays bounded.
  defp bound(value) do
    case Prune.fits(value, @budget) do
      left when left >= 0 -> {value, @budget - left + @event_words}
      _ -> {Prune.prune(value), @budget + @event_words}
    end
  end

  # A buffer going from empty to non-empty publishes a lower bound of its seqs in the slot.
  defp open({_, n, _, _} = state) when n > 0, do: state

  defp open(state) do
    case :persistent_term.get(@key, nil) do
      nil ->
        :ok

      ref ->
        case slot(ref) do
          :none -> :ok
          slot -> :atomics.put(ref, @slot_base + slot, :erlang.unique_integer([:monotonic]))
        end
    end

    case state do
      {stack, _, _, _} -> {stack, 0, 0, []}
      _ -> {[], 0, 0, []}
    end
  end

  defp slot(ref) do
    case :erlang.get(@slot) do
      :undefined -> alloc_slot(ref)
      slot -> slot
    end
  end

  defp alloc_slot(ref) do
    slot =
      case take_free(3) do
        nil ->
          s = :atomics.add_get(ref, @next_slot, 1)
          if s > @max_slots, do: :none, else: s

        s ->
          s
      end

    if slot != :none do
      try do
        :ets.insert(@slots, {slot, self()})
      catch
        _, _ -> :ok
      end
    end

    :erlang.put(@slot, slot)
    # A process that runs instrumented code gets its VM events traced (spawn, exit, messages…)
    # from its first recorded event on; a registry lookup when no tracer runs.
    VMTracer.enroll()
    slot
  end

  defp take_free(0), do: nil

  defp take_free(tries) do
    case :ets.first(@free) do
      :"$end_of_table" ->
        nil

      slot ->
        case :ets.take(@free, slot) do
          [{^slot}] -> slot
          [] -> take_free(tries - 1)
        end
    end
  catch
    _, _ -> nil
  end

  # `reserve?`: a buffer ending in an exception may use a reserve of a tenth of the cap beyond
  # it, so that a crash is kept while ordinary events are being dropped.
  defp write(evs, n, words, reserve? \\ false) do
    case :persistent_term.get(@key, nil) do
      nil ->
        :ok

      ref ->
        if :atomics.get(ref, @on) == 1 do
          cap = :atomics.get(ref, @cap)
          limit = if reserve?, do: cap + div(cap, 10), else: cap

          if :atomics.add_get(ref, @pending, words) <= limit do
            try do
              Store.insert_chunk(chunk_key(evs), words, n, evs)
            catch
              _, _ ->
                :atomics.sub(ref, @pending, words)
                :atomics.add(ref, @dropped, n)
            end
          else
            :atomics.sub(ref, @pending, words)
            :atomics.add(ref, @dropped, n)
          end
        end

        # Only after the chunk is in the table: the collector must never see an empty slot
        # while this process's events are neither in the table nor in the slot's bound.
        case :erlang.get(@slot) do
          slot when is_integer(slot) -> :atomics.put(ref, @slot_base + slot, 0)
          _ -> :ok
        end
    end
  end

  # A chunk's key in the ordered table is its smallest seq (its oldest event, the last one):
  # unique, and a bound on every event of the chunks after it (see `ElixirScope.Agent.Drain`).
  defp chunk_key(evs), do: :erlang.element(2, :lists.last(evs))
end
