defmodule ElixirScope.Agent.JSON do
  @moduledoc """
  A small JSON encoder and decoder (OTP 25 has no `:json`, and the agent takes no packages).

  Decoding returns maps with **string** keys (never atoms), lists, binaries, integers, floats,
  `true`, `false` and `nil`. Encoding accepts those plus atom keys/values.
  """

  @doc "Decodes a JSON document. Returns `{:ok, term}` or `{:error, reason}`."
  @spec decode(binary) :: {:ok, term} | {:error, String.t()}
  def decode(bin) when is_binary(bin) do
    {value, rest} = value(skip_ws(bin))

    case skip_ws(rest) do
      "" -> {:ok, value}
      other -> {:error, "unexpected trailing data at #{inspect(String.slice(other, 0, 10))}"}
    end
  catch
    {:json_error, reason} -> {:error, reason}
  end

  @doc "Encodes a term as JSON iodata."
  @spec encode(term) :: iodata
  def encode(nil), do: "null"
  def encode(true), do: "true"
  def encode(false), do: "false"
  def encode(n) when is_integer(n), do: Integer.to_string(n)
  def encode(f) when is_float(f), do: :erlang.float_to_binary(f, [:short])
  def encode(a) when is_atom(a), do: string(Atom.to_string(a))
  def encode(s) when is_binary(s), do: string(s)

  def encode(map) when is_map(map) do
    pairs =
      map
      |> Enum.map(fn {k, v} -> [string(key(k)), ?:, encode(v)] end)
      |> Enum.intersperse(?,)

    [?{, pairs, ?}]
  end

  def encode(list) when is_list(list),
    do: [?[, list |> Enum.map(&encode/1) |> Enum.intersperse(?,), ?]]

  @doc "Encodes a term as a JSON binary."
  def encode!(term), do: IO.iodata_to_binary(encode(term))

  defp key(k) when is_binary(k), do: k
  defp key(k) when is_atom(k), do: Atom.to_string(k)
  defp key(k) when is_integer(k), do: Integer.to_string(k)

  # Strings: escapes quote, backslash and control characters; invalid UTF-8 bytes become U+FFFD
  # so that the output is always valid JSON.
  defp string(s), do: [?", escape(s, []), ?"]

  defp escape(<<>>, acc), do: :lists.reverse(acc)
  defp escape(<<?", rest::binary>>, acc), do: escape(rest, ["\\\"" | acc])
  defp escape(<<?\\, rest::binary>>, acc), do: escape(rest, ["\\\\" | acc])
  defp escape(<<?\n, rest::binary>>, acc), do: escape(rest, ["\\n" | acc])
  defp escape(<<?\r, rest::binary>>, acc), do: escape(rest, ["\\r" | acc])
  defp escape(<<?\t, rest::binary>>, acc), do: escape(rest, ["\\t" | acc])

  defp escape(<<c, rest::binary>>, acc) when c < 0x20,
    do: escape(rest, [:io_lib.format("\\u~4.16.0B", [c]) | acc])

  defp escape(<<c::utf8, rest::binary>>, acc), do: escape(rest, [<<c::utf8>> | acc])
  defp escape(<<_, rest::binary>>, acc), do: escape(rest, ["\uFFFD" | acc])

  ## Decoder

  defp value(<<?{, rest::binary>>), do: object(skip_ws(rest), %{})
  defp value(<<?[, rest::binary>>), do: array(skip_ws(rest), [])
  defp value(<<?", rest::binary>>), do: string_value(rest, [])
  defp value(<<"true", rest::binary>>), do: {true, rest}
  defp value(<<"false", rest::binary>>), do: {false, rest}
  defp value(<<"null", rest::binary>>), do: {nil, rest}
  defp value(<<c, _::binary>> = bin) when c == ?- or c in ?0..?9, do: number(bin)
  defp value(""), do: throw({:json_error, "unexpected end of input"})

  defp value(<<c::utf8, _::binary>>),
    do: throw({:json_error, "unexpected character #{<<c::utf8>>}"})

  defp value(_), do: throw({:json_error, "invalid byte"})

  defp object(<<?}, rest::binary>>, acc), do: {acc, rest}

  defp object(<<?", rest::binary>>, acc) do
    {key, rest} = string_value(rest, [])

    case skip_ws(rest) do
      <<?:, rest::binary>> ->
        {value, rest} = value(skip_ws(rest))
        acc = Map.put(acc, key, value)

        case skip_ws(rest) do
          <<?,, rest::binary>> -> object_key(skip_ws(rest), acc)
          <<?}, rest::binary>> -> {acc, rest}
          _ -> throw({:json_error, "expected , or } in object"})
        end

      _ ->
        throw({:json_error, "expected : after object key"})
    end
  end

  defp object(_, _), do: throw({:json_error, "expected string key or } in object"})

  defp object_key(<<?", _::binary>> = bin, acc), do: object(bin, acc)
  defp object_key(_, _), do: throw({:json_error, "expected string key in object"})

  defp array(<<?], rest::binary>>, acc), do: {:lists.reverse(acc), rest}

  defp array(bin, acc) do
    {value, rest} = value(bin)

    case skip_ws(rest) do
      <<?,, rest::binary>> -> array_next(skip_ws(rest), [value | acc])
      <<?], rest::binary>> -> {:lists.reverse([value | acc]), rest}
      _ -> throw({:json_error, "expected , or ] in array"})
    end
  end

  defp array_next(<<?], _::binary>>, _), do: throw({:json_error, "trailing comma in array"})
  defp array_next(bin, acc), do: array(bin, acc)

  defp string_value(<<?", rest::binary>>, acc),
    do: {IO.iodata_to_binary(:lists.reverse(acc)), rest}

  defp string_value(<<?\\, e, rest::binary>>, acc) when e in [?", ?\\, ?/, ?b, ?f, ?n, ?r, ?t] do
    char =
      case e do
        ?b -> ?\b
        ?f -> ?\f
        ?n -> ?\n
        ?r -> ?\r
        ?t -> ?\t
        other -> other
      end

    string_value(rest, [char | acc])
  end

  defp string_value(
         <<"\\u", a::binary-size(4), "\\u", b::binary-size(4), rest::binary>> = bin,
         acc
       ) do
    hi = hex(a)
    lo = hex(b)

    if hi in 0xD800..0xDBFF and lo in 0xDC00..0xDFFF do
      cp = 0x10000 + Bitwise.bsl(hi - 0xD800, 10) + (lo - 0xDC00)
      string_value(rest, [<<cp::utf8>> | acc])
    else
      <<_::binary-size(6), rest1::binary>> = bin
      string_value(rest1, [codepoint(hi) | acc])
    end
  end

  defp string_value(<<"\\u", a::binary-size(4), rest::binary>>, acc),
    do: string_value(rest, [codepoint(hex(a)) | acc])

  defp string_value(<<?\\, _::binary>>, _), do: throw({:json_error, "invalid escape in string"})

  defp string_value(<<c, _::binary>>, _) when c < 0x20,
    do: throw({:json_error, "control character in string"})

  defp string_value(bin, acc) do
    # Take the longest run without quote, backslash or control characters at once.
    case :binary.match(bin, ["\"", "\\"]) do
      {pos, _} when pos > 0 ->
        <<chunk::binary-size(pos), rest::binary>> = bin
        check_chunk(chunk)
        string_value(rest, [chunk | acc])

      {0, _} ->
        throw({:json_error, "invalid string"})

      :nomatch ->
        throw({:json_error, "unterminated string"})
    end
  end

  defp check_chunk(chunk) do
    unless String.valid?(chunk), do: throw({:json_error, "invalid UTF-8 in string"})

    if :binary.match(chunk, Enum.map(0..31, &<<&1>>)) != :nomatch,
      do: throw({:json_error, "control character in string"})
  end

  # Lone surrogates cannot be encoded in UTF-8: replaced by U+FFFD.
  defp codepoint(cp) when cp in 0xD800..0xDFFF, do: "\uFFFD"
  defp codepoint(cp), do: <<cp::utf8>>

  defp hex(digits) do
    case Integer.parse(digits, 16) do
      {n, ""} -> n
      _ -> throw({:json_error, "invalid \\u escape"})
    end
  end

  defp number(bin) do
    {int_part, rest} = take_while(bin, &(&1 == ?- or &1 in ?0..?9))
    {frac, rest} = fraction(rest)
    {exp, rest} = exponent(rest)

    cond do
      frac == "" and exp == "" ->
        case Integer.parse(int_part) do
          {n, ""} -> {n, rest}
          _ -> throw({:json_error, "invalid number"})
        end

      true ->
        text = int_part <> if(frac == "", do: ".0", else: frac) <> exp

        case Float.parse(text) do
          {f, ""} -> {f, rest}
          _ -> throw({:json_error, "invalid number"})
        end
    end
  end

  defp fraction(<<?., rest::binary>>) do
    {digits, rest} = take_while(rest, &(&1 in ?0..?9))
    if digits == "", do: throw({:json_error, "invalid number"})
    {"." <> digits, rest}
  end

  defp fraction(rest), do: {"", rest}

  defp exponent(<<e, rest::binary>>) when e in [?e, ?E] do
    {sign, rest} =
      case rest do
        <<s, r::binary>> when s in [?+, ?-] -> {<<s>>, r}
        _ -> {"", rest}
      end

    {digits, rest} = take_while(rest, &(&1 in ?0..?9))
    if digits == "", do: throw({:json_error, "invalid number"})
    {"e" <> sign <> digits, rest}
  end

  defp exponent(rest), do: {"", rest}

  defp take_while(bin, fun), do: take_while(bin, fun, 0)

  defp take_while(bin, fun, n) do
    case bin do
      <<_::binary-size(n), c, _::binary>> ->
        if fun.(c), do: take_while(bin, fun, n + 1), else: split(bin, n)

      _ ->
        split(bin, n)
    end
  end

  defp split(bin, n) do
    <<a::binary-size(n), b::binary>> = bin
    {a, b}
  end

  defp skip_ws(<<c, rest::binary>>) when c in [?\s, ?\t, ?\n, ?\r], do: skip_ws(rest)
  defp skip_ws(bin), do: bin
end
