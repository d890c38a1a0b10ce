defmodule ElixirScope.Agent.Flatbuffer do
  @moduledoc false
  # A minimal FlatBuffers builder, enough for Arrow IPC metadata. Like the official builders it
  # writes back to front: every object is prepended, and an object is referred to by its
  # distance from the END of the buffer (`ref`), which does not change as more is prepended.
  # Children are therefore built before their parents, so every uoffset points forward.
  #
  # Alignment is kept relative to the end and the finished buffer is padded to a multiple of 8
  # at the front, so alignment relative to the end equals alignment relative to the start.
  #
  # Tables are laid out as [vtable][soffset to vtable | fields...], the vtable immediately
  # before its table (soffset = vtable size). Absent fields simply get offset 0 in the vtable.

  defstruct chunks: [], size: 0

  @type t :: %__MODULE__{chunks: iodata, size: non_neg_integer}
  @type ref :: pos_integer

  @doc "A new, empty builder."
  def new, do: %__MODULE__{}

  @doc "A string (u32 length, UTF-8 bytes, NUL) aligned to 4."
  def string(b, s) when is_binary(s) do
    content = <<byte_size(s)::little-32, s::binary, 0>>
    b |> prep(4, byte_size(content)) |> prepend(content) |> with_ref()
  end

  @doc "A vector of structs given as their packed bytes (`count` structs, aligned to `align`)."
  def struct_vector(b, bytes, count, align) do
    b = b |> prep(max(align, 4), byte_size(bytes)) |> prepend(bytes)
    b |> prepend(<<count::little-32>>) |> with_ref()
  end

  @doc "A vector of uoffsets to previously built objects."
  def offset_vector(b, refs) do
    b = prep(b, 4, 4 * (length(refs) + 1))

    b =
      refs
      |> Enum.reverse()
      |> Enum.reduce(b, fn ref, b -> prepend(b, <<b.size + 4 - ref::little-32>>) end)

    b |> prepend(<<length(refs)::little-32>>) |> with_ref()
  end

  @doc """
  A table. `fields` is a list of `{slot, type, value}` with type one of `:bool`, `:u8`, `:i16`,
  `:i32`, `:i64` or `:offset` (value = a ref); slots not listed are absent.
  """
  def table(b, fields) do
    # Largest first keeps the padding small; every field aligned to its size relative to a
    # table start aligned to 8.
    sorted = Enum.sort_by(fields, fn {slot, type, _} -> {-size(type), slot} end)

    {layout, inline_size} =
      Enum.map_reduce(sorted, 4, fn {slot, type, value}, pos ->
        sz = size(type)
        pos = align_up(pos, sz)
        {{slot, type, value, pos}, pos + sz}
      end)

    table_size = align_up(inline_size, 4)
    b = prep(b, 8, table_size)
    # Distance from the end of the buffer to the table's first byte once it is prepended.
    table_ref = b.size + table_size
    max_slot = fields |> Enum.map(&elem(&1, 0)) |> Enum.max(fn -> -1 end)
    vt_size = 4 + 2 * (max_slot + 1)

    body =
      Enum.reduce(layout, :binary.copy(<<0>>, table_size), fn {_slot, type, value, pos}, acc ->
        bytes = encode(type, value, table_ref - pos)
        <<pre::binary-size(pos), _::binary-size(byte_size(bytes)), post::binary>> = acc
        <<pre::binary, bytes::binary, post::binary>>
      end)

    <<_::32, rest::binary>> = body
    body = <<vt_size::little-signed-32, rest::binary>>

    offsets = Map.new(layout, fn {slot, _type, _value, pos} -> {slot, pos} end)

    vtable =
      IO.iodata_to_binary([
        <<vt_size::little-16, table_size::little-16>>
        | for(slot <- 0..max_slot//1, do: <<Map.get(offsets, slot, 0)::little-16>>)
      ])

    b = prepend(b, body)
    ^table_ref = b.size
    # The vtable sits right before the table; vt_size is even, the table start 8-aligned.
    {prepend(b, vtable), table_ref}
  end

  @doc "Finishes the buffer with `root` as the root table; returns the bytes."
  def finish(b, root) do
    b = prep(b, 8, 4)
    b = prepend(b, <<b.size + 4 - root::little-32>>)
    IO.iodata_to_binary(b.chunks)
  end

  defp encode(:bool, v, _field_ref), do: <<if(v, do: 1, else: 0)::8>>
  defp encode(:u8, v, _), do: <<v::little-8>>
  defp encode(:i16, v, _), do: <<v::little-signed-16>>
  defp encode(:i32, v, _), do: <<v::little-signed-32>>
  defp encode(:i64, v, _), do: <<v::little-signed-64>>
  # A uoffset is relative to the field's own position: (field ref) - (target ref).
  defp encode(:offset, ref, field_ref), do: <<field_ref - ref::little-32>>

  defp size(:bool), do: 1
  defp size(:u8), do: 1
  defp size(:i16), do: 2
  defp size(:i32), do: 4
  defp size(:offset), do: 4
  defp size(:i64), do: 8

  defp align_up(n, a), do: div(n + a - 1, a) * a

  # Pads so that after prepending `additional` bytes the size is a multiple of `align`.
  defp prep(b, align, additional) do
    pad = rem(align - rem(b.size + additional, align), align)
    if pad > 0, do: prepend(b, :binary.copy(<<0>>, pad)), else: b
  end

  defp prepend(%__MODULE__{chunks: chunks, size: size} = b, bytes),
    do: %{b | chunks: [bytes | chunks], size: size + byte_size(bytes)}

  defp with_ref(b), do: {b, b.size}
end
