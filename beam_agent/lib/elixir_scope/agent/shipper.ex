defmodule ElixirScope.Agent.Shipper do
  @moduledoc false
  # The collector's pipeline after the drain:
  #
  #   collector (drain, in capture order; `ship/2`: rows by `Events.slice_rows/2`, which keeps
  #              the context — sites, pids, open callbacks —, then Arrow IPC frames)
  #     → writer   writes the EVENTS frames and every other frame to the recorder's socket, in
  #                the order the collector handed them over.
  #
  # Rows and frames are made where the drained events already are. Handing each slice to
  # processes of their own (a rows process, then two encoders, to use both cores) copied it —
  # thousands of events with their values, then their rows — into other processes' fresh memory,
  # which cost more than the parallelism gained (inventory suite recorded: BEAM CPU 3000 → 2540
  # ms, page faults 75k → 57k, wall 2348 → 2110 ms; ship 210–247k → 244–265k events/s). Frames
  # are binaries: the writer gets them without a copy.
  #
  # The collector keeps at most `@in_flight` slices on their way (`ship/2` waits for the oldest
  # one otherwise; the writer acknowledges each slice with `{:shipped, pid}`, and one that
  # reaches the collector's own receive loop is counted with `shipped/1`), so a slow socket slows
  # the collector down instead of filling the writer's mailbox. The writer (`pid`) is linked to
  # the collector, which sees it exit if it fails; it runs at low priority, as the collector does
  # during a session (see `Collector`).

  alias ElixirScope.Agent.{Arrow, Events, JSON, Store}

  @events 4
  @log 5
  @stats 6
  @in_flight 4
  # The EVENTS frames' schema message, made once (see `Arrow.stream/4`).
  @schema_message IO.iodata_to_binary(Arrow.schema_message(Events.schema()))

  defstruct [:pid, :ctx, :rows_per_frame, pending: 0]

  @doc "Starts the pipeline for `socket` (linked to the caller, the collector)."
  def start(socket, ctx, rows_per_frame) do
    collector = self()

    pid =
      :erlang.spawn_opt(fn -> write_loop(%{socket: socket, collector: collector, sent: 0}) end, [
        :link,
        priority: :low
      ])

    %__MODULE__{pid: pid, ctx: ctx, rows_per_frame: rows_per_frame}
  end

  @doc "Ships the events of one drain slice (`{seq, pid, raw}` in seq order)."
  def ship(%__MODULE__{} = sh, []), do: sh

  def ship(%__MODULE__{} = sh, events) do
    sh = if sh.pending >= @in_flight, do: await_one(sh), else: sh

    {rows, ctx, failed} = rows(events, sh)

    frames =
      rows
      |> Arrow.chunks(sh.rows_per_frame)
      |> Enum.map(&[@events | Arrow.stream(@schema_message, Events.schema(), &1, 65_536)])

    send(sh.pid, {:frames, frames, length(rows)})

    if failed > 0 do
      # Counted with the dropped events (STATS `dropped`).
      with ref when ref != nil <- Store.atomics(),
           do: :atomics.add(ref, Store.index(:dropped), failed)

      message = "#{failed} event(s) could not be made into rows and were left out"
      frame(sh, @log, JSON.encode(%{level: "warning", message: message}))
    end

    %{sh | ctx: ctx, pending: sh.pending + 1}
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
  def frame(%__MODULE__{pid: writer} = sh, type, payload) do
    send(writer, {:frame, type, payload})
    sh
  end

  @doc "Sends STATS: `stats` plus `events`, the rows sent before it."
  def stats(%__MODULE__{pid: writer} = sh, stats) do
    send(writer, {:stats, stats})
    sh
  end

  @doc "Writes out everything handed over, shuts the socket's sending side down and closes it."
  def close(%__MODULE__{pid: writer}, timeout \\ 30_000) do
    ref = Process.monitor(writer)
    send(writer, :close)

    receive do
      {:DOWN, ^ref, _, _, _} -> :ok
    after
      timeout ->
        Process.unlink(writer)
        Process.exit(writer, :kill)
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

  ## The writer

  defp write_loop(st) do
    receive do
      {:frames, frames, n} ->
        Enum.each(frames, &:gen_tcp.send(st.socket, &1))
        send(st.collector, {:shipped, self()})
        write_loop(%{st | sent: st.sent + n})

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
