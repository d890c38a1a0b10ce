defmodule ElixirScope.Agent.DrainTest do
  use ExUnit.Case, async: false

  @compile {:no_warn_undefined, [ESFix.Order, ESFix.Block]}

  alias ElixirScope.Agent.{Drain, Fixtures, Instrumenter, Recording}

  @source ~S'''
  defmodule ESFix.Order do
    def outer(parent) do
      mark(1)
      ESFix.Block.block(parent)
      mark(2)
    end

    def mark(n), do: n
  end

  defmodule ESFix.Block do
    # Not instrumented: waits the way GenServer.call waits, outside instrumented code.
    def block(parent) do
      send(parent, {:blocked, self()})

      receive do
        :go -> :ok
      end
    end
  end
  '''

  setup_all do
    fix = Fixtures.compile(@source, name: "order")
    {loaded, []} = Recording.instrument(fix.lib_dir, ["ESFix.Order"])
    on_exit(fn -> Instrumenter.restore(loaded) end)
    :ok
  end

  test "a process waiting inside an instrumented call does not hold the others back; order and no duplicates" do
    Recording.start()
    parent = self()
    pid = spawn(fn -> ESFix.Order.outer(parent) end)
    assert_receive {:blocked, ^pid}
    wait_for_status(pid, :waiting)

    # The test process records meanwhile: these come after the waiting process's first events.
    assert ESFix.Order.mark(10) == 10
    assert ESFix.Order.mark(11) == 11

    {first, st} = Drain.run(Drain.new(), stuck_ms: 0)
    assert Enum.map(first, &elem(&1, 1)) == [pid, pid, pid, self(), self(), self(), self()]
    assert Enum.map(first, &elem(&1, 0)) == Enum.sort(Enum.map(first, &elem(&1, 0)))

    ref = Process.monitor(pid)
    send(pid, :go)
    assert_receive {:DOWN, ^ref, _, _, :normal}

    {second, st} = Drain.run(st, stuck_ms: 0)
    # mark(2) call and return, and outer's return: nothing shipped twice.
    assert length(second) == 3
    assert Enum.all?(second, fn {_, p, _} -> p == pid end)
    all = Enum.map(first ++ second, &elem(&1, 0))
    assert all == Enum.sort(all) and all == Enum.uniq(all)
    assert Drain.late(st) == 0
  end

  test "without reading waiting buffers, later events are held back until the earlier ones arrive" do
    Recording.start()
    parent = self()
    pid = spawn(fn -> ESFix.Order.outer(parent) end)
    assert_receive {:blocked, ^pid}
    assert ESFix.Order.mark(10) == 10

    {shipped, st} = Drain.run(Drain.new(), stuck_ms: 60_000)
    assert shipped == []

    ref = Process.monitor(pid)
    send(pid, :go)
    assert_receive {:DOWN, ^ref, _, _, :normal}
    {shipped, st} = Drain.run(st, stuck_ms: 60_000)
    pids = Enum.map(shipped, &elem(&1, 1))
    assert pids == List.duplicate(pid, 3) ++ List.duplicate(self(), 2) ++ List.duplicate(pid, 3)
    assert Drain.late(st) == 0
  end

  test "bounded slices: smallest chunks first, in seq order across slices, nothing lost or twice" do
    Recording.start()
    me = self()

    pids =
      for p <- 1..3 do
        spawn(fn ->
          for i <- 1..500, do: ESFix.Order.mark(p * 1000 + i)
          send(me, {:done, self()})
        end)
      end

    for pid <- pids, do: assert_receive({:done, ^pid})
    slices = drain_slices(Drain.new(), final: true, max_events: 100)

    # Chunks of 2 events (each call is an outermost one): a slice stops at the first chunk past
    # the limit.
    assert length(slices) >= 30
    assert Enum.all?(slices, &(length(&1) <= 100))
    seqs = slices |> Enum.concat() |> Enum.map(&elem(&1, 0))
    assert length(seqs) == 3 * 500 * 2
    assert seqs == Enum.sort(seqs) and seqs == Enum.uniq(seqs)
  end

  test "a waiting buffer read while the same process's earlier chunk is still in the table: that chunk is kept" do
    Recording.start()
    parent = self()
    assert ESFix.Order.mark(10) == 10
    assert ESFix.Order.mark(11) == 11
    # mark(0) is written as its own chunk, then the process waits inside outer/1 with its
    # buffer open.
    pid = spawn(fn -> ESFix.Order.mark(0) && ESFix.Order.outer(parent) end)
    assert_receive {:blocked, ^pid}
    wait_for_status(pid, :waiting)

    # Two events a slice: mark(0)'s chunk stays in the table while the buffer is read.
    {first, st} = Drain.run(Drain.new(), stuck_ms: 0, max_events: 2)
    assert Drain.more?(st)
    assert Enum.map(first, &elem(&1, 1)) == [self(), self()]
    {second, st} = drain_all(st, stuck_ms: 0, max_events: 2)

    ref = Process.monitor(pid)
    send(pid, :go)
    assert_receive {:DOWN, ^ref, _, _, :normal}
    {third, st} = drain_all(st, stuck_ms: 0)

    all = first ++ second ++ third
    # mark(10), mark(11): 4; mark(0): 2; outer, mark(1), mark(2): 6.
    assert Enum.count(all, fn {_, p, _} -> p == pid end) == 8
    assert length(all) == 12
    seqs = Enum.map(all, &elem(&1, 0))
    assert seqs == Enum.sort(seqs) and seqs == Enum.uniq(seqs)
    assert Drain.late(st) == 0
  end

  defp drain_slices(st, opts) do
    {events, st} = Drain.run(st, opts)
    if Drain.more?(st), do: [events | drain_slices(st, opts)], else: [events]
  end

  defp drain_all(st, opts) do
    {events, st} = Drain.run(st, opts)

    if Drain.more?(st) do
      {more, st} = drain_all(st, opts)
      {events ++ more, st}
    else
      {events, st}
    end
  end

  defp wait_for_status(pid, status) do
    case Process.info(pid, :status) do
      {:status, ^status} -> :ok
      _ -> wait_for_status(pid, status)
    end
  end
end
