defmodule ElixirScope.Agent.ValueTest do
  use ExUnit.Case, async: true

  alias ElixirScope.Agent.{Prune, Value}

  @wide %{max_chars: 10_000, max_items: 1_000, max_depth: 100}

  defmodule Point do
    defstruct [:x, :y]
  end

  test "small values print exactly as inspect/1 prints them" do
    pid = self()
    ref = make_ref()

    corpus = [
      0,
      -12,
      12_345_678_901_234_567_890,
      1.5,
      -0.0,
      :ok,
      nil,
      true,
      :"with space",
      Sample.Ledger,
      "",
      "hello",
      "é…\n\"q\"",
      <<0, 255, 1>>,
      <<1::3>>,
      [],
      [1, 2, 3],
      ~c"hi",
      [1 | 2],
      [a: 1, b: "x"],
      ["Elixir.Foo": 1],
      {},
      {1, {2, {3}}},
      %{},
      %{a: 1, b: [2]},
      %{"k" => 1, :a => 2},
      %{{1, 2} => :t},
      Map.new(1..40, &{&1, &1}),
      %Point{x: 1, y: 2},
      MapSet.new([1, 2]),
      ~D[2024-01-02],
      %RuntimeError{message: "boom"},
      pid,
      ref,
      &Enum.map/2,
      {pid, [:alias | ref]},
      [[[[]]]],
      %{list: [1, {2, "three"}], nested: %{deep: %{deeper: :yes}}}
    ]

    for term <- corpus, do: assert(Value.format(term, @wide) == inspect(term), inspect(term))
  end

  test "more than max_items elements: the rest is '...' and the value ends with '…'" do
    opts = %{max_chars: 400, max_items: 3, max_depth: 6}
    assert Value.format(Enum.to_list(1..10), opts) == "[1, 2, 3, ...]…"
    assert Value.format({1, 2, 3, 4}, opts) == "{1, 2, 3, ...}…"
    assert Value.format(%{a: 1, b: 2, c: 3, d: 4}, opts) == "%{a: 1, b: 2, c: 3, ...}…"
    assert Value.format([1, 2, 3], opts) == "[1, 2, 3]"
  end

  test "containers deeper than max_depth become '…'" do
    opts = %{max_chars: 400, max_items: 25, max_depth: 2}
    assert Value.format([1, [2, [3, [4]]]], opts) == "[1, [2, …]]…"
    assert Value.format(%{a: %{b: %{c: 1}}}, opts) == "%{a: %{b: …}}…"
    assert Value.format({:ok, {:nested, {:too, :deep}}}, opts) == "{:ok, {:nested, …}}…"
  end

  test "at most max_chars characters" do
    opts = %{max_chars: 20, max_items: 100, max_depth: 10}
    text = Value.format(Enum.to_list(1..100), opts)
    assert String.length(text) == 20 and String.ends_with?(text, "…")
    text = Value.format(String.duplicate("é", 100), opts)
    assert String.length(text) <= 20 and String.ends_with?(text, "…")
    assert Value.format("short", opts) == ~s("short")
  end

  test "huge values are bounded on the hot path and still print" do
    big_list = Enum.to_list(1..1_000_000)
    big_bin = :binary.copy("a", 10_000_000)
    deep = Enum.reduce(1..10_000, :leaf, fn _, acc -> {acc} end)
    big_map = Map.new(1..100_000, &{&1, &1})
    opts = Value.default_opts()

    for value <- [
          big_list,
          big_bin,
          deep,
          big_map,
          [big_bin, big_bin],
          %{data: big_bin},
          {big_list}
        ] do
      assert Prune.fits(value, Prune.budget()) < 0
      pruned = Prune.prune(value)
      assert :erts_debug.flat_size(pruned) < Prune.budget() * 4
      text = Value.format(pruned, opts)
      assert String.length(text) <= opts.max_chars + 1
      assert String.ends_with?(text, "…")
    end

    assert Value.format(Prune.prune(big_bin), opts) =~ ~r/^"a+/
    assert Value.format(Prune.prune(big_list), opts) =~ ~r/^\[1, 2, 3,/
  end

  test "binaries that keep a large binary alive are copied" do
    big = :binary.copy("x", 1_000_000)
    small = :binary.part(big, 0, 100)
    assert :binary.referenced_byte_size(small) == 1_000_000
    assert Prune.fits(small, Prune.budget()) < 0
    {_, copy} = Prune.prune(small)
    assert copy == small and :binary.referenced_byte_size(copy) == 100
  end

  test "fits/2: the same budget left as the plain walk, for maps small and large and tuples of any size" do
    :rand.seed(:exsss, {7, 8, 9})

    for _ <- 1..2_000 do
      term = random_term(3)
      got = Prune.fits(term, Prune.budget())
      want = reference_fits(term, Prune.budget())
      # Over budget, only the sign matters (where the walk stopped may differ).
      if want >= 0, do: assert(got == want), else: assert(got < 0)
    end
  end

  # Prune.fits/2 as it was written first (every map through :maps.fold/3, every tuple element
  # by element).
  defp reference_fits(_t, b) when b < 0, do: b
  defp reference_fits(t, b) when is_atom(t) or is_integer(t), do: b - 1
  defp reference_fits([h | t], b), do: reference_fits(t, reference_fits(h, b - 2))
  defp reference_fits([], b), do: b

  defp reference_fits(t, b) when is_tuple(t),
    do: t |> Tuple.to_list() |> Enum.reduce(b - 1, &reference_fits(&1, &2 - 1))

  defp reference_fits(t, b) when is_binary(t), do: b - 3 - div(byte_size(t), 8)
  defp reference_fits(t, b) when is_float(t), do: b - 3

  defp reference_fits(t, b) when is_map(t) do
    if map_size(t) * 3 > b,
      do: -1,
      else: :maps.fold(fn k, v, b -> reference_fits(v, reference_fits(k, b - 3)) end, b - 2, t)
  end

  defp random_term(0), do: Enum.random([1, :a, "text", 2.5])

  defp random_term(d) do
    case :rand.uniform(4) do
      1 -> Map.new(1..:rand.uniform(45), fn i -> {i, random_term(d - 1)} end)
      2 -> Map.new(1..:rand.uniform(5), fn i -> {"k#{i}", random_term(d - 1)} end)
      3 -> Enum.map(1..:rand.uniform(4), fn _ -> random_term(d - 1) end)
      4 -> List.to_tuple(Enum.map(1..:rand.uniform(5), fn _ -> random_term(d - 1) end))
    end
  end

  test "small values are kept as they are" do
    for v <- [1, :a, "abc", [1, 2], {:ok, %{a: 1}}, self(), 2.5] do
      assert Prune.fits(v, Prune.budget()) >= 0
    end
  end

  test "pruned structs print generically; odd terms never raise" do
    huge = %Point{x: Enum.to_list(1..10_000), y: 2}
    text = Value.format(Prune.prune(huge))
    assert text =~ ~r/^%ElixirScope.Agent.ValueTest.Point\{x: \[1, 2,/
    # A struct whose Inspect implementation would fail: printed field by field.
    assert Value.format(%{__struct__: Date, nonsense: 1}) == "%Date{nonsense: 1}"
    assert is_binary(Value.format(%{__struct__: NotAModule, a: 1}))
    assert Value.format(<<1::1>>) == "<<1::size(1)>>"
  end

  test "exceptions print as Elixir's banner" do
    opts = Value.default_opts()

    assert Value.format_exception({:error, %RuntimeError{message: "boom"}, []}, opts) ==
             "** (RuntimeError) boom"

    assert Value.format_exception({:error, :badarith, []}, opts) =~ "** (ArithmeticError)"
    assert Value.format_exception({:throw, {:x, 1}, []}, opts) == "** (throw) {:x, 1}"
    assert Value.format_exception({:exit, :normal, []}, opts) == "** (exit) normal"
    pruned = Prune.prune({:error, %RuntimeError{message: String.duplicate("m", 5000)}, []})
    assert Value.format_exception(pruned, opts) =~ ~r/^\*\* \(error\) .*…$/
  end

  # A plain `elixir` node does not consolidate protocols: there Inspect looks a struct's
  # implementation up on the code path at every call, which Value.format/2 does once per module.
  test "structs in a node without consolidated protocols print as inspect prints them" do
    script = ~S"""
    defmodule Plain, do: defstruct [:a, :b]
    defmodule Nested, do: defstruct [:inner, :list]
    defmodule Only do
      @derive {Inspect, only: [:shown]}
      defstruct [:shown, :hidden]
    end

    alias ElixirScope.Agent.Value
    opts = %{max_chars: 400, max_items: 25, max_depth: 6}

    terms = [
      struct(Plain, a: 1, b: "two"),
      struct(Nested, inner: struct(Plain, a: [1, 2], b: %{k: :v}), list: [MapSet.new([1, 2])]),
      struct(Only, shown: 1, hidden: 2),
      MapSet.new([1, 2, 3]),
      ~D[2026-12-03],
      URI.parse("https://example.com/x?y=1"),
      1..10//2,
      struct(Plain, a: Enum.to_list(1..100), b: nil)
    ]

    IO.puts("consolidated=#{Inspect.__protocol__(:consolidated?)}")

    for t <- terms do
      # (a truncated text ends with the truncation mark, as everywhere)
      text = inspect(t, limit: 25, printable_limit: 400)
      expected = if text =~ "...", do: text <> "…", else: text
      got = Value.format(t, opts)
      IO.puts(if got == expected, do: "same", else: "DIFFERENT #{got} vs #{expected}")
    end

    cached = for {{:"$elixir_scope_inspect_impl", mod}, _} <- Process.get(), do: mod
    IO.puts("cached=#{inspect(Enum.sort(cached))}")
    """

    ebin = Path.dirname(:code.which(Value))
    {out, 0} = System.cmd("elixir", ["-pa", ebin, "-e", script], stderr_to_stdout: true)
    lines = String.split(out, "\n", trim: true)
    assert hd(lines) == "consolidated=false"
    assert Enum.slice(lines, 1, 8) == List.duplicate("same", 8)
    assert List.last(lines) == "cached=[Date, MapSet, Nested, Only, Plain, Range, URI]"
  end
end
