defmodule ElixirScope.Agent.Sampler do
  @moduledoc false
  # Node and process metrics on an interval (issue #4: "scheduler utilisation and memory
  # sampled on an interval", "mailbox length, reductions"). Run by `ElixirScope.Agent.VMTracer`
  # every `sample_ms`; each metric is one raw SAMPLE event `{17, seq, ts, pid | nil, name,
  # value}` (see `protocol/SCHEMA.md` for the rows):
  #
  #   * node (pid nil): "scheduler_utilisation" (0..1, the normal schedulers' busy share of the
  #     wall time since the previous sample), "memory" (bytes, `:erlang.memory(:total)`),
  #     "process_count", "run_queue" (processes ready to run, all run queues);
  #   * each process holding an ordering slot (it recorded events), at most `@max_processes`:
  #     "mailbox" (`message_queue_len`), "reductions" (total so far), "memory" (bytes).
  #
  # Scheduler wall time is measured only while the flag is on: `new/0` turns it on and `stop/1`
  # off. The flag counts its users per process, so this does not switch off anyone else's
  # measurement, and if the calling process dies the VM drops its count.

  alias ElixirScope.Agent.Store

  use ElixirScope.Agent.Kinds
  @max_processes 500

  def new do
    :erlang.system_flag(:scheduler_wall_time, true)

    %{
      wall: wall_time(),
      schedulers: :erlang.system_info(:schedulers)
    }
  end

  def stop(_s) do
    :erlang.system_flag(:scheduler_wall_time, false)
    :ok
  end

  @doc "Samples now: `{raw_events, sampler}`."
  def sample(s, _clock \\ nil) do
    ts = :os.perf_counter()
    wall = wall_time()
    util = utilisation(s.wall, wall, s.schedulers)

    node = [
      {"scheduler_utilisation", util},
      {"memory", :erlang.memory(:total)},
      {"process_count", :erlang.system_info(:process_count)},
      {"run_queue", :erlang.statistics(:total_run_queue_lengths_all)}
    ]

    node_events = for {name, v} <- node, v != nil, do: {@sample, seq(), ts, nil, name, v}

    {node_events ++ process_events(ts), %{s | wall: wall}}
  end

  defp process_events(ts) do
    me = self()

    for pid <- recording_processes(),
        pid != me,
        [message_queue_len: q, reductions: r, memory: m] <-
          [Process.info(pid, [:message_queue_len, :reductions, :memory])],
        {name, v} <- [{"mailbox", q}, {"reductions", r}, {"memory", m}],
        do: {@sample, seq(), ts, pid, name, v}
  end

  defp recording_processes do
    case :ets.select(Store.slots_table(), [{{:_, :"$1"}, [], [:"$1"]}], @max_processes) do
      {pids, _cont} -> Enum.filter(pids, &(node(&1) == node()))
      :"$end_of_table" -> []
    end
  catch
    _, _ -> []
  end

  defp wall_time do
    case :erlang.statistics(:scheduler_wall_time) do
      :undefined -> nil
      list -> Map.new(list, fn {id, active, total} -> {id, {active, total}} end)
    end
  end

  # Busy share of the normal schedulers (ids 1..n) between two readings.
  defp utilisation(nil, _, _), do: nil
  defp utilisation(_, nil, _), do: nil

  defp utilisation(before, now, n) do
    {active, total} =
      Enum.reduce(1..n, {0, 0}, fn id, {a, t} ->
        case {before, now} do
          {%{^id => {a0, t0}}, %{^id => {a1, t1}}} -> {a + a1 - a0, t + t1 - t0}
          _ -> {a, t}
        end
      end)

    if total > 0, do: active / total, else: nil
  end

  defp seq, do: :erlang.unique_integer([:monotonic])
end
