defmodule ElixirScope.Agent.Attach do
  @moduledoc """
  Attach to a running node (`ElixirScope: Attach to Running Node…`). Runs in a small hidden
  helper node that the recorder starts with the agent's ebin on its path:

      ES_ATTACH_NODE=app@host ELIXIR_SCOPE_PORT=… ELIXIR_SCOPE_SECRET=… \\
        elixir --sname es_attach_x --cookie … --erl -hidden -pa <ebin> -e "ElixirScope.Agent.Attach.main()"

  It connects to the target over distribution, loads the agent's modules and application
  there from binaries (nothing is written on the target's disk), starts a recording session
  that connects back to the recorder exactly as a launched program does, and waits. When the
  session ends (Stop Recording: the original code is restored, BYE), it stops the agent's
  application on the target and purges and deletes every module it loaded, so the target runs
  on as before. Problems are one line on stderr and exit status 1.
  """

  alias ElixirScope.Agent.Collector

  @app :elixir_scope_agent

  def main do
    with {:ok, target} <- target(),
         {:ok, port} <- port(),
         :ok <- run(target, port, System.get_env("ELIXIR_SCOPE_SECRET", "")) do
      IO.puts("ElixirScope: detached from #{target}; its original code is back")
    else
      {:error, why} ->
        IO.puts(:stderr, "ElixirScope: #{why}")
        System.halt(1)
    end
  end

  @doc "Attaches to `target`, records until the session ends, then removes the agent."
  def run(target, port, secret) do
    with :ok <- connect(target),
         :ok <- check_target(target),
         {:ok, modules} <- push_agent(target) do
      try do
        case :erpc.call(target, Collector, :start_session, [[port: port, secret: secret]], 120_000) do
          {:ok, _ready} ->
            # Returns when the recorder stops the session or goes away.
            :erpc.call(target, Collector, :await_end, [:infinity], :infinity)
            :ok

          {:error, reason} ->
            {:error, "the agent on #{target} could not start recording: #{reason}"}
        end
      catch
        kind, reason -> {:error, "#{target} failed while recording: #{Exception.format_banner(kind, reason)}"}
      after
        remove_agent(target, modules)
      end
    end
  end

  defp target do
    case System.get_env("ES_ATTACH_NODE", "") do
      "" -> {:error, "no node to attach to (ES_ATTACH_NODE is empty)"}
      name -> {:ok, String.to_atom(name)}
    end
  end

  defp port do
    case Integer.parse(System.get_env("ELIXIR_SCOPE_PORT", "")) do
      {port, ""} -> {:ok, port}
      _ -> {:error, "ELIXIR_SCOPE_PORT is not a port number"}
    end
  end

  defp connect(target) do
    if Node.connect(target) == true,
      do: :ok,
      else:
        {:error,
         "cannot reach node #{target}: is it running (started with --sname/--name), on this machine, " <>
           "with the same cookie?"}
  end

  defp check_target(target) do
    cond do
      :erpc.call(target, :code, :which, [Kernel]) == :non_existing ->
        {:error, "#{target} does not run Elixir"}

      :erpc.call(target, :erlang, :whereis, [Collector]) != :undefined ->
        {:error, "#{target} is already being recorded"}

      true ->
        :ok
    end
  end

  # Loads every module of the agent's ebin and its application spec into the target.
  defp push_agent(target) do
    ebin = __MODULE__ |> :code.which() |> Path.dirname()
    {:ok, [app_spec]} = :file.consult(Path.join(ebin, "#{@app}.app"))

    modules =
      for file <- Path.wildcard(Path.join(ebin, "*.beam")) do
        module = file |> Path.basename(".beam") |> String.to_atom()
        path = String.to_charlist("(elixir_scope)/" <> Path.basename(file))
        {:module, ^module} = :erpc.call(target, :code, :load_binary, [module, path, File.read!(file)])
        module
      end

    case :erpc.call(target, :application, :load, [app_spec]) do
      r when r == :ok or r == {:error, {:already_loaded, @app}} -> :ok
    end

    {:ok, _} = :erpc.call(target, Application, :ensure_all_started, [@app])
    {:ok, modules}
  catch
    kind, reason ->
      {:error, "loading the agent into #{target} failed: #{Exception.format_banner(kind, reason)}"}
  end

  # Stops the application (its processes, tables and trace flags go with it) and takes every
  # loaded module out again.
  defp remove_agent(target, modules) do
    :erpc.call(target, :application, :stop, [@app])
    :erpc.call(target, :application, :unload, [@app])

    for m <- modules do
      :erpc.call(target, :code, :purge, [m])
      :erpc.call(target, :code, :delete, [m])
      :erpc.call(target, :code, :purge, [m])
    end

    :ok
  catch
    _, _ -> :ok
  end
end
