defmodule ElixirScope.Agent.Collector do
  @moduledoc false
  # Owns the recording session: the socket to the recorder, the handshake (HELLO → PLAN →
  # instrument → READY), the drain loop (every `@drain_ms`: take events in seq order, format
  # them, encode Arrow IPC, send EVENTS), STATS every second, and the end (STOP from the
  # recorder, VM halt, application shutdown): restore code if the node lives on, flush
  # everything, STATS, BYE, close.
  #
  # Nothing here is on the hot path; instrumented code never calls or waits for this process.

  use GenServer

  alias ElixirScope.Agent.{
    Drain,
    Events,
    Instrumenter,
    JSON,
    Overload,
    Prune,
    Shipper,
    Store,
    Value,
    VMTracer
  }

  @drain_ms 10
  # The collector's heap (words, 4 MiB) while a session runs: each drain takes up to
  # `@slice_events` events out of the store into it and makes their rows and frames
  # (`Shipper.ship/2`). From the default heap it
  # grows and collects its way up to a slice on every drain, into memory fresh from the OS each
  # time (a backlog of 400,000 events drained: 38k page faults, ~290 ms; with this heap 8k,
  # ~140 ms — on the small VMs we measure on a first touch of a page costs ~10-15 µs).
  @session_heap 524_288
  # Events taken out of the store at a time, and how long one drain may go on taking slices.
  @slice_events 4_096
  @slice_ms 50
  # Default interval of node and process metrics (PLAN `vm.sample_ms`).
  @sample_ms 250
  @stats_ms 1_000
  @protocol 1
  # Event schema of the EVENTS frames (protocol/src/wire.ts `EVENTS_SCHEMA_VERSION`).
  @schema 3
  @version Mix.Project.config()[:version]

  # Frame types (protocol/src/wire.ts).
  @hello 1
  @plan 2
  @ready 3
  @log 5
  @bye 7
  @stop 8

  @max_frame 64 * 1024 * 1024

  def start_link(opts), do: GenServer.start_link(__MODULE__, opts, name: __MODULE__)

  @doc """
  Connects to the recorder and runs the handshake. Options: `:port` (required), `:secret`,
  `:host` (default 127.0.0.1), `:connect_timeout`, `:plan_timeout` (ms), `:remove_when_gone`
  (when the recorder goes away or stops recording, the agent's application stops as well: for
  a node the recorder started, which gets no other session).
  Returns `{:ok, ready}` once the planned modules are instrumented, or `{:error, reason}`.
  """
  def start_session(opts), do: GenServer.call(__MODULE__, {:start_session, opts}, :infinity)

  @doc "Ends the session: flushes, STATS, BYE. `restore: true` also restores the original code."
  def finish(reason, opts \\ []),
    do: GenServer.call(__MODULE__, {:finish, reason, opts}, Keyword.get(opts, :timeout, 20_000))

  @doc "Whether a session is running."
  def active?, do: GenServer.call(__MODULE__, :active?)

  @doc "Waits until no session is running (it ended by STOP, BYE or a lost connection)."
  def await_end(timeout), do: GenServer.call(__MODULE__, :await_end, timeout)

  @impl true
  def init(_opts) do
    # So that an application shutdown (System.stop/0) still flushes in terminate/2.
    Process.flag(:trap_exit, true)
    # A restarted collector has no session: whatever a crashed one left must not pile up.
    disable()

    case Store.atomics() do
      nil -> :ok
      ref -> Store.reset(ref)
    end

    {:ok, %{session: nil, waiters: []}}
  end

  @impl true
  def handle_call({:start_session, _opts}, _from, %{session: s} = state) when s != nil,
    do: {:reply, {:error, "a recording session is already running"}, state}

  def handle_call({:start_session, opts}, _from, state) do
    case handshake(opts) do
      {:ok, session, ready} ->
        session = Map.put(session, :remove_when_gone, Keyword.get(opts, :remove_when_gone, false))
        Process.send_after(self(), :drain, @drain_ms)
        Process.send_after(self(), :stats, @stats_ms)
        Process.flag(:min_heap_size, @session_heap)
        # The program's processes go first: the agent's (collector, pipeline, VM tracer) run at
        # low priority, interleaved with normal ones but picked less often (never starved), so
        # a busy program gets the CPU and the agent catches up when it waits; the store's cap
        # and adaptive sampling bound what piles up meanwhile.
        Process.flag(:priority, :low)
        {:reply, {:ok, ready}, %{state | session: session}}

      {:error, reason} ->
        {:reply, {:error, reason}, state}
    end
  end

  def handle_call({:finish, _reason, _opts}, _from, %{session: nil} = state),
    do: {:reply, :ok, state}

  def handle_call({:finish, reason, opts}, _from, %{session: s} = state) do
    end_session(s, reason, Keyword.get(opts, :restore, false))
    {:reply, :ok, ended(state)}
  end

  def handle_call(:active?, _from, state), do: {:reply, state.session != nil, state}
  def handle_call(:await_end, _from, %{session: nil} = state), do: {:reply, :ok, state}

  def handle_call(:await_end, from, state),
    do: {:noreply, %{state | waiters: [from | state.waiters]}}

  @impl true
  def handle_info(:drain, %{session: nil} = state), do: {:noreply, state}

  def handle_info(:drain, %{session: s} = state) do
    s = drain(s, false)

    # A backlog is drained slice after slice, other messages (STOP, PLAN) in between.
    if Drain.more?(s.drain),
      do: send(self(), :drain),
      else: Process.send_after(self(), :drain, @drain_ms)

    {:noreply, %{state | session: s}}
  end

  def handle_info(:stats, %{session: nil} = state), do: {:noreply, state}

  def handle_info(:stats, %{session: s} = state) do
    send_stats(s)
    Process.send_after(self(), :stats, @stats_ms)
    {:noreply, state}
  end

  def handle_info({:tcp, sock, <<@stop, _::binary>>}, %{session: %{socket: sock} = s} = state) do
    end_session(s, "stopped by the recorder", true)
    {:noreply, gone(s, state)}
  end

  # A new PLAN while recording: change what is instrumented and how (see `replan/2`).
  def handle_info({:tcp, sock, <<@plan, json::binary>>}, %{session: %{socket: sock} = s} = state) do
    s =
      case JSON.decode(json) do
        {:ok, %{"modules" => modules} = plan} when is_list(modules) ->
          replan(s, plan)

        _ ->
          send_log(s, "error", "ignored a PLAN that is not valid JSON with a module list")
          s
      end

    :inet.setopts(sock, active: :once)
    {:noreply, %{state | session: s}}
  end

  def handle_info({:tcp, sock, _other}, %{session: %{socket: sock}} = state) do
    :inet.setopts(sock, active: :once)
    {:noreply, state}
  end

  def handle_info({:tcp_closed, sock}, %{session: %{socket: sock} = s} = state) do
    # The recorder went away: stop recording and take the instrumentation out again.
    abandon(s)

    warn(
      "ElixirScope: the recorder closed the connection; recording stopped, original code restored."
    )

    {:noreply, gone(s, state)}
  end

  def handle_info({:shipped, pid}, %{session: %{shipper: %{pid: pid}} = s} = state),
    do: {:noreply, %{state | session: %{s | shipper: Shipper.shipped(s.shipper)}}}

  # The shipper died (it cannot write to the socket, or failed on an event): nothing more can
  # reach the recorder.
  def handle_info({:EXIT, pid, reason}, %{session: %{shipper: %{pid: pid}} = s} = state) do
    abandon(s)
    :gen_tcp.close(s.socket)

    warn(
      "ElixirScope: sending events failed (#{inspect(reason)}); recording stopped, original code restored."
    )

    {:noreply, gone(s, state)}
  end

  def handle_info({:tcp_error, sock, _}, %{session: %{socket: sock}} = state),
    do: handle_info({:tcp_closed, sock}, state)

  def handle_info(_msg, state), do: {:noreply, state}

  @impl true
  def terminate(_reason, %{session: s}) when s != nil do
    end_session(s, "agent shutting down", false)
  catch
    _, _ -> :ok
  end

  def terminate(_reason, _state), do: :ok

  defp abandon(s) do
    stop_vm(s)
    disable()
    Overload.clear()
    Instrumenter.restore(s.loaded)
    Process.unlink(s.shipper.pid)
    Process.exit(s.shipper.pid, :kill)
  end

  # The recorder is gone (or stopped recording) while the program goes on. A node the recorder
  # started (`remove_when_gone`) gets no other session: the agent's application stops too, its
  # processes, tables and persistent terms with it (from a process of its own, as the
  # application's shutdown waits for this one).
  defp gone(s, state) do
    state = ended(state)

    if s.remove_when_gone,
      do: spawn(fn -> Application.stop(:elixir_scope_agent) end)

    state
  end

  defp ended(state) do
    Enum.each(state.waiters, &GenServer.reply(&1, :ok))
    # Back to the node's default heap, and shrunk to it now rather than at some later GC.
    {:min_heap_size, default} = :erlang.system_info(:min_heap_size)
    Process.flag(:min_heap_size, default)
    Process.flag(:priority, :normal)
    :erlang.garbage_collect()
    %{state | session: nil, waiters: []}
  end

  ## Handshake

  defp handshake(opts) do
    host = Keyword.get(opts, :host, {127, 0, 0, 1})
    port = Keyword.fetch!(opts, :port)

    sock_opts = [
      :binary,
      packet: 4,
      packet_size: @max_frame,
      active: false,
      nodelay: true,
      send_timeout: 10_000,
      send_timeout_close: true
    ]

    with {:connect, {:ok, sock}} <-
           {:connect,
            :gen_tcp.connect(host, port, sock_opts, Keyword.get(opts, :connect_timeout, 5_000))},
         :ok <- send_frame(sock, @hello, JSON.encode(hello(Keyword.get(opts, :secret, "")))),
         {:ok, plan} <- recv_plan(sock, Keyword.get(opts, :plan_timeout, 30_000)) do
      start_recording(sock, plan)
    else
      {:connect, {:error, reason}} ->
        {:error,
         "could not connect to the recorder on port #{port}: #{:inet.format_error(reason)}"}

      {:error, reason} when is_binary(reason) ->
        {:error, reason}

      {:error, reason} ->
        {:error, "handshake failed: #{inspect(reason)}"}
    end
  end

  defp hello(secret) do
    %{
      secret: secret,
      protocol: @protocol,
      schema: @schema,
      agent_version: @version,
      node: Atom.to_string(node()),
      otp_release: List.to_string(:erlang.system_info(:otp_release)),
      elixir_version: System.version(),
      os_pid: System.pid()
    }
  end

  defp recv_plan(sock, timeout) do
    case :gen_tcp.recv(sock, 0, timeout) do
      {:ok, <<@plan, json::binary>>} ->
        case JSON.decode(json) do
          {:ok, %{"modules" => modules} = plan} when is_list(modules) -> {:ok, plan}
          {:ok, _} -> close(sock, "the PLAN has no module list")
          {:error, why} -> close(sock, "the PLAN is not valid JSON (#{why})")
        end

      {:ok, <<type, _::binary>>} ->
        close(sock, "expected PLAN from the recorder, got frame type #{type}")

      {:error, :closed} ->
        {:error,
         "the recorder closed the connection before sending a plan (wrong ELIXIR_SCOPE_SECRET, " <>
           "or another node of this program is already being recorded)"}

      {:error, :timeout} ->
        close(sock, "no PLAN from the recorder within #{div(timeout, 1000)} s")

      {:error, reason} ->
        close(sock, "reading the PLAN failed: #{inspect(reason)}")
    end
  end

  defp close(sock, reason) do
    :gen_tcp.close(sock)
    {:error, reason}
  end

  defp start_recording(sock, plan) do
    values = values(plan["values"])
    # PLAN `values.max_bytes`: the bytes of a binary the hot path captures.
    max_bytes = if is_map(plan["values"]), do: plan["values"]["max_bytes"]
    Prune.set_max_bin(pos(max_bytes, Prune.default_max_bin()))
    lib_dir = if is_binary(plan["lib_dir"]), do: plan["lib_dir"], else: ""
    ref = Store.atomics()
    Store.reset(ref)
    # PLAN `buffer_mb`: the cap on undrained events (else the store's, as it is).
    case plan["buffer_mb"] do
      mb when is_integer(mb) and mb > 0 -> Store.set_cap(ref, div(mb * 1024 * 1024, 8))
      _ -> :ok
    end

    base = :erlang.unique_integer([:monotonic])
    t0 = :os.perf_counter()

    {loaded, skipped, _next} =
      Instrumenter.instrument(plan["modules"], lib_dir, next_site(), cache_dir: cache_dir(lib_dir))

    ready = %{
      instrumented: Enum.map(loaded, &%{module: &1.name, functions: length(&1.functions)}),
      skipped:
        Enum.map(skipped, fn {name, reason} -> %{module: to_string(name), reason: reason} end)
    }

    Store.enable(ref, true)
    vm_opts = vm_opts(plan["vm"])
    {vm, vm_error} = start_vm(vm_opts)

    case send_frame(sock, @ready, JSON.encode(ready)) do
      :ok ->
        :inet.setopts(sock, active: :once)

        if vm_error,
          do: send_frame(sock, @log, JSON.encode(%{level: "warning", message: vm_error}))

        session = %{
          socket: sock,
          vm: vm,
          vm_opts: vm_opts,
          loaded: loaded,
          plan: plan_entries(plan["modules"]),
          lib_dir: lib_dir,
          values: values,
          drain: Drain.new(),
          overload: Overload.new(plan["sampling"] != "off"),
          late_logged: 0,
          # Small enough for the recorder to print one frame's terms in a few ms (it handles
          # frames between other work of the extension host); big enough to amortise a frame.
          shipper:
            Shipper.start(
              sock,
              Events.context(base, t0, values),
              min(4_096, div(32 * 1024 * 1024, values.max_chars * 4 + 256))
            )
        }

        {:ok, session, ready}

      {:error, reason} ->
        stop_vm(%{vm: vm})
        disable()
        Instrumenter.restore(loaded)
        {:error, "sending READY failed: #{inspect(reason)}"}
    end
  end

  # VM events and metrics (PLAN `vm: {events, sample_ms}`, see `ElixirScope.Agent.VMTracer`):
  # `{events?, sample_ms}`, the defaults for what the PLAN leaves out.
  defp vm_opts(opts) do
    opts = if is_map(opts), do: opts, else: %{}

    sample_ms =
      case opts["sample_ms"] do
        n when is_integer(n) and n >= 0 -> if n in 1..9, do: 10, else: n
        _ -> @sample_ms
      end

    {opts["events"] != false, sample_ms}
  end

  # `{pid | nil, warning | nil}`.
  defp start_vm({false, 0}), do: {nil, nil}

  defp start_vm({events?, sample_ms}) do
    case VMTracer.start_link(events: events?, sample_ms: sample_ms) do
      {:ok, pid} ->
        {pid, nil}

      {:error, reason} ->
        why = if is_binary(reason), do: reason, else: inspect(reason)
        {nil, "VM events and metrics are not recorded: #{why}"}
    end
  end

  # Takes every trace flag away and writes the tracer's last events into the store.
  defp stop_vm(%{vm: pid}) when is_pid(pid), do: VMTracer.stop(pid)
  defp stop_vm(_), do: :ok

  defp plan_entries(modules) do
    for %{"module" => name} = m <- modules, is_binary(name), into: %{}, do: {name, m}
  end

  # Applies a PLAN received during the session: modules no longer planned (or planned with
  # other functions) get their original code back, newly planned ones are instrumented, the
  # others are left alone; `sampling` is switched, and `vm` (see `replan_vm/2`). Answers READY
  # with the whole current set.
  defp replan(s, plan) do
    wanted = plan_entries(plan["modules"])
    lib_dir = if is_binary(plan["lib_dir"]), do: plan["lib_dir"], else: s.lib_dir
    {keep, drop} = Enum.split_with(s.loaded, &(Map.get(wanted, &1.name) == s.plan[&1.name]))
    not_restored = Instrumenter.restore(drop)
    kept = MapSet.new(keep, & &1.name)
    add = for {name, m} <- wanted, not MapSet.member?(kept, name), do: m

    {added, skipped, _} =
      Instrumenter.instrument(add, lib_dir, next_site(), cache_dir: cache_dir(lib_dir))

    loaded = keep ++ added
    sampling? = plan["sampling"] != "off"
    if not sampling?, do: Overload.clear()

    ready = %{
      instrumented: Enum.map(loaded, &%{module: &1.name, functions: length(&1.functions)}),
      skipped:
        Enum.map(skipped, fn {name, reason} -> %{module: to_string(name), reason: reason} end) ++
          Enum.map(not_restored, &%{module: &1, reason: "original code not restored (in use)"})
    }

    # The tracer is in its new state when the recorder reads READY.
    s = replan_vm(s, plan)
    Shipper.frame(s.shipper, @ready, JSON.encode(ready))

    %{
      s
      | loaded: loaded,
        plan: wanted,
        lib_dir: lib_dir,
        overload:
          if(sampling?,
            do: %{s.overload | enabled?: true},
            else: Map.merge(s.overload, %{enabled?: false, rates: %{}, published: %{}})
          )
    }
  end

  # A PLAN with other `vm` settings restarts the tracer with them (a PLAN without `vm` keeps
  # the current ones).
  defp replan_vm(s, %{"vm" => vm}) do
    case vm_opts(vm) do
      same when same == s.vm_opts ->
        s

      opts ->
        stop_vm(s)
        {pid, error} = start_vm(opts)
        if error, do: send_log(s, "warning", error)
        %{s | vm: pid, vm_opts: opts}
    end
  end

  defp replan_vm(s, _plan), do: s

  # The plan's bounds for formatting values (`max_bytes` is the hot path's, see `start_recording`).
  defp values(v) do
    d = Value.default_opts()
    v = if is_map(v), do: v, else: %{}

    %{
      max_chars: pos(v["max_chars"], d.max_chars),
      max_items: pos(v["max_items"], d.max_items),
      max_depth: pos(v["max_depth"], d.max_depth)
    }
  end

  defp pos(n, _default) when is_integer(n) and n > 0, do: n
  defp pos(_, default), do: default

  # Sites are numbered across sessions so that a stale event can never name a wrong site.
  defp next_site do
    case :ets.last(Store.sites_table()) do
      :"$end_of_table" -> 1
      _ -> :ets.foldl(fn {s, _}, m -> max(s, m) end, 0, Store.sites_table()) + 1
    end
  end

  # Instrumented binaries kept for the next recording of the same build (see `Instrumenter`).
  defp cache_dir(lib_dir) when is_binary(lib_dir) do
    if Path.type(lib_dir) == :absolute,
      do: Path.join(Path.dirname(lib_dir), "elixir_scope_cache"),
      else: nil
  end

  defp cache_dir(_), do: nil

  defp disable do
    case Store.atomics() do
      nil -> :ok
      ref -> Store.enable(ref, false)
    end
  end

  ## Draining and sending

  # Slices of at most `@slice_events` events (see `Drain.run/2`) until the table is empty or,
  # unless `final?`, `@slice_ms` have passed.
  defp drain(s, final?), do: drain(s, final?, System.monotonic_time(:millisecond) + @slice_ms)

  defp drain(s, final?, until) do
    s = drain_slice(s, final?)

    if Drain.more?(s.drain) and (final? or System.monotonic_time(:millisecond) < until),
      do: drain(s, final?, until),
      else: s
  end

  defp drain_slice(s, final?) do
    {events, drain} = Drain.run(s.drain, final: final?, max_events: @slice_events)

    s = %{
      s
      | drain: drain,
        overload: Overload.observe(s.overload, events, Overload.store_state())
    }

    s = maybe_log_late(s)
    send_events(s, events)
  end

  defp send_events(s, events), do: %{s | shipper: Shipper.ship(s.shipper, events)}

  defp maybe_log_late(s) do
    late = Drain.late(s.drain)

    if late > s.late_logged do
      send_log(
        s,
        "warning",
        "some events were sent out of capture order: a process held its events back too long"
      )

      %{s | late_logged: late}
    else
      s
    end
  end

  defp send_stats(s) do
    dropped =
      case Store.atomics() do
        nil -> 0
        ref -> :atomics.get(ref, Store.index(:dropped))
      end

    sampled =
      for {site, skipped, n} <- Overload.skipped(s.overload), skipped > 0 do
        %{function: site_function(site), skipped: skipped, keep_one_in: n}
      end

    stats = %{
      dropped: dropped,
      sampled: Enum.reduce(sampled, 0, &(&1.skipped + &2)),
      sampled_functions: sampled
    }

    Shipper.stats(s.shipper, stats)
  end

  defp site_function(site) do
    case :ets.lookup(Store.sites_table(), site) do
      [{_, {mod, fun, arity, _line, _file, _name}}] -> "#{inspect(mod)}.#{fun}/#{arity}"
      _ -> "site #{site}"
    end
  end

  defp send_log(s, level, message),
    do: Shipper.frame(s.shipper, @log, JSON.encode(%{level: level, message: message}))

  defp end_session(s, reason, restore?) do
    not_restored = if restore?, do: Instrumenter.restore(s.loaded), else: []

    if not_restored != [] do
      send_log(
        s,
        "warning",
        "original code not restored (still running): #{Enum.join(not_restored, ", ")}"
      )
    end

    stop_vm(s)
    s = drain(s, true)
    disable()
    Overload.clear()
    send_stats(s)
    Shipper.frame(s.shipper, @bye, JSON.encode(%{reason: reason}))
    Shipper.close(s.shipper)
    :ok
  end

  defp send_frame(sock, type, payload), do: :gen_tcp.send(sock, [type | payload])

  defp warn(line), do: IO.puts(:stderr, line)
end
