defmodule ElixirScope.Agent.VMTracer do
  @moduledoc false
  # VM-level events of the processes that run instrumented code (issue #4, "VMTracer"): spawn,
  # exit, link/unlink, monitor/demonitor, register/unregister, send and receive; and, through
  # `ElixirScope.Agent.Sampler`, node and process metrics on an interval. One process per
  # session, started and stopped by the collector; it writes raw events into the `Store` as the
  # hot path does (see `ElixirScope.Agent.Events` for the rows they become).
  #
  # Which processes. A process is *enrolled* when it first records an event (it gets its
  # ordering slot in `ElixirScope.Agent.Runtime`, which calls `enroll/0`), or at session start
  # if it already holds a slot: `:erlang.trace(pid, true, @flags)` with this process as tracer.
  # `:set_on_spawn` makes its children start traced, so that a child's exit is never missed,
  # however short its life; on the child's `spawn` event this process takes `:send`, `:receive`
  # and `:set_on_spawn` away from a child that is not enrolled itself (it keeps `:procs`:
  # spawn, exit, link, register), and untraces grandchildren completely. A process already
  # traced by another tracer (`dbg`, the user's own) is left alone. Agent processes never run
  # instrumented code and are never enrolled.
  #
  # Order. Trace messages carry `:strict_monotonic_timestamp`: `{monotonic ns, unique}`, where
  # `unique` comes from the same counter as the hot path's seqs (`erlang:unique_integer
  # ([monotonic])`) and is taken in the traced process when the event happens. So a VM event's
  # seq places it exactly among the recorded calls of every process. The collector's `Drain`
  # needs a lower bound B of every seq not yet written, and trace messages arrive late: in each
  # round this process reads U = a fresh unique integer and asks `:erlang.trace_delivered(:all)`.
  # Measured: when the answer comes, a trace message stamped before U can still be on its way
  # (the sender's message is stamped before it is handed over), for a moment. So B lags: it is
  # the U of an earlier round that started at least `@lag_ms` before this one ended, and only
  # events below B are paired and written (one chunk), after which B is published in the slot.
  # Rounds run back to back while trace messages come, every `@idle_ms` otherwise; the drain
  # holds recorded events back by about `@lag_ms` plus a round. A trace message that arrives
  # later than that still is written, out of order (the drain counts it and warns).
  #
  # Send → receive. A `receive` trace event means the message was put into the receiver's
  # mailbox (the Erlang VM's meaning), not that a `receive` expression took it; the binding rows
  # of instrumented `receive` clauses show where it was taken. Within a round the events below U
  # are complete, so a receive is paired with its send exactly: the oldest unpaired send of an
  # equal message (`=:=`) to this process, or to a registered name or alias. Unpaired sends are
  # kept for `@send_ttl_ms` (the receiver may not be traced).
  #
  # Monitors. `erlang:monitor/2` and `erlang:demonitor/1,2` are call-traced (a global trace
  # pattern with `return_trace`, only for the enrolled processes, which get the `:call` flag)
  # unless something else already traces them; `GenServer.call`'s own monitor (monitor/3) is
  # not recorded, and a demonitor is recorded only for a monitor that was.
  #
  # Overload. One tracer absorbs on the order of a million trace messages a second; a program
  # sending more would grow its mailbox without bound. When more than `max_backlog` trace
  # messages wait, messages stop being traced (`:send` and `:receive` are taken from every
  # enrolled process, and new ones are enrolled without them) and those already queued are
  # discarded (counted as dropped events, STATS `dropped`); a node sample "message_tracing" = 0
  # marks the pause in the recording, = 1 its end. Spawn, exit, link, monitor and register
  # events are never dropped. When the backlog has stayed small for `calm_ms`, messages are
  # traced again.
  #
  # Cleanup. `stop/1` removes the trace flags of every process traced by this process (found
  # by `:erlang.trace_info/2` over all processes), the trace patterns it set, the
  # `scheduler_wall_time` flag it turned on, writes what is left, frees its slot and exits. If
  # it is killed instead, the VM drops the flags of its tracees at their next event and the
  # wall-time flag with the process.

  alias ElixirScope.Agent.{Prune, Sampler, Store}

  @name __MODULE__
  @flags [:procs, :send, :receive, :set_on_spawn, :strict_monotonic_timestamp]
  # What a child that does not run instrumented code keeps: :procs (its exit above all).
  @child_off [:send, :receive, :set_on_spawn, :call]
  # Same key as `ElixirScope.Agent.Runtime` uses for a process's ordering slot: the drain
  # reads it (with `Process.info/2`) to check whose slot it is.
  @slot_key :"$elixir_scope_slot"
  @monitor_mfas [{:erlang, :monitor, 2}, {:erlang, :demonitor, 1}, {:erlang, :demonitor, 2}]

  @idle_ms 5
  @lag_ms 3
  @max_backlog 200_000
  @calm_ms 2_000
  # In the traced table while messages are not traced (see "Overload").
  @shedding :"$shedding"
  @send_ttl_ms 5_000
  @max_pending_sends 50_000
  @max_equal_sends 256
  @event_words 10
  @budget Prune.budget()

  use ElixirScope.Agent.Kinds

  ## API

  @doc """
  Starts the tracer for a session, linked to the caller. Options: `:events` (trace VM events,
  default true), `:sample_ms` (sampling interval, 0 = none; default 250), `:monitors` (trace
  monitor/demonitor, default true). Returns `{:ok, pid}` or `{:error, reason}`.
  """
  def start_link(opts \\ []) do
    :proc_lib.start_link(__MODULE__, :init, [self(), opts], 5_000)
  catch
    :exit, reason -> {:error, reason}
  end

  @doc """
  Stops the tracer: every trace flag and pattern it set is removed and every event it received
  is in the store when this returns.
  """
  def stop(pid, timeout \\ 10_000) do
    mref = Process.monitor(pid)
    send(pid, {:stop, self(), mref})

    receive do
      {^mref, :stopped} ->
        Process.demonitor(mref, [:flush])
        :ok

      {:DOWN, ^mref, _, _, _} ->
        :ok
    after
      timeout ->
        Process.exit(pid, :kill)
        Process.demonitor(mref, [:flush])
        :ok
    end
  end

  @doc "The running tracer, or nil."
  def whereis do
    case :erlang.whereis(@name) do
      :undefined -> nil
      pid -> pid
    end
  end

  @doc """
  Enrolls the calling process (from `Runtime` when it first records). Cheap when no tracer
  runs (a registry lookup); never raises.
  """
  def enroll do
    case :erlang.whereis(@name) do
      :undefined -> :ok
      tracer -> enroll(self(), tracer)
    end
  end

  @doc false
  def enroll(pid, tracer) do
    if free_for?(pid, tracer) do
      :ets.insert(Store.traced_table(), {pid})
      :erlang.trace(pid, true, [{:tracer, tracer} | flags()])
    end

    :ok
  catch
    _, _ -> :ok
  end

  # Not traced, traced by us (a child that inherited our flags), or by a tracer that is gone.
  defp free_for?(pid, tracer) do
    case :erlang.trace_info(pid, :tracer) do
      {:tracer, []} -> true
      {:tracer, ^tracer} -> true
      {:tracer, t} when is_pid(t) -> not Process.alive?(t)
      _ -> false
    end
  end

  # The flags of an enrolled process: with `:call` when monitors are traced, without messages
  # while they are not (see "Overload").
  defp flags do
    flags =
      case :persistent_term.get({@name, :call}, false) do
        true -> [:call | @flags]
        false -> @flags
      end

    if :ets.member(Store.traced_table(), @shedding),
      do: flags -- [:send, :receive],
      else: flags
  end

  ## The process

  @doc false
  def init(parent, opts) do
    Process.flag(:trap_exit, true)
    # Yields to the program's processes, as the collector does (its backlog is bounded, see
    # "Overload").
    Process.flag(:priority, :low)
    # Never traced ourselves (an enrolled process may have started us).
    :erlang.trace(self(), false, [:all])
    events? = Keyword.get(opts, :events, true)
    sample_ms = Keyword.get(opts, :sample_ms, 250)

    # What the hot path of an enrolled process calls is loaded now, not by a (traced) call to
    # the code server from inside the user's process.
    Enum.each([ElixirScope.Agent.Runtime, Prune], &Code.ensure_loaded/1)

    with ref when ref != nil <- Store.atomics(),
         true <- not events? or register(),
         {:ok, slot} <- take_slot(ref) do
      sampler = if sample_ms > 0, do: Sampler.new(), else: nil
      monitors? = events? and Keyword.get(opts, :monitors, true) and trace_monitors()

      st = %{
        parent: parent,
        ref: ref,
        slot: slot,
        events?: events?,
        monitors?: monitors?,
        offset: clock_offset(),
        buf: [],
        pending: %{},
        npending: 0,
        last_expiry: now_ms(),
        # pid => the monitor/demonitor call it is in, until its return_from
        calls: %{},
        # monitor ref => the monitored target (demonitors of other refs are not recorded)
        monitors: %{},
        sample_ms: sample_ms,
        # the published lower bound, and the rounds {U, started at ms} not yet old enough
        bound: :atomics.get(ref, Store.index(:slot_base) + slot),
        rounds: [],
        lag_ms: Keyword.get(opts, :lag_ms, @lag_ms),
        max_backlog: Keyword.get(opts, :max_backlog, @max_backlog),
        calm_ms: Keyword.get(opts, :calm_ms, @calm_ms),
        # since when messages are not traced (nil: they are), and how many were discarded
        shedding: nil,
        shed: 0,
        next_sample: now_ms(),
        sampler: sampler,
        stop: nil
      }

      if events?, do: enroll_existing()
      :proc_lib.init_ack(parent, {:ok, self()})
      loop(st)
    else
      nil -> :proc_lib.init_ack(parent, {:error, "the agent's store is not running"})
      false -> :proc_lib.init_ack(parent, {:error, "a VM tracer is already running"})
      {:error, reason} -> :proc_lib.init_ack(parent, {:error, reason})
    end
  end

  defp register do
    Process.register(self(), @name)
    true
  rescue
    ArgumentError -> false
  end

  # An ordering slot of our own, like a recording process's (see `ElixirScope.Agent.Drain`),
  # holding a lower bound of the seqs of every trace event not yet written.
  defp take_slot(ref) do
    slot = :atomics.add_get(ref, Store.index(:next_slot), 1)

    if slot > Store.max_slots() do
      {:error, "no ordering slot left"}
    else
      :atomics.put(ref, Store.index(:slot_base) + slot, :erlang.unique_integer([:monotonic]))
      :erlang.put(@slot_key, slot)
      :ets.insert(Store.slots_table(), {slot, self()})
      {:ok, slot}
    end
  end

  defp free_slot(st) do
    :atomics.put(st.ref, Store.index(:slot_base) + st.slot, 0)
    :ets.delete(Store.slots_table(), st.slot)
    :ets.insert(Store.free_table(), {st.slot})
  catch
    _, _ -> :ok
  end

  # perf_counter ticks to add to a trace timestamp (monotonic ns) converted to ticks: the hot
  # path stamps events with `:os.perf_counter/0`.
  defp clock_offset do
    unit = :erlang.convert_time_unit(1, :second, :perf_counter)
    {:os.perf_counter() - ns_to_ticks(:erlang.monotonic_time(:nanosecond), unit), unit}
  end

  defp ns_to_ticks(ns, 1_000_000_000), do: ns
  defp ns_to_ticks(ns, unit), do: div(ns * unit, 1_000_000_000)

  defp enroll_existing do
    for {_slot, pid} <- :ets.tab2list(Store.slots_table()),
        pid != self(),
        node(pid) == node(),
        Process.alive?(pid),
        do: enroll(pid, self())
  end

  # Global call tracing of monitor/demonitor, unless someone else traces them already.
  defp trace_monitors do
    free? = Enum.all?(@monitor_mfas, &(:erlang.trace_info(&1, :traced) == {:traced, false}))

    if free? do
      for mfa <- @monitor_mfas,
          do: :erlang.trace_pattern(mfa, [{:_, [], [{:return_trace}]}], [:global])

      :persistent_term.put({@name, :call}, true)
    end

    free?
  catch
    _, _ -> false
  end

  defp untrace_monitors(%{monitors?: true}) do
    :persistent_term.erase({@name, :call})
    for mfa <- @monitor_mfas, do: :erlang.trace_pattern(mfa, false, [:global])
    :ok
  catch
    _, _ -> :ok
  end

  defp untrace_monitors(_), do: :ok

  ## Rounds

  defp loop(%{stop: nil} = st) do
    st = run_round(st)

    if st.stop != nil do
      finish(st)
    else
      st |> idle() |> loop()
    end
  end

  defp loop(st), do: finish(st)

  # One round: collect every trace message generated before U, write the events below U,
  # publish U (see the module comment).
  defp run_round(%{events?: false} = st) do
    u = :erlang.unique_integer([:monotonic])
    :atomics.put(st.ref, Store.index(:slot_base) + st.slot, u)
    {samples, st} = maybe_sample(st)
    write(samples, false, st)
    :atomics.put(st.ref, Store.index(:slot_base) + st.slot, 0)
    st
  end

  defp run_round(st) do
    u = :erlang.unique_integer([:monotonic])
    started = now_ms()
    tref = :erlang.trace_delivered(:all)
    st = collect(st, tref)
    {bound, rounds} = lagged_bound([{u, started} | st.rounds], now_ms() - st.lag_ms, st.bound)
    {ready, later} = ready(st.buf, bound)
    {events, st} = pair(ready, %{st | buf: later, rounds: rounds})
    {samples, st} = maybe_sample(st)
    write(samples ++ events, crash?(events), st)
    :atomics.put(st.ref, Store.index(:slot_base) + st.slot, bound)
    %{st | bound: bound} |> expire() |> backlog()
  end

  # The newest round start U at least `lag_ms` old (else the bound as it was), and the rounds
  # still too recent to be used, newest first.
  defp lagged_bound(rounds, before, bound) do
    case Enum.split_while(rounds, fn {_u, t} -> t > before end) do
      {recent, [{u, _} | _]} -> {max(u, bound), recent}
      {recent, []} -> {bound, recent}
    end
  end

  # See "Overload" in the module comment.
  defp backlog(st) do
    {:message_queue_len, queued} = Process.info(self(), :message_queue_len)
    backlog = queued + length(st.buf)

    if st.shed > 0, do: :atomics.add(st.ref, Store.index(:dropped), st.shed)
    st = %{st | shed: 0}

    cond do
      st.shedding == nil and backlog > st.max_backlog ->
        set_messages(false, st)
        %{st | shedding: now_ms()}

      st.shedding != nil and backlog * 10 < st.max_backlog and
          now_ms() - st.shedding >= st.calm_ms ->
        set_messages(true, st)
        %{st | shedding: nil}

      st.shedding != nil and backlog * 10 >= st.max_backlog ->
        # Not calm yet: the calm period starts again.
        %{st | shedding: now_ms()}

      true ->
        st
    end
  end

  # Also writes a node sample "message_tracing" (0: paused, 1: traced again), so that the
  # recording shows when messages were not recorded.
  defp set_messages(on?, st) do
    mark =
      {17, :erlang.unique_integer([:monotonic]), :os.perf_counter(), nil, "message_tracing",
       if(on?, do: 1, else: 0)}

    write([mark], true, st)
    traced = Store.traced_table()
    if on?, do: :ets.delete(traced, @shedding), else: :ets.insert(traced, {@shedding})
    me = self()

    for {pid} <- :ets.tab2list(traced), is_pid(pid) do
      try do
        if on?,
          do: :erlang.trace(pid, true, [:send, :receive, {:tracer, me}]),
          else: :erlang.trace(pid, false, [:send, :receive])
      catch
        _, _ -> :ok
      end
    end

    :ok
  end

  # Until the trace_delivered answer: trace messages into the buffer, control messages handled.
  defp collect(st, tref) do
    receive do
      {:trace_delivered, :all, ^tref} -> st
      msg -> collect(handle(msg, st), tref)
    end
  end

  # Waits for the next message (then runs a round) or `@idle_ms`.
  defp idle(st) do
    receive do
      msg -> handle(msg, st)
    after
      @idle_ms -> st
    end
  end

  defp handle(msg, st) when elem(msg, 0) == :trace_ts do
    case msg do
      {:trace_ts, parent, :spawn, child, _mfa, _ts} ->
        limit_child(parent, child)
        %{st | buf: [msg | st.buf]}

      {:trace_ts, _, tag, _, _} when st.shedding != nil and tag == :receive ->
        %{st | shed: st.shed + 1}

      {:trace_ts, _, tag, _, _, _}
      when st.shedding != nil and tag in [:send, :send_to_non_existing_process] ->
        %{st | shed: st.shed + 1}

      _ ->
        %{st | buf: [msg | st.buf]}
    end
  end

  defp handle({:stop, from, mref}, st), do: %{st | stop: {from, mref}}
  defp handle({:EXIT, parent, _reason}, %{parent: parent} = st), do: %{st | stop: :parent}
  defp handle(_other, st), do: st

  # A child of an enrolled process keeps only :procs; a grandchild is not traced at all. A
  # child that enrolls meanwhile (it runs instrumented code) gets its flags back: `enroll/2`
  # marks it before setting them, and this looks again after taking them.
  defp limit_child(parent, child) do
    traced = Store.traced_table()

    unless :ets.member(traced, child) do
      if :ets.member(traced, parent),
        do: :erlang.trace(child, false, @child_off),
        else: :erlang.trace(child, false, [:all])

      if :ets.member(traced, child), do: :erlang.trace(child, true, [{:tracer, self()} | flags()])
    end

    :ok
  catch
    _, _ -> :ok
  end

  ## Trace messages → raw events

  defp seq_of(msg), do: elem(elem(msg, tuple_size(msg) - 1), 1)

  # Trace messages `{seq, msg}` in seq order → raw events (newest first). Unpaired sends are
  # aged from this round's clock reading.
  defp pair(msgs, st), do: pair(msgs, now_ms(), st, [])

  defp pair([{_seq, msg} | rest], now, st, acc) do
    case event(msg, now, st) do
      {nil, st} -> pair(rest, now, st, acc)
      {ev, st} -> pair(rest, now, st, [ev | acc])
    end
  end

  defp pair([], _now, st, acc), do: {acc, st}

  # The buffered trace messages below `bound`, as `{seq, msg}` in seq order, and the others.
  defp ready(buf, bound), do: ready(buf, bound, [], [])

  defp ready([msg | rest], bound, ready, later) do
    seq = seq_of(msg)

    if seq < bound,
      do: ready(rest, bound, [{seq, msg} | ready], later),
      else: ready(rest, bound, ready, [msg | later])
  end

  defp ready([], _bound, ready, later), do: {:lists.keysort(1, ready), later}

  defp event({:trace_ts, pid, :send, msg, to, ts}, now, st) do
    {seq, t} = stamp(ts, st)

    st =
      if st.npending < @max_pending_sends do
        key = :erlang.phash2(msg)
        entry = {seq, pid, to, msg, now}

        case st.pending do
          # Many equal messages in flight (a `:tick` to a process that is not traced): only
          # the newest are worth keeping.
          %{^key => entries} when length(entries) >= @max_equal_sends ->
            %{st | pending: %{st.pending | key => tl(entries) ++ [entry]}}

          %{^key => entries} ->
            %{st | pending: %{st.pending | key => entries ++ [entry]}, npending: st.npending + 1}

          _ ->
            %{st | pending: Map.put(st.pending, key, [entry]), npending: st.npending + 1}
        end
      else
        st
      end

    {{@send, seq, t, pid, to, msg}, st}
  end

  defp event({:trace_ts, pid, :send_to_non_existing_process, msg, to, ts}, _now, st) do
    {seq, t} = stamp(ts, st)
    {{@send, seq, t, pid, {:noproc, to}, msg}, st}
  end

  defp event({:trace_ts, pid, :receive, msg, ts}, _now, st) do
    {seq, t} = stamp(ts, st)

    case take_send(st, pid, msg) do
      # A `receive … after` that timed out is traced as the message `timeout`.
      {nil, st} when msg == :timeout -> {nil, st}
      {nil, st} -> {{@receive, seq, t, pid, {0, nil}, msg}, st}
      {{sseq, from}, st} -> {{@receive, seq, t, pid, {sseq, from}, msg}, st}
    end
  end

  defp event({:trace_ts, pid, :spawn, child, mfa, ts}, _now, st) do
    {seq, t} = stamp(ts, st)
    {{@spawn, seq, t, pid, child, mfa}, st}
  end

  defp event({:trace_ts, pid, :exit, reason, ts}, _now, st) do
    :ets.delete(Store.traced_table(), pid)
    {seq, t} = stamp(ts, st)
    {{@exit, seq, t, pid, nil, reason}, %{st | calls: Map.delete(st.calls, pid)}}
  end

  defp event({:trace_ts, pid, tag, other, ts}, _now, st) when tag in [:link, :unlink] do
    {seq, t} = stamp(ts, st)
    {{if(tag == :link, do: @link, else: @unlink), seq, t, pid, other, nil}, st}
  end

  defp event({:trace_ts, pid, tag, name, ts}, _now, st) when tag in [:register, :unregister] do
    {seq, t} = stamp(ts, st)
    {{if(tag == :register, do: @register, else: @unregister), seq, t, pid, name, nil}, st}
  end

  # monitor/demonitor: the call says what, its return_from when (and the monitor's ref).
  defp event({:trace_ts, pid, :call, {:erlang, f, args}, _ts}, _now, st)
       when f in [:monitor, :demonitor],
       do: {nil, %{st | calls: Map.put(st.calls, pid, {f, args})}}

  defp event({:trace_ts, pid, :return_from, {:erlang, f, _}, result, ts}, _now, st)
       when f in [:monitor, :demonitor] do
    {call, calls} = Map.pop(st.calls, pid)
    st = %{st | calls: calls}
    {seq, t} = stamp(ts, st)

    case call do
      {:monitor, [_type, target]} when is_reference(result) ->
        monitors = if map_size(st.monitors) > 100_000, do: %{}, else: st.monitors
        st = %{st | monitors: Map.put(monitors, result, target)}
        {{@monitor, seq, t, pid, target, result}, st}

      {:demonitor, [ref | _]} ->
        case Map.pop(st.monitors, ref) do
          {nil, _} ->
            {nil, st}

          {target, monitors} ->
            {{@demonitor, seq, t, pid, target, ref}, %{st | monitors: monitors}}
        end

      _ ->
        {nil, st}
    end
  end

  # spawned, getting_linked, getting_unlinked: the other side of events recorded above.
  defp event(_msg, _now, st), do: {nil, st}

  # A DOWN message ends a monitor: forget it (a later demonitor of it is not interesting).
  defp take_send(st, pid, {:DOWN, ref, _, _, _} = msg) when is_reference(ref),
    do: take_send_(%{st | monitors: Map.delete(st.monitors, ref)}, pid, msg)

  defp take_send(st, pid, msg), do: take_send_(st, pid, msg)

  defp take_send_(st, pid, msg) do
    key = :erlang.phash2(msg)

    case st.pending do
      %{^key => entries} ->
        case pop_match(entries, pid, msg, []) do
          nil ->
            {nil, st}

          {{sseq, from, _to, _msg, _t}, []} ->
            {{sseq, from},
             %{st | pending: Map.delete(st.pending, key), npending: st.npending - 1}}

          {{sseq, from, _to, _msg, _t}, rest} ->
            {{sseq, from},
             %{st | pending: Map.put(st.pending, key, rest), npending: st.npending - 1}}
        end

      _ ->
        {nil, st}
    end
  end

  defp pop_match([], _pid, _msg, _acc), do: nil

  defp pop_match([{_, _, to, m, _} = e | rest], pid, msg, acc) do
    if m === msg and (to == pid or not is_pid(to)),
      do: {e, :lists.reverse(acc, rest)},
      else: pop_match(rest, pid, msg, [e | acc])
  end

  # Unpaired sends older than `@send_ttl_ms` are forgotten (their receiver is not traced).
  defp expire(st) do
    now = now_ms()

    if now - st.last_expiry < 1_000 do
      st
    else
      pending =
        for {k, entries} <- st.pending,
            kept = Enum.filter(entries, fn {_, _, _, _, t} -> now - t < @send_ttl_ms end),
            kept != [],
            into: %{},
            do: {k, kept}

      n = Enum.reduce(pending, 0, fn {_, l}, acc -> acc + length(l) end)
      %{st | pending: pending, npending: n, last_expiry: now}
    end
  end

  defp stamp({mono, seq}, st) do
    {offset, unit} = st.offset
    {seq, ns_to_ticks(mono, unit) + offset}
  end

  defp crash?(events) do
    Enum.any?(events, fn
      {@exit, _, _, _, _, reason} -> reason not in [:normal, :shutdown]
      _ -> false
    end)
  end

  ## Sampling

  defp maybe_sample(%{sampler: nil} = st), do: {[], st}

  defp maybe_sample(st) do
    now = now_ms()

    if now >= st.next_sample do
      {events, sampler} = Sampler.sample(st.sampler, st.offset)
      {events, %{st | sampler: sampler, next_sample: now + st.sample_ms}}
    else
      {[], st}
    end
  end

  ## Writing

  # One chunk into the store, as `Runtime` writes a buffer: counted against the cap (a chunk
  # with a crash may use the reserve), dropped and counted beyond it.
  defp write([], _reserve?, _st), do: :ok

  defp write(events, reserve?, st) do
    {events, {words, key}} =
      Enum.map_reduce(events, {0, nil}, fn {k, seq, t, pid, other, value}, {w, key} ->
        {v, vw} = bound(value)
        {{k, seq, t, pid, other, v}, {w + vw + @event_words, min(seq, key || seq)}}
      end)

    n = length(events)
    ref = st.ref

    if :atomics.get(ref, Store.index(:on)) == 1 do
      cap = Store.cap(ref)
      limit = if reserve?, do: cap + div(cap, 10), else: cap

      if :atomics.add_get(ref, Store.index(:pending), words) <= limit do
        # Keyed by its smallest seq, as `Runtime` keys its chunks (see `ElixirScope.Agent.Drain`).
        Store.insert_chunk(key, words, n, events)
      else
        :atomics.sub(ref, Store.index(:pending), words)
        :atomics.add(ref, Store.index(:dropped), n)
      end
    end

    :ok
  catch
    _, _ -> :ok
  end

  defp bound(value) do
    case Prune.fits(value, @budget) do
      left when left >= 0 -> {value, @budget - left}
      _ -> {Prune.prune(value), @budget}
    end
  end

  ## Stopping

  defp finish(st) do
    untrace_all()
    untrace_monitors(st)

    # Everything generated before the flags went away is delivered by now, or within the lag
    # (see "Order"): write all of it.
    st =
      if st.events? do
        tref = :erlang.trace_delivered(:all)
        st = st |> collect(tref) |> settle(now_ms() + st.lag_ms)
        {ready, []} = ready(st.buf, :infinity)
        {events, st} = pair(ready, %{st | buf: []})
        write(events, true, st)
        st
      else
        st
      end

    if st.sampler, do: Sampler.stop(st.sampler)
    free_slot(st)

    case st.stop do
      {from, mref} -> send(from, {mref, :stopped})
      _ -> :ok
    end

    :ok
  end

  # Takes what arrives until `deadline` (ms).
  defp settle(st, deadline) do
    receive do
      msg -> settle(handle(msg, st), deadline)
    after
      max(0, deadline - now_ms()) -> st
    end
  end

  defp untrace_all do
    me = self()

    for pid <- Process.list(), pid != me do
      try do
        if :erlang.trace_info(pid, :tracer) == {:tracer, me},
          do: :erlang.trace(pid, false, [:all])
      catch
        _, _ -> :ok
      end
    end

    :ets.delete_all_objects(Store.traced_table())
  catch
    _, _ -> :ok
  end

  defp now_ms, do: System.monotonic_time(:millisecond)
end
