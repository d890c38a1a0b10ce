# The "program" of the agent.ship_events_per_s benchmark (bench/agent/ship.bench.ts), run as
# `elixir ship_fill.exs` under a real recording session (the agent is loaded by
# ELIXIR_ERL_OPTIONS). With the collector paused, two processes record SHIP_EVENTS events
# through the real hot path into the store; then the collector is resumed and drains, formats,
# encodes and ships them all; the script ends and the at-exit flush says BYE.
alias ElixirScope.Agent.{Collector, Events, Runtime, Store}

n = String.to_integer(System.get_env("SHIP_EVENTS", "400000"))
site = 999_000_001
ref = Store.atomics()
Store.set_cap(ref, 4_000_000_000)

Events.register_sites([{site, {Ship.Ledger, :handle_call, 3, 40, "/app/lib/ship/ledger.ex", nil}}])

:sys.suspend(Collector)

1..2
|> Enum.map(fn _ ->
  Task.async(fn ->
    for i <- 1..div(n, 4) do
      c = Runtime.call(site, [{:deposit, "alice", i}, {self(), make_ref()}, %{"alice" => i}], [])
      Runtime.return(site, c, {:reply, {:ok, i}, %{"alice" => i}})
    end

    Runtime.flush()
  end)
end)
|> Task.await_many(:infinity)

# The benchmark's clock starts at this line (bench/agent/ship.bench.ts).
IO.puts("ship_fill: store filled")
:sys.resume(Collector)
