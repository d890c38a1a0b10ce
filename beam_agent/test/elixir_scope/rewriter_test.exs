defmodule ElixirScope.Agent.RewriterTest do
  # The hot path writes into the one shared store: these tests run one at a time.
  use ExUnit.Case, async: false

  # Fixture modules are compiled when the tests run.
  @compile {:no_warn_undefined, [ESFix.Shapes, ESFix.Restore, ESFix.Some]}

  alias ElixirScope.Agent.{Fixtures, Instrumenter, Recording, Rewriter, Runtime}

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
      pinned: {ESFix.Shapes.pinned(1, 1), ESFix.Shapes.pinned(1, 2)}
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

  test "deep tail recursion works (not as a tail call, see the moduledoc) and leaves no stack behind" do
    {{:ok, list}, rows} = Recording.record(fn -> ESFix.Shapes.count_down(2_000, []) end)
    assert length(list) == 2_000
    assert length(for r <- rows, r.kind == 1, do: r) == 2_001
    assert length(for r <- rows, r.kind == 2, do: r) == 2_001
    assert Runtime.stack() == []
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
