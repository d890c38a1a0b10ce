defmodule ElixirScope.Agent.InstrumentCacheTest do
  # Records into the one shared store: one at a time.
  use ExUnit.Case, async: false

  @compile {:no_warn_undefined, [ESFix.Cached, ESFix.Par1, ESFix.Par2, ESFix.Par3]}

  alias ElixirScope.Agent.{Fixtures, Instrumenter, Recording}

  @source ~S'''
  defmodule ESFix.Cached do
    def double(x) do
      y = x * 2
      y
    end

    def loop(0, acc), do: acc
    def loop(n, acc), do: loop(n - 1, acc + double(n))
  end
  '''

  @plan [%{"module" => "ESFix.Cached", "functions" => nil}]

  defp instrument(fix, cache_dir, site \\ 1_000_000) do
    {loaded, skipped, next} =
      Instrumenter.instrument(@plan, fix.lib_dir, site, cache_dir: cache_dir)

    assert skipped == []
    {loaded, next}
  end

  defp restore(loaded), do: assert([] == Instrumenter.restore(loaded))

  defp recorded_calls do
    {{:ok, 12}, rows} = Recording.record(fn -> ESFix.Cached.loop(3, 0) end)
    {for(r <- rows, r.kind == 1, do: r.function), for(r <- rows, r.kind == 4, do: r.name)}
  end

  test "a second instrumentation of the same module and plan comes from the cache, and records the same" do
    fix = Fixtures.compile(@source, name: "cached")
    cache = Path.join(fix.root, "_build/test/elixir_scope_cache")

    {[first], next} = instrument(fix, cache)
    assert [entry] = Path.wildcard(Path.join(cache, "*.cache"))
    expected = recorded_calls()
    assert {["loop", "double", "loop", "double", "loop", "double", "loop"], _} = expected
    restore([first])

    # From the cache: the same result, recording the same.
    {[second], ^next} = instrument(fix, cache)
    assert second.functions == first.functions and second.original == first.original
    assert recorded_calls() == expected
    restore([second])
    assert ESFix.Cached.loop(3, 0) == 12

    # Proof that the cached binary is what gets loaded: put the original (uninstrumented) code
    # in the entry, and nothing is recorded.
    {1, key, {_bin, fns, sites, n}} = :erlang.binary_to_term(File.read!(entry))
    File.write!(entry, :erlang.term_to_binary({1, key, {first.original, fns, sites, n}}))
    {[plain], _} = instrument(fix, cache)
    assert recorded_calls() == {[], []}
    restore([plain])
    File.rm!(entry)

    # Another first site (another plan) is another entry.
    {[third], _} = instrument(fix, cache, 2_000_000)
    assert [other] = Path.wildcard(Path.join(cache, "*.cache"))
    assert other != entry
    restore([third])
  end

  test "a damaged or foreign cache file is ignored and replaced" do
    fix = Fixtures.compile(@source, name: "cached_bad")
    cache = Path.join(fix.root, "_build/test/elixir_scope_cache")
    {[first], _} = instrument(fix, cache)
    restore([first])
    [entry] = Path.wildcard(Path.join(cache, "*.cache"))

    for bad <- [
          "not a term",
          :erlang.term_to_binary({1, "another key", {<<>>, [], [], 1}}),
          :erlang.term_to_binary({1, Path.basename(entry, ".cache"), {:not_a_binary, [], [], 1}})
        ] do
      File.write!(entry, bad)
      {[loaded], _} = instrument(fix, cache)
      assert {["loop" | _], _} = recorded_calls()
      restore([loaded])
      # Written again, whole.
      assert {1, _, {bin, _, _, _}} = :erlang.binary_to_term(File.read!(entry))
      assert is_binary(bin)
    end
  end

  test "an unwritable cache directory only means no cache" do
    fix = Fixtures.compile(@source, name: "cached_ro")
    # A file where the directory should be: nothing can be written under it.
    blocker = Path.join(fix.root, "_build/test/not_a_dir")
    File.mkdir_p!(Path.dirname(blocker))
    File.write!(blocker, "")
    {[loaded], _} = instrument(fix, Path.join(blocker, "cache"))
    assert {["loop" | _], _} = recorded_calls()
    restore([loaded])
  end

  test "several modules (compiled at once): loaded in plan order, sites numbered in plan order, skips named" do
    source =
      for i <- 1..3, into: "" do
        "defmodule ESFix.Par#{i} do\n  def f#{i}(x), do: x + #{i}\n  def g#{i}(y), do: f#{i}(y) * 2\nend\n"
      end

    fix = Fixtures.compile(source, name: "parallel")

    plan =
      for m <- ["ESFix.Par1", "ESFix.Missing", "ESFix.Par2", "ESFix.Par3"],
          do: %{"module" => m, "functions" => nil}

    {loaded, skipped, next} = Instrumenter.instrument(plan, fix.lib_dir, 5_000_000)
    assert Enum.map(loaded, & &1.module) == [ESFix.Par1, ESFix.Par2, ESFix.Par3]
    assert [{"ESFix.Missing", reason}] = skipped
    assert reason =~ "no compiled module"

    {{:ok, 10}, rows} = Recording.record(fn -> ESFix.Par1.g1(5) + ESFix.Par3.f3(-5) end)

    assert Enum.map(rows, &{&1.module, &1.function, &1.kind}) |> Enum.filter(&(elem(&1, 2) == 1)) ==
             [{"ESFix.Par1", "g1", 1}, {"ESFix.Par1", "f1", 1}, {"ESFix.Par3", "f3", 1}]

    # The same numbering as instrumenting them one after the other.
    restore(loaded)

    {again, last} =
      Enum.reduce(plan, {[], 5_000_000}, fn p, {acc, site} ->
        {l, _, n} = Instrumenter.instrument([p], fix.lib_dir, site)
        {acc ++ l, n}
      end)

    assert last == next
    restore(again)
  end
end
