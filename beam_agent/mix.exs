defmodule ElixirScope.Agent.MixProject do
  use Mix.Project

  # The agent is loaded into the user's node with `-pa <ebin>`: it must not depend on anything
  # but Elixir and OTP (no hex packages, no Logger).
  def project do
    [
      app: :elixir_scope_agent,
      version: "0.1.0",
      elixir: "~> 1.14",
      start_permanent: false,
      elixirc_paths: elixirc_paths(Mix.env()),
      deps: []
    ]
  end

  def application do
    [
      extra_applications: [:compiler],
      mod: {ElixirScope.Agent.Application, []}
    ]
  end

  defp elixirc_paths(:test), do: ["lib", "test/support"]
  defp elixirc_paths(_), do: ["lib"]
end
