defmodule ElixirScope.Agent.SessionTest do
  # One recording session at a time in this node.
  use ExUnit.Case, async: false

  # Fixture modules are compiled when the tests run.
  @compile {:no_warn_undefined, [ESFix.E2E]}

  import ExUnit.CaptureIO

  alias ElixirScope.Agent
  alias ElixirScope.Agent.{Collector, FakeRecorder, Fixtures, Recording, Store}

  @source ~S'''
  defmodule ESFix.E2E do
    def add(a, b), do: a + b

    def sum([]), do: 0
    def sum([h | t]), do: add(h, sum(t))

    def size_of(value) when is_binary(value), do: byte_size(value)
    def size_of(value) when is_list(value), do: length(value)

    def crash(reason), do: raise(ArgumentError, reason)

    def in_task(n), do: Task.async(fn -> add(n, n) end) |> Task.await()
  end
  '''

  setup_all do
    fix = Fixtures.compile(@source, name: "e2e")
    %{fix: fix}
  end

  defp plan(fix, values \\ %{max_chars: 120, max_items: 10, max_depth: 4}, sampling \\ "adaptive") do
    %{
      sampling: sampling,
      modules: [
        %{module: "ESFix.E2E", functions: nil, reason: "test"},
        %{module: "ESFix.NotCompiled", functions: nil, reason: "test"}
      ],
      lib_dir: fix.lib_dir,
      values: values,
      # Exact event counts below: VM events and metrics are tested in vm_session_test.exs.
      vm: %{events: false, sample_ms: 0}
    }
  end

  defp start_session(fix, secret \\ "s3cret", plan \\ nil) do
    {l, port} = FakeRecorder.listen()
    task = Task.async(fn -> Agent.start(port: port, secret: secret) end)
    {sock, hello, ready} = FakeRecorder.handshake(l, plan || plan(fix))
    assert {:ok, _} = Task.await(task)
    :gen_tcp.close(l)
    {sock, hello, ready}
  end

  test "HELLO, PLAN, READY, then EVENTS in capture order, STATS and BYE at the end", %{fix: fix} do
    {sock, hello, ready} = start_session(fix)

    assert %{
             "secret" => "s3cret",
             "protocol" => 1,
             "node" => _,
             "otp_release" => "25",
             "elixir_version" => _
           } = hello

    assert hello["os_pid"] == System.pid()
    assert ready["instrumented"] == [%{"module" => "ESFix.E2E", "functions" => 5}]
    assert [%{"module" => "ESFix.NotCompiled", "reason" => reason}] = ready["skipped"]
    assert reason =~ "no compiled module"

    assert ESFix.E2E.sum([1, 2, 3]) == 6
    assert ESFix.E2E.in_task(21) == 42
    assert_raise ArgumentError, fn -> ESFix.E2E.crash("no!") end
    assert ESFix.E2E.size_of(:binary.copy("z", 5_000_000)) == 5_000_000
    assert ESFix.E2E.size_of(Enum.to_list(1..200_000)) == 200_000
    assert :ok = Agent.finish("test over")

    got = FakeRecorder.collect(sock)
    rows = got.events
    assert got.bye == %{"reason" => "test over"}
    assert List.last(got.frames) == :bye
    assert [%{"events" => n, "dropped" => 0} | _] = Enum.reverse(got.stats)
    assert n == length(rows)

    seqs = Enum.map(rows, & &1["seq"])
    assert seqs == Enum.sort(seqs) and seqs == Enum.uniq(seqs)
    assert Enum.all?(rows, &(&1["seq"] >= 1 and &1["ts"] >= 0))

    # sum([1, 2, 3]): sum → sum → sum → sum([]), then add on the way back up.
    sums = for r <- rows, r["kind"] == 1, r["function"] == "sum", do: r
    assert Enum.map(sums, & &1["value"]) == ["[[1, 2, 3]]", "[[2, 3]]", "[[3]]", "[[]]"]
    assert Enum.map(tl(sums), & &1["parent_id"]) == Enum.map(Enum.drop(sums, -1), & &1["call_id"])
    top = hd(sums)
    assert top["module"] == "ESFix.E2E" and top["arity"] == 1 and top["pid"] == inspect(self())
    assert top["file"] == fix.file and top["line"] == 5

    # sum's last call, add(h, sum(t)), is a tail call: sum ends with TAIL_CALL and add takes its
    # place at the top of the stack, returning the result.
    assert [tail] = for(r <- rows, r["kind"] == 5, r["call_id"] == top["call_id"], do: r)
    assert tail["name"] == "ESFix.E2E.add/2" and tail["value"] == "[1, 5]"

    [last_add] =
      for r <- rows, r["kind"] == 1, r["function"] == "add", r["value"] == "[1, 5]", do: r

    assert last_add["parent_id"] == 0 and last_add["seq"] > tail["seq"]

    assert [%{"value" => "6"}] =
             for(r <- rows, r["kind"] == 2, r["call_id"] == last_add["call_id"], do: r)

    assert ["h", "t"] ==
             for(
               r <- rows,
               r["kind"] == 4,
               r["call_id"] == Enum.at(sums, 1)["call_id"],
               do: r["name"]
             )

    # The task's call ran in another process, with no instrumented caller there.
    [task_add] =
      for r <- rows, r["kind"] == 1, r["function"] == "add", r["value"] == "[21, 21]", do: r

    assert task_add["pid"] != inspect(self()) and task_add["parent_id"] == 0

    [crash] = for r <- rows, r["kind"] == 3, do: r
    assert crash["function"] == "crash" and crash["value"] == "** (ArgumentError) no!"

    # Huge values: bounded by the plan's max_chars, truncation visible.
    sizes = for r <- rows, r["function"] == "size_of", r["kind"] in [1, 4], do: r["value"]
    assert length(sizes) == 4
    for v <- sizes, do: assert(String.length(v) <= 121 and String.ends_with?(v, "…"))
  end

  test "PLAN values.max_bytes bounds the bytes of a binary captured (default 512)", %{fix: fix} do
    on_exit(fn ->
      ElixirScope.Agent.Prune.set_max_bin(ElixirScope.Agent.Prune.default_max_bin())
    end)

    text = String.duplicate("a", 1_500)

    captured = fn values ->
      plan =
        Map.put(
          plan(fix),
          :values,
          Map.merge(%{max_chars: 4_000, max_items: 10, max_depth: 4}, values)
        )

      {sock, _hello, _ready} = start_session(fix, "s3cret", plan)
      assert ESFix.E2E.size_of(text) == 1_500
      Agent.finish("done")
      got = FakeRecorder.collect(sock)
      [call] = for r <- got.events, r["kind"] == 1, r["function"] == "size_of", do: r
      call["value"]
    end

    # Kept whole under a 2,048-byte bound; cut to the default 512 bytes (and marked) without one.
    assert captured.(%{max_bytes: 2_048}) == ~s(["#{text}"])
    cut = captured.(%{})
    assert cut =~ ~r/^\["a{512}/ and not (cut =~ ~r/a{513}/) and String.ends_with?(cut, "…")
  end

  test "PLAN buffer_mb sets the cap on undrained memory (in words)", %{fix: fix} do
    ref = Store.atomics()
    cap = Store.cap(ref)
    on_exit(fn -> Store.set_cap(ref, cap) end)
    {sock, _hello, _ready} = start_session(fix, "s3cret", Map.put(plan(fix), :buffer_mb, 3))
    assert Store.cap(ref) == div(3 * 1024 * 1024, 8)
    assert ESFix.E2E.add(1, 2) == 3
    Agent.finish("done")
    got = FakeRecorder.collect(sock)
    assert [%{"dropped" => 0} | _] = Enum.reverse(got.stats)
  end

  test "beyond the cap on undrained memory, events are dropped and counted, never blocking", %{
    fix: fix
  } do
    ref = Store.atomics()
    cap = Store.cap(ref)
    Store.set_cap(ref, 2_000)
    on_exit(fn -> Store.set_cap(ref, cap) end)
    # Sampling off: only dropping (see the next test for sampling).
    plan = plan(fix, %{max_chars: 120, max_items: 10, max_depth: 4}, "off")
    {sock, _hello, _ready} = start_session(fix, "s3cret", plan)
    assert ESFix.E2E.sum(Enum.to_list(1..2_000)) == 2_001_000
    Agent.finish("done")
    got = FakeRecorder.collect(sock)
    assert [%{"events" => events, "dropped" => dropped} | _] = Enum.reverse(got.stats)
    assert events == length(got.events)
    assert dropped > 0

    # sum/1: 2,001 calls and returns, 4,000 bindings (h, t); add/2: 2,000 calls and returns, 4,000 bindings.
    assert events + dropped == 16_002
  end

  test "falling behind: the hottest function is sampled, counted per function in STATS", %{
    fix: fix
  } do
    ref = Store.atomics()
    cap = Store.cap(ref)
    Store.set_cap(ref, 20_000)
    on_exit(fn -> Store.set_cap(ref, cap) end)
    {sock, _hello, _ready} = start_session(fix)
    # The recorder reads all along, as the extension does.
    reader = Task.async(fn -> FakeRecorder.collect(sock) end)
    # Calls add/2 until the collector starts sampling it (at most 20M calls).
    calls = hammer(0)
    assert calls < 20_000_000, "sampling never started"
    # A raise is never sampled away.
    assert_raise ArgumentError, fn -> ESFix.E2E.crash("still recorded") end
    Agent.finish("done")
    got = Task.await(reader, 60_000)
    assert [%{"sampled" => sampled, "sampled_functions" => per_fn} | _] = Enum.reverse(got.stats)

    assert [%{"function" => "ESFix.E2E.add/2", "skipped" => ^sampled, "keep_one_in" => n}] =
             per_fn

    assert sampled > 0 and n >= 4
    adds = Enum.count(got.events, &(&1["kind"] == 1 and &1["function"] == "add"))
    assert adds + sampled <= calls and adds > 0
    assert Enum.any?(got.events, &(&1["kind"] == 3 and &1["value"] =~ "still recorded"))
  end

  defp hammer(calls) do
    if calls >= 20_000_000 or :persistent_term.get(ElixirScope.Agent.Overload.key(), nil) != nil do
      # A few more rounds while sampled, so some calls are skipped.
      for _ <- 1..10_000, do: ESFix.E2E.add(1, 1)
      calls + 10_000
    else
      for _ <- 1..10_000, do: ESFix.E2E.add(1, 1)
      hammer(calls + 10_000)
    end
  end

  test "a new PLAN during the session changes what is recorded, and answers READY", %{fix: fix} do
    {sock, _hello, _ready} = start_session(fix)
    assert ESFix.E2E.add(1, 1) == 2

    # Nothing planned: the original code is back.
    FakeRecorder.send_plan(sock, %{plan(fix) | modules: []})
    {ready, early} = await_ready(sock, [])
    assert ready == %{"instrumented" => [], "skipped" => []}
    assert ESFix.E2E.add(2, 2) == 4

    # Planned again, with sampling off: instrumented again.
    FakeRecorder.send_plan(sock, %{plan(fix) | sampling: "off"})
    {ready, early2} = await_ready(sock, [])
    assert [%{"module" => "ESFix.E2E"}] = ready["instrumented"]
    assert ESFix.E2E.add(3, 3) == 6
    Agent.finish("done")
    got = FakeRecorder.collect(sock)

    args =
      for r <- early ++ early2 ++ got.events,
          r["kind"] == 1,
          r["function"] == "add",
          do: r["value"]

    assert args == ["[1, 1]", "[3, 3]"]
  end

  # Frames until the next READY: {ready, the event rows received before it}.
  defp await_ready(sock, rows) do
    case FakeRecorder.recv(sock) do
      {:ready, ready} -> {ready, rows}
      {:events, read} -> await_ready(sock, rows ++ ElixirScope.Agent.ArrowReader.rows(read))
      {_other, _} -> await_ready(sock, rows)
    end
  end

  test "STOP: restores the original code, flushes, STATS, BYE, closes", %{fix: fix} do
    {sock, _hello, _ready} = start_session(fix)
    assert ESFix.E2E.add(1, 2) == 3
    FakeRecorder.send_stop(sock)
    got = FakeRecorder.collect(sock)
    assert got.bye == %{"reason" => "stopped by the recorder"}
    assert [:stats, :bye] == Enum.take(got.frames, -2)
    assert Enum.map(got.events, & &1["value"]) == ["[1, 2]", "1", "2", "3"]
    refute Collector.active?()
    # The original code is back: nothing is recorded any more.
    assert {{:ok, 3}, []} = Recording.record(fn -> ESFix.E2E.add(1, 2) end)
  end

  test "the recorder going away stops recording and restores the code", %{fix: fix} do
    {sock, _hello, _ready} = start_session(fix)

    err =
      capture_io(:stderr, fn ->
        :gen_tcp.close(sock)
        assert :ok = Collector.await_end(5_000)
      end)

    assert err =~ "the recorder closed the connection; recording stopped, original code restored"
    assert {{:ok, 3}, []} = Recording.record(fn -> ESFix.E2E.add(1, 2) end)
  end

  test "a node the recorder started: when the recorder goes away, the agent removes itself",
       %{fix: fix} do
    {l, port} = FakeRecorder.listen()
    task = Task.async(fn -> Agent.start(port: port, secret: "s", remove_when_gone: true) end)
    {sock, _hello, _ready} = FakeRecorder.handshake(l, plan(fix))
    assert {:ok, _} = Task.await(task)
    :gen_tcp.close(l)
    assert ESFix.E2E.sum([1, 2]) == 3
    assert :persistent_term.get(Store.key(), nil) != nil
    ref = Process.monitor(Process.whereis(ElixirScope.Agent.Supervisor))
    # The other tests need the agent's application.
    on_exit(fn -> {:ok, _} = Application.ensure_all_started(:elixir_scope_agent) end)

    ExUnit.CaptureIO.capture_io(:stderr, fn ->
      :gen_tcp.close(sock)
      assert_receive {:DOWN, ^ref, _, _, _}, 10_000
    end)

    refute List.keymember?(Application.started_applications(), :elixir_scope_agent, 0)
    refute Process.whereis(Collector) || Process.whereis(Store)

    for table <-
          [Store.events_table(), Store.sites_table(), Store.slots_table()] ++
            [Store.free_table(), Store.behaviours_table(), Store.traced_table()],
        do: assert(:ets.whereis(table) == :undefined, "#{table} is still there")

    assert :persistent_term.get(Store.key(), nil) == nil
    assert :persistent_term.get(ElixirScope.Agent.Overload.key(), nil) == nil
    # The original code runs; nothing records.
    assert ESFix.E2E.sum([1, 2, 3]) == 6
    assert ElixirScope.Agent.Runtime.stack() == []
  end

  test "a wrong secret: the recorder closes, the agent reports it and does not record", %{
    fix: fix
  } do
    {l, port} = FakeRecorder.listen()
    task = Task.async(fn -> Agent.start(port: port, secret: "wrong") end)
    sock = FakeRecorder.accept(l)
    assert {:hello, %{"secret" => "wrong"}} = FakeRecorder.recv(sock)
    :gen_tcp.close(sock)
    assert {:error, reason} = Task.await(task)
    assert reason =~ "closed the connection"
    refute Collector.active?()
    _ = fix
  end

  test "no PLAN in time: the handshake gives up" do
    {l, port} = FakeRecorder.listen()
    task = Task.async(fn -> Agent.start(port: port, secret: "s", plan_timeout: 100) end)
    sock = FakeRecorder.accept(l)
    assert {:hello, _} = FakeRecorder.recv(sock)
    assert {:error, reason} = Task.await(task)
    assert reason =~ "no PLAN"
    assert {:error, :closed} = FakeRecorder.recv(sock)
  end

  describe "boot/0" do
    setup do
      on_exit(fn ->
        System.delete_env("ELIXIR_SCOPE_PORT")
        System.delete_env("ELIXIR_SCOPE_SECRET")
      end)
    end

    test "without ELIXIR_SCOPE_PORT it does nothing" do
      System.delete_env("ELIXIR_SCOPE_PORT")
      assert capture_io(:stderr, fn -> assert Agent.boot() == :ok end) == ""
      refute Collector.active?()
    end

    test "an unreachable recorder: one line on stderr, the program goes on" do
      {l, port} = FakeRecorder.listen()
      :gen_tcp.close(l)
      System.put_env("ELIXIR_SCOPE_PORT", Integer.to_string(port))
      err = capture_io(:stderr, fn -> assert Agent.boot() == :ok end)
      assert [line] = String.split(err, "\n", trim: true)
      assert line =~ "could not connect to the recorder on port #{port}"
      assert line =~ "running without recording"
      refute Collector.active?()
    end

    test "a port that is not a number" do
      System.put_env("ELIXIR_SCOPE_PORT", "eighty")
      err = capture_io(:stderr, fn -> assert Agent.boot() == :ok end)
      assert err =~ "ELIXIR_SCOPE_PORT=eighty is not a port number"
    end

    test "connects, records and returns", %{fix: fix} do
      {l, port} = FakeRecorder.listen()
      System.put_env("ELIXIR_SCOPE_PORT", Integer.to_string(port))
      System.put_env("ELIXIR_SCOPE_SECRET", "from-env")
      task = Task.async(fn -> capture_io(:stderr, fn -> Agent.boot() end) end)
      {sock, hello, _ready} = FakeRecorder.handshake(l, plan(fix))
      assert hello["secret"] == "from-env"
      assert Task.await(task) == ""
      assert Collector.active?()
      assert ESFix.E2E.add(2, 2) == 4
      Agent.stop()
      assert %{bye: %{"reason" => "stopped"}, events: [_, _, _, _]} = FakeRecorder.collect(sock)
    end
  end
end
