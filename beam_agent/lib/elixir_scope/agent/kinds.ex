defmodule ElixirScope.Agent.Kinds do
  @moduledoc false
  # The event kinds of the `kind` column (protocol/SCHEMA.md), in one place for the modules
  # that make or read raw events: `use ElixirScope.Agent.Kinds` gives them as module
  # attributes (`@call`, `@return`, … `@sample`), usable in patterns and guards.

  @kinds [
    call: 1,
    return: 2,
    exception: 3,
    binding: 4,
    tail: 5,
    spawn: 6,
    exit: 7,
    link: 8,
    unlink: 9,
    monitor: 10,
    demonitor: 11,
    register: 12,
    unregister: 13,
    send: 14,
    receive: 15,
    state: 16,
    sample: 17
  ]

  @doc "`name => code` of every kind."
  def all, do: Map.new(@kinds)

  defmacro __using__(_opts) do
    for {name, code} <- @kinds do
      quote do
        Module.put_attribute(__MODULE__, unquote(name), unquote(code))
      end
    end
  end
end
