defmodule ElixirScope.Agent.AttachTest do
  # This node plays the attach helper (it becomes distributed for these tests) against a real
  # peer node, which is controlled over its standard I/O so that it can be inspected whatever
  # happens to the distribution connection.
  use ExUnit.Case, async: false

  @compile {:no_warn_undefined, [ESFix.Attached, ESFix.Recompiled, ESFix.Looper]}

  alias ElixirScope.Agent.{Attach, FakeRecorder, Fixtures}

  @source ~S'''
  defmodule ESFix.Attached do
    def double(n), do: add(n, n)
    defp add(a, b), do: a + b
  end

  defmodule ESFix.Recompiled do
    def version, do: 1
  end

  defmodule ESFix.Looper do
    def loop(n) do
      receive do
        {:count, from} ->
          send(from, {:count, n})
          loop(n)

        :tick ->
          loop(n + 1)
      end
    end

    def count(pid) do
      send(pid, {:count, self()})

      receive do
        {:count, n} -> n
      after
        5_000 -> :timeout
      end
    end
  end
  '''

  setup_all do
    fix = Fixtures.compile(@source, app: "attached_app", name: "attached")
    %{fix: fix}
  end

  setup %{fix: fix} do
    cookie = "c#{System.unique_integer([:positive])}"
    name = :"es_attach_target_#{System.unique_integer([:positive])}"

    {:ok, peer, target} =
      :peer.start(%{
        name: name,
        connection: :standard_io,
        args: [
          ~c"-setcookie",
          String.to_charlist(cookie),
          ~c"-pa",
          :code.lib_dir(:elixir, :ebin),
          ~c"-pa",
          String.to_charlist(
            Path.join([fix.root, "_build", "test", "lib", "attached_app", "ebin"])
          )
        ]
      })

    {:ok, _} = :peer.call(peer, :application, :ensure_all_started, [:elixir])
    # Loaded before attaching, as in a running application.
    42 = :peer.call(peer, ESFix.Attached, :double, [21])

    on_exit(fn ->
      :peer.stop(peer)
      Node.stop()
    end)

    %{peer: peer, target: target, cookie: cookie}
  end

  defp plan(fix) do
    # The workspace's own build is not what the target runs: the beam is found where the
    # target loaded it from.
    %{
      modules: [%{module: "ESFix.Attached", functions: nil, reason: "test"}],
      lib_dir: Path.join([fix.root, "_build", "dev", "lib"]),
      values: %{max_chars: 120, max_items: 10, max_depth: 4},
      vm: %{events: false, sample_ms: 0}
    }
  end

  defp attach(target, cookie, port) do
    Task.async(fn ->
      Attach.run(node: Atom.to_string(target), cookie: cookie, port: "#{port}", secret: "s3cret")
    end)
  end

  test "records the target, then leaves nothing of the agent behind", ctx do
    %{peer: peer, target: target, cookie: cookie, fix: fix} = ctx
    md5 = :peer.call(peer, ESFix.Attached, :module_info, [:md5])
    {l, port} = FakeRecorder.listen()
    helper = attach(target, cookie, port)
    {sock, hello, ready} = FakeRecorder.handshake(l, plan(fix))

    assert hello["secret"] == "s3cret"
    assert hello["node"] == Atom.to_string(target)
    assert ready["instrumented"] == [%{"module" => "ESFix.Attached", "functions" => 2}]
    # The helper is hidden: the target's own node list does not show it.
    assert :peer.call(peer, Node, :list, []) == []

    assert :peer.call(peer, ESFix.Attached, :double, [5]) == 10
    FakeRecorder.send_stop(sock)
    got = FakeRecorder.collect(sock)
    assert {:ok, "detached from " <> _} = Task.await(helper, 30_000)

    assert got.bye == %{"reason" => "stopped by the recorder"}
    calls = for %{"kind" => 1} = r <- got.events, do: {r["function"], r["value"]}
    assert calls == [{"double", "[5]"}, {"add", "[5, 5]"}]

    assert leftovers(peer) == %{modules: [], registered: [], tables: [], terms: [], apps: []}
    # Its original code, and it runs on.
    assert :peer.call(peer, ESFix.Attached, :module_info, [:md5]) == md5
    assert :peer.call(peer, ESFix.Attached, :double, [4]) == 8
  end

  test "a module compiled again since the node loaded it is left alone", ctx do
    %{peer: peer, target: target, cookie: cookie, fix: fix} = ctx
    1 = :peer.call(peer, ESFix.Recompiled, :version, [])
    ebin = Path.join([fix.root, "_build", "test", "lib", "attached_app", "ebin"])
    source = "defmodule ESFix.Recompiled do\n  def version, do: 2\nend\n"

    [{ESFix.Recompiled, bin}] =
      Code.compile_string(source, Path.join(fix.root, "lib/attached.ex"))

    File.write!(Path.join(ebin, "Elixir.ESFix.Recompiled.beam"), bin)

    {l, port} = FakeRecorder.listen()
    helper = attach(target, cookie, port)

    plan =
      update_in(
        plan(fix).modules,
        &[%{module: "ESFix.Recompiled", functions: nil, reason: "test"} | &1]
      )

    {sock, _hello, ready} = FakeRecorder.handshake(l, plan)

    assert [%{"module" => "ESFix.Recompiled", "reason" => reason}] = ready["skipped"]
    assert reason =~ "the running code differs from"
    assert reason =~ "compiled again since it was loaded"
    assert :peer.call(peer, ESFix.Recompiled, :version, []) == 1

    FakeRecorder.send_stop(sock)
    FakeRecorder.collect(sock)
    assert {:ok, _} = Task.await(helper, 30_000)
    # Still the code it was running.
    assert :peer.call(peer, ESFix.Recompiled, :version, []) == 1
  end

  test "a process still inside recorded code keeps the agent's modules loaded, idle", ctx do
    %{peer: peer, target: target, cookie: cookie, fix: fix} = ctx
    {l, port} = FakeRecorder.listen()
    helper = attach(target, cookie, port)

    plan =
      update_in(
        plan(fix).modules,
        &[%{module: "ESFix.Looper", functions: nil, reason: "test"} | &1]
      )

    {sock, _hello, ready} = FakeRecorder.handshake(l, plan)
    assert %{"module" => "ESFix.Looper", "functions" => 2} in ready["instrumented"]

    # A receive loop entered while recording: after the original code is back, it still runs
    # the recorded version (its loop is a local tail call), which calls the agent's runtime.
    looper = :peer.call(peer, :erlang, :spawn, [ESFix.Looper, :loop, [0]])
    :peer.call(peer, :erlang, :send, [looper, :tick])
    FakeRecorder.send_stop(sock)
    FakeRecorder.collect(sock)
    assert {:ok, note} = Task.await(helper, 30_000)

    assert note =~
             "the agent's modules stay loaded (idle) because a process still runs recorded code of ESFix.Looper"

    # It runs on, through recorded code that records nothing; everything else of the agent went.
    :peer.call(peer, :erlang, :send, [looper, :tick])
    assert :peer.call(peer, ESFix.Looper, :count, [looper]) == 2
    assert %{modules: [_ | _], registered: [], tables: [], terms: [], apps: []} = leftovers(peer)
  end

  test "the guard in the target removes the agent when the helper goes away", ctx do
    %{peer: peer, target: target, cookie: cookie, fix: fix} = ctx
    {l, port} = FakeRecorder.listen()
    helper = attach(target, cookie, port)
    {sock, _hello, _ready} = FakeRecorder.handshake(l, plan(fix))

    # The helper's node drops off the target (as when the helper is killed).
    Node.disconnect(target)
    got = FakeRecorder.collect(sock)
    assert got.bye == %{"reason" => "the attach helper went away"}
    # The helper may or may not see the end of the session before the connection is back.
    assert {_, _} = Task.await(helper, 30_000)

    assert await(fn -> leftovers(peer) end, &(&1.modules == [])) ==
             %{modules: [], registered: [], tables: [], terms: [], apps: []}

    assert :peer.call(peer, ESFix.Attached, :double, [4]) == 8
  end

  test "clear errors: no such node, wrong cookie, not a node name, a node without Elixir", ctx do
    %{target: target, cookie: cookie} = ctx
    [_, host] = target |> Atom.to_string() |> String.split("@")

    assert {:error, "no node named nobody_here is running on " <> rest} =
             Attach.run(node: "nobody_here@#{host}", cookie: cookie, port: "1")

    assert rest =~ "es_attach_target_"

    assert {:error, "node " <> why} =
             Attach.run(node: Atom.to_string(target), cookie: "wrong", port: "1")

    assert why =~ "refused the connection: most likely the cookie is wrong"

    assert {:error, msg} = Attach.run(node: "not a node", cookie: cookie, port: "1")
    assert msg =~ "is not a node name"

    # A plain Erlang node (no Elixir on its code path).
    {:ok, erl_peer, erl_node} =
      :peer.start(%{
        name: :"es_plain_#{System.unique_integer([:positive])}",
        connection: :standard_io,
        args: [~c"-setcookie", String.to_charlist(cookie)]
      })

    try do
      Node.stop()

      assert {:error, msg} = Attach.run(node: Atom.to_string(erl_node), cookie: cookie, port: "1")
      assert msg =~ "runs without Elixir (plain Erlang)"
    after
      :peer.stop(erl_peer)
    end
  end

  # What of the agent is still in the target: modules, registered processes, ETS tables,
  # persistent terms and applications.
  defp leftovers(peer) do
    ours? = &String.starts_with?(Atom.to_string(&1), "Elixir.ElixirScope")
    modules = for {m, _} <- :peer.call(peer, :code, :all_loaded, []), ours?.(m), do: m
    registered = for n <- :peer.call(peer, :erlang, :registered, []), ours?.(n), do: n

    tables =
      for t <- :peer.call(peer, :ets, :all, []),
          n = :peer.call(peer, :ets, :info, [t, :name]),
          is_atom(n) and ours?.(n),
          do: n

    terms =
      for {k, _} <- :peer.call(peer, :persistent_term, :get, []),
          k0 = if(is_tuple(k), do: elem(k, 0), else: k),
          is_atom(k0) and ours?.(k0),
          do: k

    apps =
      for {a, _, _} <- :peer.call(peer, :application, :loaded_applications, []),
          a in [:elixir_scope_agent],
          do: a

    %{modules: modules, registered: registered, tables: tables, terms: terms, apps: apps}
  end

  # The guard works in the target while the test goes on: wait for it to be done (checked
  # every 20 ms, at most 10 s).
  defp await(fun, done?, tries \\ 500) do
    value = fun.()

    if done?.(value) or tries == 0 do
      value
    else
      Process.sleep(20)
      await(fun, done?, tries - 1)
    end
  end
end
