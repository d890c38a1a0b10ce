# agent.int_vs_full: the same CPU-bound workload (fib(22): ~57k tiny calls, each with a head
# variable) interpreted by `:int` — what the ElixirLS debugger runs code under — ÷ fully recorded
# by our agent (CALL, binding, RETURN into the store), same run, interleaved, medians of 7.
# Also reports plain (uninstrumented) time. Needs the Debian package erlang-debugger
# (scripts/setup installs it). Run from beam_agent/: mix run --no-start ../bench/agent/int_vs_full.exs
alias ElixirScope.Agent.{Instrumenter, JSON, Runtime, Store}

{:ok, _} = Application.ensure_all_started(:elixir_scope_agent)

if :code.which(:int) == :non_existing do
  IO.puts(:stderr, "the :int interpreter (Debian package erlang-debugger) is not installed")
  System.halt(1)
end

root = Path.join(System.tmp_dir!(), "es-bench-int-#{System.pid()}")
File.rm_rf!(root)
lib = Path.join(root, "lib")
File.mkdir_p!(lib)

source = fn mod ->
  """
  defmodule #{mod} do
    def fib(n) when n < 2, do: n
    def fib(n), do: fib(n - 1) + fib(n - 2)
  end
  """
end

for {name, mod} <- [plain: "Bench.IntPlain", int: "Bench.IntInterp", full: "Bench.IntFull"] do
  ebin = Path.join([root, "_build", "bench", "lib", "bench_#{name}", "ebin"])
  File.mkdir_p!(ebin)
  file = Path.join(lib, "#{name}.ex")
  File.write!(file, source.(mod))

  for {m, bin} <- Code.compile_string(source.(mod), file),
      do: File.write!(Path.join(ebin, "#{m}.beam"), bin)

  Code.prepend_path(ebin)
end

lib_dir = Path.join([root, "_build", "bench", "lib"])

{[_], [], _} =
  Instrumenter.instrument([%{"module" => "Bench.IntFull", "functions" => nil}], lib_dir, 1)

# :int reads the module's .beam file: load it from there rather than from memory.
:code.purge(Bench.IntInterp)
:code.delete(Bench.IntInterp)

{:module, Bench.IntInterp} =
  :code.load_abs(
    String.to_charlist(Path.join([lib_dir, "bench_int", "ebin", "Elixir.Bench.IntInterp"]))
  )

{:module, Bench.IntInterp} = :int.ni(Bench.IntInterp)

n = 22
ref = Store.atomics()

time = fn fun ->
  Runtime.flush()
  Store.reset(ref)
  Store.enable(ref, true)
  :erlang.garbage_collect()
  {us, _} = :timer.tc(fun)
  us
end

median = fn xs -> xs |> Enum.sort() |> Enum.at(div(length(xs), 2)) end
expected = Bench.IntPlain.fib(n)
^expected = Bench.IntInterp.fib(n)
^expected = Bench.IntFull.fib(n)

runs =
  for _ <- 1..7 do
    {time.(fn -> Bench.IntPlain.fib(n) end), time.(fn -> Bench.IntInterp.fib(n) end),
     time.(fn -> Bench.IntFull.fib(n) end)}
  end

plain = median.(Enum.map(runs, &elem(&1, 0)))
int = median.(Enum.map(runs, &elem(&1, 1)))
full = median.(Enum.map(runs, &elem(&1, 2)))
:int.nn(Bench.IntInterp)

IO.puts(
  JSON.encode!(%{
    name: "agent.int_vs_full",
    value: Float.round(int / full, 2),
    unit: "x",
    target: 3,
    better: "higher",
    baseline:
      "fib(#{n}) (#{2 * Bench.IntPlain.fib(n + 1) - 1} calls): :int #{div(int, 1000)} ms ÷ full recall #{div(full, 1000)} ms (plain #{plain} µs; :int is #{round(int / max(plain, 1))}× plain, full recall #{round(full / max(plain, 1))}×), medians of 7 interleaved runs"
  })
)

File.rm_rf!(root)
