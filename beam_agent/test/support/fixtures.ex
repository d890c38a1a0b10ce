defmodule ElixirScope.Agent.Fixtures do
  @moduledoc false
  # Compiles Elixir source into a temporary `<lib_dir>/<app>/ebin` directory, with debug info,
  # the way `mix compile` lays a project out, so the instrumenter finds the .beam files.

  @doc """
  Writes `source` to `<root>/lib/<name>.ex`, compiles it and writes each module's .beam file
  to `<root>/_build/test/lib/<app>/ebin`. Returns `%{root, lib_dir, file, modules}`.
  The modules are loaded (uninstrumented) as a side effect of compiling.
  """
  def compile(source, opts \\ []) do
    root = Keyword.get_lazy(opts, :root, &tmp_dir/0)
    app = Keyword.get(opts, :app, "fixture_app")
    name = Keyword.get(opts, :name, "fixture")
    file = Path.join([root, "lib", name <> ".ex"])
    File.mkdir_p!(Path.dirname(file))
    File.write!(file, source)
    ebin = Path.join([root, "_build", "test", "lib", app, "ebin"])
    File.mkdir_p!(ebin)
    # As in a Mix project, the ebin is on the code path (Code.fetch_docs/1 reads from there).
    Code.prepend_path(ebin)

    modules =
      for {mod, bin} <- Code.compile_string(source, file) do
        File.write!(Path.join(ebin, Atom.to_string(mod) <> ".beam"), bin)
        mod
      end

    %{
      root: root,
      lib_dir: Path.join([root, "_build", "test", "lib"]),
      file: file,
      modules: modules
    }
  end

  @doc "A fresh directory under this test run's base directory (removed when the run ends)."
  def tmp_dir do
    dir = Path.join(base_dir(), "#{System.unique_integer([:positive])}")
    File.mkdir_p!(dir)
    dir
  end

  def base_dir do
    Path.join(System.tmp_dir!(), "es-agent-test-#{System.pid()}")
  end
end
