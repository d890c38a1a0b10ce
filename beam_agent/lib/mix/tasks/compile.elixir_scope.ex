defmodule Mix.Tasks.Compile.ElixirScope do
  @shortdoc "Instruments the project's modules for ElixirScope at build time"
  @moduledoc """
  Build-time instrumentation for ElixirScope, for projects that prefer it to the recorder's
  instrumentation at load time (for example to record a release or a node started by other
  tools). Add the agent as a dependency and the compiler in front of the others:

      def project do
        [
          compilers: [:elixir_scope | Mix.compilers()],
          elixir_scope: [modules: ["MyApp.*"]],   # optional: names or patterns; default: all
          deps: deps()
        ]
      end

      defp deps do
        [{:elixir_scope_agent, path: "path/to/beam_agent", only: [:dev, :test]}]
      end

  After the Elixir compiler has written the project's `.beam` files, each selected module is
  rewritten through the same `ElixirScope.Agent.Rewriter` the recorder uses and written back
  (modules compiled again by Elixir are instrumented again; the others are left alone). The
  instrumented code records only while a recording session is running in the node; otherwise
  its events are discarded. Options under `:elixir_scope`: `modules` (list of names or `*`
  patterns), `bindings` (default true).
  """
  use Mix.Task.Compiler

  alias ElixirScope.Agent.BuildTime

  @impl true
  def run(_args) do
    Mix.Task.Compiler.after_compiler(:elixir, &after_elixir/1)
    {:noop, []}
  end

  defp after_elixir({status, diagnostics}) when status in [:ok, :noop] do
    config = Mix.Project.config()[:elixir_scope] || []
    result = BuildTime.instrument_ebin(Mix.Project.compile_path(), File.cwd!(), config)

    if result.instrumented != [] do
      Mix.shell().info(
        "ElixirScope: instrumented #{length(result.instrumented)} module(s) for recording"
      )
    end

    diagnostics =
      diagnostics ++
        for {module, reason} <- result.skipped, reason != "already instrumented" do
          %Mix.Task.Compiler.Diagnostic{
            compiler_name: "elixir_scope",
            file: Mix.Project.project_file(),
            message: "ElixirScope did not instrument #{inspect(module)}: #{reason}",
            position: nil,
            severity: :information
          }
        end

    {status, diagnostics}
  end

  defp after_elixir(other), do: other
end
