defmodule ElixirScope.Agent.BuildTimeTest do
  # Records into the one shared store: one at a time.
  use ExUnit.Case, async: false

  @compile {:no_warn_undefined, [ESFix.Built]}

  alias ElixirScope.Agent.{BuildTime, Fixtures, Instrumenter, Recording}

  @source ~S'''
  defmodule ESFix.Built do
    def double(x) do
      y = x * 2
      y
    end

    def loop(0, acc), do: acc
    def loop(n, acc), do: loop(n - 1, acc + double(n))
  end
  '''

  test "a compile path instrumented in place records once loaded; sessions only register its sites" do
    fix = Fixtures.compile(@source, name: "built")
    ebin = Path.join(fix.lib_dir, "fixture_app/ebin")
    expected = ESFix.Built.loop(3, 0)

    assert %{instrumented: [ESFix.Built], skipped: []} = BuildTime.instrument_ebin(ebin, fix.root)
    # Idempotent: what it wrote is recognised.
    assert %{instrumented: [], skipped: [{"ESFix.Built", "already instrumented"}]} =
             BuildTime.instrument_ebin(ebin, fix.root)

    path = Path.join(ebin, "Elixir.ESFix.Built.beam")
    :code.purge(ESFix.Built)
    {:module, ESFix.Built} = :code.load_abs(String.to_charlist(Path.rootname(path)))
    assert {:__elixir_scope_sites__, 0} in ESFix.Built.module_info(:exports)

    {[loaded], []} = Recording.instrument(fix.lib_dir, ["ESFix.Built"])
    assert loaded.original == nil and {:double, 1} in loaded.functions

    {{:ok, ^expected}, rows} = Recording.record(fn -> ESFix.Built.loop(3, 0) end)
    calls = for r <- rows, r.kind == 1, do: r.function
    assert calls == ["loop", "double", "loop", "double", "loop", "double", "loop"]

    assert ["y", "y", "y"] ==
             for(r <- rows, r.kind == 4, r.function == "double", r.name == "y", do: r.name)

    assert Enum.all?(
             rows,
             &(&1.module == "ESFix.Built" and String.ends_with?(&1.file, "built.ex"))
           )

    # Restoring leaves build-time instrumentation in place.
    assert [] == Instrumenter.restore([loaded])
    {{:ok, 6}, rows} = Recording.record(fn -> ESFix.Built.double(3) end)
    assert length(rows) > 0
  end

  @tag timeout: 180_000
  test "compilers: [:elixir_scope | Mix.compilers()] in a real Mix project" do
    dir = Fixtures.tmp_dir()
    agent = File.cwd!()

    File.write!(Path.join(dir, "mix.exs"), """
    defmodule Demo.MixProject do
      use Mix.Project

      def project do
        [
          app: :demo,
          version: "0.1.0",
          compilers: [:elixir_scope | Mix.compilers()],
          elixir_scope: [modules: ["Demo.*"]],
          deps: [{:elixir_scope_agent, path: #{inspect(agent)}}]
        ]
      end
    end
    """)

    File.mkdir_p!(Path.join(dir, "lib"))

    File.write!(
      Path.join(dir, "lib/demo.ex"),
      "defmodule Demo.Math do\n  def inc(x), do: x + 1\nend\n"
    )

    File.write!(Path.join(dir, "lib/other.ex"), "defmodule Other do\n  def id(x), do: x\nend\n")

    env = [{"MIX_ENV", "dev"}, {"ELIXIR_SCOPE_PORT", nil}]
    {out, 0} = System.cmd("mix", ["compile"], cd: dir, env: env, stderr_to_stdout: true)
    assert out =~ "ElixirScope: instrumented 1 module(s) for recording"

    ebin = Path.join(dir, "_build/dev/lib/demo/ebin")

    exports = fn mod ->
      {:ok, {_, [exports: e]}} =
        :beam_lib.chunks(String.to_charlist(Path.join(ebin, mod <> ".beam")), [:exports])

      e
    end

    assert {:__elixir_scope_sites__, 0} in exports.("Elixir.Demo.Math")
    refute {:__elixir_scope_sites__, 0} in exports.("Elixir.Other")

    # Nothing changed: nothing to do, and the instrumented module stays instrumented.
    {out, 0} = System.cmd("mix", ["compile"], cd: dir, env: env, stderr_to_stdout: true)
    refute out =~ "instrumented"
    assert {:__elixir_scope_sites__, 0} in exports.("Elixir.Demo.Math")

    # The instrumented module runs unchanged without a recording session.
    {out, 0} =
      System.cmd("mix", ["run", "-e", "IO.puts(Demo.Math.inc(41))"],
        cd: dir,
        env: env,
        stderr_to_stdout: true
      )

    assert out =~ "42"
  end
end
