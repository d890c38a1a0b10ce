defmodule ElixirScope.Agent.BuildTime do
  @moduledoc """
  Build-time instrumentation (`mix compile.elixir_scope`): rewrites the `.beam` files of a
  compile path in place through `ElixirScope.Agent.Instrumenter.rewrite_beam/3`.
  """

  alias ElixirScope.Agent.Instrumenter

  @doc """
  Instruments every selected module in `ebin` (`root` = the project's directory). Options:
  `modules` (names or `*` patterns; default all), `bindings` (default true).
  Returns `%{instrumented: [module], skipped: [{module, reason}]}`.
  """
  def instrument_ebin(ebin, root, opts \\ []) do
    paths = Path.wildcard(Path.join(ebin, "Elixir.*.beam"))

    names =
      Enum.map(paths, &(&1 |> Path.basename(".beam") |> String.replace_prefix("Elixir.", "")))

    wanted = selector(Keyword.get(opts, :modules, ["*"]))

    rewrite_opts = [
      bindings: Keyword.get(opts, :bindings, true),
      modules: Enum.map(names, &("Elixir." <> &1))
    ]

    Enum.zip(paths, names)
    |> Enum.filter(fn {_path, name} -> wanted.(name) end)
    |> Enum.reduce(%{instrumented: [], skipped: []}, fn {path, name}, acc ->
      case Instrumenter.rewrite_beam(path, root, rewrite_opts) do
        {:ok, module, binary} ->
          File.write!(path, binary)
          %{acc | instrumented: [module | acc.instrumented]}

        {:skip, reason} ->
          %{acc | skipped: [{name, reason} | acc.skipped]}
      end
    end)
    |> Map.new(fn {k, v} -> {k, Enum.reverse(v)} end)
  end

  defp selector(patterns) do
    regexes =
      for p <- List.wrap(patterns) do
        ~r/^#{p |> to_string() |> Regex.escape() |> String.replace("\\*", ".*")}$/
      end

    fn name -> Enum.any?(regexes, &Regex.match?(&1, name)) end
  end
end
