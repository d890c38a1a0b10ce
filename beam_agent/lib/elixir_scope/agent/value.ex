defmodule ElixirScope.Agent.Value do
  @moduledoc false
  # Bounded printable form of a captured value, as Elixir's `inspect/2` prints it (single line):
  # at most `max_items` elements per list/tuple/map ("..." marks the rest, as inspect does),
  # containers deeper than `max_depth` shown as "…", and at most `max_chars` characters. Whenever
  # anything was left out the text ends with "…". Runs in the collector, never on the hot path;
  # never creates atoms; never raises (an unprintable value becomes a placeholder).

  alias ElixirScope.Agent.Prune

  @ellipsis "…"
  @m Prune.markers()
  @pruned @m.pruned
  @cut @m.cut
  @cut_tuple @m.cut_tuple
  @map @m.map
  @cut_bin @m.cut_bin

  @default %{max_chars: 400, max_items: 25, max_depth: 6}

  def default_opts, do: @default

  @doc """
  The bytes of a captured value for the `value` column of an EVENTS frame: the term in the
  external term format (`term_to_binary`, first byte 131), which the recorder formats as
  `format/2` would (protocol/src/term-text.ts), or text formatted here when the
  external format cannot carry what `inspect` prints: structs (their Inspect implementation),
  funs, bitstrings, and pids, references and ports of other nodes. Small integers and atoms are
  text at once (cheaper than either). Encoding is several times cheaper than formatting, and it
  leaves the formatting to the recorder's machine instead of the user's node.
  """
  def encode(term, opts \\ @default)
  def encode(term, _opts) when is_integer(term), do: Integer.to_string(term)
  def encode(term, opts) when is_atom(term), do: format(term, opts)

  def encode(term, opts) do
    if portable?(term), do: :erlang.term_to_binary(term), else: format(term, opts)
  rescue
    _ -> "#<unprintable value>"
  end

  # Whether the recorder prints this term from its external format exactly as `format/2` does.
  defp portable?(t) when is_integer(t) or is_atom(t) or is_binary(t) or is_float(t), do: true
  # (A list of plain values, the common arguments list, in one tail-recursive loop.)
  defp portable?([h | t]) when is_integer(h) or is_atom(h) or is_binary(h) or is_float(h),
    do: portable?(t)

  defp portable?([h | t]), do: portable?(h) and portable?(t)
  defp portable?([]), do: true
  # Pairs and triples matched directly (most tuples), as `Prune.fits/2` does.
  defp portable?({a, b}), do: portable?(a) and portable?(b)
  defp portable?({a, b, c}), do: portable?(a) and portable?(b) and portable?(c)
  defp portable?(t) when is_tuple(t), do: portable_elems(t, tuple_size(t))

  defp portable?(t) when is_map(t) do
    case t do
      %{__struct__: mod} when is_atom(mod) -> false
      _ -> portable?(:maps.keys(t)) and portable?(:maps.values(t))
    end
  end

  defp portable?(t) when is_pid(t) or is_reference(t) or is_port(t), do: node(t) == node()
  defp portable?(_fun_or_bitstring), do: false

  defp portable_elems(_t, 0), do: true
  defp portable_elems(t, i), do: portable?(:erlang.element(i, t)) and portable_elems(t, i - 1)

  @doc "Formats a captured value."
  def format(term, opts \\ @default)

  # The most common values, without the general machinery.
  def format(term, _opts) when is_integer(term), do: Integer.to_string(term)

  def format(term, %{max_chars: chars} = opts) when is_atom(term) do
    text = atom_text(term)
    if byte_size(text) <= chars, do: text, else: format_general(term, opts)
  end

  def format(term, %{max_chars: chars} = opts)
      when is_binary(term) and byte_size(term) <= chars do
    text =
      cond do
        plain_ascii?(term) -> <<?", term::binary, ?">>
        String.printable?(term) -> inspect(term)
        true -> nil
      end

    if text != nil and byte_size(text) <= chars,
      do: text,
      else: format_general(term, opts)
  end

  def format(term, opts), do: format_general(term, opts)

  defp format_general(term, opts) do
    {term, pruned?} =
      case term do
        {@pruned, inner} -> {inner, true}
        other -> {other, false}
      end

    ctx = {opts.max_items, opts.max_depth, opts.max_chars, pruned?}
    # The byte budget lets generation stop early on huge values; the exact character limit is
    # applied at the end.
    {io, _left, trunc?} = fmt(term, 1, ctx, opts.max_chars * 4 + 16)
    finish(IO.iodata_to_binary(io), trunc? or pruned?, opts.max_chars)
  rescue
    _ -> "#<unprintable value>"
  end

  # Where protocols are not consolidated (a plain `elixir` script, a project that turns
  # consolidation off for its tests), Inspect finds a struct's implementation by looking for
  # the module `Inspect.<Struct>` on the code path on every call: ~250 µs a struct. There the
  # implementation found is remembered per struct module, in the formatting process.
  defp inspect_fun do
    if Inspect.__protocol__(:consolidated?), do: [], else: [inspect_fun: &inspect_cached/2]
  end

  @impl_key :"$elixir_scope_inspect_impl"

  @doc false
  # Inspect.inspect/2 (the protocol call), with a struct's implementation looked up once.
  def inspect_cached(%mod{} = term, opts) when is_atom(mod) do
    impl =
      case :erlang.get({@impl_key, mod}) do
        :undefined ->
          impl = Inspect.impl_for(term)
          :erlang.put({@impl_key, mod}, impl)
          impl

        impl ->
          impl
      end

    if impl, do: impl.inspect(term, opts), else: Inspect.inspect(term, opts)
  end

  def inspect_cached(term, opts), do: Inspect.inspect(term, opts)

  @doc "Formats a recorded exception `{class, reason, innermost_frames}` like Elixir's banner."
  def format_exception({class, reason, frames}, opts) do
    banner =
      case reason do
        {@pruned, _} ->
          "** (#{class_name(class)}) " <> format(reason, opts)

        _ ->
          try do
            Exception.format_banner(class, reason, frames)
          rescue
            _ -> "** (#{class_name(class)}) " <> format(reason, opts)
          end
      end

    finish(banner, false, opts.max_chars)
  end

  def format_exception({@pruned, {class, reason, _frames}}, opts) when is_atom(class) do
    finish("** (#{class_name(class)}) " <> format({@pruned, reason}, opts), true, opts.max_chars)
  end

  def format_exception(other, opts), do: format(other, opts)

  defp class_name(class) when class in [:error, :exit, :throw], do: Atom.to_string(class)
  defp class_name(_), do: "error"

  defp finish(text, trunc?, max_chars) do
    # Character counts are in code points; the byte size bounds them from above.
    text = if byte_size(text) > max_chars, do: cut(text, max_chars), else: text
    if trunc? and not String.ends_with?(text, @ellipsis), do: text <> @ellipsis, else: text
  end

  defp cut(text, max_chars) do
    case skip_codepoints(text, max_chars, 0) do
      :fits -> text
      _ -> binary_part(text, 0, skip_codepoints(text, max(max_chars - 1, 0), 0)) <> @ellipsis
    end
  end

  # Byte offset after `n` code points, or :fits if the text has no more than `n`.
  defp skip_codepoints(text, 0, offset),
    do: if(offset == byte_size(text), do: :fits, else: offset)

  defp skip_codepoints(text, n, offset) do
    case text do
      <<_::binary-size(offset), c::utf8, _::binary>> ->
        skip_codepoints(text, n - 1, offset + byte_size(<<c::utf8>>))

      <<_::binary-size(offset), _, _::binary>> ->
        skip_codepoints(text, n - 1, offset + 1)

      _ ->
        :fits
    end
  end

  ## The formatter: fmt(term, depth, ctx, bytes_left) -> {iodata, bytes_left, truncated?}

  defp fmt(_term, _depth, _ctx, left) when left <= 0, do: {@ellipsis, left, true}
  defp fmt(term, _d, _ctx, left) when is_integer(term), do: leaf(Integer.to_string(term), left)
  defp fmt(term, _d, _ctx, left) when is_atom(term), do: fmt_atom(term, left)
  defp fmt(term, _d, ctx, left) when is_binary(term), do: fmt_binary(term, ctx, left)

  defp fmt(term, _d, {items, _, _, _}, left) when is_bitstring(term),
    do: leaf(inspect(term, limit: items), left, bit_size(term) > items * 8)

  defp fmt(term, depth, {_, max_depth, _, _}, left)
       when (is_list(term) or is_tuple(term) or is_map(term)) and depth > max_depth,
       do: {@ellipsis, left - 3, true}

  defp fmt({@cut_bin, size, prefix}, _d, {_, _, _, true} = ctx, left) when is_integer(size) do
    {io, left, _} = fmt_binary(prefix, ctx, left)
    {[io, @ellipsis], left - 3, true}
  end

  defp fmt({@map, pairs, cut?}, depth, {_, _, _, true} = ctx, left) do
    case List.keytake(pairs, :__struct__, 0) do
      {{:__struct__, mod}, rest} when is_atom(mod) ->
        fmt_pairs(
          rest,
          ["%", Macro.inspect_atom(:literal, mod), "{"],
          "}",
          depth,
          ctx,
          left,
          cut?
        )

      _ ->
        fmt_pairs(pairs, "%{", "}", depth, ctx, left, cut?)
    end
  end

  defp fmt({@cut_tuple, elems, _size}, depth, {_, _, _, true} = ctx, left),
    do: fmt_seq(elems, "{", "}", depth, ctx, left, true)

  defp fmt(@cut, _d, {_, _, _, true}, left), do: {@ellipsis, left - 3, true}
  defp fmt([], _d, _ctx, left), do: leaf("[]", left)
  defp fmt(term, depth, ctx, left) when is_list(term), do: fmt_list(term, depth, ctx, left)

  defp fmt(term, depth, ctx, left) when is_tuple(term),
    do: fmt_seq(Tuple.to_list(term), "{", "}", depth, ctx, left, false)

  defp fmt(%{__struct__: mod} = term, depth, ctx, left) when is_atom(mod),
    do: fmt_struct(term, mod, depth, ctx, left)

  defp fmt(term, depth, ctx, left) when is_map(term),
    do: fmt_pairs(:maps.to_list(term), "%{", "}", depth, ctx, left, false)

  # As `inspect/1` prints them: #PID<0.1.0>, #Reference<0.1.2.3>, #Port<0.5>.
  defp fmt(term, _d, _ctx, left) when is_pid(term),
    do: leaf(["#PID" | :erlang.pid_to_list(term)] |> IO.iodata_to_binary(), left)

  defp fmt(term, _d, _ctx, left) when is_reference(term) do
    ~c"#Ref" ++ rest = :erlang.ref_to_list(term)
    leaf(IO.iodata_to_binary(["#Reference" | rest]), left)
  end

  defp fmt(term, _d, _ctx, left), do: leaf(inspect(term), left)

  defp leaf(text, left, trunc? \\ false), do: {text, left - byte_size(text), trunc?}

  defp fmt_atom(atom, left), do: leaf(atom_text(atom), left)

  # `inspect/1` of an atom, remembered: the collector sees the same few atoms over and over.
  defp atom_text(atom) do
    case :erlang.get({__MODULE__, atom}) do
      :undefined ->
        text = inspect(atom)
        :erlang.put({__MODULE__, atom}, text)
        text

      text ->
        text
    end
  end

  # Printable ASCII with nothing `inspect` would escape: it prints as itself in quotes.
  defp plain_ascii?(<<c, rest::binary>>)
       when c >= 0x20 and c <= 0x7E and c != ?" and c != ?\\ and c != ?#,
       do: plain_ascii?(rest)

  defp plain_ascii?(<<>>), do: true
  defp plain_ascii?(_), do: false

  defp fmt_binary(bin, {items, _, chars, _}, left) when byte_size(bin) <= chars do
    if plain_ascii?(bin),
      do: leaf(<<?", bin::binary, ?">>, left),
      else: fmt_binary_general(bin, items, chars, left)
  end

  defp fmt_binary(bin, {items, _, chars, _}, left),
    do: fmt_binary_general(bin, items, chars, left)

  defp fmt_binary_general(bin, items, chars, left) do
    if String.printable?(bin) do
      leaf(
        inspect(bin, printable_limit: chars),
        left,
        byte_size(bin) > chars and skip_codepoints(bin, chars, 0) != :fits
      )
    else
      leaf(inspect(bin, limit: items), left, byte_size(bin) > items)
    end
  end

  defp fmt_list(list, depth, {_, _, chars, pruned?} = ctx, left) do
    cond do
      not pruned? and List.ascii_printable?(list, chars) and proper?(list) ->
        leaf(inspect(list, printable_limit: chars), left, length(list) > chars)

      Inspect.List.keyword?(list) ->
        fmt_pairs(list, "[", "]", depth, ctx, left, false)

      true ->
        fmt_seq(list, "[", "]", depth, ctx, left, false)
    end
  end

  defp proper?([_ | t]), do: proper?(t)
  defp proper?([]), do: true
  defp proper?(_), do: false

  # Elements joined by ", "; an improper tail as " | tail"; "..." after `max_items` elements
  # (as inspect prints it) and "…" where the value was cut before it reached the collector.
  defp fmt_seq(elems, open, close, depth, {items, _, _, _} = ctx, left, cut?) do
    {parts, tail, left, trunc?} = seq_parts(elems, depth, ctx, left, items, [], false)
    suffix = if cut? and tail == nil, do: [@ellipsis], else: []
    {[open, join(parts ++ suffix), tail_io(tail), close], left - 2, trunc? or cut?}
  end

  defp seq_parts([], _depth, _ctx, left, _n, acc, tr), do: {:lists.reverse(acc), nil, left, tr}

  defp seq_parts(_rest, _depth, _ctx, left, _n, acc, _tr) when left <= 0,
    do: {:lists.reverse(acc, [@ellipsis]), nil, left, true}

  defp seq_parts([@cut], _depth, {_, _, _, true}, left, _n, acc, _tr),
    do: {:lists.reverse(acc, [@ellipsis]), nil, left, true}

  defp seq_parts([_ | _], _depth, _ctx, left, 0, acc, _tr),
    do: {:lists.reverse(acc, ["..."]), nil, left - 5, true}

  defp seq_parts([h | t], depth, ctx, left, n, acc, tr) do
    {io, left, tr2} = fmt(h, depth + 1, ctx, left - 2)
    seq_parts(t, depth, ctx, left, n - 1, [io | acc], tr or tr2)
  end

  defp seq_parts(@cut, _depth, {_, _, _, true}, left, _n, acc, _tr),
    do: {:lists.reverse(acc, [@ellipsis]), nil, left, true}

  defp seq_parts(tail, depth, ctx, left, _n, acc, tr) do
    {io, left, tr2} = fmt(tail, depth + 1, ctx, left - 3)
    {:lists.reverse(acc), io, left, tr or tr2}
  end

  defp tail_io(nil), do: []
  defp tail_io(io), do: [" | ", io]

  defp join([]), do: []
  defp join([first | rest]), do: [first | Enum.map(rest, &[", " | &1])]

  # Maps and keyword lists: `key: value` when every key is an atom (inspect's rule), else
  # `key => value`.
  defp fmt_pairs(pairs, open, close, depth, {items, _, _, _} = ctx, left, cut?) do
    keyword? = Inspect.List.keyword?(pairs)
    {parts, left, trunc?} = pair_parts(pairs, keyword?, depth, ctx, left, items, [], false)
    suffix = if cut?, do: [@ellipsis], else: []
    {[open, join(parts ++ suffix), close], left - 2, trunc? or cut?}
  end

  defp pair_parts([], _kw, _depth, _ctx, left, _n, acc, tr), do: {:lists.reverse(acc), left, tr}

  defp pair_parts(_rest, _kw, _depth, _ctx, left, _n, acc, _tr) when left <= 0,
    do: {:lists.reverse(acc, [@ellipsis]), left, true}

  defp pair_parts(_rest, _kw, _depth, _ctx, left, 0, acc, _tr),
    do: {:lists.reverse(acc, ["..."]), left - 5, true}

  defp pair_parts([{k, v} | rest], keyword?, depth, ctx, left, n, acc, tr) do
    {kio, left, tk} =
      if keyword? do
        kio = Macro.inspect_atom(:key, k)
        {[kio, " "], left - byte_size(kio) - 1, false}
      else
        {io, left, tk} = fmt(k, depth + 1, ctx, left - 4)
        {[io, " => "], left, tk}
      end

    {vio, left, tv} = fmt(v, depth + 1, ctx, left - 2)
    pair_parts(rest, keyword?, depth, ctx, left, n - 1, [[kio, vio] | acc], tr or tk or tv)
  end

  # Structs print through their Inspect implementation (MapSet, Date, exceptions...), bounded
  # by the item and character limits; if that fails, as `%Mod{field: value}`.
  defp fmt_struct(term, mod, depth, {items, _, chars, _} = ctx, left) do
    text = inspect(term, [limit: items, printable_limit: chars, safe: false] ++ inspect_fun())
    leaf(text, left, String.contains?(text, "..."))
  rescue
    _ ->
      pairs = term |> Map.delete(:__struct__) |> :maps.to_list()

      fmt_pairs(
        pairs,
        ["%", Macro.inspect_atom(:literal, mod), "{"],
        "}",
        depth,
        ctx,
        left,
        false
      )
  end
end
