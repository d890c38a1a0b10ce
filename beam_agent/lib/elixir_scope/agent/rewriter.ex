defmodule ElixirScope.Agent.Rewriter do
  @moduledoc """
  Instruments Erlang abstract code (as read from an Elixir module's debug info). Pure: forms in,
  forms out.

  Every clause of a selected function

      f(Pattern1, Pattern2) when Guard -> Body

  becomes

      f(Pattern1 = A1, Pattern2 = A2) when Guard ->
        Cid = Runtime.call(Site, [A1, A2], [X, Y]),      % CALL, carrying the head variables
        try Body of
          Ret -> Runtime.return(Site, Cid, Ret)           % RETURN, gives Ret back
        catch
          Class:Reason:Stack -> Runtime.exception(Site, Cid, Class, Reason, Stack)
        end                                               % EXCEPTION, then erlang:raise/3

  Every `receive` in an instrumented body first writes the process's buffered events out
  (`Runtime.flush/0`), so a process blocked or killed while waiting loses nothing recorded
  before it. Guards are untouched, so clause selection is the same; exceptions, throws and exits are
  re-raised with their original class, reason and stacktrace. Head variables become BINDING
  events named as in the source (`_x@1` → `"x"`); `_`, compiler temporaries (`_@1`) and
  underscored source variables (`_unused`, which Elixir spells `__unused@1`) are not recorded.

  A site is a small integer naming "module, function, arity, clause line" (the clause's site)
  and "…, variable name and line" (its bindings: the following integers). `rewrite/2` returns
  the site table for the collector.

  ## Known limitation

  The `try` makes calls in tail position of an instrumented body non-tail calls: a
  self-recursive loop (`def loop(s), do: receive(... -> loop(s2))`) keeps one stack frame and
  one open call per iteration while it runs. The call stack in the process dictionary is still
  popped on every exit path (return, raise, throw, exit), so nothing leaks once the loop ends.
  """

  @runtime ElixirScope.Agent.Runtime

  @type site ::
          {pos_integer, {module, atom, arity, non_neg_integer, String.t(), String.t() | nil}}

  @doc """
  Rewrites `forms` of `module`. Options:

    * `:file` - source path recorded in sites
    * `:select` - `fn {name, arity} -> boolean` choosing functions (default: all)
    * `:first_site` - first site number to use (default 1)
    * `:bindings` - record head variables as BINDING events (default true)

  Returns `{forms, instrumented :: [{name, arity}], sites :: [site], next_site}`.
  """
  def rewrite(forms, opts \\ []) do
    module = module_of(forms)
    file = Keyword.get(opts, :file, "")
    select = Keyword.get(opts, :select, fn _ -> true end)
    first = Keyword.get(opts, :first_site, 1)
    bindings? = Keyword.get(opts, :bindings, true)
    state = %{module: module, file: file, next: first, sites: [], done: [], bindings?: bindings?}

    {forms, state} =
      Enum.map_reduce(forms, state, fn
        {:function, anno, name, arity, clauses} = form, state ->
          if instrumentable?(name, arity, anno) and select.({name, arity}) do
            {clauses, state} = Enum.map_reduce(clauses, state, &clause(&1, name, arity, &2))

            {{:function, anno, name, arity, clauses},
             %{state | done: [{name, arity} | state.done]}}
          else
            {form, state}
          end

        form, state ->
          {form, state}
      end)

    {forms, Enum.reverse(state.done), Enum.reverse(state.sites), state.next}
  end

  @doc "Whether a function may be instrumented at all (not generated, not reflection)."
  def instrumentable?(name, _arity, anno) do
    line = :erl_anno.line(anno)
    text = Atom.to_string(name)

    line > 0 and not :erl_anno.generated(anno) and name != :module_info and
      not (String.starts_with?(text, "__") and String.ends_with?(text, "__")) and
      not String.starts_with?(text, "-")
  end

  @doc "The source name of an Elixir variable in abstract code, or nil if it is not recorded."
  def source_name(var) when is_atom(var) do
    case Atom.to_string(var) do
      "_" -> nil
      "_@" <> _ -> nil
      "__" <> _ -> nil
      "_" <> rest -> strip_counter(rest)
      # Not an Elixir-compiled variable: keep its name as it is.
      other -> other
    end
  end

  defp strip_counter(name) do
    case :binary.matches(name, "@") do
      [] ->
        name

      matches ->
        {pos, _} = List.last(matches)
        <<base::binary-size(pos), "@", counter::binary>> = name
        if counter != "" and String.match?(counter, ~r/^\d+$/), do: base, else: name
    end
  end

  defp module_of(forms) do
    Enum.find_value(forms, fn
      {:attribute, _, :module, mod} -> mod
      _ -> nil
    end)
  end

  defp clause({:clause, anno, patterns, guards, body}, name, arity, state) do
    line = :erl_anno.line(anno)
    g = :erl_anno.set_generated(true, :erl_anno.new(line))
    args = for i <- 1..arity//1, do: {:var, g, :"__es_arg#{i}"}
    patterns = Enum.zip_with(patterns, args, fn p, a -> {:match, g, p, a} end)
    # At most 63 head variables per clause: the collector numbers BINDING rows right after their
    # CALL within a step of 64 (see `ElixirScope.Agent.Events`).
    bindings = if state.bindings?, do: patterns |> head_bindings() |> Enum.take(63), else: []

    site = state.next
    clause_site = {site, {state.module, name, arity, line, state.file, nil}}

    binding_sites =
      bindings
      |> Enum.with_index(1)
      |> Enum.map(fn {{_var, source, var_line}, i} ->
        {site + i, {state.module, name, arity, var_line, state.file, source}}
      end)

    cid = {:var, g, :__es_cid}
    ret = {:var, g, :__es_ret}
    class = {:var, g, :__es_class}
    reason = {:var, g, :__es_reason}
    stack = {:var, g, :__es_stack}

    new_body = [
      {:match, g, cid,
       rt(g, :call, [
         {:integer, g, site},
         list(g, args),
         list(g, Enum.map(bindings, fn {v, _, _} -> {:var, g, v} end))
       ])},
      {:try, g, flush_before_receive(body, g),
       [{:clause, g, [ret], [], [rt(g, :return, [{:integer, g, site}, cid, ret])]}],
       [
         {:clause, g, [{:tuple, g, [class, reason, stack]}], [],
          [rt(g, :exception, [{:integer, g, site}, cid, class, reason, stack])]}
       ], []}
    ]

    state = %{
      state
      | next: site + 1 + length(bindings),
        sites: Enum.reverse([clause_site | binding_sites], state.sites)
    }

    {{:clause, anno, patterns, guards, new_body}, state}
  end

  # A process that blocks in `receive` inside an instrumented call would otherwise hold its
  # buffered events while it waits, and lose them if it is then killed (ExUnit kills a test's
  # linked processes when the test ends). So every `receive` first writes the buffer out;
  # with an empty buffer that costs a dictionary lookup.
  defp flush_before_receive({:receive, _, _} = node, g), do: flushed(node, g)
  defp flush_before_receive({:receive, _, _, _, _} = node, g), do: flushed(node, g)

  defp flush_before_receive(node, g) when is_tuple(node),
    do: node |> Tuple.to_list() |> Enum.map(&flush_before_receive(&1, g)) |> List.to_tuple()

  defp flush_before_receive(list, g) when is_list(list),
    do: Enum.map(list, &flush_before_receive(&1, g))

  defp flush_before_receive(other, _g), do: other

  defp flushed(node, g) do
    inner = node |> Tuple.to_list() |> Enum.map(&flush_before_receive(&1, g)) |> List.to_tuple()
    {:block, g, [rt(g, :flush, []), inner]}
  end

  defp rt(g, fun, args), do: {:call, g, {:remote, g, {:atom, g, @runtime}, {:atom, g, fun}}, args}

  defp list(g, []), do: {nil, g}
  defp list(g, [h | t]), do: {:cons, g, h, list(g, t)}

  # Variables bound by the head patterns, first occurrence first: `{var, source_name, line}`.
  defp head_bindings(patterns) do
    patterns
    |> Enum.flat_map(&pattern_vars/1)
    |> Enum.uniq_by(fn {var, _line} -> var end)
    |> Enum.flat_map(fn {var, line} ->
      case source_name(var) do
        nil -> []
        source -> [{var, source, line}]
      end
    end)
  end

  defp pattern_vars({:var, anno, name}), do: [{name, :erl_anno.line(anno)}]
  # Binary segment sizes refer to variables, they do not bind them.
  defp pattern_vars({:bin_element, _, value, _size, _tsl}), do: pattern_vars(value)

  defp pattern_vars(tuple) when is_tuple(tuple),
    do: tuple |> Tuple.to_list() |> Enum.flat_map(&pattern_vars/1)

  defp pattern_vars(list) when is_list(list), do: Enum.flat_map(list, &pattern_vars/1)
  defp pattern_vars(_), do: []
end
