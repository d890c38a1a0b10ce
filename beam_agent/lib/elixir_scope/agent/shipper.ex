defmodule ElixirScope.Agent.Shipper do
  @moduledoc false
  # The collector's pipeline after the drain:
  #
  #   collector (drain, in capture order; rows: `Events.slice_rows/2`, which keeps the context:
  #              sites, pids, open callbacks — `ship/2` runs in the collector)
  #     → encoders (`@encoders` of them, slices in turn) encode rows as Arrow IPC
  #     → writer   writes the EVENTS frames to the recorder's socket in slice order.
  #
  # The rows are made where the drained events already are: handing a slice (thousands of raw
  # events with their values) to a process of its own copied it into that process's memory,
  # which cost more than making the rows (a replay of 400k events: ~20% more CPU in all, 30%
  # more page faults). Encoding is the longest step per event; with two encoders it uses both
  # cores of a small machine. Every other frame of the session goes from the collector to the
  # writer too, which writes it after the slices handed over before it, so frames leave in the
  # order the collector made them.
  #
  # The collector keeps at most `@in_flight` slices on their way (`ship/2` waits for the oldest
  # one otherwise; the writer acknowledges each slice with `{:shipped, pid}`, and one that
  # reaches the collector's own receive loop is counted with `shipped/1`), so a slow socket or
  # a busy machine slows the collector down instead of filling these mailboxes. The encoders
  # and the writer are linked to an anchor process (`pid`), the anchor to the collector: if any
  # of them dies, or making the rows of a slice fails, the collector sees the anchor exit. All of
  # them run at low priority, as the collector does during a session (see `Collector`).

  alias ElixirScope.Agent.{Arrow, Events, JSON, Store}

  @events 4
  @log 5
  @stats 6
  @in_flight 4
  @encoders 2
  # The heap (words, 4 MiB) of each encoder from the start: each slice's rows (a few thousand,
  # ~20 words per row) arrive as one message and are garbage once encoded; from the default
  # heap they grow and collect their way up to it on every slice (encoding ~30% slower per row;
  # the inventory suite recorded took ~20% more page faults).
  @stage_heap 524_288

  defstruct [:pid, :ctx, :writer, :encoders, next: 0, pending: 0]

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

          send(collector, {__MODULE__, me, writer, encoders})
          anchor_loop(writer, encoders)
        end,
        [:link, priority: :low]
      )

    receive do
      {__MODULE__, ^pid, writer, encoders} ->
        %__MODULE__{pid: pid, ctx: ctx, writer: writer, encoders: List.to_tuple(encoders)}
    end
  end

  @doc "Ships the events of one drain slice (`{seq, pid, raw}` in seq order)."
  def ship(%__MODULE__{} = sh, []), do: sh

  def ship(%__MODULE__{} = sh, events) do
    sh = if sh.pending >= @in_flight, do: await_one(sh), else: sh

    {rows, ctx, failed} = rows(events, sh)
    k = sh.next
    send(elem(sh.encoders, rem(k, @encoders)), {:encode, k, rows})
    send(sh.writer, {:slice, k})

    if failed > 0 do
      # Counted with the dropped events (STATS `dropped`).
      with ref when ref != nil <- Store.atomics(),
           do: :atomics.add(ref, Store.index(:dropped), failed)

      message = "#{failed} event(s) could not be made into rows and were left out"
      frame(sh, @log, JSON.encode(%{level: "warning", message: message}))
    end

    %{sh | ctx: ctx, next: k + 1, pending: sh.pending + 1}
  end

  # A slice's rows. An event the agent cannot make rows of (not expected: a bug, or a malformed
  # chunk in the store) costs only that event: the slice is made again one event at a time, the
  # events that fail are left out (counted as dropped) and a LOG warning, after the slice, says
  # how many.
  defp rows(events, sh) do
    {rows, ctx} = Events.slice_rows(events, sh.ctx)
    {rows, ctx, 0}
  rescue
    _ ->
      {rows, ctx, failed} =
        Enum.reduce(events, {[], sh.ctx, 0}, fn ev, {acc, ctx, failed} ->
          try do
            {rows, ctx} = Events.slice_rows([ev], ctx)
            {:lists.reverse(rows, acc), ctx, failed}
          rescue
            _ -> {acc, ctx, failed + 1}
          end
        end)

      {:lists.reverse(rows), ctx, failed}
  end

  @doc "Counts an acknowledgement the owner's receive loop took (`{:shipped, pid}`)."
  def shipped(%__MODULE__{} = sh), do: %{sh | pending: max(sh.pending - 1, 0)}

  @doc "Sends a frame after everything handed over before it."
  def frame(%__MODULE__{writer: writer} = sh, type, payload) do
    send(writer, {:frame, type, payload})
    sh
  end

  @doc "Sends STATS: `stats` plus `events`, the rows sent before it."
  def stats(%__MODULE__{writer: writer} = sh, stats) do
    send(writer, {:stats, stats})
    sh
  end

  @doc "Writes out everything handed over, shuts the socket's sending side down and closes it."
  def close(%__MODULE__{pid: pid, writer: writer}, timeout \\ 30_000) do
    # The writer is done when everything handed over before the close has been written.
    ref = Process.monitor(writer)
    send(writer, :close)

    receive do
      {:DOWN, ^ref, _, _, _} ->
        send(pid, :close)
        :ok
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

  # Holds the stages together (they are linked to it) until the pipeline is closed.
  defp anchor_loop(writer, encoders) do
    receive do
      :close ->
        Enum.each([writer | encoders], &send(&1, :close))

      _ ->
        anchor_loop(writer, encoders)
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
