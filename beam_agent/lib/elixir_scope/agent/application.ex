defmodule ElixirScope.Agent.Application do
  @moduledoc false
  use Application

  @impl true
  def start(_type, _args) do
    children = [
      ElixirScope.Agent.Store,
      # A long shutdown so that an application stop can still flush and say BYE.
      Supervisor.child_spec(ElixirScope.Agent.Collector, shutdown: 25_000)
    ]

    # rest_for_one: if the store (and with it the tables) goes, the collector starts afresh.
    Supervisor.start_link(children, strategy: :rest_for_one, name: ElixirScope.Agent.Supervisor)
  end
end
