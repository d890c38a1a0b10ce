defmodule ElixirScope.Agent.Attach do
  @moduledoc """
  Attach to a running node (`ElixirScope: Attach to Running Node…`).

  `main/0` runs in a small hidden helper node that the recorder starts with the agent's ebin
  on its path and everything in the environment (the cookie never appears on a command line):

      ES_ATTACH_NODE=app@host ES_ATTACH_COOKIE=… ELIXIR_SCOPE_PORT=… ELIXIR_SCOPE_SECRET=… \\
        elixir --cookie <random> -pa <ebin> -e "ElixirScope.Agent.Attach.main()"

  The helper checks that epmd runs on the target's host and knows the node, starts
  distribution (hidden, accepting no node but the target), connects with the target's cookie,
  checks that the target runs Elixir, loads the agent's modules and application spec there
  from binaries (nothing is written on the target's disk), and starts a recording session
  that connects back to the recorder with the session's port and secret, exactly as a
  launched program's agent does. It then waits for the session to end (Stop Recording: the
  agent restores the original code, flushes and says BYE; or the recorder went away).

  Removal is done on the target by a small guard process (`guard/3`), asked by the helper
  when the session ended, or by itself when the helper's node goes down first: it stops the
  agent's application (its processes, ETS tables and trace flags go with it), erases the
  agent's persistent terms and purges and deletes every module that was loaded, so the target
  runs on as before. If a process of the target is still inside recorded code (a loop that
  never left an instrumented function), the agent's modules stay loaded, idle, rather than
  crash it; the helper says so.

  Problems are one line on stderr (starting with `ElixirScope: `) and exit status 1.
  """

  alias ElixirScope.Agent.Collector

  @app :elixir_scope_agent
  @min_elixir "1.14.0"
  @min_otp 25
  @start_timeout 120_000
  @remove_timeout 30_000

  ## The helper node

  @doc "Entry point of the helper node (`-e`); options from the environment, see the moduledoc."
  def main do
    opts = [
      node: System.get_env("ES_ATTACH_NODE", ""),
      cookie: System.get_env("ES_ATTACH_COOKIE", ""),
      port: System.get_env("ELIXIR_SCOPE_PORT", ""),
      secret: System.get_env("ELIXIR_SCOPE_SECRET", "")
    ]

    case run(opts) do
      {:ok, note} ->
        IO.puts("ElixirScope: " <> note)

      {:error, why} ->
        IO.puts(:stderr, "ElixirScope: " <> why)
        System.halt(1)
    end
  end

  @doc """
  Attaches to `opts[:node]` (`app@host`, or `app` for a short name on this host) with
  `opts[:cookie]`, records until the session ends, then removes the agent. Starts distribution
  in this node if it is not distributed yet. Returns `{:ok, note}` or `{:error, reason}`.
  """
  def run(opts) do
    with {:ok, target, domain} <- target_name(Keyword.get(opts, :node, "")),
         {:ok, port} <- port(Keyword.get(opts, :port, "")),
         :ok <- known_to_epmd(target),
         :ok <- start_distribution(target, domain),
         :ok <- connect(target, Keyword.get(opts, :cookie, "")),
         {:ok, own_agent?} <- check_target(target),
         {:ok, modules} <- push_agent(target, own_agent?),
         {:ok, guard} <- start_guard(target, modules) do
      recorded = record(target, port, Keyword.get(opts, :secret, ""))
      removed = remove(target, guard)

      case {recorded, removed} do
        {:ok, :ok} -> {:ok, "detached from #{target}; its original code is back"}
        {:ok, {:kept, why}} -> {:ok, "detached from #{target}; #{why}"}
        {{:error, why}, _} -> {:error, why}
      end
    else
      {:error, why} -> {:error, why}
    end
  end

  # Node names are atoms: this makes one for the target (given by the user who started this
  # helper), in the helper only.
  defp target_name(name) do
    name = String.trim(name)

    cond do
      not Regex.match?(~r/^[A-Za-z0-9_-]+(@[A-Za-z0-9_.-]+)?$/, name) ->
        {:error,
         "\"#{name}\" is not a node name: write it as name@host (as Node.self() prints it in the node), " <>
           "or just name for a node started with --sname on this machine"}

      String.contains?(name, "@") ->
        [_, host] = String.split(name, "@")

        {:ok, String.to_atom(name),
         if(String.contains?(host, "."), do: :longnames, else: :shortnames)}

      true ->
        {:ok, host} = :inet.gethostname()
        {:ok, String.to_atom("#{name}@#{host}"), :shortnames}
    end
  end

  defp port(text) do
    case Integer.parse(to_string(text)) do
      {port, ""} when port in 1..65_535 -> {:ok, port}
      _ -> {:error, "ELIXIR_SCOPE_PORT is not a port number: #{inspect(text)}"}
    end
  end

  defp split(target), do: target |> Atom.to_string() |> String.split("@", parts: 2)

  # Asks epmd on the target's host before anything else: it tells "no epmd", "no such node"
  # and "refused" (a wrong cookie) apart, and starts no epmd of its own.
  defp known_to_epmd(target) do
    [name, host] = split(target)

    case :erl_epmd.names(String.to_charlist(host)) do
      {:ok, names} ->
        if List.keymember?(names, String.to_charlist(name), 0) do
          :ok
        else
          running =
            case names do
              [] ->
                "none"

              _ ->
                names |> Enum.map(&List.to_string(elem(&1, 0))) |> Enum.sort() |> Enum.join(", ")
            end

          {:error,
           "no node named #{name} is running on #{host} (named nodes there: #{running}). " <>
             "Check the name: Node.self() in the node prints it."}
        end

      {:error, :address} ->
        {:error,
         "epmd (the Erlang port mapper) is not running on #{host}, so no named node runs there. " <>
           "Start your node with a name (iex --sname #{name} -S mix); it starts epmd itself."}

      {:error, reason} ->
        {:error, "cannot reach host #{host} of node #{target}: #{:inet.format_error(reason)}"}
    end
  end

  defp start_distribution(target, domain) do
    if Node.alive?() do
      :ok
    else
      [_, host] = split(target)
      self = :"es_attach_#{System.unique_integer([:positive])}_#{System.pid()}@#{host}"

      case :net_kernel.start(self, %{name_domain: domain, hidden: true}) do
        {:ok, _} ->
          # No node but the target may talk to this one, and the cookie this node was started
          # with (visible in `ps`) is replaced by one nobody knows.
          :net_kernel.allow([target])
          :erlang.set_cookie(:"#{Base.encode32(:rand.bytes(20))}")
          :ok

        {:error, reason} ->
          {:error, "could not start distribution in the attach helper: #{inspect(reason)}"}
      end
    end
  end

  defp connect(target, cookie) do
    if cookie != "", do: :erlang.set_cookie(target, String.to_atom(cookie))

    if Node.connect(target) == true do
      :ok
    else
      {:error,
       "node #{target} refused the connection: most likely the cookie is wrong (Node.get_cookie() in the " <>
         "node prints it; a node started without --cookie uses ~/.erlang.cookie), or the node uses long " <>
         "names (--name) and the name given here is a short one, or the other way round"}
    end
  end

  # `{:ok, own_agent?}`: a node that has the agent on its code path (the `:elixir_scope` Mix
  # compiler) keeps its own modules, which build-time instrumented code calls.
  defp check_target(target) do
    elixir = :erpc.call(target, :code, :which, [:elixir])

    cond do
      elixir == :non_existing ->
        {:error,
         "#{target} runs without Elixir (plain Erlang): ElixirScope records Elixir nodes. " <>
           "Start it with elixir or iex (iex --sname NAME -S mix)."}

      Version.compare(elixir_version(target), @min_elixir) == :lt ->
        {:error,
         "#{target} runs Elixir #{elixir_version(target)}; ElixirScope needs Elixir >= #{@min_elixir}."}

      otp_release(target) < @min_otp ->
        {:error,
         "#{target} runs Erlang/OTP #{otp_release(target)}; ElixirScope needs OTP >= #{@min_otp}."}

      :erpc.call(target, :erlang, :whereis, [Collector]) != :undefined ->
        {:error,
         "#{target} is already being recorded by another ElixirScope session; stop that one first."}

      true ->
        # On its code path (not loaded from memory by an earlier attach).
        {:ok,
         :erpc.call(target, :code, :where_is_file, [~c"Elixir.ElixirScope.Agent.Runtime.beam"]) !=
           :non_existing}
    end
  catch
    kind, reason ->
      {:error, "could not inspect #{target}: #{Exception.format_banner(kind, reason)}"}
  end

  defp elixir_version(target) do
    case :erpc.call(target, :application, :get_key, [:elixir, :vsn]) do
      {:ok, vsn} -> List.to_string(vsn)
      :undefined -> :erpc.call(target, System, :version, [])
    end
  end

  defp otp_release(target),
    do: :erpc.call(target, :erlang, :system_info, [:otp_release]) |> List.to_integer()

  # Loads every agent module and the application spec into the target; returns the modules.
  defp push_agent(_target, true = _own_agent?), do: {:ok, []}

  defp push_agent(target, false) do
    ebin = __MODULE__ |> :code.which() |> Path.dirname()
    {:ok, [app_spec]} = :file.consult(Path.join(ebin, "#{@app}.app"))

    # Not the Mix compiler task: it is for builds, and a node may not have Mix at all.
    files = Path.wildcard(Path.join(ebin, "Elixir.ElixirScope.*.beam"))

    modules =
      Enum.map(files, fn file ->
        module = file |> Path.basename(".beam") |> String.to_atom()
        path = String.to_charlist(Path.join("(elixir_scope)", Path.basename(file)))

        case :erpc.call(target, :code, :load_binary, [module, path, File.read!(file)]) do
          {:module, ^module} ->
            module

          {:error, reason} ->
            throw(
              {:load,
               "loading #{inspect(module)} into #{target} failed (#{inspect(reason)}): the agent " <>
                 "was built with Erlang/OTP #{:erlang.system_info(:otp_release)}, the node may be older"}
            )
        end
      end)

    case :erpc.call(target, :application, :load, [app_spec]) do
      :ok ->
        {:ok, modules}

      {:error, {:already_loaded, @app}} ->
        {:ok, modules}

      {:error, reason} ->
        throw(
          {:load, "loading the agent's application into #{target} failed: #{inspect(reason)}"}
        )
    end
  catch
    # Whatever was loaded goes again.
    {:load, why} ->
      remove_modules(target, modules_loaded_so_far(target))
      {:error, why}

    kind, reason ->
      remove_modules(target, modules_loaded_so_far(target))

      {:error,
       "loading the agent into #{target} failed: #{Exception.format_banner(kind, reason)}"}
  end

  defp modules_loaded_so_far(target) do
    for {m, _} <- :erpc.call(target, :code, :all_loaded, []), ours?(m), do: m
  end

  defp remove_modules(target, modules) do
    for m <- modules do
      :erpc.call(target, :code, :purge, [m])
      :erpc.call(target, :code, :delete, [m])
      :erpc.call(target, :code, :purge, [m])
    end

    :erpc.call(target, :application, :unload, [@app])
    :ok
  catch
    _, _ -> :ok
  end

  defp start_guard(target, modules) do
    apps = for {app, _, _} <- :erpc.call(target, :application, :which_applications, []), do: app
    {:ok, :erpc.call(target, :erlang, :spawn, [__MODULE__, :guard, [node(), modules, apps]])}
  catch
    kind, reason ->
      remove_modules(target, modules)
      {:error, "could not start the agent on #{target}: #{Exception.format_banner(kind, reason)}"}
  end

  defp record(target, port, secret) do
    case :erpc.call(
           target,
           ElixirScope.Agent,
           :attach,
           [[port: port, secret: secret]],
           @start_timeout
         ) do
      {:ok, _ready} ->
        # Returns when the recorder stops the session or goes away.
        :erpc.call(target, Collector, :await_end, [:infinity], :infinity)
        :ok

      {:error, reason} ->
        {:error, "the agent in #{target} could not start recording: #{reason}"}
    end
  catch
    :error, {:erpc, :noconnection} ->
      {:error, "lost the connection to #{target} while recording (did the node stop?)"}

    kind, reason ->
      {:error, "#{target} failed while recording: #{Exception.format_banner(kind, reason)}"}
  end

  # Asks the guard to remove the agent, then purges the guard's own module (which the guard
  # cannot do while it runs it). `:ok` or `{:kept, why}`.
  defp remove(target, guard) do
    ref = Process.monitor(guard)
    send(guard, {:remove, self()})

    result =
      receive do
        {:removed, ^guard, result} ->
          result

        # It saw this node go away (a lost connection) and removed the agent by itself.
        {:DOWN, ^ref, _, _, reason} when reason in [:normal, :killed] ->
          :ok

        {:DOWN, ^ref, _, _, reason} ->
          {:kept, "the agent's cleanup in the node failed: #{inspect(reason)}"}
      after
        @remove_timeout -> {:kept, "the agent's cleanup in the node did not finish in time"}
      end

    Process.demonitor(ref, [:flush])

    if result == :ok do
      :erpc.call(target, :code, :purge, [__MODULE__])
    end

    result
  catch
    _, _ -> {:kept, "lost the connection to #{target} while removing the agent"}
  end

  ## The target node

  @doc false
  # The guard (runs on the target): removes the agent when the helper asks (the session has
  # ended) or when the helper's node goes down (then it ends the session first).
  def guard(helper, modules, apps_before) do
    :erlang.monitor_node(helper, true)

    receive do
      {:remove, from} ->
        send(from, {:removed, self(), remove_agent(modules, apps_before)})

      {:nodedown, ^helper} ->
        ElixirScope.Agent.finish("the attach helper went away", restore: true)
        remove_agent(modules, apps_before)
        # This module last: whatever still runs it (this process) is done with it.
        if :code.is_loaded(__MODULE__) == false, do: spawn(:code, :purge, [__MODULE__])
    end
  end

  defp remove_agent(modules, apps_before) do
    in_use = recorded_code_in_use()
    deps = Application.spec(@app, :applications) || []
    started = for {app, _, _} <- Application.started_applications(), do: app

    for app <- [@app | Enum.reverse(deps)], app in started, app not in apps_before do
      :application.stop(app)
    end

    for {key, _} <- :persistent_term.get(), ours?(key), do: :persistent_term.erase(key)

    cond do
      modules == [] ->
        :ok

      in_use != [] ->
        :application.unload(@app)

        {:kept,
         "the agent's modules stay loaded (idle) because a process still runs recorded code of " <>
           Enum.map_join(in_use, ", ", &inspect/1) <>
           " (a loop inside an instrumented function); they go when that process leaves it and you attach again"}

      true ->
        for m <- modules, m != __MODULE__ do
          :code.purge(m)
          :code.delete(m)
          :code.purge(m)
        end

        :application.unload(@app)
        :code.delete(__MODULE__)
        :ok
    end
  end

  # Modules that were instrumented in this session and still run instrumented code: as current
  # code (not restored) or as old code some process is still inside. Such code calls the agent's
  # runtime, so the agent's modules must not go.
  defp recorded_code_in_use do
    sites = ElixirScope.Agent.Store.sites_table()

    recorded =
      if :ets.whereis(sites) == :undefined,
        do: [],
        else:
          :ets.foldl(
            fn {_, {mod, _, _, _, _, _}}, acc -> MapSet.put(acc, mod) end,
            MapSet.new(),
            sites
          )

    for mod <- recorded, instrumented_now?(mod) or old_code_in_use?(mod), do: mod
  end

  defp instrumented_now?(mod) do
    with {:file, path} when is_list(path) <- :code.is_loaded(mod),
         {:ok, {_, md5}} <- :beam_lib.md5(path) do
      md5 != mod.module_info(:md5)
    else
      _ -> false
    end
  end

  defp old_code_in_use?(mod), do: :erlang.check_old_code(mod) and not :code.soft_purge(mod)

  defp ours?(key) when is_atom(key),
    do: String.starts_with?(Atom.to_string(key), "Elixir.ElixirScope.")

  defp ours?(key) when is_tuple(key) and tuple_size(key) > 0, do: ours?(elem(key, 0))
  defp ours?(_), do: false
end
