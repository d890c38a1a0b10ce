defmodule ElixirScope.Agent.Prune do
  @moduledoc false
  # Bounds captured values on the hot path. `fits/2` walks a term against a budget of heap words
  # and stops as soon as it is exceeded, so the common small value costs a few nanoseconds and is
  # kept as it is (no copy). A value over the budget, or holding a binary that is large or that
  # keeps a large binary alive, is replaced by `prune/1`'s bounded copy:
  #
  #     {@pruned, term}   where, inside `term`,
  #     @cut                          stands for anything left out
  #     [a, b | @cut]                 a list cut short
  #     {@cut_tuple, [elems], size}   a tuple cut short
  #     {@map, [{k, v}], cut?}        every map (and struct) of a pruned value, as pairs
  #     {@cut_bin, byte_size, prefix} a binary cut to `max_bin/0` bytes (the prefix is copied)
  #
  # Only `ElixirScope.Agent.Value` reads these markers, and only under `@pruned`.

  @budget 256
  # Bytes of a binary captured as they are, by default; a session may set another bound (PLAN
  # `values.max_bytes`, see `set_max_bin/1`), read only for binaries that refer to more.
  @max_bin 512
  @max_bin_key {__MODULE__, :max_bin}

  @pruned :"$elixir_scope_pruned"
  @cut :"$elixir_scope_cut"
  @cut_tuple :"$elixir_scope_cut_tuple"
  @map :"$elixir_scope_map"
  @cut_bin :"$elixir_scope_cut_bin"

  def budget, do: @budget

  def default_max_bin, do: @max_bin

  @doc "Bytes of a binary captured: the session's bound, else #{@max_bin}."
  def max_bin, do: :persistent_term.get(@max_bin_key, @max_bin)

  @doc "Sets the bytes of a binary captured (at least 64; replacing it costs a global scan, once a session)."
  def set_max_bin(bytes) when is_integer(bytes) do
    bytes = max(bytes, 64)
    if max_bin() != bytes, do: :persistent_term.put(@max_bin_key, bytes)
    :ok
  end

  def markers,
    do: %{pruned: @pruned, cut: @cut, cut_tuple: @cut_tuple, map: @map, cut_bin: @cut_bin}

  @doc "Budget left after accounting for `term`, negative when it does not fit."
  def fits(_term, budget) when budget < 0, do: budget
  def fits(term, budget) when is_atom(term) or is_integer(term), do: budget - 1
  def fits([head | tail], budget), do: fits(tail, fits(head, budget - 2))
  def fits([], budget), do: budget
  # Pairs and triples (most tuples: {:ok, v}, {:reply, r, state}, a GenServer `from`) without
  # the element loop: ~2x faster. Each element costs 1 plus itself, the tuple 1.
  def fits({a, b}, budget), do: fits(b, fits(a, budget - 3))
  def fits({a, b, c}, budget), do: fits(c, fits(b, fits(a, budget - 4)))
  def fits(term, budget) when is_tuple(term), do: fits_tuple(term, tuple_size(term), budget - 1)

  # A binary's size is at most the size of the binary it refers to (itself, or the one a
  # sub-binary is part of): only the latter needs checking.
  def fits(term, budget) when is_binary(term) do
    ref = :binary.referenced_byte_size(term)

    if ref <= @max_bin or ref <= max_bin(),
      do: budget - 3 - div(byte_size(term), 8),
      else: -1
  end

  def fits(term, budget) when is_bitstring(term) do
    ref = :binary.referenced_byte_size(term)

    if ref <= @max_bin or ref <= max_bin(),
      do: budget - 4 - div(byte_size(term), 8),
      else: -1
  end

  def fits(term, budget) when is_map(term) do
    size = map_size(term)

    cond do
      size * 3 > budget ->
        -1

      # A small map (a flatmap, as most are): its keys and values as lists walk ~2x faster
      # than `:maps.fold/3` with a closure (measured 62 vs 128 ns for one pair, 184 vs 261 ns
      # for ten). The same total: every pair costs 3 plus its key and value.
      size <= 32 ->
        fits_list(:maps.values(term), fits_list(:maps.keys(term), budget - 2 - 3 * size))

      true ->
        :maps.fold(fn k, v, b -> fits(v, fits(k, b - 3)) end, budget - 2, term)
    end
  end

  def fits(term, budget) when is_float(term), do: budget - 3
  # Pids, references, ports, funs: counted as small; a fun's captured environment is not walked.
  def fits(_term, budget), do: budget - 4

  # The elements of a proper list, without the cost of its cells.
  defp fits_list(_list, budget) when budget < 0, do: budget
  defp fits_list([h | t], budget), do: fits_list(t, fits(h, budget))
  defp fits_list([], budget), do: budget

  defp fits_tuple(_t, 0, budget), do: budget
  defp fits_tuple(_t, _i, budget) when budget < 0, do: budget
  defp fits_tuple(t, i, budget), do: fits_tuple(t, i - 1, fits(:erlang.element(i, t), budget - 1))

  @doc "A bounded copy of `term` wrapped in the `@pruned` marker."
  def prune(term) do
    {pruned, _left} = prune(term, @budget)
    {@pruned, pruned}
  end

  defp prune(_term, budget) when budget <= 0, do: {@cut, 0}
  defp prune(term, budget) when is_atom(term) or is_integer(term), do: {term, budget - 1}

  defp prune(term, budget) when is_binary(term) do
    size = byte_size(term)
    max = max_bin()

    cond do
      size > max ->
        {{@cut_bin, size, :binary.copy(binary_part(term, 0, max))}, budget - 4 - div(max, 8)}

      :binary.referenced_byte_size(term) > max ->
        {:binary.copy(term), budget - 3 - div(size, 8)}

      true ->
        {term, budget - 3 - div(size, 8)}
    end
  end

  defp prune(term, budget) when is_bitstring(term) do
    bytes = byte_size(term)
    max = max_bin()

    if bytes > max do
      {{@cut_bin, bytes, :binary.copy(binary_part(term, 0, max))}, budget - 4 - div(max, 8)}
    else
      # Copy so that a small bitstring never keeps a large binary alive.
      bits = bit_size(term)
      <<copy::bitstring-size(bits)>> = :erlang.list_to_bitstring([term])
      {copy, budget - 4 - div(bytes, 8)}
    end
  end

  defp prune(term, budget) when is_list(term), do: prune_list(term, budget - 1, [])

  defp prune(term, budget) when is_tuple(term) do
    {elems, left, cut?} = prune_elems(Tuple.to_list(term), budget - 1 - tuple_size(term), [])

    if cut?,
      do: {{@cut_tuple, elems, tuple_size(term)}, left},
      else: {List.to_tuple(elems), left}
  end

  defp prune(term, budget) when is_map(term) do
    {pairs, left, cut?} = prune_pairs(:maps.iterator(term), budget - 2, [])
    {{@map, pairs, cut?}, left}
  end

  defp prune(term, budget) when is_float(term), do: {term, budget - 3}
  defp prune(term, budget), do: {term, budget - 4}

  defp prune_list([], budget, acc), do: {:lists.reverse(acc), budget}
  defp prune_list(_rest, budget, acc) when budget <= 0, do: {:lists.reverse(acc, @cut), 0}

  defp prune_list([head | tail], budget, acc) do
    {h, left} = prune(head, budget - 2)
    prune_list(tail, left, [h | acc])
  end

  # An improper tail.
  defp prune_list(tail, budget, acc) do
    {t, left} = prune(tail, budget)
    {:lists.reverse(acc, t), left}
  end

  defp prune_elems([], budget, acc), do: {:lists.reverse(acc), budget, false}
  defp prune_elems(_rest, budget, acc) when budget <= 0, do: {:lists.reverse(acc), 0, true}

  defp prune_elems([e | rest], budget, acc) do
    {p, left} = prune(e, budget)
    prune_elems(rest, left, [p | acc])
  end

  defp prune_pairs(iter, budget, acc) do
    case :maps.next(iter) do
      :none ->
        {:lists.reverse(acc), budget, false}

      {_k, _v, _next} when budget <= 0 ->
        {:lists.reverse(acc), 0, true}

      {k, v, next} ->
        {pk, left} = prune(k, budget - 3)
        {pv, left} = prune(v, left)
        prune_pairs(next, left, [{pk, pv} | acc])
    end
  end
end
