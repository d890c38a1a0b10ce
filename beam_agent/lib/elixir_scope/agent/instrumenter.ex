defmodule ElixirScope.Agent.Instrumenter do
  @moduledoc false
  # Runtime instrumentation of compiled modules: finds `<lib_dir>/*/ebin/Elixir.<Module>.beam`,
  # reads its abstract code from the debug info, rewrites it (`ElixirScope.Agent.Rewriter`),
  # compiles it with the original source path, Elixir debug info, docs and checker chunks, and
  # hot-loads it under the original .beam path (so `:code.which/1`, `Code.fetch_docs/1` and a
  # no-op `mix compile` keep working). `restore/1` loads the original binaries back.

  import Bitwise

  alias ElixirScope.Agent.{Events, Rewriter}

  # Functions that `use GenServer`, `defexception` & co. inject are marked in the Elixir debug
  # info with a `:context`; they are never what the user wants to see.
  @extra_chunks [~c"Docs", ~c"ExCk"]

  defmodule Loaded do
    @moduledoc false
    defstruct [:module, :name, :path, :original, :functions]
  end

  @doc """
  Instruments each `%{"module" => name, "functions" => nil | [%{"name", "arity"}]}` found under
  `lib_dir`. Returns `{instrumented :: [%Loaded{}], skipped :: [{name, reason}], next_site}`.

  Reading and rewriting go module after module (sites are numbered in plan order); compiling,
  most of the time (the compiler's SSA passes over the rewritten code), runs on every scheduler
  at once; loading goes in plan order again.
  """
  def instrument(modules, lib_dir, first_site \\ 1, opts \\ []) do
    root = Path.expand("../../..", lib_dir)
    # Calls in tail position into any of these stay tail calls (see `Rewriter`).
    names = for p <- modules, n = plan_name(p), is_binary(n), do: "Elixir." <> n
    opts = Keyword.put(opts, :modules, names)

    {prepared, next} =
      Enum.map_reduce(modules, first_site, fn plan, site ->
        name = plan_name(plan)

        case prepare_one(name, plan_functions(plan), lib_dir, root, site, opts) do
          {:rewritten, _, next} = r -> {{name, r}, next}
          other -> {{name, other}, site}
        end
      end)

    {done, skipped} =
      prepared
      |> compile_all()
      |> Enum.reduce({[], []}, fn {name, r}, {done, skipped} ->
        case finish(r) do
          {:ok, loaded} -> {[loaded | done], skipped}
          {:skip, reason} -> {done, [{name, reason} | skipped]}
        end
      end)

    {Enum.reverse(done), Enum.reverse(skipped), next}
  end

  @doc "Loads the original code of instrumented modules back. Returns the modules not restored."
  def restore(loaded) do
    # Modules instrumented at build time (no original kept) stay as they are.
    for %Loaded{module: mod, path: path, original: bin, name: name} <- loaded,
        bin != nil,
        load(mod, path, bin) != :ok,
        do: name
  end

  @doc "Instruments one .beam file (used directly by tests). Same result shape as above."
  def instrument_file(path, name, functions, root, site, opts \\ []) do
    r = prepare_file(path, name, functions, root, site, opts)

    case finish(compile_prepared(r)) do
      {:ok, loaded} -> {:ok, loaded, next_of(r)}
      {:skip, _} = skip -> skip
    end
  end

  defp next_of({:rewritten, _, next}), do: next
  defp next_of(_), do: nil

  # `{:rewritten, job, next_site}`, `{:prebuilt, loaded}` or `{:skip, reason}`.
  defp prepare_file(path, name, functions, root, site, opts) do
    with {:ok, info} <- read_beam(path),
         :ok <- prebuilt(info, name, path),
         :ok <- check_module(info, root) do
      dir = opts[:cache_dir]
      key = if dir, do: cache_key(info, functions, site, opts)

      case cached(dir, key) do
        {bin, fns, sites, next} ->
          job = %{info: info, fns: fns, sites: sites, name: name, path: path}
          {:rewritten, Map.put(job, :binary, bin), next}

        nil ->
          with {forms, fns, sites, next} <- rewrite(info, functions, site, opts),
               :ok <- nonempty(fns) do
            job = %{info: info, forms: forms, fns: fns, sites: sites, name: name, path: path}
            {:rewritten, Map.put(job, :cache, {dir, key}), next}
          end
      end
    end
  end

  # Compiles the rewritten modules, on as many processes as there are schedulers (results in
  # the order given).
  defp compile_all(prepared) do
    prepared
    |> Task.async_stream(fn {_name, r} -> compile_prepared(r) end,
      max_concurrency: max(System.schedulers_online(), 1),
      ordered: true,
      timeout: :infinity
    )
    |> Enum.zip_with(prepared, fn
      {:ok, result}, {name, _} -> {name, result}
      {:exit, reason}, {name, _} -> {name, {:skip, "could not instrument: #{inspect(reason)}"}}
    end)
  end

  defp compile_prepared({:rewritten, %{binary: bin} = job, _next}), do: {:compiled, job, bin}

  defp compile_prepared({:rewritten, job, next}) do
    case compile(job.info, job.forms) do
      {:ok, bin} ->
        {dir, key} = job.cache
        store(dir, key, {bin, job.fns, job.sites, next})
        {:compiled, job, bin}

      {:skip, _} = skip ->
        skip
    end
  rescue
    e -> {:skip, "could not instrument: " <> Exception.message(e)}
  end

  defp compile_prepared(other), do: other

  defp finish({:compiled, %{info: info} = job, bin}) do
    with :ok <- load(info.module, job.path, bin) do
      Events.register_sites(job.sites)
      Events.register_behaviour(info.module, info.attributes, info.forms)

      {:ok,
       %Loaded{
         module: info.module,
         name: job.name,
         path: job.path,
         original: info.binary,
         functions: job.fns
       }}
    end
  end

  defp finish({:prebuilt, loaded}), do: {:ok, loaded}
  defp finish({:skip, _} = skip), do: skip

  @doc """
  Rewrites one .beam file for build-time instrumentation (`mix compile.elixir_scope`): the
  result also exports `__elixir_scope_sites__/0` (its site table, numbered from a base derived
  from the module name so that modules never share sites), which recording sessions register
  instead of instrumenting the module again. Returns `{:ok, module, binary}` or
  `{:skip, reason}` (`"already instrumented"` for a file this function wrote).
  """
  def rewrite_beam(path, root, opts \\ []) do
    with {:ok, info} <- read_beam(path),
         :ok <-
           if(info.built?,
             do: {:skip, "already instrumented"},
             else: :ok
           ),
         :ok <- check_module(info, root),
         {forms, fns, sites, _next} <-
           rewrite(info, :all, build_site_base(info.module), opts),
         :ok <- nonempty(fns),
         {:ok, bin} <- compile(info, add_sites_function(forms, sites)) do
      {:ok, info.module, bin}
    end
  end

  defp build_site_base(module), do: (:erlang.phash2(module, (1 <<< 20) - 1) + 1) <<< 20

  defp add_sites_function(forms, sites) do
    a = :erl_anno.set_generated(true, :erl_anno.new(0))

    fun =
      {:function, a, :__elixir_scope_sites__, 0,
       [{:clause, a, [], [], [:erl_parse.abstract(sites)]}]}

    # Exported from the first export attribute; defined before the final eof form.
    {before, [last]} = Enum.split(forms, -1)

    {before, _} =
      Enum.map_reduce(before, false, fn
        {:attribute, anno, :export, list}, false ->
          {{:attribute, anno, :export, [{:__elixir_scope_sites__, 0} | list]}, true}

        form, done ->
          {form, done}
      end)

    before ++ [fun, last]
  end

  # A module instrumented at build time: its sites are registered and it is left as it is.
  defp prebuilt(info, name, path) do
    if info.built? do
      {:module, mod} = :code.ensure_loaded(info.module)
      sites = mod.__elixir_scope_sites__()
      Events.register_sites(sites)
      Events.register_behaviour(mod, info.attributes, info.forms)

      fns =
        sites
        |> Enum.flat_map(fn
          {_, {_, f, a, _, _, nil}} when is_atom(f) -> [{f, a}]
          _ -> []
        end)
        |> Enum.uniq()

      {:prebuilt, %Loaded{module: mod, name: name, path: path, original: nil, functions: fns}}
    else
      :ok
    end
  end

  defp prepare_one(name, functions, lib_dir, root, site, opts) do
    cond do
      not is_binary(name) or not Regex.match?(~r/^[A-Z][A-Za-z0-9_.]*$/, name) ->
        {:skip, "not an Elixir module name"}

      true ->
        case find_beam(name, lib_dir) do
          {:ok, path} -> prepare_file(path, name, functions, root, site, opts)
          {:skip, reason} -> {:skip, reason}
        end
    end
  rescue
    e -> {:skip, "could not instrument: " <> Exception.message(e)}
  end

  # The .beam to rewrite: for a loaded module, the file it was loaded from (a node attached to
  # may run another build than `lib_dir`'s, and restoring must give it back its own code); else
  # the file the code path would load it from; else `<lib_dir>/*/ebin`.
  defp find_beam(name, lib_dir) do
    module = existing_module("Elixir." <> name)

    case module && loaded_from(module) do
      path when is_binary(path) ->
        # Not what the file holds: instrumented by an earlier session (the file is the original),
        # or compiled again since it was loaded (left alone: restoring would load the new code).
        if beam_md5(path) == module.module_info(:md5) or has_sites?(module),
          do: {:ok, path},
          else:
            {:skip,
             "the running code differs from #{path} (compiled again since it was loaded); " <>
               "left alone so that the node keeps running what it runs"}

      _ ->
        case on_code_path(name) ||
               List.first(
                 Path.wildcard(Path.join([lib_dir, "*", "ebin", "Elixir." <> name <> ".beam"]))
               ) do
          nil ->
            {:skip,
             "no compiled module under #{lib_dir} or on the code path (run mix compile first)"}

          path ->
            {:ok, path}
        end
    end
  end

  # No atoms from the plan: a module that was never loaded or referenced has no atom yet.
  defp existing_module(name) do
    String.to_existing_atom(name)
  rescue
    ArgumentError -> nil
  end

  # The .beam file a loaded module came from, if it still exists (not for code compiled in memory).
  defp loaded_from(module) do
    with {:file, [_ | _] = path} <- :code.is_loaded(module),
         true <- File.regular?(path) do
      List.to_string(path)
    else
      _ -> nil
    end
  end

  defp has_sites?(module) do
    table = ElixirScope.Agent.Store.sites_table()

    :ets.whereis(table) != :undefined and
      :ets.match(table, {:_, {module, :_, :_, :_, :_, :_}}, 1) != :"$end_of_table"
  end

  defp on_code_path(name) do
    case :code.where_is_file(String.to_charlist("Elixir." <> name <> ".beam")) do
      path when is_list(path) -> List.to_string(path)
      :non_existing -> nil
    end
  end

  defp beam_md5(path) do
    case :beam_lib.md5(String.to_charlist(path)) do
      {:ok, {_, md5}} -> md5
      _ -> nil
    end
  end

  defp plan_name(%{"module" => name}), do: name
  defp plan_name(_), do: nil

  defp plan_functions(%{"functions" => list}) when is_list(list) do
    for %{"name" => n, "arity" => a} <- list, is_binary(n), is_integer(a), do: {n, a}
  end

  defp plan_functions(_), do: :all

  defp nonempty([]), do: {:skip, "no instrumentable functions selected"}
  defp nonempty(_), do: :ok

  defp read_beam(path) do
    with {:ok, binary} <- File.read(path),
         {:ok, {module, chunks}} <-
           :beam_lib.chunks(binary, [:abstract_code, :compile_info, :attributes, :exports]),
         {:abstract_code, {:raw_abstract_v1, forms}} <- List.keyfind(chunks, :abstract_code, 0) do
      {:compile_info, cinfo} = List.keyfind(chunks, :compile_info, 0)
      {:attributes, attrs} = List.keyfind(chunks, :attributes, 0)
      # The real exports: the abstract code comes from the Elixir debug info, which still
      # describes the original module after build-time instrumentation.
      {:exports, exports} = List.keyfind(chunks, :exports, 0)

      {:ok,
       %{
         module: module,
         binary: binary,
         forms: forms,
         source: cinfo |> Keyword.get(:source, ~c"") |> List.to_string(),
         attributes: attrs,
         built?: {:__elixir_scope_sites__, 0} in exports,
         debug_info: elixir_debug_info(binary, module),
         extra: extra_chunks(binary)
       }}
    else
      {:abstract_code, :no_abstract_code} -> {:skip, "compiled without debug info"}
      {:error, :beam_lib, reason} -> {:skip, "unreadable .beam: #{inspect(reason)}"}
      {:error, reason} -> {:skip, "unreadable .beam: #{inspect(reason)}"}
      _ -> {:skip, "no abstract code in debug info"}
    end
  end

  defp elixir_debug_info(binary, module) do
    case :beam_lib.chunks(binary, [:debug_info]) do
      {:ok, {_, [debug_info: {:debug_info_v1, backend, data}]}} ->
        definitions =
          case backend.debug_info(:elixir_v1, module, data, []) do
            {:ok, %{definitions: defs}} -> defs
            _ -> []
          end

        %{backend: backend, data: data, definitions: definitions}

      _ ->
        nil
    end
  end

  defp extra_chunks(binary) do
    for name <- @extra_chunks,
        {:ok, {_, [{_, data}]}} <- [:beam_lib.chunks(binary, [name])],
        do: {List.to_string(name), data}
  end

  defp check_module(info, root) do
    cond do
      Keyword.has_key?(info.attributes, :protocol) or exports?(info.forms, :__protocol__, 1) ->
        {:skip, "protocol (consolidated at build time)"}

      Keyword.has_key?(info.attributes, :on_load) or has_on_load?(info.forms) ->
        {:skip, "has an @on_load hook (reloading would run it again)"}

      info.debug_info == nil ->
        {:skip, "no Elixir debug info"}

      root != nil and info.source != "" and not inside?(info.source, root) ->
        {:skip, "source outside the project (#{info.source})"}

      root != nil and inside?(info.source, Path.join(root, "deps")) ->
        {:skip, "dependency"}

      true ->
        :ok
    end
  end

  defp inside?(path, dir), do: String.starts_with?(path, String.trim_trailing(dir, "/") <> "/")

  defp exports?(forms, name, arity) do
    Enum.any?(forms, fn
      {:attribute, _, :export, list} -> {name, arity} in list
      _ -> false
    end)
  end

  defp has_on_load?(forms), do: Enum.any?(forms, &match?({:attribute, _, :on_load, _}, &1))

  defp rewrite(info, functions, site, opts) do
    injected = injected(info.debug_info.definitions)

    wanted =
      case functions do
        :all -> fn _ -> true end
        list -> fn {n, a} -> {Atom.to_string(n), a} in list end
      end

    select = fn fa -> not MapSet.member?(injected, fa) and wanted.(fa) end

    Rewriter.rewrite(
      info.forms,
      [file: info.source, select: select, first_site: site] ++
        Keyword.take(opts, [:bindings, :modules])
    )
  end

  # Macro-injected definitions (`context:` in their meta) and the wrappers generated for default
  # arguments (the call is recorded once, in the full-arity function).
  defp injected(definitions) do
    defaults =
      for {{name, arity}, _kind, meta, _clauses} <- definitions,
          count = Keyword.get(meta, :defaults, 0),
          count > 0,
          a <- (arity - count)..(arity - 1)//1,
          into: MapSet.new(),
          do: {name, a}

    for {{name, arity}, _kind, meta, _clauses} <- definitions,
        Keyword.has_key?(meta, :context),
        into: defaults,
        do: {name, arity}
  end

  defp compile(info, forms) do
    opts = [
      :binary,
      :return_errors,
      :no_spawn_compiler_process,
      # The type pass is a third of the compile time of rewritten code (its many try/case
      # blocks; every value goes through a remote call to the runtime, which leaves it little
      # to prove), and agent.int_vs_full and agent.hot_path_ns measured no difference without it
      # (alternating runs, 2026-12-03). Turning off the dead-code, liveness and sinking passes
      # too would halve the time again, but the compiler then fails on some modules.
      :no_type_opt,
      {:source, String.to_charlist(info.source)},
      {:debug_info, {info.debug_info.backend, info.debug_info.data}},
      {:extra_chunks, info.extra}
    ]

    case :compile.forms(forms, opts) do
      {:ok, _mod, bin} -> {:ok, bin}
      {:ok, _mod, bin, _warnings} -> {:ok, bin}
      {:error, errors, _warnings} -> {:skip, "recompiling failed: #{inspect(errors, limit: 5)}"}
      :error -> {:skip, "recompiling failed"}
    end
  end

  # Old code still running in some process must not be killed: soft purge, and give up if it
  # is in use.
  defp load(module, path, binary) do
    if :code.soft_purge(module) do
      case :code.load_binary(module, String.to_charlist(path), binary) do
        {:module, ^module} -> :ok
        {:error, reason} -> {:skip, "loading failed: #{inspect(reason)}"}
      end
    else
      {:skip, "old code of the module is still running"}
    end
  end

  ## The cache of instrumented binaries
  #
  # Recording the same project again instruments the same modules the same way: the compiled
  # result is kept in `opts[:cache_dir]` (the collector uses `_build/<env>/elixir_scope_cache`),
  # one file per key. The key covers everything the result depends on: the original .beam, the
  # functions planned, the first site number, the rewriter's options (bindings, the planned
  # modules that keep tail calls) and the agent's own code. A file that cannot be read or does
  # not hold what it should is ignored (and replaced); one that cannot be written is skipped.

  @cache_format 1
  @max_cache_files 2_000

  defp cache_key(info, functions, site, opts) do
    agent = for m <- [__MODULE__, Rewriter, ElixirScope.Agent.Runtime], do: m.module_info(:md5)

    :erlang.md5(
      :erlang.term_to_binary(
        {@cache_format, agent, :erlang.md5(info.binary), functions, site,
         Keyword.take(opts, [:bindings, :modules]), :erlang.system_info(:otp_release)}
      )
    )
    |> Base.encode16(case: :lower)
  end

  defp cached(nil, _key), do: nil

  defp cached(dir, key) do
    with {:ok, data} <- File.read(Path.join(dir, key <> ".cache")),
         {@cache_format, ^key, {bin, fns, sites, next} = entry}
         when is_binary(bin) and is_list(fns) and is_list(sites) <-
           :erlang.binary_to_term(data, [:safe]),
         true <- is_integer(next) or next == nil do
      entry
    else
      _ -> nil
    end
  rescue
    _ -> nil
  end

  defp store(nil, _key, _entry), do: :ok

  defp store(dir, key, entry) do
    File.mkdir_p!(dir)
    prune(dir)
    file = Path.join(dir, key <> ".cache")
    tmp = "#{file}.#{System.unique_integer([:positive])}.tmp"
    File.write!(tmp, :erlang.term_to_binary({@cache_format, key, entry}))
    File.rename!(tmp, file)
  rescue
    _ -> :ok
  end

  # Entries of modules since changed are never read again: start over when there are many.
  defp prune(dir) do
    files = Path.wildcard(Path.join(dir, "*.cache"))
    if length(files) >= @max_cache_files, do: Enum.each(files, &File.rm/1)
  end
end
