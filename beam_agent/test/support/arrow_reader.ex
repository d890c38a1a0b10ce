defmodule ElixirScope.Agent.ArrowReader do
  @moduledoc false
  # A minimal Arrow IPC stream reader for tests: enough FlatBuffers to read back what
  # `ElixirScope.Agent.Arrow` writes (Int8/16/32/64 and Utf8 columns, no nulls). It checks the
  # framing rules on the way (continuation marker, 8-byte aligned metadata and body buffers).

  @doc "Returns `%{fields: [{name, type}], batches: [[column values]], messages: [...]}`."
  def read(bytes) when is_binary(bytes),
    do: read(bytes, %{fields: nil, batches: [], messages: []})

  defp read(<<0xFF, 0xFF, 0xFF, 0xFF, 0::little-32, rest::binary>>, acc) do
    if rest != "", do: raise("bytes after end-of-stream")
    %{acc | batches: Enum.reverse(acc.batches), messages: Enum.reverse(acc.messages)}
  end

  defp read(<<0xFF, 0xFF, 0xFF, 0xFF, len::little-32, meta::binary-size(len), rest::binary>>, acc) do
    if rem(8 + len, 8) != 0, do: raise("metadata not padded to 8 bytes")
    msg = table(meta, root(meta))
    version = scalar(msg, 0, :i16, 0)
    header_type = scalar(msg, 1, :u8, 0)
    body_len = scalar(msg, 3, :i64, 0)
    <<body::binary-size(body_len), rest::binary>> = rest
    header = table(meta, offset_field(msg, 2))

    acc = %{
      acc
      | messages: [
          %{version: version, header_type: header_type, body_length: body_len} | acc.messages
        ]
    }

    case header_type do
      1 -> read(rest, %{acc | fields: fields(meta, header)})
      3 -> read(rest, %{acc | batches: [batch(meta, header, body, acc.fields) | acc.batches]})
    end
  end

  defp read(_, _), do: raise("missing continuation marker or truncated stream")

  defp fields(meta, schema) do
    for f <- vector_tables(meta, offset_field(schema, 1)) do
      name = string(meta, offset_field(f, 0))
      type_type = scalar(f, 2, :u8, 0)
      type = table(meta, offset_field(f, 3))

      type =
        case type_type do
          2 -> {:int, scalar(type, 0, :i32, 0), scalar(type, 1, :u8, 0) == 1}
          4 -> :binary
          5 -> :utf8
        end

      {name, type}
    end
  end

  defp batch(meta, rb, body, fields) do
    length = scalar(rb, 0, :i64, 0)
    nodes = struct_vector(meta, offset_field(rb, 1))
    buffers = struct_vector(meta, offset_field(rb, 2))
    if length(nodes) != length(fields), do: raise("one field node per column expected")

    {columns, []} =
      Enum.map_reduce(fields, buffers, fn {_name, type}, bufs ->
        [{_voff, 0} | bufs] = bufs
        read_column(type, length, body, bufs)
      end)

    for {off, _len} <- buffers, rem(off, 8) != 0, do: raise("body buffer not 8-byte aligned")
    %{length: length, columns: columns}
  end

  defp read_column({:int, bits, true}, n, body, [{off, len} | rest]) do
    data = binary_part(body, off, len)
    {for(<<v::little-signed-size(bits) <- binary_part(data, 0, div(n * bits, 8))>>, do: v), rest}
  end

  defp read_column(:binary, n, body, bufs), do: read_column(:utf8, n, body, bufs)

  defp read_column(:utf8, n, body, [{ooff, olen}, {doff, dlen} | rest]) do
    offsets = for <<v::little-signed-32 <- binary_part(body, ooff, olen)>>, do: v
    data = binary_part(body, doff, dlen)
    offsets = Enum.take(offsets, n + 1)
    if hd(offsets) != 0, do: raise("utf8 offsets must start at 0")

    values =
      offsets
      |> Enum.chunk_every(2, 1, :discard)
      |> Enum.map(fn [a, b] -> binary_part(data, a, b - a) end)

    {values, rest}
  end

  ## FlatBuffers

  defp root(buf), do: u32(buf, 0)

  defp table(buf, pos) do
    vt = pos - s32(buf, pos)
    vt_size = u16(buf, vt)
    {buf, pos, vt, vt_size}
  end

  defp field_pos({buf, pos, vt, vt_size}, slot) do
    entry = 4 + 2 * slot

    if entry >= vt_size,
      do: nil,
      else:
        (case u16(buf, vt + entry) do
           0 -> nil
           off -> pos + off
         end)
  end

  defp scalar(t, slot, type, default) do
    {buf, _, _, _} = t

    case field_pos(t, slot) do
      nil -> default
      p -> read_scalar(buf, p, type)
    end
  end

  defp read_scalar(buf, p, :u8), do: :binary.at(buf, p)

  defp read_scalar(buf, p, :i16),
    do:
      (
        <<_::binary-size(p), v::little-signed-16, _::binary>> = buf
        v
      )

  defp read_scalar(buf, p, :i32), do: s32(buf, p)

  defp read_scalar(buf, p, :i64),
    do:
      (
        <<_::binary-size(p), v::little-signed-64, _::binary>> = buf
        v
      )

  defp offset_field({buf, _, _, _} = t, slot) do
    p = field_pos(t, slot) || raise("missing field #{slot}")
    p + u32(buf, p)
  end

  defp vector_tables(buf, vpos) do
    n = u32(buf, vpos)

    for i <- 0..(n - 1)//1,
        do:
          (
            p = vpos + 4 + 4 * i
            table(buf, p + u32(buf, p))
          )
  end

  defp struct_vector(buf, vpos) do
    n = u32(buf, vpos)
    start = vpos + 4
    if rem(start, 8) != 0, do: raise("struct vector not 8-byte aligned")

    for i <- 0..(n - 1)//1 do
      <<_::binary-size(start + 16 * i), a::little-signed-64, b::little-signed-64, _::binary>> =
        buf

      {a, b}
    end
  end

  defp string(buf, p), do: binary_part(buf, p + 4, u32(buf, p))

  defp u16(buf, p),
    do:
      (
        <<_::binary-size(p), v::little-16, _::binary>> = buf
        v
      )

  defp u32(buf, p),
    do:
      (
        <<_::binary-size(p), v::little-32, _::binary>> = buf
        v
      )

  defp s32(buf, p),
    do:
      (
        <<_::binary-size(p), v::little-signed-32, _::binary>> = buf
        v
      )

  @doc """
  Rows as maps keyed by column name. A Binary column holding a term in the external format
  (first byte 131) reads as its text, formatted as the recorder does (`Value.format/2` with
  the value bounds of the plan the test's FakeRecorder sent, else the defaults).
  """
  def rows(%{fields: fields, batches: batches}) do
    names = Enum.map(fields, &elem(&1, 0))
    binary = for {name, :binary} <- fields, do: name

    opts =
      Process.get(
        {ElixirScope.Agent.FakeRecorder, :values},
        ElixirScope.Agent.Value.default_opts()
      )

    Enum.flat_map(batches, fn %{columns: cols, length: n} ->
      if n == 0,
        do: [],
        else:
          cols
          |> Enum.zip()
          |> Enum.map(fn t ->
            row = Map.new(Enum.zip(names, Tuple.to_list(t)))
            Enum.reduce(binary, row, fn name, row -> Map.update!(row, name, &text(&1, opts)) end)
          end)
    end)
  end

  defp text(<<131, _::binary>> = etf, opts),
    do: ElixirScope.Agent.Value.format(:erlang.binary_to_term(etf), opts)

  defp text(text, _opts), do: text
end
