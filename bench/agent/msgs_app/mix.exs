defmodule MsgsApp.MixProject do
  use Mix.Project

  # The message-heavy workload of bench/agent/msgs.bench.ts (agent.slowdown_full_msgs).
  def project, do: [app: :msgs_app, version: "0.1.0", elixir: "~> 1.14", deps: []]
  def application, do: [extra_applications: []]
end
