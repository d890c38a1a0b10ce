# Hot-path benchmark of the BEAM agent, measured against the same code uninstrumented in the
# same run. Run from beam_agent/:
#
#     mix run ../bench/agent/hot_path.exs          (also works with --no-start and MIX_ENV=prod)
#
# Prints one JSON line per metric on stdout (see /shared/BENCH.md); everything else goes to
# stderr. Events go into the real store (ETS chunks) with recording on; the store is emptied
# between repetitions, outside the timed part, so that this measures the instrumented code and
# not the collector.
alias ElixirScope.Agent.{Instrumenter, JSON, Runtime, Store}

{:ok, _} = Application.ensure_all_started(:elixir_scope_agent)

defmodule Bench do
  @reps 41

  def compile(name, source, root) do
    ebin = Path.join([root, "_build", "bench", "lib", "bench_#{name}", "ebin"])
    File.mkdir_p!(ebin)
    file = Path.join([root, "lib", "#{name}.ex"])
    File.mkdir_p!(Path.dirname(file))
    File.write!(file, source)

    for {mod, bin} <- Code.compile_string(source, file) do
      File.write!(Path.join(ebin, "#{mod}.beam"), bin)
    end
  end

  @doc """
  Runs the functions back to back, `@reps` times (after a warm-up), the store emptied before
  each run; returns the median time of each (ns) and the median of each one's per-round
  difference to the first. Running them in rounds keeps a burst of load from other processes
  on the machine out of the differences.
  """
  def rounds(funs) do
    Enum.each(funs, & &1.())
    rounds = for _ <- 1..@reps, do: Enum.map(funs, &time/1)
    at = fn i -> Enum.map(rounds, &Enum.at(&1, i)) end
    medians = for i <- 0..(length(funs) - 1), do: median(at.(i))
    diffs = for i <- 0..(length(funs) - 1), do: median(Enum.zip_with(at.(i), at.(0), &(&1 - &2)))
    {medians, diffs}
  end

  def paired(a, b) do
    {[ta, tb], [_, diff]} = rounds([a, b])
    {ta, tb, diff}
  end

  defp time(fun) do
    reset()
    :erlang.garbage_collect()
    {us, _} = :timer.tc(fun)
    us * 1_000
  end

  defp median(list), do: list |> Enum.sort() |> Enum.at(div(length(list), 2))

  def reset do
    Runtime.flush()
    ref = Store.atomics()
    Store.reset(ref)
    Store.enable(ref, true)
  end

  def metric(name, value, unit, target, better, baseline) do
    IO.puts(
      JSON.encode!(%{
        name: name,
        value: Float.round(value * 1.0, 2),
        unit: unit,
        target: target,
        better: better,
        baseline: baseline
      })
    )
  end
end

root = Path.join(System.tmp_dir!(), "es-bench-#{System.pid()}")
File.rm_rf!(root)

tiny = fn mod ->
  """
  defmodule #{mod} do
    def f(a, b), do: a + b
    def g(_a, _b), do: 0
    def h(a, b, c, d, e, f, g, i), do: a + b + c + d + e + f + g + i
    def fib(n) when n < 2, do: n
    def fib(n), do: fib(n - 1) + fib(n - 2)
  end
  """
end

driver = """
defmodule Bench.Driver do
  # Only run/2 is instrumented: it makes the calls below nested calls (the common case inside
  # an application); loop/3 stays plain.
  # The run_* functions stay open while their loop runs (their loop call is not a tail call,
  # which the recorder keeps as one: the caller's frame would be gone), so the calls measured
  # are nested under an instrumented caller.
  def run(mod, n) do
    result = loop(mod, n, 0)
    result
  end

  def loop(_mod, 0, acc), do: acc
  def loop(mod, n, acc), do: loop(mod, n - 1, acc + mod.f(n, 1))

  def loop_g(_mod, 0), do: :ok
  def loop_g(mod, n), do: (mod.g(n, 1); loop_g(mod, n - 1))

  def loop_f(_mod, 0), do: :ok
  def loop_f(mod, n), do: (mod.f(n, 1); loop_f(mod, n - 1))

  def loop_h(_mod, 0), do: :ok
  def loop_h(mod, n), do: (mod.h(n, 1, 2, 3, 4, 5, 6, 7); loop_h(mod, n - 1))

  def run_h(mod, n), do: (_ = loop_h(mod, n); :ok)
  def run_g(mod, n), do: (_ = loop_g(mod, n); :ok)
  def run_f(mod, n), do: (_ = loop_f(mod, n); :ok)
end
"""

Bench.compile("plain", tiny.("Bench.Plain"), root)
Bench.compile("calls", tiny.("Bench.Calls"), root)
Bench.compile("full", tiny.("Bench.Full"), root)
Bench.compile("driver", driver, root)
lib_dir = Path.join([root, "_build", "bench", "lib"])

{[_], [], next} =
  Instrumenter.instrument([%{"module" => "Bench.Full", "functions" => nil}], lib_dir, 1)

{[_], [], next} =
  Instrumenter.instrument([%{"module" => "Bench.Calls", "functions" => nil}], lib_dir, next,
    bindings: false
  )

{[_], [], _} =
  Instrumenter.instrument(
    [
      %{
        "module" => "Bench.Driver",
        "functions" => [
          %{"name" => "run", "arity" => 2},
          %{"name" => "run_g", "arity" => 2},
          %{"name" => "run_f", "arity" => 2},
          %{"name" => "run_h", "arity" => 2}
        ]
      }
    ],
    lib_dir,
    next,
    bindings: false
  )

n = 30_000

# 1. CALL + RETURN of a tiny function (no bindings), nested under an instrumented caller.
{plain, calls, diff} =
  Bench.paired(fn -> Bench.Driver.run(Bench.Plain, n) end, fn ->
    Bench.Driver.run(Bench.Calls, n)
  end)

per_event = diff / (2 * n)

IO.puts(
  :stderr,
  "tiny call: plain #{Float.round(plain / n, 1)} ns/call, recorded #{Float.round(calls / n, 1)} ns/call"
)

Bench.metric(
  "agent.hot_path_ns",
  per_event,
  "ns",
  200,
  "lower",
  "median over 41 paired runs of #{n} nested calls to f(a, b) = a + b recording CALL+RETURN (seq, timestamp, parent, args, result), minus the same calls uninstrumented, per event"
)

Bench.metric(
  "agent.hot_path_slowdown",
  calls / plain,
  "x",
  nil,
  "report",
  "same loop, recorded ÷ uninstrumented (the function itself is a single addition)"
)

# 2. Per binding: h/8 instrumented with its eight head variables recorded or not.
{_, _, diff} =
  Bench.paired(fn -> Bench.Driver.run_h(Bench.Calls, n) end, fn ->
    Bench.Driver.run_h(Bench.Full, n)
  end)

Bench.metric(
  "agent.binding_ns",
  diff / (8 * n),
  "ns",
  120,
  "lower",
  "median over 41 paired runs: h(a, b, c, d, e, f, g, i) recording its 8 head variables minus recording none, per binding (bindings travel in the CALL event)"
)

# 3. The same tiny call made from uninstrumented code: every call is outermost, so each one
#    also writes its buffer to the table (this is what calls from a test process cost).
{_, _, diff} =
  Bench.paired(fn -> Bench.Driver.loop_f(Bench.Plain, n) end, fn ->
    Bench.Driver.loop_f(Bench.Calls, n)
  end)

Bench.metric(
  "agent.hot_path_toplevel_ns",
  diff / (2 * n),
  "ns",
  nil,
  "report",
  "as agent.hot_path_ns but every call is an outermost call (writes its 2 events to ETS each time)"
)

# 4. CPU-bound recursion: fib(22), calls+returns only and with bindings, ÷ plain.
{[fib_plain, fib_calls, fib_full], _} =
  Bench.rounds([
    fn -> Bench.Plain.fib(22) end,
    fn -> Bench.Calls.fib(22) end,
    fn -> Bench.Full.fib(22) end
  ])

IO.puts(
  :stderr,
  "fib(22): plain #{div(fib_plain, 1000)} us, calls #{div(fib_calls, 1000)} us, full #{div(fib_full, 1000)} us"
)

Bench.metric(
  "agent.slowdown_calls_cpu",
  fib_calls / fib_plain,
  "x",
  nil,
  "report",
  "fib(22) (57,313 calls) with CALL+RETURN recorded ÷ uninstrumented, same run"
)

Bench.metric(
  "agent.slowdown_full_cpu",
  fib_full / fib_plain,
  "x",
  nil,
  "report",
  "fib(22) with CALL+RETURN and the head variable recorded ÷ uninstrumented, same run"
)

# 5. Memory per small event in the store (the agent's ring of ETS chunks): the nested tiny
#    calls of 1 recorded once; the table's memory ÷ events, and what the cap accounting charged
#    for them (the buffer cap is enforced on that charge, so it must not be below the real size).
Bench.reset()
ref = Store.atomics()
before = :ets.info(Store.events_table(), :memory)
Bench.Driver.run(Bench.Calls, n)
Runtime.flush()
wordsize = :erlang.system_info(:wordsize)
stored = (:ets.info(Store.events_table(), :memory) - before) * wordsize
charged = :atomics.get(ref, Store.index(:pending)) * wordsize
events = 2 * n + 2
Bench.reset()

Bench.metric(
  "agent.ring_bytes_per_event",
  stored / events,
  "bytes",
  160,
  "lower",
  "#{events} CALL/RETURN events of f(a, b) (two small integers in, one out) in the store's ETS chunks: #{stored} bytes; the buffer cap charged #{Float.round(charged / events, 1)} bytes per event (#{Float.round(charged / stored, 2)}x the real size)"
)

File.rm_rf!(root)
