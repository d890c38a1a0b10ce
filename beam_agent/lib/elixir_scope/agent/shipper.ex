defmodule ElixirScope.Agent.Shipper do
  @moduledoc false
  # The second stage of the collector's pipeline. The collector turns the raw events of a drain
  # slice into rows (`ship/2` runs `Events.to_rows/3` in the caller, which keeps the context:
  # sites, pids, open callbacks); this process encodes them as Arrow IPC and writes EVENTS
  # frames to the recorder's socket. Every other frame of the session goes through here too, so
  # frames leave in the order the collector made them.
  #
  # Rows, not raw events, cross between the two processes: a row is a flat tuple of integers
  # and binaries (the value already in its external format), several times cheaper to copy than
  # the captured terms, and splitting the work there gives each process about half of it. The
  # collector keeps at most `@in_flight` slices on their way (`ship/2` waits for the oldest one
  # otherwise; an acknowledgement `{:shipped, pid}` that reaches the collector's own receive
  # loop is counted with `shipped/1`), so a slow socket or a busy machine slows the collector
  # down instead of filling this mailbox.

  alias ElixirScope.Agent.{Arrow, Events, JSON}

  @events 4
  @stats 6
  @in_flight 2

  defstruct [:pid, :ctx, pending: 0]

  @doc "Starts the shipper for `socket` (linked to the caller, the collector)."
  def start(socket, ctx, rows_per_frame) do
    parent = self()

    pid =
      spawn_link(fn ->
        loop(%{socket: socket, rows: rows_per_frame, parent: parent, sent: 0})
      end)

    %__MODULE__{pid: pid, ctx: ctx}
  end

  @doc "Ships the events of one drain slice (`{seq, pid, raw}` in seq order)."
  def ship(%__MODULE__{} = sh, []), do: sh

  def ship(%__MODULE__{pid: pid} = sh, events) do
    {rows, ctx} = Events.slice_rows(events, sh.ctx)

    sh = if sh.pending >= @in_flight, do: await_one(sh), else: sh
    send(pid, {:rows, rows})
    %{sh | pending: sh.pending + 1, ctx: ctx}
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
      {:rows, rows} ->
        st = send_rows(st, rows)
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

  defp send_rows(st, rows) do
    rows
    |> Enum.chunk_every(st.rows)
    |> Enum.each(fn chunk ->
      :gen_tcp.send(st.socket, [@events | Arrow.stream(Events.schema(), chunk)])
    end)

    %{st | sent: st.sent + length(rows)}
  end
end
