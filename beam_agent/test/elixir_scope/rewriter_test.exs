defmodule ElixirScope.Agent.RewriterTest do
  # The hot path writes into the one shared store: these tests run one at a time.
  use ExUnit.Case, async: false

  # Fixture modules are compiled when the tests run.
  @compile {:no_warn_undefined, [ESFix.Shapes, ESFix.Restore, ESFix.Some]}

  alias ElixirScope.Agent.{Fixtures, Instrumenter, Recording, Rewriter, Runtime, Store}

  @source ~S'''
  defmodule ESFix.Shapes do
    use GenServer

    def start_link(arg), do: GenServer.start_link(__MODULE__, arg)

    @impl true
    def init(arg), do: {:ok, arg}

    @impl true
    def handle_call(:get, _from, state), do: {:reply, state, state}

    def classify(n) when is_integer(n) and n < 0, do: :negative
    def classify(0), do: :zero
    def classify(n) when is_integer(n), do: {:positive, n}
    def classify(%{kind: kind} = shape), do: {:shape, kind, map_size(shape)}
    def classify(<<head, _rest::binary>>), do: {:binary, head}
    def classify([_ | _] = list), do: {:list, length(list)}

    def greet(name, greeting \\ "hello"), do: "#{greeting}, #{name}"

    def ignore(_unused, _, used), do: used

    def factorial(0), do: 1
    def factorial(n) when n > 0, do: n * factorial(n - 1)

    def count_down(0, acc), do: acc
    def count_down(n, acc), do: count_down(n - 1, [n | acc])

    def boom(message), do: raise(message)
    def thrower(value), do: throw(value)
    def exiter(reason), do: exit(reason)
    def bad_match(x) do
      {:ok, y} = x
      y
    end
    def nested_raise(n), do: n + boom_inner(n)
    defp boom_inner(n), do: raise(ArgumentError, "inner #{n}")

    def rescuer(n) do
      try do
        boom("caught #{n}")
      rescue
        e in RuntimeError -> {:rescued, e.message}
      end
    end

    def pinned(x, y) do
      case y do
        ^x -> :same
        _other -> :different
      end
    end

    def waiter(parent) do
      send(parent, {:waiting, self()})

      receive do
        {:go, n} -> classify(n)
      end
    end

    def huge(value), do: is_binary(value) or is_list(value)

    def eraser(x) do
      :erlang.erase()
      factorial(x)
    end

    def spin(0, acc), do: acc
    def spin(n, acc), do: spin(n - 1, acc + 1)

    def serve(total) do
      receive do
        {:add, n} -> serve(total + n)
        {:sync, pid} -> send(pid, :synced); serve(total)
        {:done, pid} -> send(pid, {:total, total})
      end
    end

    def apply_it(fun, x), do: fun.(x)
    def total(list), do: Enum.sum(list)

    def matches(input) do
      {:ok, value} = input
      doubled = value * 2
      result = case doubled do
        n when n > 10 -> {:big, n}
        small -> {:small, small}
      end
      [first | _] = for i <- [value], j = i + 1, do: {i, j}
      mapped = Enum.map([1, 2], fn k -> k + value end)
      {result, first, mapped}
    end

    def already(x) do
      x = x + 1
      {:ok, ^x} = {:ok, x}
      x
    end

    def with_it(map) do
      with {:ok, a} <- Map.fetch(map, :a),
           {:ok, b} <- Map.fetch(map, :b) do
        a + b
      else
        :error -> :missing
      end
    end

    def waiter2(parent) do
      send(parent, {:ready, self()})

      receive do
        {:msg, payload} -> payload
      end
    end
  end
  '''

  setup_all do
    fix = Fixtures.compile(@source, name: "shapes")
    # The original results, before instrumenting.
    expected = run_all()
    {loaded, skipped} = Recording.instrument(fix.lib_dir, ["ESFix.Shapes"])
    on_exit(fn -> Instrumenter.restore(loaded) end)
    %{fix: fix, expected: expected, loaded: loaded, skipped: skipped}
  end

  defp run_all do
    inputs = [-3, 0, 7, %{kind: :circle, r: 2}, "xyz", [1, 2, 3]]

    %{
      classify: Enum.map(inputs, &ESFix.Shapes.classify/1),
      no_clause: catch_it(fn -> ESFix.Shapes.classify(:atom) end),
      greet: {ESFix.Shapes.greet("ann"), ESFix.Shapes.greet("bob", "hi")},
      ignore: ESFix.Shapes.ignore(1, 2, 3),
      factorial: ESFix.Shapes.factorial(10),
      count_down: length(ESFix.Shapes.count_down(3_000, [])),
      boom: catch_it(fn -> ESFix.Shapes.boom("bang") end),
      thrower: catch_it(fn -> ESFix.Shapes.thrower({:t, 1}) end),
      exiter: catch_it(fn -> ESFix.Shapes.exiter(:bye) end),
      bad_match: catch_it(fn -> ESFix.Shapes.bad_match(:nope) end),
      nested: catch_it(fn -> ESFix.Shapes.nested_raise(4) end),
      rescuer: ESFix.Shapes.rescuer(5),
      pinned: {ESFix.Shapes.pinned(1, 1), ESFix.Shapes.pinned(1, 2)},
      spin: ESFix.Shapes.spin(1000, 0),
      apply_it:
        {ESFix.Shapes.apply_it(&(&1 * 3), 4), catch_it(fn -> ESFix.Shapes.apply_it(nil, 1) end)},
      total: ESFix.Shapes.total([1, 2, 3]),
      matches:
        {ESFix.Shapes.matches({:ok, 3}), ESFix.Shapes.matches({:ok, 30}),
         catch_it(fn -> ESFix.Shapes.matches(:error) end)},
      already: ESFix.Shapes.already(1),
      with_it: {ESFix.Shapes.with_it(%{a: 1, b: 2}), ESFix.Shapes.with_it(%{a: 1})}
    }
  end

  # {kind, reason, the innermost stacktrace entry}. Deeper entries may differ: a call that was
  # a tail call (or that the compiler knew never returns) keeps its caller's frame once the
  # callee is wrapped in `try`, so a stacktrace can show an extra caller.
  defp catch_it(fun) do
    fun.()
  catch
    kind, reason -> {kind, reason, hd(__STACKTRACE__)}
  end

  test "instrumented functions return, raise, throw and exit exactly as the original", ctx do
    {actual, _rows} = Recording.record(&run_all/0)
    assert actual == {:ok, ctx.expected}
  end

  test "functions injected by `use GenServer` and default-argument wrappers are not instrumented",
       ctx do
    [loaded] = ctx.loaded
    fns = loaded.functions
    assert {:handle_call, 3} in fns and {:init, 1} in fns and {:start_link, 1} in fns
    assert {:greet, 2} in fns
    refute {:greet, 1} in fns

    for injected <- [child_spec: 1, code_change: 3, terminate: 2, handle_info: 2, handle_cast: 2],
        do: refute(injected in fns)

    refute Enum.any?(fns, fn {name, _} -> name in [:__info__, :module_info] end)
    assert ctx.skipped == []
  end

  test "a call records CALL, one BINDING per head variable and RETURN, sharing the call id" do
    {{:ok, {:shape, :circle, 2}}, rows} =
      Recording.record(fn -> ESFix.Shapes.classify(%{kind: :circle, r: 2}) end)

    assert [call | rest] = rows

    assert call.kind == 1 and call.module == "ESFix.Shapes" and call.function == "classify" and
             call.arity == 1

    assert call.value == "[%{kind: :circle, r: 2}]"
    assert call.call_id == call.seq and call.parent_id == 0
    assert String.ends_with?(call.file, "lib/shapes.ex") and call.line > 0

    assert [{"kind", ":circle"}, {"shape", "%{kind: :circle, r: 2}"}] ==
             for(r <- rest, r.kind == 4, do: {r.name, r.value})

    assert [ret] = for(r <- rows, r.kind == 2, do: r)

    assert ret.value == "{:shape, :circle, 2}" and ret.call_id == call.call_id and
             ret.line == call.line

    assert Enum.map(rows, & &1.seq) == Enum.sort(Enum.map(rows, & &1.seq))
    assert Enum.all?(rows, &(&1.pid == inspect(self())))
  end

  test "guards and multiple clauses: the matching clause's line is recorded" do
    {_, rows} =
      Recording.record(fn ->
        {ESFix.Shapes.classify(-1), ESFix.Shapes.classify(0), ESFix.Shapes.classify(3)}
      end)

    lines = for r <- rows, r.kind == 1, do: r.line
    assert length(Enum.uniq(lines)) == 3
    assert Enum.sort(lines) == lines
  end

  test "underscored and ignored head variables are not bindings; default arguments are" do
    {_, rows} =
      Recording.record(fn -> {ESFix.Shapes.ignore(1, 2, 3), ESFix.Shapes.greet("ann")} end)

    names = for r <- rows, r.kind == 4, do: {r.function, r.name, r.value}

    assert names == [
             {"ignore", "used", "3"},
             {"greet", "name", ~s("ann")},
             {"greet", "greeting", ~s("hello")}
           ]
  end

  test "pinned variables in the body are not recorded as bindings" do
    {{:ok, :same}, rows} = Recording.record(fn -> ESFix.Shapes.pinned(1, 1) end)
    assert for(r <- rows, r.kind == 4, do: r.name) == ["x", "y"]
  end

  test "recursion: each call's parent is its caller, returns pair with their calls" do
    {{:ok, 6}, rows} = Recording.record(fn -> ESFix.Shapes.factorial(3) end)
    calls = for r <- rows, r.kind == 1, do: r
    assert Enum.map(calls, & &1.value) == ["[3]", "[2]", "[1]", "[0]"]
    assert Enum.map(calls, & &1.parent_id) == [0 | Enum.map(Enum.drop(calls, -1), & &1.call_id)]
    returns = for r <- rows, r.kind == 2, do: {r.call_id, r.value}
    assert returns == Enum.zip(Enum.map(Enum.reverse(calls), & &1.call_id), ["1", "1", "2", "6"])
  end

  test "exceptions are recorded formatted like Elixir and the stack is popped" do
    {{:error, %ArgumentError{}, _}, rows} =
      Recording.record(fn -> ESFix.Shapes.nested_raise(4) end)

    assert [inner, outer] = for(r <- rows, r.kind == 3, do: r)
    assert inner.function == "boom_inner" and inner.value == "** (ArgumentError) inner 4"
    assert outer.function == "nested_raise" and outer.parent_id == 0
    assert inner.parent_id == outer.call_id
    assert Runtime.stack() == []

    {_, rows} = Recording.record(fn -> catch_it(fn -> ESFix.Shapes.thrower(:ball) end) end)
    assert [%{value: "** (throw) :ball"}] = for(r <- rows, r.kind == 3, do: r)
    {_, rows} = Recording.record(fn -> catch_it(fn -> ESFix.Shapes.exiter(:bye) end) end)
    assert [%{value: "** (exit) :bye"}] = for(r <- rows, r.kind == 3, do: r)
    {_, rows} = Recording.record(fn -> catch_it(fn -> ESFix.Shapes.bad_match(:nope) end) end)

    assert [%{value: "** (MatchError) no match of right hand side value: :nope"}] =
             for(r <- rows, r.kind == 3, do: r)
  end

  test "an exception rescued inside an instrumented function keeps the stack consistent" do
    {{:ok, {:rescued, "caught 1"}}, rows} = Recording.record(fn -> ESFix.Shapes.rescuer(1) end)
    [outer, inner] = for r <- rows, r.kind == 1, do: r
    assert inner.parent_id == outer.call_id
    assert [%{call_id: id}] = for(r <- rows, r.kind == 3, do: r)
    assert id == inner.call_id
    outer_id = outer.call_id
    assert [%{call_id: ^outer_id}] = for(r <- rows, r.kind == 2, do: r)
    assert Runtime.stack() == []
  end

  test "a tail call ends its caller with TAIL_CALL; the callee takes the caller's place" do
    {{:ok, [1, 2, 3]}, rows} = Recording.record(fn -> ESFix.Shapes.count_down(3, []) end)
    kinds = Enum.map(rows, &{&1.kind, &1.function})

    assert Enum.reject(kinds, &match?({4, _}, &1)) ==
             [
               {1, "count_down"},
               {5, "count_down"},
               {1, "count_down"},
               {5, "count_down"},
               {1, "count_down"},
               {5, "count_down"},
               {1, "count_down"},
               {2, "count_down"}
             ]

    calls = for r <- rows, r.kind == 1, do: r
    tails = for r <- rows, r.kind == 5, do: r
    # Every frame was replaced: each call sits at the top, as in the real stack.
    assert Enum.all?(calls ++ tails, &(&1.parent_id == 0))
    assert Enum.map(tails, & &1.call_id) == Enum.map(Enum.drop(calls, -1), & &1.call_id)
    assert Enum.map(tails, & &1.name) == List.duplicate("ESFix.Shapes.count_down/2", 3)
    assert Enum.map(tails, & &1.value) == ["[2, [3]]", "[1, [2, 3]]", "[0, [1, 2, 3]]"]
    assert [%{value: "[1, 2, 3]"}] = for(r <- rows, r.kind == 2, do: r)
    assert Runtime.stack() == []
  end

  test "a dynamic call in tail position stays a tail call; a call into another module returns" do
    {{:ok, 12}, rows} = Recording.record(fn -> ESFix.Shapes.apply_it(&(&1 * 3), 4) end)
    assert [%{kind: 1}, %{kind: 4}, %{kind: 4}, %{kind: 5, name: "fn/1", value: "[4]"}] = rows
    {{:ok, 6}, rows} = Recording.record(fn -> ESFix.Shapes.total([1, 2, 3]) end)
    assert [%{kind: 1}, %{kind: 4}, %{kind: 2, value: "6"}] = rows
    assert Runtime.stack() == []
  end

  test "10M iterations of a recorded tail-recursive loop: flat stack, flat memory, bounded store" do
    ref = Store.atomics()
    cap = Store.cap(ref)
    # A small cap, so the store fills and then drops (and counts) the rest.
    Store.set_cap(ref, 2_000_000)
    on_exit(fn -> Store.set_cap(ref, cap) end)
    rec = Recording.start()
    parent = self()
    pid = spawn(fn -> send(parent, {:spun, ESFix.Shapes.spin(10_000_000, 0)}) end)
    peak = watch(pid, %{stack: 0, heap: 0, store: 0})
    assert_receive {:spun, 10_000_000}
    dropped = :atomics.get(ref, Store.index(:dropped))
    _ = Recording.rows(rec)
    assert peak.stack < 100, "stack grew to #{peak.stack} words"
    assert peak.heap < 250_000, "heap grew to #{peak.heap} words"
    assert peak.store <= 2_000_000 * 1.2, "store held #{peak.store} words"
    assert dropped > 10_000_000
  end

  @tag timeout: 300_000
  test "10M messages through a recorded receive loop: flat stack, flat memory, every event kept or counted" do
    rec = Recording.start()
    pid = spawn(fn -> ESFix.Shapes.serve(0) end)
    parent = self()

    # In windows of 1,000 messages: a mailbox of millions of messages makes every garbage
    # collection of the receiver slow, recorded or not.
    spawn(fn ->
      for _ <- 1..10_000 do
        for _ <- 1..1_000, do: send(pid, {:add, 1})
        send(pid, {:sync, self()})
        receive do: (:synced -> :ok)
      end

      send(pid, {:done, parent})
    end)

    peak = watch(pid, %{stack: 0, heap: 0, store: 0})
    assert_receive {:total, 10_000_000}, 300_000
    assert peak.stack < 100, "stack grew to #{peak.stack} words"
    # A window of 1,000 messages in the mailbox plus the process's own buffer of events.
    assert peak.heap < 250_000, "heap grew to #{peak.heap} words"
    dropped = :atomics.get(Store.atomics(), Store.index(:dropped))
    rows = Recording.rows(rec)
    # Nothing drains the store in this test: what did not fit under its cap is counted.
    # Per message: CALL, its head binding (total), the clause's binding (n or pid), TAIL_CALL.
    serves = for r <- rows, r.function == "serve", do: r
    assert length(serves) + dropped == 4 * 10_010_001
    assert length(serves) > 100_000
  end

  # Samples a running process until it exits: the largest stack, heap and store sizes seen.
  defp watch(pid, peak) do
    case Process.info(pid, [:stack_size, :heap_size]) do
      nil ->
        peak

      [stack_size: s, heap_size: h] ->
        store = :ets.info(Store.events_table(), :memory)

        watch(pid, %{
          stack: max(peak.stack, s),
          heap: max(peak.heap, h),
          store: max(peak.store, store)
        })
    end
  end

  test "match, case, comprehension and fn bindings are recorded where they happen" do
    {{:ok, _}, rows} = Recording.record(fn -> ESFix.Shapes.matches({:ok, 3}) end)
    bindings = for r <- rows, r.kind == 4, do: {r.function, r.name, r.value}

    assert bindings == [
             {"matches", "input", "{:ok, 3}"},
             {"matches", "value", "3"},
             {"matches", "doubled", "6"},
             {"matches", "small", "6"},
             {"matches", "result", "{:small, 6}"},
             {"matches", "i", "3"},
             {"matches", "j", "4"},
             {"matches", "first", "{3, 4}"},
             {"fn in matches/1", "k", "1"},
             {"fn in matches/1", "k", "2"},
             {"matches", "mapped", "[4, 5]"}
           ]

    [outer] = for r <- rows, r.kind == 1, r.function == "matches", do: r
    fns = for r <- rows, r.kind == 1, r.function == "fn in matches/1", do: r
    # The `for` compiles to a reducer fn that is not the user's: its variables are `matches`'s.
    assert length(fns) == 2 and Enum.all?(fns, &(&1.parent_id == outer.call_id))
    # Each binding carries the line of its variable: relative to `def matches(input) do`.
    [def_line] = for r <- rows, r.kind == 1, r.function == "matches", do: r.line
    lines = for r <- rows, r.kind == 4, r.function == "matches", do: {r.name, r.line - def_line}

    assert lines == [
             {"input", 0},
             {"value", 1},
             {"doubled", 2},
             {"small", 5},
             {"result", 3},
             {"i", 7},
             {"j", 7},
             {"first", 7},
             {"mapped", 8}
           ]
  end

  test "rebinding is a new binding; pinned and repeated variables are not" do
    {{:ok, 2}, rows} = Recording.record(fn -> ESFix.Shapes.already(1) end)
    assert [{"x", "1"}, {"x", "2"}] == for(r <- rows, r.kind == 4, do: {r.name, r.value})
  end

  test "with clauses bind in order; the else branch binds nothing new" do
    {{:ok, 3}, rows} = Recording.record(fn -> ESFix.Shapes.with_it(%{a: 1, b: 2}) end)
    assert ["map", "a", "b"] == for(r <- rows, r.kind == 4, do: r.name)
    {{:ok, :missing}, rows} = Recording.record(fn -> ESFix.Shapes.with_it(%{a: 1}) end)
    assert ["map", "a"] == for(r <- rows, r.kind == 4, do: r.name)
  end

  test "a receive clause's bindings are recorded when the message arrives" do
    parent = self()

    {{:ok, :hello}, rows} =
      Recording.record(fn ->
        pid = spawn(fn -> send(parent, {:got, ESFix.Shapes.waiter2(parent)}) end)
        assert_receive {:ready, ^pid}
        send(pid, {:msg, :hello})
        assert_receive {:got, got}
        got
      end)

    assert ["parent", "payload"] == for(r <- rows, r.kind == 4, do: r.name)
  end

  test "GenServer callbacks are recorded in the server process" do
    {{:ok, :state}, rows} =
      Recording.record(fn ->
        {:ok, pid} = ESFix.Shapes.start_link(:state)
        result = GenServer.call(pid, :get)
        GenServer.stop(pid)
        result
      end)

    [handle] = for r <- rows, r.kind == 1, r.function == "handle_call", do: r
    assert handle.pid != inspect(self())

    assert handle.value =~
             ~r/^\[:get, \{#PID<[\d.]+>, \[:alias \| #Reference<[\d.]+>\]\}, :state\]$/
  end

  test "a process blocked in receive has written its events out first" do
    parent = self()

    {_, rows} =
      Recording.record(fn ->
        pid = spawn(fn -> ESFix.Shapes.waiter(parent) end)
        assert_receive {:waiting, ^pid}
        # The waiter is now inside `waiter/1`, about to block in receive: kill it there.
        ref = Process.monitor(pid)
        wait_until_waiting(pid)
        Process.exit(pid, :kill)
        assert_receive {:DOWN, ^ref, _, _, :killed}
      end)

    assert [%{function: "waiter", kind: 1}, %{function: "waiter", kind: 4, name: "parent"}] =
             Enum.filter(rows, &(&1.function == "waiter"))
  end

  defp wait_until_waiting(pid) do
    case Process.info(pid, :status) do
      {:status, :waiting} -> :ok
      _ -> wait_until_waiting(pid)
    end
  end

  test "restoring loads the original code back: no more events" do
    fix =
      Fixtures.compile("defmodule ESFix.Restore do\n  def id(x), do: x\nend\n", name: "restore")

    {[loaded], []} = Recording.instrument(fix.lib_dir, ["ESFix.Restore"])
    {{:ok, 1}, rows} = Recording.record(fn -> ESFix.Restore.id(1) end)
    assert length(rows) == 3
    assert :code.which(ESFix.Restore) == String.to_charlist(loaded.path)
    assert [] == Instrumenter.restore([loaded])
    {{:ok, 2}, rows} = Recording.record(fn -> ESFix.Restore.id(2) end)
    assert rows == []
  end

  test "only the planned functions are instrumented when the plan lists them" do
    fix =
      Fixtures.compile("defmodule ESFix.Some do\n  def a(x), do: b(x)\n  def b(x), do: x\nend\n",
        name: "some"
      )

    plan = [%{"module" => "ESFix.Some", "functions" => [%{"name" => "b", "arity" => 1}]}]
    {[loaded], []} = Recording.instrument(fix.lib_dir, plan)
    on_exit(fn -> Instrumenter.restore([loaded]) end)
    assert loaded.functions == [b: 1]
    {{:ok, 5}, rows} = Recording.record(fn -> ESFix.Some.a(5) end)
    assert Enum.map(rows, & &1.function) |> Enum.uniq() == ["b"]
  end

  test "docs and source information survive instrumentation", ctx do
    assert {:docs_v1, _, :elixir, _, _, _, _} = Code.fetch_docs(ESFix.Shapes)
    assert ESFix.Shapes.module_info(:compile)[:source] == String.to_charlist(ctx.fix.file)
  end

  test "modules that cannot be instrumented are skipped with a reason" do
    fix = Fixtures.compile("defprotocol ESFix.Proto do\n  def p(x)\nend\n", name: "proto")
    plan = ["ESFix.Proto", "ESFix.Missing", "not a module", %{"module" => 42}]
    {[], skipped} = Recording.instrument(fix.lib_dir, plan)
    reasons = Map.new(skipped, fn {name, reason} -> {name, reason} end)
    assert reasons["ESFix.Proto"] =~ "protocol"
    assert reasons["ESFix.Missing"] =~ "no compiled module"
    assert reasons["not a module"] =~ "not an Elixir module name"
    assert length(skipped) == 4
  end

  test "user code that erases or overwrites the process dictionary cannot break recording" do
    assert {{:ok, 6}, rows} = Recording.record(fn -> ESFix.Shapes.eraser(3) end)
    assert Enum.any?(rows, &(&1.function == "factorial" and &1.kind == 2 and &1.value == "6"))
    assert Runtime.stack() == []

    Process.put(Runtime.state_key(), :garbage)
    assert {{:ok, {:positive, 1}}, _rows} = Recording.record(fn -> ESFix.Shapes.classify(1) end)
    Process.put(Runtime.state_key(), {:not_a_list, :x, :y, :z})
    assert {:ok, {:positive, 2}} == elem(Recording.record(fn -> ESFix.Shapes.classify(2) end), 0)
    Runtime.reset()
  end

  test "source names of Elixir variables" do
    assert Rewriter.source_name(:_x@1) == "x"
    assert Rewriter.source_name(:_user_name@12) == "user_name"
    assert Rewriter.source_name(:_) == nil
    assert Rewriter.source_name(:_@3) == nil
    assert Rewriter.source_name(:__unused@1) == nil
    assert Rewriter.source_name(:_é@2) == "é"
  end
end
