defmodule ElixirScope.Agent.Shipper do
  @moduledoc false
  # The collector's pipeline after the drain, in processes of its own:
  #
  #   collector (drain, in capture order)
  #     → rows     turns the raw events of a slice into rows (`Events.slice_rows/2`, which keeps
  #                the context: sites, pids, open callbacks)
  #     → encoders (`@encoders` of them, slices in turn) encode rows as Arrow IPC
  #     → writer   writes the EVENTS frames to the recorder's socket in slice order.
  #
  # Encoding is the longest step per event; with two encoders it uses both cores of a small
  # machine while the other steps wait. Every other frame of the session goes through `rows`
  # to the writer, which writes it after the slices handed over before it, so frames leave in
  # the order the collector made them.
  #
  # The collector keeps at most `@in_flight` slices on their way (`ship/2` waits for the oldest
  # one otherwise; the writer acknowledges each slice with `{:shipped, rows_pid}`, and one that
  # reaches the collector's own receive loop is counted with `shipped/1`), so a slow socket or
  # a busy machine slows the collector down instead of filling these mailboxes. The encoders
  # and the writer are linked to `rows`, `rows` to the collector: if any of them dies, the
  # collector sees `rows` exit (`pid` below). All of them run at low priority, as the collector
  # does during a session (see `Collector`).

  alias ElixirScope.Agent.{Arrow, Events, JSON}

  @events 4
  @stats 6
  @in_flight 4
  @encoders 2
  # The heap (words, 4 MiB) of the rows process and of each encoder from the start: each slice
  # (a few thousand events, then ~20 words per row) arrives as one message and is garbage once
  # handed on; from the default heap they grow and collect their way up to it on every slice
  # (encoding ~30% slower per row; the inventory suite recorded took ~20% more page faults).
  @stage_heap 524_288

  defstruct [:pid, pending: 0]

  @doc "Starts the pipeline for `socket` (linked to the caller, the collector)."
  def start(socket, ctx, rows_per_frame) do
    collector = self()

    pid =
      :erlang.spawn_opt(
        fn ->
          me = self()

          writer =
            :erlang.spawn_opt(
              fn -> write_loop(%{socket: socket, ack: {collector, me}, sent: 0}) end,
              [:link, priority: :low]
            )

          encoders =
            for _ <- 1..@encoders do
              :erlang.spawn_opt(fn -> encode_loop(writer, rows_per_frame) end, [
                :link,
                min_heap_size: @stage_heap,
                priority: :low
              ])
            end

          rows_loop(%{ctx: ctx, writer: writer, encoders: encoders, next: 0})
        end,
        [:link, min_heap_size: @stage_heap, priority: :low]
      )

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

  defp rows_loop(st) do
    receive do
      {:events, events} ->
        {rows, ctx} = Events.slice_rows(events, st.ctx)
        k = st.next
        send(Enum.at(st.encoders, rem(k, @encoders)), {:encode, k, rows})
        send(st.writer, {:slice, k})
        rows_loop(%{st | ctx: ctx, next: k + 1})

      :close ->
        # Done when the writer is: everything before the close has been written then.
        ref = Process.monitor(st.writer)
        send(st.writer, :close)

        receive do
          {:DOWN, ^ref, _, _, _} -> :ok
        end

        Enum.each(st.encoders, &send(&1, :close))

      other ->
        send(st.writer, other)
        rows_loop(st)
    end
  end

  ## The encoders

  defp encode_loop(writer, rows_per_frame) do
    receive do
      {:encode, k, rows} ->
        frames =
          rows
          |> Arrow.chunks(rows_per_frame)
          |> Enum.map(&[@events | Arrow.stream(Events.schema(), &1)])

        send(writer, {:encoded, k, frames, length(rows)})
        encode_loop(writer, rows_per_frame)

      :close ->
        :ok
    end
  end

  ## The writer

  defp write_loop(st) do
    receive do
      {:slice, k} ->
        # The encoded slices arrive in any order; each is written in its turn.
        receive do
          {:encoded, ^k, frames, n} ->
            Enum.each(frames, &:gen_tcp.send(st.socket, &1))
            {collector, rows_pid} = st.ack
            send(collector, {:shipped, rows_pid})
            write_loop(%{st | sent: st.sent + n})
        end

      {:frame, type, payload} ->
        :gen_tcp.send(st.socket, [type | payload])
        write_loop(st)

      {:stats, stats} ->
        :gen_tcp.send(st.socket, [@stats | JSON.encode(Map.put(stats, :events, st.sent))])
        write_loop(st)

      :close ->
        # Shut down the sending side only after the driver's queue is written out, then close.
        :gen_tcp.shutdown(st.socket, :write)
        :gen_tcp.close(st.socket)
    end
  end
end
