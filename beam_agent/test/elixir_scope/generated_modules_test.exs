defmodule ElixirScope.Agent.GeneratedModulesTest do
  # Property test of the rewriter: random modules (matches, case/with/cond/if, fns,
  # comprehensions, try/rescue, receive, tail and body recursion, pinned variables) must return,
  # raise and throw exactly the same instrumented as plain. Records into the one shared store.
  use ExUnit.Case, async: false

  alias ElixirScope.Agent.{Fixtures, Instrumenter, Recording, Runtime}

  @modules 40
  @inputs 12

  test "#{@modules} generated modules behave identically instrumented" do
    kinds =
      for i <- 1..@modules, reduce: %{} do
        acc ->
          seed = {i, 7, 13}
          :rand.seed(:exsss, seed)
          name = "ESGen.M#{i}"
          source = Gen.module(name)
          # Generated code leaves variables unused: keep the compiler's warnings out of the log.
          fix =
            ExUnit.CaptureIO.with_io(:stderr, fn ->
              Fixtures.compile(source, name: "gen#{i}", app: "gen_app_#{i}")
            end)
            |> elem(0)

          mod = Module.concat([name])

          inputs =
            for _ <- 1..@inputs,
                do: {:rand.uniform(4) - 1, :rand.uniform(21) - 11, :rand.uniform(21) - 11}

          funs = for f <- 0..(Gen.functions() - 1), do: :"f#{f}"
          plain = run(mod, funs, inputs)
          {[loaded], []} = Recording.instrument(fix.lib_dir, [name])

          try do
            {{:ok, recorded}, rows} = Recording.record(fn -> run(mod, funs, inputs) end)

            assert recorded == plain,
                   "module #{i} (seed #{inspect(seed)}) differs instrumented:\n#{source}"

            calls = Enum.count(rows, &(&1.kind == 1))
            ends = Enum.count(rows, &(&1.kind in [2, 3, 5]))
            assert calls == ends, "module #{i}: #{calls} calls but #{ends} ends\n#{source}"
            assert Runtime.stack() == []
            Enum.reduce(rows, acc, fn r, acc -> Map.update(acc, r.kind, 1, &(&1 + 1)) end)
          after
            Instrumenter.restore([loaded])
          end
      end

    # The programs exercised every kind of event: calls, returns, exceptions, bindings, tail calls.
    assert Enum.all?(1..5, &(Map.get(kinds, &1, 0) > 0)), inspect(kinds)
  end

  defp run(mod, funs, inputs) do
    for f <- funs, {n, a, b} <- inputs do
      try do
        {:ok, apply(mod, f, [n, a, b])}
      catch
        kind, reason -> {kind, normalize(reason)}
      end
    end
  end

  # Exceptions carry no pids or refs here; compare them as they are.
  defp normalize(reason), do: reason
end

defmodule Gen do
  @moduledoc false
  # Random Elixir source over integer variables. Every function is `fK(n, a, b)`; `n` bounds
  # recursion (calls pass `n - 1` and stop at 0), so every program terminates.

  @functions 4
  def functions, do: @functions

  def module(name) do
    funs = for k <- 0..(@functions - 1), do: function(k)
    "defmodule #{name} do\n" <> Enum.join(funs, "\n") <> "\nend\n"
  end

  defp function(k) do
    vars = ["a", "b"]
    {body, _vars} = block(3, vars, k)

    """
      def f#{k}(0, a, b), do: a - b
      def f#{k}(n, a, b) when n > 0 do
    #{indent(body, 4)}
      end
    """
  end

  # A block of statements ending in a value or a tail call.
  defp block(depth, vars, k) do
    count = :rand.uniform(3)

    {stmts, vars} = Enum.map_reduce(1..count, vars, fn _, vars -> statement(depth, vars, k) end)

    {Enum.join(stmts, "\n") <> "\n" <> tail(depth, vars, k), vars}
  end

  defp statement(depth, vars, k) do
    v = "v#{System.unique_integer([:positive])}"

    case :rand.uniform(if depth > 0, do: 9, else: 3) do
      1 ->
        {"#{v} = #{expr(vars)}", [v | vars]}

      2 ->
        {"{#{v}, _} = {#{expr(vars)}, #{expr(vars)}}", [v | vars]}

      3 ->
        {"[#{v} | _] = [#{expr(vars)}, #{expr(vars)}]", [v | vars]}

      4 ->
        {"#{v} =\n" <> indent(branch(depth - 1, vars, k), 2), [v | vars]}

      5 ->
        {"#{v} = for x <- [#{expr(vars)}, #{expr(vars)}], y = x * 2, y > -100, do: x + y",
         [v | vars]}

      6 ->
        {"#{v} = Enum.map([#{expr(vars)}, #{expr(vars)}], fn x -> x + #{expr(vars)} end) |> Enum.sum()",
         [v | vars]}

      # At most one body-recursive call per function (top-level block only): bounded work.
      7 when depth == 3 ->
        {"#{v} = f#{:rand.uniform(@functions) - 1}(n - 1, #{expr(vars)}, #{expr(vars)})",
         [v | vars]}

      7 ->
        {"#{v} = #{expr(vars)}", [v | vars]}

      8 ->
        {"#{v} = #{try_expr(vars)}", [v | vars]}

      9 ->
        {"send(self(), {:msg, #{expr(vars)}})\n#{v} = receive do\n  {:msg, m} -> m + 1\nend",
         [v | vars]}
    end
  end

  defp branch(depth, vars, k) do
    x = pick(vars)

    case :rand.uniform(5) do
      1 ->
        "case #{expr(vars)} do\n  0 -> #{expr(vars)}\n  c when c > 0 -> c + #{expr(vars)}\n  c -> c - 1\nend"

      2 ->
        "with {:ok, w} <- #{ok_or_error(vars)},\n     {:ok, z} <- #{ok_or_error(vars)} do\n  w + z\nelse\n  :error -> #{expr(vars)}\nend"

      3 ->
        "cond do\n  #{x} > 3 -> #{expr(vars)}\n  #{x} < -3 -> #{expr(vars)}\n  true -> 0\nend"

      4 ->
        "case {#{x}, #{expr(vars)}} do\n  {^#{x}, p} -> p\nend"

      5 ->
        {inner, _} = block(depth, vars, k)
        "if #{x} > 0 do\n" <> indent(inner, 2) <> "\nelse\n  #{expr(vars)}\nend"
    end
  end

  defp try_expr(vars) do
    x = pick(vars)

    "try do\n  if #{x} == 3, do: raise(ArgumentError, \"three\"), else: #{x} * 2\nrescue\n  e in ArgumentError -> byte_size(e.message)\nend"
  end

  defp ok_or_error(vars) do
    x = pick(vars)
    "(if #{x} > -5, do: {:ok, #{x}}, else: :error)"
  end

  # The last expression: a value, a raise, a throw, or a tail call (local or to a sibling).
  defp tail(depth, vars, k) do
    case :rand.uniform(if depth > 0, do: 7, else: 4) do
      1 -> expr(vars)
      2 -> "f#{k}(n - 1, #{expr(vars)}, #{pick(vars)})"
      3 -> "f#{:rand.uniform(@functions) - 1}(n - 1, #{expr(vars)}, #{expr(vars)})"
      4 -> "if #{pick(vars)} == 5, do: throw({:five, #{pick(vars)}}), else: #{expr(vars)}"
      5 -> branch(depth - 1, vars, k)
      6 -> "apply(__MODULE__, :f#{k}, [n - 1, #{expr(vars)}, #{expr(vars)}])"
      7 -> "(fn z -> z + #{expr(vars)} end).(#{pick(vars)})"
    end
  end

  defp expr(vars) do
    case :rand.uniform(4) do
      1 -> pick(vars)
      2 -> "#{pick(vars)} + #{:rand.uniform(5)}"
      3 -> "#{pick(vars)} * #{pick(vars)} - #{pick(vars)}"
      4 -> "rem(#{pick(vars)}, 7)"
    end
  end

  defp pick(vars), do: Enum.random(vars)

  defp indent(text, n) do
    pad = String.duplicate(" ", n)
    text |> String.split("\n") |> Enum.map_join("\n", &(pad <> &1))
  end
end
