defmodule ElixirScope.Agent.Rewriter do
  @moduledoc """
  Instruments Erlang abstract code (as read from an Elixir module's debug info). Pure: forms in,
  forms out.

  Every clause of a selected function, and every clause of an anonymous function (`fn`) inside
  it,

      f(Pattern1, Pattern2) when Guard -> Body

  becomes

      f(Pattern1 = A1, Pattern2 = A2) when Guard ->
        Cid = Runtime.call(Site, [A1, A2], [X, Y]),      % CALL, carrying the head variables
        try Body' of
          Ret -> Runtime.return(Site, Cid, Ret)           % RETURN, gives Ret back
        catch
          Class:Reason:Stack -> Runtime.exception(Site, Cid, Class, Reason, Stack)
        end                                               % EXCEPTION, then erlang:raise/3

  **Tail calls stay tail calls.** When `Body` ends (in any branch of a `case`, `receive`, `if`
  or block) in a call that could loop back into instrumented code — a local call, a call into
  another planned module, or a dynamic call (`apply`, `fun.()`, `mod.fun()`) — the arguments
  are still evaluated inside the `try`, but the call itself is made after it:

        case try Body'' catch … end of
          {'$es_ret', Ret} -> Runtime.return(Site, Cid, Ret);
          {'$es_tail', 1, X1, X2} -> Runtime.tail(TailSite1, Cid, [X1, X2]), g(X1, X2);
          …
        end

  so a tail-recursive loop or a receive loop runs in constant stack. `Runtime.tail` records a
  TAIL_CALL event that ends this call; the callee's CALL follows with this call's parent as its
  parent (the frame was replaced). Calls in tail position to other modules (`Enum.map/2`,
  `GenServer.call/2`…) stay inside the `try`, so their result is this call's recorded RETURN.

  **Bindings.** Head variables ride in the CALL event. Every other variable the body binds —
  by `=` (anywhere in an expression), in the clauses of `case`/`receive`/`try` (`with` and
  `cond` compile to `case`), in `fn` clauses and in comprehension generators — is recorded by a
  `Runtime.bind(Site, [Values])` placed right after the match (or at the start of the clause
  body, or of the comprehension's body). Variables already bound at that point (pinned `^x`,
  repeated ones) are not new bindings; `_`, compiler temporaries (`_@1`) and underscored
  variables (`_unused`, which Elixir spells `__unused@1`) are never recorded. Guards are never
  touched.

  Every `receive` in an instrumented body first writes the process's buffered events out
  (`Runtime.flush/0`), so a process blocked or killed while waiting loses nothing recorded
  before it.

  A site is a small integer naming "module, function, arity, line" and, for a binding, the
  variable's source name, for a tail call the callee. `rewrite/2` returns the site table for
  the collector.
  """

  @runtime ElixirScope.Agent.Runtime
  @ret :"$es_ret"
  @tail :"$es_tail"
  # The collector numbers the rows of one event's variables within a step of 64 (see
  # `ElixirScope.Agent.Events`).
  @max_vars 63

  @type site ::
          {pos_integer,
           {module, atom | String.t(), arity, non_neg_integer, String.t(), String.t() | nil}}

  @doc """
  Rewrites `forms` of `module`. Options:

    * `:file` - source path recorded in sites
    * `:select` - `fn {name, arity} -> boolean` choosing functions (default: all)
    * `:first_site` - first site number to use (default 1)
    * `:bindings` - record variable bindings (default true)
    * `:modules` - names (`"Elixir.Foo"`) of the other modules being instrumented: a call in
      tail position into one of them stays a tail call

  Returns `{forms, instrumented :: [{name, arity}], sites :: [site], next_site}`.
  """
  def rewrite(forms, opts \\ []) do
    module = module_of(forms)
    select = Keyword.get(opts, :select, fn _ -> true end)

    chosen =
      for {:function, anno, name, arity, _} <- forms,
          instrumentable?(name, arity, anno) and select.({name, arity}),
          into: MapSet.new(),
          do: {name, arity}

    state = %{
      module: module,
      file: Keyword.get(opts, :file, ""),
      next: Keyword.get(opts, :first_site, 1),
      sites: [],
      done: [],
      bindings?: Keyword.get(opts, :bindings, true),
      chosen: chosen,
      modules: MapSet.new(Keyword.get(opts, :modules, []))
    }

    {forms, state} =
      Enum.map_reduce(forms, state, fn
        {:function, anno, name, arity, clauses} = form, state ->
          if MapSet.member?(chosen, {name, arity}) do
            owner = %{fun: name, arity: arity, def: {name, arity}}

            {clauses, state} =
              Enum.map_reduce(clauses, state, fn c, st ->
                {c, st} = clause(c, owner, MapSet.new(), st)
                {flush_before_receive(c, :erl_anno.new(0)), st}
              end)

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

  ## One instrumented clause (of a named function or of a fn)

  # `owner` says whose clause this is: `%{fun: name_or_label, arity: n, def: {name, arity}}`.
  # `outer` is the set of variables already bound around it (a fn sees its creator's).
  defp clause({:clause, anno, patterns, guards, body}, owner, outer, state) do
    line = :erl_anno.line(anno)
    g = :erl_anno.set_generated(true, :erl_anno.new(line))
    site = state.next
    args = for i <- 1..length(patterns)//1, do: {:var, g, :"__es_a#{site}_#{i}"}
    patterns = Enum.zip_with(patterns, args, fn p, a -> {:match, g, p, a} end)

    head =
      if state.bindings?, do: patterns |> new_vars(MapSet.new()) |> Enum.take(@max_vars), else: []

    clause_site = {site, {state.module, owner.fun, owner.arity, line, state.file, nil}}

    binding_sites =
      head
      |> Enum.with_index(1)
      |> Enum.map(fn {{_var, source, var_line}, i} ->
        {site + i, {state.module, owner.fun, owner.arity, var_line, state.file, source}}
      end)

    state = %{
      state
      | next: site + 1 + length(head),
        sites: Enum.reverse([clause_site | binding_sites], state.sites)
    }

    bound = MapSet.union(outer, MapSet.new(pattern_vars(patterns), &elem(&1, 0)))
    {body, _bound, state} = seq(body, bound, owner, state)

    cid = {:var, g, :"__es_cid#{site}"}

    enter =
      {:match, g, cid,
       rt(g, :call, [
         {:integer, g, site},
         list(g, args),
         list(g, Enum.map(head, fn {v, _, _} -> {:var, g, v} end))
       ])}

    {wrapped, state} = wrap(body, site, cid, owner, g, state)
    {{:clause, anno, patterns, guards, [enter, wrapped]}, state}
  end

  # The try around the body, with the calls in tail position taken out of it when there are any.
  defp wrap(body, site, cid, owner, g, state) do
    {tbody, tails} = tail_seq(body, [], owner, state)
    {class, reason, stack} = {v(g, "c", site), v(g, "r", site), v(g, "s", site)}

    catch_clause =
      {:clause, g, [{:tuple, g, [class, reason, stack]}], [],
       [rt(g, :exception, [{:integer, g, site}, cid, class, reason, stack])]}

    case tails do
      [] ->
        ret = v(g, "v", site)

        {{:try, g, body,
          [{:clause, g, [ret], [], [rt(g, :return, [{:integer, g, site}, cid, ret])]}],
          [catch_clause], []}, state}

      tails ->
        ret = v(g, "v", site)

        ret_clause =
          {:clause, g, [{:tuple, g, [{:atom, g, @ret}, ret]}], [],
           [rt(g, :return, [{:integer, g, site}, cid, ret])]}

        {tail_clauses, state} =
          tails
          |> Enum.reverse()
          |> Enum.map_reduce(state, &tail_clause(&1, site, cid, owner, g, &2))

        {{:case, g, {:try, g, tbody, [], [catch_clause], []}, [ret_clause | tail_clauses]}, state}
    end
  end

  defp tail_clause({k, call_anno, callee, nargs, target}, site, cid, owner, g, state) do
    tag = [{:atom, g, @tail}, {:integer, g, k}]
    argv = for i <- 1..nargs//1, do: v(g, "t#{k}_", site, i)

    {callee_vars, callee} =
      case callee do
        {:atom, _, _} = local ->
          {[], local}

        {:remote, a, {:atom, _, _} = m, {:atom, _, _} = f} ->
          {[], {:remote, a, m, f}}

        {:remote, a, _, _} ->
          {[v(g, "m", site, k), v(g, "f", site, k)],
           {:remote, a, v(g, "m", site, k), v(g, "f", site, k)}}

        _ ->
          {[v(g, "x", site, k)], v(g, "x", site, k)}
      end

    tail_site = state.next
    line = :erl_anno.line(call_anno)
    info = {state.module, owner.fun, owner.arity, line, state.file, target.name}
    state = %{state | next: tail_site + 1, sites: [{tail_site, info} | state.sites]}
    fun = if target.known?, do: :tail, else: :tail_out

    clause =
      {:clause, g, [{:tuple, g, tag ++ callee_vars ++ argv}], [],
       [
         rt(g, fun, [{:integer, g, tail_site}, cid, list(g, argv)]),
         {:call, call_anno, callee, argv}
       ]}

    {clause, state}
  end

  ## Tail positions

  # Rewrites the last expression of a body: a loop-capable call becomes a tagged tuple of the
  # values it needs (`tails` collects them), any other value `{'$es_ret', Value}`.
  defp tail_seq(exprs, tails, owner, state) do
    {init, [last]} = Enum.split(exprs, -1)
    {last, tails} = tail_expr(last, tails, owner, state)
    {init ++ [last], tails}
  end

  defp tail_expr({:call, a, callee, args} = call, tails, owner, state) do
    case tail_target(callee, length(args), owner, state) do
      nil ->
        {ret(call), tails}

      target ->
        k = length(tails) + 1
        g = :erl_anno.set_generated(true, a)

        parts =
          case callee do
            {:atom, _, _} -> []
            {:remote, _, {:atom, _, _}, {:atom, _, _}} -> []
            {:remote, _, m, f} -> [m, f]
            other -> [other]
          end

        tuple = {:tuple, g, [{:atom, g, @tail}, {:integer, g, k} | parts ++ args]}
        {tuple, [{k, a, callee, length(args), target} | tails]}
    end
  end

  defp tail_expr({:case, a, e, clauses}, tails, owner, state) do
    {clauses, tails} = tail_clauses(clauses, tails, owner, state)
    {{:case, a, e, clauses}, tails}
  end

  defp tail_expr({:receive, a, clauses}, tails, owner, state) do
    {clauses, tails} = tail_clauses(clauses, tails, owner, state)
    {{:receive, a, clauses}, tails}
  end

  defp tail_expr({:receive, a, clauses, timeout, after_body}, tails, owner, state) do
    {clauses, tails} = tail_clauses(clauses, tails, owner, state)
    {after_body, tails} = tail_seq(after_body, tails, owner, state)
    {{:receive, a, clauses, timeout, after_body}, tails}
  end

  defp tail_expr({:if, a, clauses}, tails, owner, state) do
    {clauses, tails} = tail_clauses(clauses, tails, owner, state)
    {{:if, a, clauses}, tails}
  end

  defp tail_expr({:block, a, exprs}, tails, owner, state) do
    {exprs, tails} = tail_seq(exprs, tails, owner, state)
    {{:block, a, exprs}, tails}
  end

  defp tail_expr(expr, tails, _owner, _state), do: {ret(expr), tails}

  defp tail_clauses(clauses, tails, owner, state) do
    Enum.map_reduce(clauses, tails, fn {:clause, a, p, gs, body}, tails ->
      {body, tails} = tail_seq(body, tails, owner, state)
      {{:clause, a, p, gs, body}, tails}
    end)
  end

  defp ret(expr) do
    g = :erl_anno.set_generated(true, element_anno(expr))
    {:tuple, g, [{:atom, g, @ret}, expr]}
  end

  defp element_anno(expr) when is_tuple(expr) and tuple_size(expr) >= 2 do
    case elem(expr, 1) do
      anno when is_integer(anno) or is_list(anno) -> anno
      _ -> :erl_anno.new(0)
    end
  end

  defp element_anno(_), do: :erl_anno.new(0)

  # Which calls in tail position keep their tail-call property, and what the TAIL_CALL event
  # names: `%{name: callee text, known?: the callee is instrumented (its CALL will follow)}`.
  defp tail_target({:atom, _, f}, n, _owner, state), do: local_target(f, n, state)

  defp tail_target({:remote, _, {:atom, _, m}, {:atom, _, f}}, n, _owner, state) do
    cond do
      m == state.module ->
        local_target(f, n, state)

      m == :erlang and f == :apply ->
        %{name: "apply/#{n}", known?: false}

      MapSet.member?(state.modules, Atom.to_string(m)) ->
        %{name: "#{inspect(m)}.#{f}/#{n}", known?: true}

      true ->
        nil
    end
  end

  defp tail_target({:remote, _, _, _}, n, _owner, _state),
    do: %{name: "apply/#{n + 2}", known?: false}

  defp tail_target(_fun_expr, n, _owner, _state), do: %{name: "fn/#{n}", known?: false}

  defp local_target(f, n, state) do
    %{name: "#{inspect(state.module)}.#{f}/#{n}", known?: MapSet.member?(state.chosen, {f, n})}
  end

  ## Bindings and fns, in evaluation order

  # A body: each expression in turn; a match's new variables are recorded right after it.
  defp seq(exprs, bound, owner, state) do
    {exprs, {bound, state}} =
      Enum.map_reduce(exprs, {bound, state}, fn e, {bound, state} ->
        {e, bound, state} = expr(e, bound, owner, state)
        {e, {bound, state}}
      end)

    {exprs, bound, state}
  end

  defp expr({:match, a, pattern, value}, bound, owner, state) do
    {value, bound, state} = expr(value, bound, owner, state)
    match = {:match, a, pattern, value}
    fresh = new_vars(pattern, bound)
    bound = add_vars(bound, pattern)

    case record(fresh, a, owner, state) do
      {nil, state} ->
        {match, bound, state}

      {bind, state} ->
        # `P = E` is worth E: keep that value while recording what P bound.
        g = :erl_anno.set_generated(true, a)
        tmp = v(g, "m", state.next)
        {{:block, g, [{:match, g, tmp, match}, bind, tmp]}, bound, state}
    end
  end

  defp expr({:case, a, e, clauses}, bound, owner, state) do
    {e, bound, state} = expr(e, bound, owner, state)
    {clauses, bound, state} = clauses(clauses, bound, owner, state)
    {{:case, a, e, clauses}, bound, state}
  end

  defp expr({:receive, a, clauses}, bound, owner, state) do
    {clauses, bound, state} = clauses(clauses, bound, owner, state)
    {{:receive, a, clauses}, bound, state}
  end

  defp expr({:receive, a, clauses, timeout, after_body}, bound, owner, state) do
    {clauses, bound1, state} = clauses(clauses, bound, owner, state)
    {timeout, _, state} = expr(timeout, bound, owner, state)
    {after_body, bound2, state} = seq(after_body, bound, owner, state)
    {{:receive, a, clauses, timeout, after_body}, MapSet.union(bound1, bound2), state}
  end

  defp expr({:try, a, body, of_clauses, catch_clauses, after_body}, bound, owner, state) do
    {body, bound1, state} = seq(body, bound, owner, state)
    {of_clauses, bound2, state} = clauses(of_clauses, bound1, owner, state)
    {catch_clauses, bound3, state} = clauses(catch_clauses, bound, owner, state)
    {after_body, _, state} = seq(after_body, bound, owner, state)

    {{:try, a, body, of_clauses, catch_clauses, after_body},
     bound |> MapSet.union(bound2) |> MapSet.union(bound3), state}
  end

  defp expr({:if, a, clauses}, bound, owner, state) do
    {clauses, bound, state} = clauses(clauses, bound, owner, state)
    {{:if, a, clauses}, bound, state}
  end

  defp expr({:block, a, exprs}, bound, owner, state) do
    {exprs, bound, state} = seq(exprs, bound, owner, state)
    {{:block, a, exprs}, bound, state}
  end

  defp expr({:fun, a, {:clauses, clauses}}, bound, owner, state) do
    if comprehension_reducer?(clauses) do
      # Not a fn the user wrote: the body of a `for`. Its generator variables are bindings of
      # the call running the comprehension, as for a list comprehension.
      {clauses, _, state} = clauses(clauses, bound, owner, state)
      {{:fun, a, {:clauses, clauses}}, bound, state}
    else
      {clauses, state} = fn_clauses(clauses, bound, owner, state)
      {{:fun, a, {:clauses, clauses}}, bound, state}
    end
  end

  defp expr({:named_fun, a, name, clauses}, bound, owner, state) do
    {clauses, state} = fn_clauses(clauses, MapSet.put(bound, name), owner, state)
    {{:named_fun, a, name, clauses}, bound, state}
  end

  defp expr({comp, a, template, qualifiers}, bound, owner, state) when comp in [:lc, :bc] do
    {qualifiers, {inner, fresh, state}} =
      Enum.map_reduce(qualifiers, {bound, [], state}, fn
        {gen, ga, pattern, source}, {inner, fresh, state} when gen in [:generate, :b_generate] ->
          {source, _, state} = expr(source, inner, owner, state)
          new = new_vars(pattern, inner)
          {{gen, ga, pattern, source}, {add_vars(inner, pattern), fresh ++ new, state}}

        filter, {inner, fresh, state} ->
          {filter, inner, state} = expr(filter, inner, owner, state)
          {filter, {inner, fresh, state}}
      end)

    {template, _, state} = expr(template, inner, owner, state)

    case record(Enum.take(fresh, @max_vars), a, owner, state) do
      {nil, state} ->
        {{comp, a, template, qualifiers}, bound, state}

      {bind, state} ->
        g = :erl_anno.set_generated(true, a)
        {{comp, a, {:block, g, [bind, template]}, qualifiers}, bound, state}
    end
  end

  defp expr(node, bound, owner, state) when is_tuple(node) do
    {items, bound, state} = seq(Tuple.to_list(node), bound, owner, state)
    {List.to_tuple(items), bound, state}
  end

  defp expr(list, bound, owner, state) when is_list(list), do: seq(list, bound, owner, state)
  defp expr(other, bound, _owner, state), do: {other, bound, state}

  # Clauses of case/receive/try/if: each starts from `bound`; its pattern's new variables are
  # recorded first thing in its body. Afterwards anything bound in any clause counts as bound.
  defp clauses(clauses, bound, owner, state) do
    {clauses, {all, state}} =
      Enum.map_reduce(clauses, {bound, state}, fn {:clause, a, patterns, guards, body},
                                                  {all, state} ->
        fresh = new_vars(patterns, bound)
        inner = add_vars(bound, patterns)
        {bind, state} = record(fresh, a, owner, state)
        {body, inner, state} = seq(body, inner, owner, state)
        body = if bind, do: [bind | body], else: body
        {{:clause, a, patterns, guards, body}, {MapSet.union(all, inner), state}}
      end)

    {clauses, all, state}
  end

  # Elixir compiles `for` (other than a plain list comprehension) to `Enum.reduce/3` with a
  # fn whose last parameter, the accumulator, is a compiler temporary (`_@1`): no user-written
  # fn can have one.
  defp comprehension_reducer?(clauses) do
    Enum.all?(clauses, fn {:clause, _, patterns, _, _} ->
      case List.last(patterns) do
        {:var, _, name} -> String.starts_with?(Atom.to_string(name), "_@")
        _ -> false
      end
    end)
  end

  # A fn's clauses are instrumented like a function's: each invocation is a call of its own,
  # named after the function that creates it ("fn in run/2").
  defp fn_clauses(clauses, bound, owner, state) do
    {name, arity} = owner.def

    Enum.map_reduce(clauses, state, fn {:clause, _, patterns, _, _} = c, state ->
      fn_owner = %{owner | fun: "fn in #{name}/#{arity}", arity: length(patterns)}
      clause(c, fn_owner, bound, state)
    end)
  end

  # `Runtime.bind(Site, [V1, …])` for new variables, with one site per variable.
  defp record([], _anno, _owner, state), do: {nil, state}
  defp record(_fresh, _anno, _owner, %{bindings?: false} = state), do: {nil, state}

  defp record(fresh, anno, owner, state) do
    g = :erl_anno.set_generated(true, :erl_anno.new(:erl_anno.line(anno)))
    fresh = Enum.take(fresh, @max_vars)
    site = state.next

    sites =
      fresh
      |> Enum.with_index()
      |> Enum.map(fn {{_var, source, line}, i} ->
        {site + i, {state.module, owner.fun, owner.arity, line, state.file, source}}
      end)

    state = %{state | next: site + length(fresh), sites: Enum.reverse(sites, state.sites)}
    values = list(g, Enum.map(fresh, fn {var, _, _} -> {:var, g, var} end))
    {rt(g, :bind, [{:integer, g, site}, values]), state}
  end

  # Variables a pattern binds that are not bound yet, first occurrence first, recordable only:
  # `[{var, source_name, line}]`.
  defp new_vars(patterns, bound) do
    patterns
    |> pattern_vars()
    |> Enum.uniq_by(fn {var, _line} -> var end)
    |> Enum.flat_map(fn {var, line} ->
      case not MapSet.member?(bound, var) and source_name(var) do
        source when is_binary(source) -> [{var, source, line}]
        _ -> []
      end
    end)
  end

  defp add_vars(bound, pattern),
    do: Enum.reduce(pattern_vars(pattern), bound, fn {var, _}, acc -> MapSet.put(acc, var) end)

  defp pattern_vars({:var, _anno, :_}), do: []
  defp pattern_vars({:var, anno, name}), do: [{name, :erl_anno.line(anno)}]
  # Binary segment sizes refer to variables, they do not bind them.
  defp pattern_vars({:bin_element, _, value, _size, _tsl}), do: pattern_vars(value)
  # Map keys in patterns are values, not new variables.
  defp pattern_vars({:map_field_exact, _, _key, value}), do: pattern_vars(value)

  defp pattern_vars(tuple) when is_tuple(tuple),
    do: tuple |> Tuple.to_list() |> Enum.flat_map(&pattern_vars/1)

  defp pattern_vars(list) when is_list(list), do: Enum.flat_map(list, &pattern_vars/1)
  defp pattern_vars(_), do: []

  ## Receive flushes

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

  ## Helpers

  defp rt(g, fun, args), do: {:call, g, {:remote, g, {:atom, g, @runtime}, {:atom, g, fun}}, args}

  defp list(g, []), do: {nil, g}
  defp list(g, [h | t]), do: {:cons, g, h, list(g, t)}

  # Variables the rewrite introduces: unique per site, so nested fns never rebind them.
  defp v(g, prefix, site), do: {:var, g, :"__es_#{prefix}#{site}"}
  defp v(g, prefix, site, i), do: {:var, g, :"__es_#{prefix}#{site}_#{i}"}
end
