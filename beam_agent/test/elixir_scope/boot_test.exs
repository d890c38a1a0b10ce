defmodule ElixirScope.Agent.BootTest do
  @moduledoc """
  The agent as users get it: `-s Elixir.ElixirScope.Agent boot` in ELIXIR_ERL_OPTIONS of a real
  `mix test` run of a small project, with this test playing the recorder.
  """
  use ExUnit.Case, async: false

  alias ElixirScope.Agent.{FakeRecorder, Fixtures}

  @fixture Path.expand("../../test_fixtures/tiny_app", __DIR__)

  setup_all do
    app = Path.join(Fixtures.tmp_dir(), "tiny_app")
    File.cp_r!(@fixture, app)
    File.rm_rf!(Path.join(app, "_build"))

    {out, 0} =
      System.cmd("mix", ["compile"], cd: app, env: [{"MIX_ENV", "test"}], stderr_to_stdout: true)

    %{app: app, compile_output: out}
  end

  defp run_recorded(app, args) do
    {l, port} = FakeRecorder.listen()
    ebin = Application.app_dir(:elixir_scope_agent, "ebin")

    env = [
      {"MIX_ENV", "test"},
      {"ELIXIR_SCOPE_PORT", Integer.to_string(port)},
      {"ELIXIR_SCOPE_SECRET", "boot-secret"},
      {"ELIXIR_ERL_OPTIONS", "-pa #{ebin} -s Elixir.ElixirScope.Agent boot"}
    ]

    mix =
      Port.open({:spawn_executable, System.find_executable("mix")}, [
        :binary,
        :exit_status,
        :stderr_to_stdout,
        args: args,
        cd: app,
        env: Enum.map(env, fn {k, v} -> {String.to_charlist(k), String.to_charlist(v)} end)
      ])

    plan = %{
      modules: [
        %{module: "Tiny", functions: nil, reason: "test"},
        %{module: "Tiny.Application", functions: nil, reason: "test"}
      ],
      lib_dir: Path.join(app, "_build/test/lib"),
      values: %{max_chars: 200, max_items: 20, max_depth: 5}
    }

    {sock, hello, ready} = FakeRecorder.handshake(l, plan)
    :gen_tcp.close(l)
    got = FakeRecorder.collect(sock)
    {output, status} = port_output(mix, "")
    %{hello: hello, ready: ready, got: got, output: output, status: status}
  end

  defp port_output(port, acc) do
    receive do
      {^port, {:data, data}} -> port_output(port, acc <> data)
      {^port, {:exit_status, status}} -> {acc, status}
    after
      60_000 -> flunk("mix did not exit: " <> acc)
    end
  end

  test "mix test runs instrumented, passes unchanged, and every event arrives before BYE", %{
    app: app
  } do
    r = run_recorded(app, ["test"])
    assert r.status == 0, r.output
    assert r.output =~ "1 doctest, 3 tests, 0 failures"
    assert r.hello["secret"] == "boot-secret"

    assert r.ready["instrumented"] == [
             %{"module" => "Tiny", "functions" => 3},
             %{"module" => "Tiny.Application", "functions" => 1}
           ]

    assert r.got.bye == %{"reason" => "halt"}
    assert [%{"dropped" => 0, "events" => n} | _] = Enum.reverse(r.got.stats)
    rows = r.got.events
    assert n == length(rows)

    calls = for row <- rows, row["kind"] == 1, do: {row["function"], row["value"]}
    # The application started with the instrumented code; the doctest and the tests ran it.
    assert {"start", "[:normal, []]"} in calls
    assert {"double", "[0]"} in calls
    assert {"double", "[2]"} in calls and {"double", "[21]"} in calls
    assert {"fail!", ~s(["nope"])} in calls
    assert [%{"value" => "** (RuntimeError) nope"}] = for(row <- rows, row["kind"] == 3, do: row)
    # The parked process never returned: its call and binding were still taken at halt.
    assert [%{"kind" => 1}, %{"kind" => 4, "name" => "parent"}] =
             for(row <- rows, row["function"] == "park", do: row)

    seqs = Enum.map(rows, & &1["seq"])
    assert seqs == Enum.sort(seqs)
  end

  test "mix test of a single test (file:line) is recorded too", %{app: app} do
    r = run_recorded(app, ["test", "test/tiny_test.exs:5"])
    assert r.status == 0, r.output
    assert r.output =~ "0 failures, 3 excluded"
    assert r.got.bye == %{"reason" => "halt"}
    calls = for row <- r.got.events, row["kind"] == 1, do: {row["function"], row["value"]}
    assert {"double", "[21]"} in calls
    refute Enum.any?(calls, fn {f, _} -> f == "fail!" end)
  end
end
