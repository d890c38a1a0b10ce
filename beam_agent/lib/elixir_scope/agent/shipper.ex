defmodule ElixirScope.Agent.Shipper do
  @moduledoc false
  # The collector's pipeline after the drain, in two processes of their own:
  #
  #   collector (drain, in capture order)
  #     → rows    turns the raw events of a slice into rows (`Events.slice_rows/2`, which keeps
  #               the context: sites, pids, open callbacks)
  #     → encoder encodes them as Arrow IPC and writes EVENTS frames to the recorder's socket.
  #
  # The three steps take about the same time per event, so on a machine with cores to spare
  # they overlap instead of adding up. Every other frame of the session goes the same way
  # (through `rows`, then the encoder), so frames leave in the order the collector made them.
  #
  # The collector keeps at most `@in_flight` slices on their way (`ship/2` waits for the oldest
  # one otherwise; the encoder acknowledges each slice with `{:shipped, rows_pid}`, and one that
  # reaches the collector's own receive loop is counted with `shipped/1`), so a slow socket or a
  # busy machine slows the collector down instead of filling these mailboxes. The encoder is
  # linked to `rows`, `rows` to the collector: if either stage dies, the collector sees `rows`
  # exit (`pid` below).

  alias ElixirScope.Agent.{Arrow, Events, JSON}

  @events 4
  @stats 6
  @in_flight 3

  defstruct [:pid, pending: 0]

  @doc "Starts the pipeline for `socket` (linked to the caller, the collector)."
  def start(socket, ctx, rows_per_frame) do
    collector = self()

    pid =
      spawn_link(fn ->
        me = self()

        encoder =
          spawn_link(fn ->
            encode_loop(%{
              socket: socket,
              rows: rows_per_frame,
              ack: {collector, me},
              sent: 0
            })
          end)

        rows_loop(ctx, encoder)
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

  ## The rows stage

  defp rows_loop(ctx, encoder) do
    receive do
      {:events, events} ->
        {rows, ctx} = Events.slice_rows(events, ctx)
        send(encoder, {:rows, rows})
        rows_loop(ctx, encoder)

      :close ->
        # Done when the encoder is: everything before the close has been written then.
        ref = Process.monitor(encoder)
        send(encoder, :close)

        receive do
          {:DOWN, ^ref, _, _, _} -> :ok
        end

      other ->
        send(encoder, other)
        rows_loop(ctx, encoder)
    end
  end

  ## The encoder

  defp encode_loop(st) do
    receive do
      {:rows, rows} ->
        st = send_rows(st, rows)
        {collector, rows_pid} = st.ack
        send(collector, {:shipped, rows_pid})
        encode_loop(st)

      {:frame, type, payload} ->
        :gen_tcp.send(st.socket, [type | payload])
        encode_loop(st)

      {:stats, stats} ->
        :gen_tcp.send(st.socket, [@stats | JSON.encode(Map.put(stats, :events, st.sent))])
        encode_loop(st)

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
