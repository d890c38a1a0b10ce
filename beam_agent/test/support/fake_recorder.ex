defmodule ElixirScope.Agent.FakeRecorder do
  @moduledoc false
  # The recorder's side of the wire protocol, for tests: a real listening socket on 127.0.0.1.

  alias ElixirScope.Agent.{ArrowReader, JSON}

  @frame_types %{
    1 => :hello,
    2 => :plan,
    3 => :ready,
    4 => :events,
    5 => :log,
    6 => :stats,
    7 => :bye,
    8 => :stop
  }

  def listen do
    {:ok, l} =
      :gen_tcp.listen(0, [
        :binary,
        packet: 4,
        active: false,
        ip: {127, 0, 0, 1},
        packet_size: 64 * 1024 * 1024
      ])

    {:ok, port} = :inet.port(l)
    {l, port}
  end

  def accept(l), do: (fn {:ok, s} -> s end).(:gen_tcp.accept(l, 10_000))

  def recv(sock, timeout \\ 10_000) do
    case :gen_tcp.recv(sock, 0, timeout) do
      {:ok, <<type, payload::binary>>} -> {Map.fetch!(@frame_types, type), decode(type, payload)}
      {:error, reason} -> {:error, reason}
    end
  end

  defp decode(4, payload), do: ArrowReader.read(payload)
  defp decode(_, payload), do: elem(JSON.decode(payload), 1)

  def send_plan(sock, plan) do
    # The recorder formats values with the bounds it asked for (see ArrowReader.rows/1).
    case plan do
      %{values: v} ->
        Process.put({__MODULE__, :values}, Map.new(v, fn {k, x} -> {:"#{k}", x} end))

      _ ->
        :ok
    end

    :ok = :gen_tcp.send(sock, [2 | JSON.encode(plan)])
  end

  def send_stop(sock), do: :ok = :gen_tcp.send(sock, [8])

  @doc "Receives frames until the agent closes the connection; returns them by kind."
  def collect(sock, acc \\ %{events: [], stats: [], logs: [], bye: nil, frames: []}) do
    case recv(sock) do
      {:events, read} ->
        # Newest batch first; put in order once at the end.
        collect(sock, %{
          acc
          | events: [ArrowReader.rows(read) | acc.events],
            frames: [:events | acc.frames]
        })

      {:stats, stats} ->
        collect(sock, %{acc | stats: acc.stats ++ [stats], frames: [:stats | acc.frames]})

      {:log, log} ->
        collect(sock, %{acc | logs: acc.logs ++ [log], frames: [:log | acc.frames]})

      {:bye, bye} ->
        collect(sock, %{acc | bye: bye, frames: [:bye | acc.frames]})

      {:error, :closed} ->
        %{
          acc
          | frames: Enum.reverse(acc.frames),
            events: acc.events |> Enum.reverse() |> Enum.concat()
        }
    end
  end

  @doc "Plays the recorder for a session: HELLO, PLAN, READY. Returns `{sock, hello, ready}`."
  def handshake(l, plan) do
    sock = accept(l)
    {:hello, hello} = recv(sock)
    send_plan(sock, plan)
    {:ready, ready} = recv(sock)
    {sock, hello, ready}
  end
end
