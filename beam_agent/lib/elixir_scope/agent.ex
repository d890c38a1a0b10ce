defmodule ElixirScope.Agent do
  @moduledoc """
  The ElixirScope recording agent, loaded into the user's node without any change to their
  project:

      ELIXIR_SCOPE_PORT=… ELIXIR_SCOPE_SECRET=… \\
      ELIXIR_ERL_OPTIONS="-pa <agent ebin> -s Elixir.ElixirScope.Agent boot" mix test

  `boot/0` runs from `-s`, before Mix loads the project. It connects to the recorder on
  127.0.0.1, proves the session secret (HELLO), receives the instrumentation plan (PLAN),
  instruments the planned modules from the project's compiled `.beam` files, answers READY and
  returns, so that Mix goes on with the already instrumented modules (a no-op `mix compile`
  keeps them). At VM halt an `at_exit` hook flushes every event and sends STATS and BYE.

  If anything goes wrong the agent prints one line to stderr and the program runs unrecorded.
  Wire protocol: `protocol/SCHEMA.md`.
  """

  alias ElixirScope.Agent.{Collector, Runtime}

  @finish_timeout 20_000

  @doc """
  Entry point for `-s Elixir.ElixirScope.Agent boot`. Does nothing unless `ELIXIR_SCOPE_PORT`
  is set. Always returns `:ok`; never raises (an exception here would stop the VM).
  """
  def boot do
    case System.get_env("ELIXIR_SCOPE_PORT") do
      nil -> :ok
      "" -> :ok
      port -> boot(port, System.get_env("ELIXIR_SCOPE_SECRET", ""))
    end
  catch
    kind, reason ->
      warn(
        "ElixirScope: recording disabled, the agent failed to start: " <>
          Exception.format_banner(kind, reason)
      )

      :ok
  end

  defp boot(port_text, secret) do
    with {:port, {port, ""}} when port in 1..65_535 <- {:port, Integer.parse(port_text)},
         {:ok, ready} <- start(port: port, secret: secret, remove_when_gone: true) do
      skipped = length(ready.skipped)
      note = if skipped > 0, do: " (#{skipped} skipped)", else: ""
      debug("ElixirScope: recording, #{length(ready.instrumented)} modules instrumented#{note}")
      :ok
    else
      {:port, _} ->
        warn(
          "ElixirScope: ELIXIR_SCOPE_PORT=#{port_text} is not a port number; running without recording."
        )

      {:error, reason} ->
        warn("ElixirScope: #{reason}; running without recording.")
    end

    :ok
  end

  @doc """
  Starts the agent's application (and Elixir's), connects and instruments. Options as
  `ElixirScope.Agent.Collector.start_session/1`. Registers the at-exit flush once.
  """
  def start(opts) do
    with {:ok, ready} <- start_session(opts) do
      register_at_exit()
      {:ok, ready}
    end
  end

  @doc """
  Starts a session in a running node that `ElixirScope.Agent.Attach` loaded the agent into over
  distribution. As `start/1`, but registers no at-exit hook: the agent's modules are removed
  from the node when the session ends, and a hook would outlive them.
  """
  def attach(opts), do: start_session(opts)

  defp start_session(opts) do
    with {:ok, _} <- Application.ensure_all_started(:elixir_scope_agent),
         {:ok, ready} <- Collector.start_session(opts) do
      {:ok, ready}
    else
      {:error, {app, reason}} when is_atom(app) ->
        {:error, "could not start #{app}: #{inspect(reason)}"}

      {:error, reason} ->
        {:error, reason}
    end
  end

  @doc """
  Flushes every buffered event and ends the session (STATS, BYE). Called at VM halt by the
  at-exit hook; waits at most #{@finish_timeout} ms.
  """
  def finish(reason \\ "halt", opts \\ []) do
    Runtime.flush()

    if Process.whereis(Collector) do
      Collector.finish(reason, Keyword.put_new(opts, :timeout, @finish_timeout))
    else
      :ok
    end
  catch
    :exit, _ -> :ok
  end

  @doc "Stops recording now: restores the original code, flushes, STATS, BYE."
  def stop, do: finish("stopped", restore: true)

  defp register_at_exit do
    # at_exit hooks run last-registered-first; ours is registered before Mix and ExUnit exist,
    # so it runs after ExUnit has finished the suite.
    unless :persistent_term.get({__MODULE__, :at_exit}, false) do
      :persistent_term.put({__MODULE__, :at_exit}, true)
      System.at_exit(fn _status -> finish("halt") end)
    end
  end

  defp warn(line), do: IO.puts(:stderr, line)

  defp debug(line) do
    if System.get_env("ELIXIR_SCOPE_DEBUG") in ["1", "true"], do: IO.puts(:stderr, line)
  end
end
