defmodule ElixirScope.Agent.Shipper do
  @moduledoc false
  # The second stage of the collector's pipeline: turns the raw events of a drain slice into
  # rows (`Events.to_rows/3`, which keeps the context: sites, pids, open callbacks), encodes
  # them as Arrow IPC and writes EVENTS frames to the recorder's socket. Every other frame of
  # the session goes through here too, so frames leave in the order the collector made them.
  #
  # Draining (copying chunks out of ETS, ordering) and formatting take about the same time per
  # event: in two processes they run on two schedulers at once. The collector keeps at most
  # `@in_flight` slices on their way (`ship/2` waits for the oldest one otherwise; an
  # acknowledgement `{:shipped, pid}` that reaches the collector's own receive loop is counted
  # with `shipped/1`), so a slow socket or a busy machine slows the collector down instead of
  # filling this mailbox.

  alias ElixirScope.Agent.{Arrow, Events, JSON}

  @events 4
  @stats 6
  @in_flight 2

  defstruct [:pid, pending: 0]

  @doc "Starts the shipper for `socket` (linked to the caller, the collector)."
  def start(socket, ctx, rows_per_frame) do
    parent = self()

    pid =
      spawn_link(fn ->
        loop(%{socket: socket, ctx: ctx, rows: rows_per_frame, parent: parent, sent: 0})
      end)

    %__MODULE__{pid: pid}
  end

  @doc "Ships the events of one drain slice (`{seq, pid, raw}` in seq order)."
  def ship(%__MODULE__{} = sh, []), do: sh

  def ship(%__MODULE__{pid: pid} = sh, events) do
    sh = if sh.pending >= @in_flight, do: await_one(sh), else: sh
    send(pid, {:events, events})
    %{sh | pending: sh.pending + 1}
  end

  @doc "Counts an acknowledgement the owner's receive loop took (`{:shipped, pid}`)."
  def shipped(%__MODULE__{} = sh), do: %{sh | pending: max(sh.pending - 1, 0)}

  @doc "Sends a frame after everything handed over before it."
  def frame(%__MODULE__{pid: pid} = sh, type, payload) do
    send(pid, {:frame, type, payload})
    sh
  end

  @doc "Sends STATS: `stats` plus `events`, the rows sent before it."
  def stats(%__MODULE__{pid: pid} = sh, stats) do
    send(pid, {:stats, stats})
    sh
  end

  @doc "Writes out everything handed over, shuts the socket's sending side down and closes it."
  def close(%__MODULE__{pid: pid}, timeout \\ 30_000) do
    ref = Process.monitor(pid)
    send(pid, :close)

    receive do
      {:DOWN, ^ref, _, _, _} -> :ok
    after
      timeout ->
        Process.unlink(pid)
        Process.exit(pid, :kill)
        :ok
    end
  end

  defp await_one(sh) do
    receive do
      {:shipped, pid} when pid == sh.pid -> %{sh | pending: sh.pending - 1}
    after
      30_000 -> %{sh | pending: 0}
    end
  end

  defp loop(st) do
    receive do
      {:events, events} ->
        st = send_events(st, events)
        send(st.parent, {:shipped, self()})
        loop(st)

      {:frame, type, payload} ->
        :gen_tcp.send(st.socket, [type | payload])
        loop(st)

      {:stats, stats} ->
        :gen_tcp.send(st.socket, [@stats | JSON.encode(Map.put(stats, :events, st.sent))])
        loop(st)

      :close ->
        # Shut down the sending side only after the driver's queue is written out, then close.
        :gen_tcp.shutdown(st.socket, :write)
        :gen_tcp.close(st.socket)
    end
  end

  defp send_events(st, events) do
    {rows, ctx} =
      Enum.flat_map_reduce(events, st.ctx, fn {_seq, pid, ev}, ctx ->
        Events.to_rows(ev, pid, ctx)
      end)

    rows
    |> Enum.chunk_every(st.rows)
    |> Enum.each(fn chunk ->
      :gen_tcp.send(st.socket, [@events | Arrow.stream(Events.schema(), chunk)])
    end)

    %{st | ctx: ctx, sent: st.sent + length(rows)}
  end
end
