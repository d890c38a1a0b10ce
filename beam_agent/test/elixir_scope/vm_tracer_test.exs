defmodule ElixirScope.Agent.VMTracerTest do
  # One tracer per node, and the shared store: one test at a time.
  use ExUnit.Case, async: false

  @compile {:no_warn_undefined, [ESFix.VM, ESFix.VMPlain, ESFix.Counter, ESFix.Door, ESFix.Lock]}

  alias ElixirScope.Agent.{Fixtures, Instrumenter, Recording, Store, VMTracer}

  @source ~S'''
  defmodule ESFix.VM do
    # Runs in the test process: spawns a plain (uninstrumented) child and waits for its exit.
    def spawn_and_wait(reason) do
      child = spawn(ESFix.VMPlain, :work, [self(), reason])
      ref = Process.monitor(child)

      receive do
        {:DOWN, ^ref, :process, ^child, why} -> why
      end
    end

    def linked(reason) do
      Process.flag(:trap_exit, true)
      child = spawn_link(ESFix.VMPlain, :work, [self(), reason])

      receive do
        {:EXIT, ^child, why} -> why
      end
    end

    def monitor_and_forget(pid) do
      ref = Process.monitor(pid)
      Process.demonitor(ref)
    end

    def register_as(name) do
      Process.register(self(), name)
      Process.unregister(name)
    end

    # Two instrumented processes exchanging messages.
    def ping(pong, n) do
      send(pong, {:ping, self(), n})

      receive do
        {:pong, ^n} -> n
      end
    end

    def pong_start(parent) do
      send(parent, {:ready, self()})
      pong_loop()
    end

    def pong_loop do
      receive do
        {:ping, from, n} ->
          reply(from, n)
          pong_loop()

        :stop ->
          :stopped
      end
    end

    def reply(from, n), do: send(from, {:pong, n})

    def wrapped_send(pid, msg) do
      send(pid, msg)
      :sent
    end
  end

  defmodule ESFix.VMPlain do
    def work(parent, reason) do
      send(parent, {:working, self()})
      exit(reason)
    end
  end

  defmodule ESFix.Counter do
    use GenServer

    def start_link(n), do: GenServer.start_link(__MODULE__, n)

    @impl true
    def init(n), do: {:ok, %{count: n}}

    @impl true
    def handle_call(:get, _from, state), do: {:reply, state.count, state}
    def handle_call({:relay, other}, _from, state), do: {:reply, relay(other, state), state}

    @impl true
    def handle_cast({:add, n}, state), do: add(state, n)

    defp add(state, n), do: {:noreply, %{state | count: state.count + n}}

    defp relay(other, state), do: GenServer.call(other, :get) + state.count
  end

  defmodule ESFix.Door do
    @behaviour :gen_statem

    def start_link, do: :gen_statem.start_link(__MODULE__, :ok, [])

    @impl true
    def callback_mode, do: :handle_event_function

    @impl true
    def init(:ok), do: {:ok, :closed, 0}

    @impl true
    def handle_event({:call, from}, :open, :closed, opened),
      do: {:next_state, :open, opened + 1, [{:reply, from, :ok}]}

    def handle_event({:call, from}, :open, :open, opened),
      do: {:keep_state, opened, [{:reply, from, :already}]}
  end

  defmodule ESFix.Lock do
    @behaviour :gen_statem

    def start_link, do: :gen_statem.start_link(__MODULE__, :ok, [])

    @impl true
    def callback_mode, do: [:state_functions]

    @impl true
    def init(:ok), do: {:ok, :locked, %{tries: 0}}

    def locked({:call, from}, {:unlock, code}, data) do
      if code == 42,
        do: {:next_state, :unlocked, data, [{:reply, from, :ok}]},
        else: {:keep_state, %{data | tries: data.tries + 1}, [{:reply, from, :wrong}]}
    end

    def unlocked({:call, from}, _event, _data), do: {:keep_state_and_data, [{:reply, from, :ok}]}
  end
  '''

  @modules ["ESFix.VM", "ESFix.Counter", "ESFix.Door", "ESFix.Lock"]

  setup_all do
    fix = Fixtures.compile(@source, name: "vm")
    {loaded, []} = Recording.instrument(fix.lib_dir, @modules)
    on_exit(fn -> Instrumenter.restore(loaded) end)
    %{fix: fix}
  end

  # Records `fun`, run in a process of its own, with the VM tracer on; returns `{result, rows,
  # that process}` once the tracer has stopped (which removes its flags and writes every event
  # it received). The test process itself records nothing, so it is never traced.
  defp record_vm(fun, opts \\ []) do
    rec = Recording.start()
    {:ok, tracer} = VMTracer.start_link(Keyword.merge([sample_ms: 0], opts))
    test = self()
    {worker, ref} = spawn_monitor(fn -> send(test, {:result, fun.()}) end)
    assert_receive {:result, result}, 10_000
    assert_receive {:DOWN, ^ref, _, _, _}
    :ok = VMTracer.stop(tracer)
    Process.put(:tracer, tracer)
    {result, Recording.rows(rec), inspect(worker)}
  end

  defp kind(name), do: Map.fetch!(ElixirScope.Agent.Events.kinds(), name)
  defp of(rows, name), do: Enum.filter(rows, &(&1.kind == kind(name)))

  test "spawn (with parent and initial call), exit (reason) and the monitor of a plain child" do
    {why, rows, me} = record_vm(fn -> ESFix.VM.spawn_and_wait({:done, 1}) end)
    assert why == {:done, 1}

    [call] = for r <- rows, r.kind == 1, r.function == "spawn_and_wait", do: r
    assert [spawn] = of(rows, :spawn)
    assert spawn.pid == me and spawn.module == "ESFix.VMPlain" and spawn.function == "work"
    assert spawn.arity == 2 and spawn.value == "[#{me}, {:done, 1}]"
    assert spawn.parent_id == call.call_id
    child = spawn.name

    assert [exit] = for(r <- of(rows, :exit), r.pid == child, do: r)
    assert exit.value == "{:done, 1}" and exit.seq > spawn.seq

    assert [mon] = for(r <- of(rows, :monitor), r.name == child, do: r)
    assert mon.pid == me and mon.value =~ "#Reference<"
    assert mon.parent_id == call.call_id

    # The DOWN message reached the test process (a receive without a traced send).
    assert Enum.any?(of(rows, :receive), &(&1.pid == me and &1.value =~ ":DOWN"))
    seqs = Enum.map(rows, & &1.seq)
    assert seqs == Enum.sort(seqs) and seqs == Enum.uniq(seqs)
  end

  test "spawn_link and the EXIT signal; link rows name the other process" do
    {why, rows, me} = record_vm(fn -> ESFix.VM.linked(:boom) end)
    assert why == :boom
    [call] = for r <- rows, r.kind == 1, r.function == "linked", do: r
    assert call.pid == me
    [spawn] = for r <- of(rows, :spawn), r.pid == call.pid, do: r
    assert [link] = for(r <- of(rows, :link), r.pid == call.pid, do: r)
    assert link.name == spawn.name and link.seq > spawn.seq
    assert [%{value: ":boom"}] = for(r <- of(rows, :exit), r.pid == spawn.name, do: r)

    assert Enum.any?(
             of(rows, :receive),
             &(&1.pid == call.pid and &1.value == "{:EXIT, #{spawn.name}, :boom}")
           )
  end

  test "monitor and demonitor; register and unregister" do
    other = spawn(fn -> Process.sleep(:infinity) end)
    on_exit(fn -> Process.exit(other, :kill) end)

    {true, rows, me} =
      record_vm(fn ->
        ESFix.VM.register_as(:es_vm_test_name)
        ESFix.VM.monitor_and_forget(other)
      end)

    assert [%{pid: ^me, name: ":es_vm_test_name"}] = of(rows, :register)
    assert [%{pid: ^me, name: ":es_vm_test_name"}] = of(rows, :unregister)
    assert [mon] = for(r <- of(rows, :monitor), r.name == inspect(other), do: r)
    assert [demon] = for(r <- of(rows, :demonitor), r.name == inspect(other), do: r)
    assert demon.value == mon.value and demon.seq > mon.seq
  end

  test "send and receive between instrumented processes: each receive names its send" do
    {results, rows, me} =
      record_vm(fn ->
        me = self()
        # Messages are seen from a process's first recorded event on: wait for it.
        spawn(fn -> ESFix.VM.pong_start(me) end)
        pong = receive do: ({:ready, pong} -> pong)
        results = for n <- 1..3, do: ESFix.VM.ping(pong, n)
        ref = Process.monitor(pong)
        send(pong, :stop)
        receive do: ({:DOWN, ^ref, _, _, _} -> :ok)
        results
      end)

    assert results == [1, 2, 3]
    sends = of(rows, :send)
    receives = of(rows, :receive)
    by_seq = Map.new(sends, &{&1.seq, &1})

    for n <- 1..3 do
      [ping] = for s <- sends, s.pid == me, s.value == "{:ping, #{me}, #{n}}", do: s
      [got] = for r <- receives, r.call_id == ping.seq, do: r
      assert got.name == me and got.pid == ping.name and got.value == ping.value
      assert got.seq > ping.seq

      [pong] = for r <- receives, r.pid == me, r.value == "{:pong, #{n}}", do: r
      send_row = Map.fetch!(by_seq, pong.call_id)
      assert send_row.pid == pong.name and send_row.name == me
      # Sent from inside reply/2: its parent is that call.
      [reply] = for c <- rows, c.kind == 1, c.function == "reply", c.value =~ ", #{n}]", do: c
      assert send_row.parent_id == reply.call_id
      assert reply.seq < send_row.seq
    end
  end

  test "VM events are in capture order with the recorded calls around them" do
    {:sent, rows, me} =
      record_vm(fn ->
        sent = ESFix.VM.wrapped_send(self(), :hello)
        # A receive event is the message entering the mailbox, which a process that never
        # looks at its mailbox may never do.
        receive do: (:hello -> sent)
      end)

    [call] = for r <- rows, r.kind == 1, r.function == "wrapped_send", do: r
    [ret] = for r <- rows, r.kind == 2, r.call_id == call.call_id, do: r
    [send] = for r <- of(rows, :send), r.value == ":hello", do: r
    assert call.seq < send.seq and send.seq < ret.seq
    assert call.ts <= send.ts and send.ts <= ret.ts
    assert send.parent_id == call.call_id and send.name == me
    [got] = for r <- of(rows, :receive), r.value == ":hello", do: r
    assert got.call_id == send.seq and got.seq > send.seq
  end

  test "GenServer state before and after each callback, also through a tail call" do
    {count, rows, _} =
      record_vm(fn ->
        {:ok, pid} = ESFix.Counter.start_link(1)
        GenServer.cast(pid, {:add, 2})
        count = GenServer.call(pid, :get)
        GenServer.stop(pid)
        count
      end)

    assert count == 3
    states = of(rows, :state)

    assert Enum.map(states, &{&1.function, &1.name, &1.value}) == [
             {"init", "after", "%{count: 1}"},
             {"handle_cast", "before", "%{count: 1}"},
             {"handle_cast", "after", "%{count: 3}"},
             {"handle_call", "before", "%{count: 3}"},
             {"handle_call", "after", "%{count: 3}"}
           ]

    # Each belongs to its callback's call.
    calls = for r <- rows, r.kind == 1, into: %{}, do: {r.call_id, r}

    for s <- states do
      assert %{function: f, pid: p, module: "ESFix.Counter"} = Map.fetch!(calls, s.call_id)
      assert f == s.function and p == s.pid
    end
  end

  test "calls inside a callback, while another server's callback runs and ends by a tail call" do
    {sum, rows, _} =
      record_vm(fn ->
        {:ok, a} = ESFix.Counter.start_link(10)
        {:ok, b} = ESFix.Counter.start_link(1)
        GenServer.cast(b, {:add, 2})
        sum = GenServer.call(a, {:relay, b})
        Enum.each([a, b], &GenServer.stop/1)
        sum
      end)

    assert sum == 13
    [relay_call] = for r <- rows, r.kind == 1, r.function == "relay", do: r
    [relay_return] = for r <- rows, r.kind == 2, r.call_id == relay_call.call_id, do: r
    assert relay_return.value == "13"

    [handle] =
      for r <- rows, r.kind == 1, r.function == "handle_call", r.pid == relay_call.pid, do: r

    assert relay_call.parent_id == handle.call_id

    by_server =
      rows
      |> of(:state)
      |> Enum.group_by(& &1.pid, &{&1.function, &1.name, &1.value})

    assert by_server[relay_call.pid] == [
             {"init", "after", "%{count: 10}"},
             {"handle_call", "before", "%{count: 10}"},
             {"handle_call", "after", "%{count: 10}"}
           ]

    assert [{"init", "after", "%{count: 1}"} | b_states] =
             by_server |> Map.delete(relay_call.pid) |> Map.values() |> hd()

    assert b_states == [
             {"handle_cast", "before", "%{count: 1}"},
             {"handle_cast", "after", "%{count: 3}"},
             {"handle_call", "before", "%{count: 3}"},
             {"handle_call", "after", "%{count: 3}"}
           ]
  end

  test "gen_statem state and data before and after, in both callback modes" do
    {results, rows, _} =
      record_vm(fn ->
        {:ok, door} = ESFix.Door.start_link()
        {:ok, lock} = ESFix.Lock.start_link()

        r = [
          :gen_statem.call(door, :open),
          :gen_statem.call(door, :open),
          :gen_statem.call(lock, {:unlock, 1}),
          :gen_statem.call(lock, {:unlock, 42}),
          :gen_statem.call(lock, :anything)
        ]

        :gen_statem.stop(door)
        :gen_statem.stop(lock)
        r
      end)

    assert results == [:ok, :already, :wrong, :ok, :ok]

    assert for(s <- of(rows, :state), s.module == "ESFix.Door", do: {s.name, s.value}) == [
             {"after", "{:closed, 0}"},
             {"before", "{:closed, 0}"},
             {"after", "{:open, 1}"},
             {"before", "{:open, 1}"},
             {"after", "{:open, 1}"}
           ]

    assert for(s <- of(rows, :state), s.module == "ESFix.Lock", do: {s.function, s.name, s.value}) ==
             [
               {"init", "after", "{:locked, %{tries: 0}}"},
               {"locked", "before", "{:locked, %{tries: 0}}"},
               {"locked", "after", "{:locked, %{tries: 1}}"},
               {"locked", "before", "{:locked, %{tries: 1}}"},
               {"locked", "after", "{:unlocked, %{tries: 1}}"},
               {"unlocked", "before", "{:unlocked, %{tries: 1}}"},
               {"unlocked", "after", "{:unlocked, %{tries: 1}}"}
             ]
  end

  test "node and process metrics on an interval" do
    {:ok, rows, me} =
      record_vm(
        fn ->
          ESFix.VM.register_as(:es_vm_sampled)
          # Two samples at least: the first is taken when the tracer starts.
          wait_for_samples(2)
          :ok
        end,
        sample_ms: 10
      )

    samples = of(rows, :sample)
    node = for s <- samples, s.pid == "", do: {s.name, s.value}
    assert {"memory", mem} = List.keyfind(node, "memory", 0)
    assert String.to_integer(mem) > 1_000_000
    assert {"process_count", _} = List.keyfind(node, "process_count", 0)

    utils = for {"scheduler_utilisation", v} <- node, do: String.to_float(v)
    assert utils != [] and Enum.all?(utils, &(&1 >= 0.0 and &1 <= 1.0))

    mine = for s <- samples, s.pid == me, do: s.name
    assert "mailbox" in mine and "reductions" in mine and "memory" in mine
    assert Enum.all?(samples, &(&1.call_id == 0 and &1.parent_id == 0))
  end

  # Samples are written into the store as they are taken: count the node's there.
  defp wait_for_samples(n) do
    count =
      :ets.foldl(
        fn {_, _, _, _, evs}, acc ->
          acc + Enum.count(evs, &match?({17, _, _, nil, "memory", _}, &1))
        end,
        0,
        Store.events_table()
      )

    if count >= n,
      do: :ok,
      else:
        (
          :erlang.yield()
          wait_for_samples(n)
        )
  end

  test "stop removes every trace flag, pattern, the wall-time flag, the tracer and its slot" do
    {pong, _rows, _} =
      record_vm(
        fn ->
          pong = spawn(fn -> ESFix.VM.pong_loop() end)
          1 = ESFix.VM.ping(pong, 1)
          # Still alive when the tracer stops.
          pong
        end,
        sample_ms: 10
      )

    on_exit(fn -> send(pong, :stop) end)
    assert VMTracer.whereis() == nil
    assert :erlang.trace_info(self(), :flags) == {:flags, []}
    assert :erlang.trace_info(pong, :flags) == {:flags, []}

    assert Enum.all?(
             Process.list(),
             &(:erlang.trace_info(&1, :tracer) in [{:tracer, []}, :undefined])
           )

    assert :erlang.trace_info({:erlang, :monitor, 2}, :traced) == {:traced, false}
    assert :erlang.statistics(:scheduler_wall_time) == :undefined
    assert :ets.tab2list(Store.traced_table()) == []
    tracer = Process.get(:tracer)
    refute Process.alive?(tracer)
    refute Enum.any?(:ets.tab2list(Store.slots_table()), fn {_, pid} -> pid == tracer end)
  end

  test "a process traced by someone else is left alone, without any error" do
    other_tracer = spawn(fn -> Process.sleep(:infinity) end)
    on_exit(fn -> Process.exit(other_tracer, :kill) end)
    # Tracing a traced process makes the VM log "can only have one tracer per process".
    :ok = :logger.add_handler(:es_vm_test, __MODULE__.LogCapture, %{config: %{pid: self()}})
    on_exit(fn -> :logger.remove_handler(:es_vm_test) end)

    {:ok, rows, me} =
      record_vm(fn ->
        :erlang.trace(self(), true, [:send, {:tracer, other_tracer}])
        ESFix.VM.wrapped_send(self(), :mine)
        assert :erlang.trace_info(self(), :tracer) == {:tracer, other_tracer}
        :ok
      end)

    assert [_] = for(r <- rows, r.kind == 1, r.function == "wrapped_send", do: r)
    refute Enum.any?(rows, &(&1.pid == me and &1.kind >= 6))
    :logger.remove_handler(:es_vm_test)
    refute_received {:log, _}
  end

  defmodule LogCapture do
    def log(event, %{config: %{pid: pid}}), do: send(pid, {:log, event})
  end

  test "the tracer stops when its starter goes away" do
    test = self()

    parent =
      spawn(fn ->
        {:ok, t} = VMTracer.start_link(sample_ms: 10)
        send(test, {:started, t})

        receive do
          :go -> exit(:bye)
        end
      end)

    assert_receive {:started, tracer}
    ref = Process.monitor(tracer)
    send(parent, :go)
    assert_receive {:DOWN, ^ref, :process, ^tracer, _}, 5_000
    assert VMTracer.whereis() == nil
    assert :erlang.statistics(:scheduler_wall_time) == :undefined
  end

  test "overload: messages stop being traced and are counted as dropped, then come back" do
    rec = Recording.start()
    {:ok, tracer} = VMTracer.start_link(sample_ms: 0, max_backlog: 2_000, calm_ms: 20)
    test = self()

    flooder =
      spawn(fn ->
        ESFix.VM.wrapped_send(self(), :start)
        receive do: (:start -> :ok)
        # Far more trace messages than the backlog allows, as fast as possible.
        for _ <- 1..100_000, do: send(self(), :flood)
        send(test, :flooded)
        receive do: (:go_on -> :ok)
        ESFix.VM.wrapped_send(test, :after)
        receive do: (:bye -> :ok)
      end)

    assert_receive :flooded, 30_000
    ref = Store.atomics()
    dropped = :atomics.get(ref, Store.index(:dropped))
    # Messages are traced again once the tracer has caught up and stayed calm.
    wait_for_flag(flooder, :send)
    assert :atomics.get(ref, Store.index(:dropped)) >= dropped
    send(flooder, :go_on)
    assert_receive :after
    send(flooder, :bye)
    :ok = VMTracer.stop(tracer)
    rows = Recording.rows(rec)
    me = inspect(flooder)
    floods = Enum.count(rows, &(&1.pid == me and &1.value == ":flood"))
    dropped = :atomics.get(ref, Store.index(:dropped))
    assert dropped > 0
    # Each :flood is a send and a receive: recorded, dropped (queued when the pause began; the
    # count may include a few other messages) or not traced (during the pause).
    assert floods < 200_000 and floods + dropped <= 200_010
    # The pause and its end are in the recording, and messages after it are recorded again.
    pause = for r <- of(rows, :sample), r.name == "message_tracing", do: {r.pid, r.value}
    assert pause != []
    assert Enum.all?(Enum.chunk_every(pause, 2), &(&1 == [{"", "0"}, {"", "1"}]))
    assert Enum.any?(rows, &(&1.pid == me and &1.kind == kind(:send) and &1.value == ":after"))
  end

  defp wait_for_flag(pid, flag) do
    case :erlang.trace_info(pid, :flags) do
      {:flags, flags} ->
        if flag in flags,
          do: :ok,
          else:
            (
              :erlang.yield()
              wait_for_flag(pid, flag)
            )
    end
  end
end
