defmodule Msgs.Counter do
  @moduledoc "A GenServer the clients call and cast to."
  use GenServer

  def start_link(initial), do: GenServer.start_link(__MODULE__, initial)
  def add(counter, n), do: GenServer.call(counter, {:add, n})
  def note(counter, n), do: GenServer.cast(counter, {:note, n})

  @impl true
  def init(initial), do: {:ok, %{total: initial, notes: 0}}

  @impl true
  def handle_call({:add, n}, _from, state) do
    total = state.total + n
    {:reply, total, %{state | total: total}}
  end

  @impl true
  def handle_cast({:note, _n}, state), do: {:noreply, %{state | notes: state.notes + 1}}
end

defmodule Msgs do
  @moduledoc """
  Message-heavy work: 4 clients make 5,000 GenServer calls and casts each, then a ping-pong of
  20,000 round trips between two hand-written receive loops. Prints the workload's own
  wall time (`elapsed_us=`), so start-up and recording set-up are not part of it.
  """

  def bench do
    {:ok, counter} = Msgs.Counter.start_link(0)
    t0 = System.monotonic_time(:microsecond)

    1..4
    |> Enum.map(fn _ -> Task.async(fn -> client(counter, 5_000) end) end)
    |> Task.await_many(:infinity)

    pong = spawn(fn -> pong() end)
    :ok = ping(pong, 20_000)
    elapsed = System.monotonic_time(:microsecond) - t0
    total = Msgs.Counter.add(counter, 0)
    IO.puts("elapsed_us=#{elapsed} total=#{total}")
  end

  def client(_counter, 0), do: :ok

  def client(counter, n) do
    _ = Msgs.Counter.add(counter, 1)
    Msgs.Counter.note(counter, n)
    client(counter, n - 1)
  end

  def ping(pong, 0) do
    send(pong, :stop)
    :ok
  end

  def ping(pong, n) do
    send(pong, {:ping, self(), n})

    receive do
      {:pong, ^n} -> ping(pong, n - 1)
    end
  end

  def pong do
    receive do
      {:ping, from, n} ->
        send(from, {:pong, n})
        pong()

      :stop ->
        :ok
    end
  end
end
