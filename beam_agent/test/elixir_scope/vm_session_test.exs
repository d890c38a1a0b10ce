defmodule ElixirScope.Agent.VMSessionTest do
  # A recording session over a real socket with VM events and metrics on (the default).
  use ExUnit.Case, async: false

  @compile {:no_warn_undefined, [ESFix.VMSession, ESFix.VMStack]}

  alias ElixirScope.Agent
  alias ElixirScope.Agent.{FakeRecorder, Fixtures, Store, VMTracer}

  @source ~S'''
  defmodule ESFix.VMStack do
    use GenServer

    def start_link(items), do: GenServer.start_link(__MODULE__, items)
    def push(pid, item), do: GenServer.cast(pid, {:push, item})
    def pop(pid), do: GenServer.call(pid, :pop)

    @impl true
    def init(items), do: {:ok, items}

    @impl true
    def handle_cast({:push, item}, items), do: {:noreply, [item | items]}

    @impl true
    def handle_call(:pop, _from, [top | rest]), do: {:reply, top, rest}
  end

  defmodule ESFix.VMSession do
    # n round trips with a partner process; both run recorded code.
    def pingpong(n) do
      me = self()
      partner = spawn(fn -> echo(me) end)
      receive do: ({:ready, ^partner} -> :ok)
      Enum.each(1..n, fn i -> roundtrip(partner, i) end)
      send(partner, :stop)
      n
    end

    def roundtrip(partner, i) do
      send(partner, {:echo, self(), i})
      receive do: ({:echoed, ^i} -> i)
    end

    def echo(parent) do
      send(parent, {:ready, self()})
      echo_loop()
    end

    def echo_loop do
      receive do
        {:echo, from, i} ->
          send(from, {:echoed, i})
          echo_loop()

        :stop ->
          :ok
      end
    end

    def run do
      {:ok, stack} = ESFix.VMStack.start_link([:a])
      ESFix.VMStack.push(stack, :b)
      top = ESFix.VMStack.pop(stack)
      GenServer.stop(stack)
      # It exits once monitored (else it may be gone before: a DOWN with :noproc).
      crasher = spawn(fn -> receive do: (:go -> exit({:shutdown, :done})) end)
      ref = Process.monitor(crasher)
      send(crasher, :go)

      receive do
        {:DOWN, ^ref, :process, _, reason} -> {top, reason}
      end
    end
  end
  '''

  setup_all do
    %{fix: Fixtures.compile(@source, name: "vm_session")}
  end

  defp plan(fix, vm) do
    %{
      modules: [
        %{module: "ESFix.VMSession", functions: nil, reason: "test"},
        %{module: "ESFix.VMStack", functions: nil, reason: "test"}
      ],
      lib_dir: fix.lib_dir,
      values: %{max_chars: 200, max_items: 10, max_depth: 4}
    }
    |> Map.merge(vm)
  end

  # No tracer, traced processes, trace flags, call trace patterns or scheduler statistics left.
  defp assert_vm_tracing_gone do
    assert VMTracer.whereis() == nil
    assert :ets.tab2list(Store.traced_table()) == []

    assert Enum.all?(
             Process.list(),
             &(:erlang.trace_info(&1, :flags) in [{:flags, []}, :undefined])
           )

    assert :erlang.statistics(:scheduler_wall_time) == :undefined
    assert :erlang.trace_info({:erlang, :monitor, 2}, :traced) == {:traced, false}
  end

  defp start_session(plan) do
    {l, port} = FakeRecorder.listen()
    task = Task.async(fn -> Agent.start(port: port, secret: "vm") end)
    {sock, _hello, ready} = FakeRecorder.handshake(l, plan)
    assert {:ok, _} = Task.await(task)
    :gen_tcp.close(l)
    {sock, ready}
  end

  # Ends the session by `fun` (the recorder going away, a stage killed): its stderr warning.
  defp ended_by(fun) do
    ExUnit.CaptureIO.capture_io(:stderr, fn ->
      fun.()
      assert :ok = Agent.Collector.await_end(5_000)
    end)
  end

  # Runs `fun` in a process of its own (the test process stays untraced); waits for its end.
  defp run(fun) do
    test = self()
    {pid, ref} = spawn_monitor(fn -> send(test, {:result, self(), fun.()}) end)
    assert_receive {:result, ^pid, result}, 10_000
    assert_receive {:DOWN, ^ref, :process, ^pid, :normal}
    {result, inspect(pid)}
  end

  test "process events, GenServer state and metrics arrive in the stream, in capture order", %{
    fix: fix
  } do
    {sock, ready} = start_session(plan(fix, %{vm: %{sample_ms: 10}}))
    assert length(ready["instrumented"]) == 2
    test = self()

    runner =
      spawn(fn ->
        send(test, {:result, ESFix.VMSession.run()})
        receive do: (:exit -> :ok)
      end)

    assert_receive {:result, {:b, {:shutdown, :done}}}, 10_000
    # The runner stays until the stream has shown a sample of it.
    early = rows_until(sock, [], &(&1["kind"] == 17 and &1["pid"] == inspect(runner)))
    send(runner, :exit)
    runner = inspect(runner)
    assert :ok = Agent.finish("done")
    got = FakeRecorder.collect(sock)
    rows = early ++ got.events
    assert [%{"events" => n, "dropped" => 0} | _] = Enum.reverse(got.stats)
    assert n == length(rows)
    # No "events sent out of capture order" warning: the tracer's bound held everything back.
    assert got.logs == []
    seqs = Enum.map(rows, & &1["seq"])
    assert seqs == Enum.sort(seqs) and seqs == Enum.uniq(seqs)

    k = ElixirScope.Agent.Events.kinds()
    of = fn kind -> Enum.filter(rows, &(&1["kind"] == k[kind])) end
    [run_call] = for r <- rows, r["kind"] == 1, r["function"] == "run", do: r
    assert run_call["pid"] == runner

    # The GenServer: spawned by the runner, inside run/0, its state before and after.
    [server_spawn] = for r <- of.(:spawn), r["module"] == "ESFix.VMStack", do: r
    assert server_spawn["pid"] == runner and server_spawn["function"] == "init"
    assert server_spawn["parent_id"] > 0
    server = server_spawn["name"]

    assert for(s <- of.(:state), do: {s["pid"], s["function"], s["name"], s["value"]}) == [
             {server, "init", "after", "[:a]"},
             {server, "handle_cast", "before", "[:a]"},
             {server, "handle_cast", "after", "[:b, :a]"},
             {server, "handle_call", "before", "[:b, :a]"},
             {server, "handle_call", "after", "[:a]"}
           ]

    # The cast and the call: sent by the runner, received by the server, paired.
    [cast] = for r <- of.(:send), r["pid"] == runner, r["value"] =~ "$gen_cast", do: r
    assert cast["name"] == server
    assert [recv] = for(r <- of.(:receive), r["call_id"] == cast["seq"], do: r)
    assert recv["pid"] == server and recv["name"] == runner

    # The short-lived plain child: its spawn and its exit, with the reason.
    [child_spawn] = for r <- of.(:spawn), r["function"] == "fn in run/0", do: r

    assert [%{"value" => "{:shutdown, :done}"}] =
             for(r <- of.(:exit), r["pid"] == child_spawn["name"], do: r)

    # Metrics: node-wide and for the recorded processes.
    samples = of.(:sample)
    assert Enum.any?(samples, &(&1["pid"] == "" and &1["name"] == "scheduler_utilisation"))
    assert Enum.any?(samples, &(&1["pid"] == "" and &1["name"] == "memory"))
    assert Enum.any?(samples, &(&1["pid"] == runner and &1["name"] == "mailbox"))

    # Everything made for the session is gone once BYE was sent.
    assert_vm_tracing_gone()
  end

  test "the recorder going away mid-session: tracer, trace flags and patterns, shipper and instrumentation are gone",
       %{fix: fix} do
    {sock, _} = start_session(plan(fix, %{vm: %{sample_ms: 10}}))
    %{session: %{shipper: %{pid: shipper}, vm: tracer}} = :sys.get_state(Agent.Collector)
    assert Process.alive?(shipper) and is_pid(tracer)
    {{:b, {:shutdown, :done}}, _} = run(&ESFix.VMSession.run/0)

    ended_by(fn -> :gen_tcp.close(sock) end)

    refute Process.alive?(shipper)
    assert_vm_tracing_gone()
    # The original code is back: nothing is recorded any more.
    assert {{:ok, 3}, []} = Agent.Recording.record(fn -> ESFix.VMSession.pingpong(3) end)
  end

  test "the writer dying mid-session ends the session: pipeline, tracing and instrumentation are gone",
       %{fix: fix} do
    {_sock, _} = start_session(plan(fix, %{vm: %{sample_ms: 10}}))
    %{session: %{shipper: %{pid: writer}}} = :sys.get_state(Agent.Collector)

    assert {:current_function, {Agent.Shipper, :write_loop, 1}} =
             Process.info(writer, :current_function)

    {{:b, {:shutdown, :done}}, _} = run(&ESFix.VMSession.run/0)

    warning = ended_by(fn -> Process.exit(writer, :kill) end)

    assert warning =~ "sending events failed"
    refute Process.alive?(writer)
    assert_vm_tracing_gone()
    assert {{:ok, 3}, []} = Agent.Recording.record(fn -> ESFix.VMSession.pingpong(3) end)
  end

  test "the agent's processes yield to the program's: low priority while a session runs, normal after",
       %{fix: fix} do
    {sock, _} = start_session(plan(fix, %{vm: %{sample_ms: 10}}))
    collector = Process.whereis(Agent.Collector)
    %{session: %{shipper: %{pid: writer}, vm: tracer}} = :sys.get_state(collector)
    # The collector's links: its supervisor, the writer, the tracer.
    {:links, links} = Process.info(collector, :links)
    assert writer in links and tracer in links
    priority = fn pid -> elem(Process.info(pid, :priority), 1) end

    for pid <- [collector, tracer, writer], do: assert(priority.(pid) == :low)
    # The collector's heap for a session (slices of events pass through it).
    assert {:min_heap_size, heap} = Process.info(collector, :min_heap_size)
    assert heap >= 500_000

    ended_by(fn -> :gen_tcp.close(sock) end)

    {:min_heap_size, default} = :erlang.system_info(:min_heap_size)
    assert Process.info(collector, :min_heap_size) == {:min_heap_size, default}
    assert priority.(collector) == :normal
  end

  test "an event that cannot be made into rows costs only itself: left out, counted, reported",
       %{fix: fix} do
    {sock, _} = start_session(plan(fix, %{vm: %{sample_ms: 0}}))
    reader = Task.async(fn -> FakeRecorder.collect(sock) end)
    # Drained together, in one slice: two recorded runs and, between them, a malformed event
    # in the store (a chunk of its own).
    :sys.suspend(Agent.Collector)
    assert {{:b, {:shutdown, :done}}, _} = run(&ESFix.VMSession.run/0)
    seq = :erlang.unique_integer([:monotonic])
    :ok = Store.insert_chunk(seq, 0, 1, [{1, seq, :os.perf_counter(), :malformed}])
    assert {{:b, {:shutdown, :done}}, _} = run(&ESFix.VMSession.run/0)
    :sys.resume(Agent.Collector)
    Agent.finish("done")
    got = Task.await(reader, 60_000)

    assert [%{"level" => "warning", "message" => message}] = got.logs
    assert message =~ "1 event(s) could not be made into rows"
    assert List.last(got.stats)["dropped"] == 1
    # Everything else arrived: both runs, each with its calls and returns, in order.
    runs = for r <- got.events, r["function"] == "run", r["kind"] in [1, 2], do: r["kind"]
    assert runs == [1, 2, 1, 2]
    seqs = Enum.map(got.events, & &1["seq"])
    assert seqs == Enum.sort(seqs)
  end

  test "many processes at once: every receive after its send, every process event inside its parent call",
       %{fix: fix} do
    {sock, _} = start_session(plan(fix, %{vm: %{sample_ms: 10}}))
    reader = Task.async(fn -> FakeRecorder.collect(sock) end)

    {results, _} =
      run(fn ->
        1..8
        |> Enum.map(fn _ -> Task.async(fn -> ESFix.VMSession.pingpong(300) end) end)
        |> Enum.map(&Task.await(&1, 30_000))
      end)

    assert results == List.duplicate(300, 8)
    Agent.finish("done")
    got = Task.await(reader, 60_000)
    rows = got.events
    assert got.logs == []
    assert [%{"dropped" => 0} | _] = Enum.reverse(got.stats)
    seqs = Enum.map(rows, & &1["seq"])
    assert seqs == Enum.sort(seqs) and seqs == Enum.uniq(seqs)
    by_seq = Map.new(rows, &{&1["seq"], &1})
    returns = for r <- rows, r["kind"] == 2, into: %{}, do: {r["call_id"], r}

    echoes = for r <- rows, r["kind"] == 15, String.starts_with?(r["value"], "{:echo, "), do: r
    assert length(echoes) == 8 * 300

    for r <- echoes do
      send_row = Map.fetch!(by_seq, r["call_id"])

      assert send_row["kind"] == 14 and send_row["value"] == r["value"] and
               send_row["seq"] < r["seq"]

      # Sent from inside roundtrip/2, whose call is before the send and ends after it.
      call = Map.fetch!(by_seq, send_row["parent_id"])
      assert call["function"] == "roundtrip" and call["pid"] == send_row["pid"]
      ret = Map.fetch!(returns, call["call_id"])
      assert call["seq"] < send_row["seq"] and send_row["seq"] < ret["seq"]
    end
  end

  test "a new PLAN switches VM events on and off during the session", %{fix: fix} do
    off = %{vm: %{events: false, sample_ms: 0}}
    {sock, _} = start_session(plan(fix, off))
    assert VMTracer.whereis() == nil
    FakeRecorder.send_plan(sock, plan(fix, %{vm: %{events: true, sample_ms: 0}}))
    {_, early} = await_ready(sock, [])
    assert VMTracer.whereis() != nil
    {_, runner} = run(&ESFix.VMSession.run/0)
    FakeRecorder.send_plan(sock, plan(fix, off))
    {_, early2} = await_ready(sock, [])
    assert VMTracer.whereis() == nil

    assert Enum.all?(
             Process.list(),
             &(:erlang.trace_info(&1, :flags) in [{:flags, []}, :undefined])
           )

    Agent.finish("done")
    rows = early ++ early2 ++ FakeRecorder.collect(sock).events
    assert Enum.any?(rows, &(&1["kind"] == 6 and &1["pid"] == runner))
  end

  defp await_ready(sock, rows) do
    case FakeRecorder.recv(sock) do
      {:ready, ready} -> {ready, rows}
      {:events, read} -> await_ready(sock, rows ++ ElixirScope.Agent.ArrowReader.rows(read))
      {_other, _} -> await_ready(sock, rows)
    end
  end

  # EVENTS rows received until one satisfies `done?`.
  defp rows_until(sock, rows, done?) do
    case FakeRecorder.recv(sock) do
      {:events, read} ->
        rows = rows ++ ElixirScope.Agent.ArrowReader.rows(read)
        if Enum.any?(rows, done?), do: rows, else: rows_until(sock, rows, done?)

      {_other, _} ->
        rows_until(sock, rows, done?)
    end
  end

  test "vm: events off and sampling off records only calls", %{fix: fix} do
    {sock, _} = start_session(plan(fix, %{vm: %{events: false, sample_ms: 0}}))
    {_, _} = run(&ESFix.VMSession.run/0)
    assert VMTracer.whereis() == nil
    Agent.finish("done")
    rows = FakeRecorder.collect(sock).events
    # STATE rows come from the recorded calls; nothing is traced or sampled.
    assert rows != [] and Enum.all?(rows, &(&1["kind"] <= 5 or &1["kind"] == 16))
  end

  test "STOP removes the trace flags within the session's end", %{fix: fix} do
    {sock, _} = start_session(plan(fix, %{}))
    # A recorded process that outlives the session.
    {stack, _} = run(fn -> elem(ESFix.VMStack.start_link([]), 1) end)
    on_exit(fn -> Process.exit(stack, :kill) end)
    ESFix.VMStack.push(stack, 1)
    assert ESFix.VMStack.pop(stack) == 1
    assert {:flags, flags} = :erlang.trace_info(stack, :flags)
    assert :send in flags and :receive in flags
    FakeRecorder.send_stop(sock)
    got = FakeRecorder.collect(sock)
    assert got.bye == %{"reason" => "stopped by the recorder"}
    assert :erlang.trace_info(stack, :flags) == {:flags, []}
    assert VMTracer.whereis() == nil
  end
end
