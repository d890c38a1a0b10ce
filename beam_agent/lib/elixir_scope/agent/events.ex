defmodule ElixirScope.Agent.Events do
  @moduledoc false
  # Turns raw events into rows of the event table (schema version 2, see `protocol/SCHEMA.md`;
  # in EVENTS frames `value` is Binary: see `Value.encode/2`): resolves sites, rebases
  # seq/ids/timestamps to the session start and encodes values. Runs in the collector.
  #
  # Two sources of raw events, told apart by their size:
  #
  #   * the hot path (`ElixirScope.Agent.Runtime`): `{kind, seq, ts, site, call_id, parent_id,
  #     value}` (a CALL with head variables has an eighth element), kinds 1–5;
  #   * the VM tracer and sampler (`ElixirScope.Agent.VMTracer`): `{kind, seq, ts, pid, other,
  #     value}`, kinds 6–15 and 17, about process `pid` (not the process that wrote the chunk).
  #
  # Derived here, at no cost to the hot path:
  #
  #   * STATE rows (kind 16) around the callbacks of instrumented `gen_server`/`GenServer` and
  #     `gen_statem` modules: "before" from the callback's arguments, "after" from its result
  #     (or, when the callback ended by a tail call, from the result of the call that took its
  #     place);
  #   * the `parent_id` of VM events: the innermost recorded call the process was in at that
  #     moment, known because rows are produced in capture order.

  alias ElixirScope.Agent.{Prune, Store, Value}

  @schema [
    {"seq", :int64},
    {"ts", :int64},
    {"kind", :int8},
    {"pid", :utf8},
    {"module", :utf8},
    {"function", :utf8},
    {"arity", :int32},
    {"call_id", :int64},
    {"parent_id", :int64},
    {"file", :utf8},
    {"line", :int32},
    {"name", :utf8},
    # The external term format of the value, or its text (see `Value.encode/2`).
    {"value", :binary}
  ]

  # Room for a CALL's BINDING rows between two captured seqs (see `to_rows/3`).
  @seq_step 64

  use ElixirScope.Agent.Kinds

  @sampled ElixirScope.Agent.Runtime.sampled_marker()
  @m Prune.markers()
  @pruned @m.pruned
  @cut_tuple @m.cut_tuple

  # Caches in the context are dropped when they grow past this (a long run sees many processes).
  @max_cached 10_000

  def schema, do: @schema
  def seq_step, do: @seq_step

  def kinds, do: ElixirScope.Agent.Kinds.all()

  @doc "Registers instrumentation sites: `[{site, {module, function, arity, line, file, name}}]`."
  def register_sites(sites), do: :ets.insert(Store.sites_table(), sites)

  @doc """
  Remembers that `module` implements an OTP behaviour whose state the recording shows (from its
  `.beam` attributes and, for `gen_statem`, the callback mode its `callback_mode/0` returns).
  """
  def register_behaviour(module, attributes, forms) do
    case behaviour_of(attributes, forms) do
      nil -> :ets.delete(Store.behaviours_table(), module)
      b -> :ets.insert(Store.behaviours_table(), {module, b})
    end

    :ok
  catch
    _, _ -> :ok
  end

  @doc false
  def behaviour_of(attributes, forms) do
    behaviours =
      attributes
      |> Enum.filter(fn {k, _} -> k in [:behaviour, :behavior] end)
      |> Enum.flat_map(fn {_, v} -> List.wrap(v) end)

    cond do
      GenServer in behaviours or :gen_server in behaviours -> :gen_server
      :gen_statem in behaviours -> {:gen_statem, callback_mode(forms)}
      true -> nil
    end
  end

  # `:state_functions` or `:handle_event_function`, as far as the code of callback_mode/0 says.
  defp callback_mode(forms) do
    found =
      for {:function, _, :callback_mode, 0, clauses} <- forms,
          {:clause, _, [], _, body} <- clauses,
          mode <- atoms(body, []),
          mode in [:state_functions, :handle_event_function],
          do: mode

    case Enum.uniq(found) do
      [mode] -> mode
      _ -> :handle_event_function
    end
  end

  defp atoms({:atom, _, a}, acc), do: [a | acc]
  defp atoms(t, acc) when is_tuple(t), do: atoms(Tuple.to_list(t), acc)
  defp atoms(l, acc) when is_list(l), do: Enum.reduce(l, acc, &atoms/2)
  defp atoms(_, acc), do: acc

  @doc """
  Context for `to_rows/3`: `base_seq` and `t0` are the session's first unique integer and
  perf counter; `values` the plan's value bounds.
  """
  def context(base_seq, t0, values) do
    # perf_counter units per second; 10^9 on Linux, so usually no conversion at all.
    unit = :erlang.convert_time_unit(1, :second, :perf_counter)

    %{
      base: base_seq,
      t0: t0,
      values: values,
      sites: %{},
      pids: %{},
      unit: unit,
      # pid => the innermost recorded call it is in (for the parent_id of its VM events)
      open: %{},
      # call_id => {role, site, parent, before} of a callback whose STATE after is still due
      callbacks: %{},
      # pid => {call_id, role, site, parent, before} of a callback that ended by a tail call:
      # its STATE after comes from the next RETURN at the same depth
      tails: %{}
    }
  end

  @doc """
  The rows of a drain slice (`{seq, pid, raw}` in seq order): `{rows, ctx}`, as `to_rows/3` of
  each event would give them. The common events (BINDING; CALL with or without head variables,
  RETURN and TAIL_CALL of sites that are no OTP callback; of sites and a process already seen) take a short path
  that builds the rows directly; every other event goes through `to_rows/3`.
  """
  def slice_rows(events, ctx), do: slice_rows(events, ctx, ctx.open, [])

  defp slice_rows([], ctx, open, acc), do: {:lists.reverse(acc), %{ctx | open: open}}

  # Variables bound in a body: one BINDING row each (no callback state depends on them).
  defp slice_rows(
         [{_, pid, {@binding, seq, ts, site, cid, parent, values} = ev} | rest],
         ctx,
         open,
         acc
       ) do
    case ctx.pids do
      %{^pid => pid_text} ->
        ids = ids(seq, ts, cid, parent, ctx)

        case fast_bindings(values, 0, @seq_step - 1, site, ids, pid_text, ctx, acc) do
          :miss -> slow_rows(ev, pid, rest, ctx, open, acc)
          acc -> slice_rows(rest, ctx, open, acc)
        end

      _ ->
        slow_rows(ev, pid, rest, ctx, open, acc)
    end
  end

  defp slice_rows(
         [{_, pid, {kind, seq, ts, site, cid, parent, value} = ev} | rest],
         ctx,
         open,
         acc
       )
       when kind <= @tail and kind != @binding and kind != @exception and
              map_size(open) <= @max_cached and
              (kind != @return or not is_map_key(ctx.tails, pid)) do
    # A site without an OTP role (matched below) opens and ends no callback: a RETURN or
    # TAIL_CALL has its CALL's site. Only a RETURN in a process whose callback ended by a tail
    # call may be that callback's result (`tail_result/8`): those go through `to_rows/3`.
    case {ctx.sites, ctx.pids} do
      {%{^site => {_, _, _, _, _, _, nil} = info}, %{^pid => pid_text}}
      when kind != @call or value != @sampled ->
        row = fast_row(kind, ids(seq, ts, cid, parent, ctx), 0, pid_text, info, value, ctx)
        open = if kind == @call, do: Map.put(open, pid, cid), else: Map.put(open, pid, parent)
        slice_rows(rest, ctx, open, [row | acc])

      _ ->
        slow_rows(ev, pid, rest, ctx, open, acc)
    end
  end

  # A CALL carrying head variables: its row, then one BINDING row per variable.
  defp slice_rows(
         [{_, pid, {@call, seq, ts, site, cid, parent, args, bindings} = ev} | rest],
         ctx,
         open,
         acc
       )
       when args != @sampled and map_size(open) <= @max_cached do
    case {ctx.sites, ctx.pids} do
      {%{^site => {_, _, _, _, _, _, nil} = info}, %{^pid => pid_text}} ->
        ids = ids(seq, ts, cid, parent, ctx)
        call = fast_row(@call, ids, 0, pid_text, info, args, ctx)

        case fast_bindings(bindings, 1, @seq_step, site, ids, pid_text, ctx, [call | acc]) do
          :miss -> slow_rows(ev, pid, rest, ctx, open, acc)
          acc -> slice_rows(rest, ctx, Map.put(open, pid, cid), acc)
        end

      _ ->
        slow_rows(ev, pid, rest, ctx, open, acc)
    end
  end

  defp slice_rows([{_, pid, ev} | rest], ctx, open, acc),
    do: slow_rows(ev, pid, rest, ctx, open, acc)

  # BINDING rows of the i-th variable on (site `site + i`, seq offset `i`) for i below `stop`,
  # up to an improper tail (as `binding_rows/9`), or :miss when a site is not cached yet.
  defp fast_bindings([value | values], i, stop, site, ids, pid_text, ctx, acc) when i < stop do
    key = site + i

    case ctx.sites do
      %{^key => info} ->
        row = fast_row(@binding, ids, i, pid_text, info, value, ctx)
        fast_bindings(values, i + 1, stop, site, ids, pid_text, ctx, [row | acc])

      _ ->
        :miss
    end
  end

  defp fast_bindings(_done, _i, _stop, _site, _ids, _pid_text, _ctx, acc), do: acc

  # Session-relative seq, time, call id and parent of an event.
  defp ids(seq, ts, cid, parent, %{base: base} = ctx),
    do: {rebase(seq, base), ns(ts - ctx.t0, ctx.unit), rebase(cid, base), rebase(parent, base)}

  # The row `row/10` makes, from a cached site and pid text (`offset` added to the seq).
  defp fast_row(kind, {s, t, c, p}, offset, pid_text, site_info, value, ctx) do
    {mod, fun, arity, line, file, name, _role} = site_info

    {s + offset, t, kind, pid_text, mod, fun, arity, c, p, file, line, name,
     Value.encode(value, ctx.values)}
  end

  defp slow_rows(ev, pid, rest, ctx, open, acc) do
    {rows, ctx} = to_rows(ev, pid, %{ctx | open: open})
    slice_rows(rest, ctx, ctx.open, :lists.reverse(rows, acc))
  end

  @doc """
  Converts one raw event of process `pid` into rows (a CALL carrying head variables gives one
  BINDING row per variable after it; a BINDING event carries a list, one row per variable). Returns `{rows, ctx}` (ctx caches sites and pids).

  Row `seq`s are the session-relative capture order times #{@seq_step}: a CALL at `s` and its
  bindings at `s + 1`, `s + 2`, … so they stay strictly increasing and unique.
  """
  def to_rows({@binding, seq, ts, site, cid, parent, values}, pid, ctx),
    do: binding_rows(values, 0, seq, ts, site, cid, parent, pid, ctx)

  def to_rows({@call, seq, ts, site, cid, parent, args}, pid, ctx) do
    {row, role, ctx} = row(@call, seq, ts, site, cid, parent, args, 0, pid, ctx)
    ctx = enter(ctx, pid, cid)

    if role == nil,
      do: {[row], ctx},
      else: state_before([row], role, args, 1, seq, ts, site, cid, parent, pid, ctx)
  end

  def to_rows({kind, seq, ts, site, cid, parent, value}, pid, ctx) do
    {row, _role, ctx} = row(kind, seq, ts, site, cid, parent, value, 0, pid, ctx)
    ctx = %{ctx | open: Map.put(ctx.open, pid, parent)}

    # Most events end no callback: no map lookups for them.
    if map_size(ctx.callbacks) == 0 and map_size(ctx.tails) == 0,
      do: {[row], ctx},
      else: state_after(kind, row, value, seq, ts, cid, parent, pid, ctx)
  end

  def to_rows({@call, seq, ts, site, cid, parent, args, bindings}, pid, ctx) do
    {call, role, ctx} = row(@call, seq, ts, site, cid, parent, args, 0, pid, ctx)
    {rows, ctx} = binding_rows(bindings, 1, seq, ts, site, cid, parent, pid, ctx)
    ctx = enter(ctx, pid, cid)

    if role == nil,
      do: {[call | rows], ctx},
      else:
        state_before(
          [call | rows],
          role,
          args,
          length(rows) + 1,
          seq,
          ts,
          site,
          cid,
          parent,
          pid,
          ctx
        )
  end

  def to_rows({kind, seq, ts, pid, other, value}, _writer, ctx) when kind >= @spawn do
    {row, ctx} = vm_row(kind, seq, ts, pid, other, value, ctx)
    {[row], ctx}
  end

  defp enter(%{open: open} = ctx, pid, cid) do
    open = if map_size(open) > @max_cached, do: %{}, else: open
    %{ctx | open: Map.put(open, pid, cid)}
  end

  # One BINDING row per value, the i-th at `seq` and site offset `first + i`.
  defp binding_rows(values, first, seq, ts, site, cid, parent, pid, ctx) do
    {rows, {ctx, _}} =
      values
      |> binding_values()
      |> Enum.map_reduce({ctx, first}, fn value, {ctx, i} ->
        {row, _role, ctx} = row(@binding, seq, ts, site + i, cid, parent, value, i, pid, ctx)
        {row, {ctx, i + 1}}
      end)

    {rows, ctx}
  end

  # Pruned on the hot path: the list itself may have been cut.
  defp binding_values(values), do: take_proper(values, @seq_step - 1)

  defp take_proper([h | t], n) when n > 0, do: [h | take_proper(t, n - 1)]
  defp take_proper(_, _), do: []

  defp proper([h | t]), do: [h | proper(t)]
  defp proper(_), do: []

  # `{row, role of the site (see `role/4`), ctx}`.
  defp row(kind, seq, ts, site, cid, parent, value, offset, pid, ctx) do
    {{mod, fun, arity, line, file, name, role}, ctx} = site(site, ctx)
    {pid_text, ctx} = pid_text(pid, ctx)

    text =
      case kind do
        @exception ->
          Value.format_exception(value, ctx.values)

        @call when value == @sampled ->
          "(arguments not recorded: this function was being sampled)"

        _ ->
          Value.encode(value, ctx.values)
      end

    row =
      {rebase(seq, ctx.base) + offset, ns(ts - ctx.t0, ctx.unit), kind, pid_text, mod, fun, arity,
       rebase(cid, ctx.base), rebase(parent, ctx.base), file, line, name, text}

    {row, role, ctx}
  end

  ## STATE rows of OTP callbacks

  # After a callback's CALL (and its head bindings, at `offset`): STATE "before", and the
  # callback noted so that its end gives STATE "after".
  defp state_before(rows, role, args, offset, seq, ts, site, cid, parent, pid, ctx) do
    before = if args == @sampled, do: :none, else: before_state(role, args)
    # A new callback: a tail-called one's result is not coming any more.
    ctx = %{ctx | tails: Map.delete(ctx.tails, pid)}
    ctx = note_callback(ctx, cid, {role, site, parent, before})

    case before do
      {:ok, state} when offset < @seq_step ->
        {row, ctx} = state_row("before", state, seq, offset, ts, site, cid, parent, pid, ctx)
        {rows ++ [row], ctx}

      _ ->
        {rows, ctx}
    end
  end

  defp note_callback(ctx, cid, info) do
    callbacks = if map_size(ctx.callbacks) > @max_cached, do: %{}, else: ctx.callbacks
    %{ctx | callbacks: Map.put(callbacks, cid, info)}
  end

  defp state_after(kind, row, value, seq, ts, cid, parent, pid, ctx) do
    case Map.pop(ctx.callbacks, cid) do
      {nil, _} ->
        tail_result(kind, row, value, seq, ts, parent, pid, ctx)

      {{role, csite, cparent, before}, callbacks} ->
        ctx = %{ctx | callbacks: callbacks}

        case kind do
          @return ->
            after_rows(row, role, before, value, seq, ts, csite, cid, cparent, pid, ctx)

          @tail ->
            tails = if map_size(ctx.tails) > @max_cached, do: %{}, else: ctx.tails
            {[row], %{ctx | tails: Map.put(tails, pid, {cid, role, csite, cparent, before})}}

          _ ->
            {[row], ctx}
        end
    end
  end

  # The RETURN of the call that took a tail-calling callback's place (same depth) is the
  # callback's result.
  defp tail_result(kind, row, value, seq, ts, parent, pid, ctx) do
    case ctx.tails do
      %{^pid => {cid, role, csite, ^parent, before}} when kind in [@return, @exception] ->
        ctx = %{ctx | tails: Map.delete(ctx.tails, pid)}

        if kind == @return,
          do: after_rows(row, role, before, value, seq, ts, csite, cid, parent, pid, ctx),
          else: {[row], ctx}

      _ ->
        {[row], ctx}
    end
  end

  defp after_rows(row, role, before, value, seq, ts, site, cid, parent, pid, ctx) do
    case after_state(role, value, before) do
      {:ok, state} ->
        {srow, ctx} = state_row("after", state, seq, 1, ts, site, cid, parent, pid, ctx)
        {[row, srow], ctx}

      :none ->
        {[row], ctx}
    end
  end

  defp state_row(which, state, seq, offset, ts, site, cid, parent, pid, ctx) do
    {row, _role, ctx} = row(@state, seq, ts, site, cid, parent, state, offset, pid, ctx)
    {put_elem(row, 11, which), ctx}
  end

  # The role of a clause site in its module's behaviour, or nil.
  defp role(mod, fun, arity, nil) when is_atom(fun) do
    case :ets.lookup(Store.behaviours_table(), mod) do
      [{_, b}] -> callback_role(b, fun, arity)
      [] -> nil
    end
  catch
    _, _ -> nil
  end

  defp role(_mod, _fun, _arity, _name), do: nil

  defp callback_role(:gen_server, f, a)
       when {f, a} in [
              {:init, 1},
              {:handle_call, 3},
              {:handle_cast, 2},
              {:handle_info, 2},
              {:handle_continue, 2},
              {:terminate, 2},
              {:code_change, 3}
            ],
       do: {:gen_server, f}

  defp callback_role({:gen_statem, _}, f, a)
       when {f, a} in [{:init, 1}, {:terminate, 3}, {:code_change, 4}],
       do: {:gen_statem, f}

  defp callback_role({:gen_statem, :handle_event_function}, :handle_event, 4),
    do: {:gen_statem, :handle_event}

  # Every other function of arity 3 may be a state; its first argument tells (see below).
  defp callback_role({:gen_statem, :state_functions}, f, 3) when f != :format_status,
    do: {:gen_statem, {:state, f}}

  defp callback_role(_, _, _), do: nil

  # {:ok, state} before the callback ran, from its arguments (possibly pruned on the hot path).
  defp before_state({:gen_server, :init}, _args), do: :none
  defp before_state({:gen_server, :handle_call}, args), do: arg(args, 2, 3)
  defp before_state({:gen_server, :code_change}, args), do: arg(args, 1, 3)
  defp before_state({:gen_server, _}, args), do: arg(args, 1, 2)
  defp before_state({:gen_statem, :init}, _args), do: :none

  defp before_state({:gen_statem, :handle_event}, args),
    do: pair(arg(args, 2, 4), arg(args, 3, 4))

  defp before_state({:gen_statem, :terminate}, args), do: pair(arg(args, 1, 3), arg(args, 2, 3))

  defp before_state({:gen_statem, :code_change}, args),
    do: pair(arg(args, 1, 4), arg(args, 2, 4))

  defp before_state({:gen_statem, {:state, name}}, args) do
    case arg(args, 0, 3) do
      {:ok, type} -> if event_type?(type), do: pair({:ok, name}, arg(args, 2, 3)), else: :none
      :none -> :none
    end
  end

  defp event_type?(t) when t in [:cast, :info, :timeout, :state_timeout, :internal, :enter],
    do: true

  defp event_type?({:call, _}), do: true
  defp event_type?({:timeout, _}), do: true
  defp event_type?(_), do: false

  # {:ok, state} after the callback, from its result.
  defp after_state({:gen_server, cb}, result, _before) do
    {tag, n, get} = tuple(result)

    case {cb, tag, n} do
      {:terminate, _, _} -> :none
      {:init, :ok, n} when n in [2, 3] -> get.(1)
      {:handle_call, :reply, n} when n in [3, 4] -> get.(2)
      {:handle_call, :stop, 4} -> get.(3)
      {:code_change, :ok, 2} -> get.(1)
      {cb, :noreply, n} when cb != :init and cb != :code_change and n in [2, 3] -> get.(1)
      {cb, :stop, 3} when cb != :init and cb != :code_change -> get.(2)
      _ -> :none
    end
  end

  defp after_state({:gen_statem, :terminate}, _result, _before), do: :none

  defp after_state({:gen_statem, cb}, result, before) do
    {tag, n, get} = tuple(result)
    keep = fn data -> pair(first(before), data) end

    case {cb, unwrap(result), tag, n} do
      {cb, _, :ok, n} when cb in [:init, :code_change] and n in [3, 4] -> pair(get.(1), get.(2))
      {cb, _, _, _} when cb in [:init, :code_change] -> :none
      {_, {t, _}, _, _} when t in [:keep_state_and_data, :repeat_state_and_data] -> before
      {_, t, _, _} when t in [:keep_state_and_data, :repeat_state_and_data] -> before
      {_, _, :next_state, n} when n in [3, 4] -> pair(get.(1), get.(2))
      {_, _, tag, n} when tag in [:keep_state, :repeat_state] and n in [2, 3] -> keep.(get.(1))
      {_, _, :stop, 2} -> before
      {_, _, :stop, 3} -> keep.(get.(2))
      {_, _, :stop_and_reply, 3} -> before
      {_, _, :stop_and_reply, 4} -> keep.(get.(3))
      _ -> :none
    end
  end

  # A value may come pruned (`{@pruned, term}` with cut lists/tuples inside); what is taken out
  # of it stays marked as pruned so that `Value.format` shows the truncation.
  defp unwrap({@pruned, term}), do: term
  defp unwrap(term), do: term

  defp pruned?({@pruned, _}), do: true
  defp pruned?(_), do: false

  defp wrap(term, true), do: {@pruned, term}
  defp wrap(term, false), do: term

  # The i-th (0-based) of `n` arguments.
  defp arg(args, i, n) do
    list = unwrap(args)

    if is_list(list) do
      elems = proper(list)

      if (length(elems) == n or pruned?(args)) and length(elems) > i,
        do: {:ok, wrap(Enum.at(elems, i), pruned?(args))},
        else: :none
    else
      :none
    end
  end

  # `{tag, size, get}` of a (possibly pruned) result tuple; `get.(i)` is `{:ok, element}` or
  # :none when the element was cut away.
  defp tuple(result) do
    p = pruned?(result)

    {elems, size} =
      case unwrap(result) do
        {@cut_tuple, elems, size} when p -> {elems, size}
        t when is_tuple(t) -> {Tuple.to_list(t), tuple_size(t)}
        _ -> {[], 0}
      end

    tag = if size > 0 and elems != [] and is_atom(hd(elems)), do: hd(elems), else: nil

    get = fn i ->
      if i < length(elems), do: {:ok, wrap(Enum.at(elems, i), p)}, else: :none
    end

    {tag, size, get}
  end

  defp pair({:ok, a}, {:ok, b}) do
    p = pruned?(a) or pruned?(b)
    {:ok, wrap({unwrap(a), unwrap(b)}, p)}
  end

  defp pair(_, _), do: :none

  defp first({:ok, s}) do
    case unwrap(s) do
      {a, _} -> {:ok, wrap(a, pruned?(s))}
      _ -> :none
    end
  end

  defp first(_), do: :none

  ## VM events

  defp vm_row(@sample, seq, ts, pid, metric, value, ctx) do
    {pid_text, ctx} = if pid == nil, do: {"", ctx}, else: pid_text(pid, ctx)

    text =
      if is_float(value),
        do: :erlang.float_to_binary(value, decimals: 4),
        else: Value.encode(value, ctx.values)

    row =
      {rebase(seq, ctx.base), ns(ts - ctx.t0, ctx.unit), @sample, pid_text, "", "", 0, 0, 0, "",
       0, to_string(metric), text}

    {row, ctx}
  end

  defp vm_row(kind, seq, ts, pid, other, value, ctx) do
    {pid_text, ctx} = pid_text(pid, ctx)
    parent = Map.get(ctx.open, pid, 0)
    {mod, fun, arity, cid, name, value} = vm_columns(kind, other, value)
    {name, ctx} = name_text(name, ctx)

    ctx = if kind == @exit, do: %{ctx | open: Map.delete(ctx.open, pid)}, else: ctx

    row =
      {rebase(seq, ctx.base), ns(ts - ctx.t0, ctx.unit), kind, pid_text, mod, fun, arity,
       rebase(cid, ctx.base), rebase(parent, ctx.base), "", 0, name,
       Value.encode(value, ctx.values)}

    {row, ctx}
  end

  # The `name` column of a VM event: text, or the term whose inspect text it is (pids and
  # registered names, the usual cases, through the pid cache: inspect/1 costs ~1-5 µs).
  defp name_text(text, ctx) when is_binary(text), do: {text, ctx}
  defp name_text({:text, term}, ctx) when is_pid(term) or is_atom(term), do: pid_text(term, ctx)
  defp name_text({:text, term}, ctx), do: {inspect(term), ctx}

  # {module, function, arity, call_id (raw seq), name, value} of a VM event; `{:text, term}`
  # as the name stands for its inspect text.
  defp vm_columns(@spawn, child, mfa) do
    {m, f, args} = initial_call(mfa)
    {inspect(m), fun_name(f), length(args), 0, {:text, child}, args}
  end

  defp vm_columns(@send, {:noproc, to}, msg), do: {"", "noproc", 0, 0, {:text, to}, msg}
  defp vm_columns(@send, to, msg), do: {"", "", 0, 0, {:text, to}, msg}
  defp vm_columns(@receive, {0, _}, msg), do: {"", "", 0, 0, "", msg}

  defp vm_columns(@receive, {send_seq, from}, msg),
    do: {"", "", 0, send_seq, {:text, from}, msg}

  defp vm_columns(@exit, _, reason), do: {"", "", 0, 0, "", reason}

  defp vm_columns(kind, target, ref) when kind in [@monitor, @demonitor],
    do: {"", "", 0, 0, {:text, target}, ref}

  defp vm_columns(_kind, other, value), do: {"", "", 0, 0, {:text, other}, value}

  # What the new process runs, seen through the spawn helpers of Elixir and OTP.
  defp initial_call({:erlang, :apply, [fun, args]}) when is_function(fun) and is_list(args),
    do: fun_call(fun, args)

  defp initial_call({:proc_lib, :init_p, [_parent, _ancestors, fun]}) when is_function(fun),
    do: fun_call(fun, [])

  defp initial_call({:proc_lib, :init_p, [_parent, _ancestors, m, f, a]}),
    do: initial_call({m, f, a})

  defp initial_call({:gen, :init_it, [_gen, _starter, _parent, _name, mod, args, _opts]})
       when is_atom(mod),
       do: {mod, :init, [args]}

  defp initial_call({:gen, :init_it, [_gen, _starter, _parent, mod, args, _opts]})
       when is_atom(mod),
       do: {mod, :init, [args]}

  defp initial_call({m, f, args}) when is_list(args), do: {m, f, args}
  defp initial_call(other), do: {:erlang, :apply, [other]}

  defp fun_call(fun, args) do
    info = Function.info(fun)

    case {info[:type], info[:module], info[:name]} do
      {:local, mod, name} -> {mod, {:fn, name}, args}
      {:external, mod, name} -> {mod, name, args}
      _ -> {:erlang, :apply, [fun, args]}
    end
  end

  # Anonymous functions as the rest of the schema names them: "fn in run/2".
  defp fun_name({:fn, name}) do
    case Regex.run(~r/^-(.+\/\d+)-fun-\d+-$/, Atom.to_string(name)) do
      [_, owner] -> "fn in " <> owner
      _ -> "fn"
    end
  end

  defp fun_name(f), do: to_string(f)

  ## Shared

  defp rebase(0, _base), do: 0
  defp rebase(id, base), do: (id - base) * @seq_step

  defp ns(delta, _unit) when delta <= 0, do: 0
  defp ns(delta, 1_000_000_000), do: delta
  defp ns(delta, unit), do: div(delta * 1_000_000_000, unit)

  defp site(site, %{sites: sites} = ctx) do
    case sites do
      %{^site => info} ->
        {info, ctx}

      _ ->
        info =
          case :ets.lookup(Store.sites_table(), site) do
            [{_, {mod, fun, arity, line, file, name}}] ->
              {inspect(mod), to_string(fun), arity, line, file, name || "",
               role(mod, fun, arity, name)}

            [] ->
              {"", "", 0, 0, "", "", nil}
          end

        {info, %{ctx | sites: Map.put(sites, site, info)}}
    end
  end

  defp pid_text(pid, %{pids: pids} = ctx) do
    case pids do
      %{^pid => text} ->
        {text, ctx}

      _ ->
        text = inspect(pid)
        # A long run sees many processes (and names); keep the cache small.
        pids = if map_size(pids) > @max_cached, do: %{}, else: pids
        {text, %{ctx | pids: Map.put(pids, pid, text)}}
    end
  end
end
