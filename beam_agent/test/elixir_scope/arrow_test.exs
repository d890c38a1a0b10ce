defmodule ElixirScope.Agent.ArrowTest do
  use ExUnit.Case, async: true

  alias ElixirScope.Agent.{Arrow, ArrowReader, Events}

  @rows [
    {1, 10, 1, "#PID<0.1.0>", "Sample.Math", "fib", 1, 1, 0, "/src/math.ex", 9, "", "[5]"},
    {2, 10, 4, "#PID<0.1.0>", "Sample.Math", "fib", 1, 1, 0, "/src/math.ex", 9, "n", "5"},
    {3, 99, 2, "#PID<0.1.0>", "Sample.Math", "fib", 1, 1, 0, "/src/math.ex", 9, "", "5 — é…"},
    {-4, -9_223_372_036_854_775_808, -128, "", "", "", -2_147_483_648, 9_223_372_036_854_775_807,
     0, "", 0, "", ""}
  ]

  test "a stream is schema, record batch, end-of-stream; V5 metadata" do
    read =
      @rows
      |> then(&Arrow.stream(Events.schema(), &1))
      |> IO.iodata_to_binary()
      |> ArrowReader.read()

    assert [%{header_type: 1, version: 4, body_length: 0}, %{header_type: 3, version: 4}] =
             read.messages

    assert read.fields == [
             {"seq", {:int, 64, true}},
             {"ts", {:int, 64, true}},
             {"kind", {:int, 8, true}},
             {"pid", :utf8},
             {"module", :utf8},
             {"function", :utf8},
             {"arity", {:int, 32, true}},
             {"call_id", {:int, 64, true}},
             {"parent_id", {:int, 64, true}},
             {"file", :utf8},
             {"line", {:int, 32, true}},
             {"name", :utf8},
             {"value", :binary}
           ]

    assert [%{length: 4, columns: columns}] = read.batches
    assert columns |> Enum.zip() |> Enum.to_list() == @rows
  end

  test "bodies are 8-byte aligned and padded, for every row count" do
    for n <- [0, 1, 2, 3, 7, 8, 9, 100] do
      rows =
        Enum.map(1..n//1, fn i ->
          {i, i, 1, "p", String.duplicate("m", i), "f", i, i, 0, "", i, "", "v"}
        end)

      bytes = IO.iodata_to_binary(Arrow.stream(Events.schema(), rows))
      read = ArrowReader.read(bytes)
      assert Enum.sum(Enum.map(read.batches, & &1.length)) == n
      assert rem(byte_size(bytes), 8) == 0
    end
  end

  test "several record batches, utf8 offsets restarting at 0 in each" do
    rows =
      Enum.map(1..10, fn i ->
        {i, i, 2, "p#{i}", "M", "f", 0, i, 0, "", 0, "", String.duplicate("x", i)}
      end)

    read =
      rows
      |> then(&Arrow.stream(Events.schema(), &1, 4))
      |> IO.iodata_to_binary()
      |> ArrowReader.read()

    assert Enum.map(read.batches, & &1.length) == [4, 4, 2]
    assert ArrowReader.rows(read) |> Enum.map(& &1["value"]) == Enum.map(rows, &elem(&1, 12))
  end

  test "a stream with its schema message made beforehand is the same stream" do
    rows = Enum.map(1..5, fn i -> {i, i, 1, "p", "M", "f", 1, i, 0, "/a.ex", i, "", "#{i}"} end)
    made = IO.iodata_to_binary(Arrow.schema_message(Events.schema()))

    assert IO.iodata_to_binary(Arrow.stream(made, Events.schema(), rows, 2)) ==
             IO.iodata_to_binary(Arrow.stream(Events.schema(), rows, 2))
  end

  test "an empty table still carries its schema and one empty batch" do
    read = Events.schema() |> Arrow.stream([]) |> IO.iodata_to_binary() |> ArrowReader.read()
    assert length(read.fields) == 13
    assert [%{length: 0}] = read.batches
  end

  # What the column builders must give, written the plain way.
  defp reference(:int64, rows, i),
    do: for(r <- rows, into: <<>>, do: <<elem(r, i - 1)::little-signed-64>>)

  defp reference(:int32, rows, i),
    do: for(r <- rows, into: <<>>, do: <<elem(r, i - 1)::little-signed-32>>)

  defp reference(:int8, rows, i),
    do: for(r <- rows, into: <<>>, do: <<elem(r, i - 1)::little-signed-8>>)

  defp reference(_varbinary, rows, i) do
    values = Enum.map(rows, &elem(&1, i - 1))
    ends = Enum.scan(values, 0, &(byte_size(&1) + &2))
    offsets = for e <- [0 | ends], into: <<>>, do: <<e::little-signed-32>>
    offsets <> IO.iodata_to_binary(values)
  end

  defp built(:int64, rows, i), do: ElixirScope.Agent.ArrowColumns.int64(rows, i)
  defp built(:int32, rows, i), do: ElixirScope.Agent.ArrowColumns.int32(rows, i)
  defp built(:int8, rows, i), do: ElixirScope.Agent.ArrowColumns.int8(rows, i)

  defp built(_, rows, i),
    do: IO.iodata_to_binary(ElixirScope.Agent.ArrowColumns.varbinary(rows, i))

  test "column buffers: a value repeated over the whole batch (written at once) or changing anywhere" do
    [first | _] = @rows
    same = List.duplicate(first, 300)
    # The same value in every row but the last, or but the first.
    last_differs = same ++ [Enum.at(@rows, 3)]
    first_differs = [Enum.at(@rows, 3) | same]
    # Equal content in distinct binaries counts as the same value.
    copies = for _ <- 1..5, do: put_elem(first, 4, :binary.copy("Sample.Math"))

    for rows <- [[first], same, last_differs, first_differs, @rows, copies, []],
        {{name, type}, i} <- Enum.with_index(Events.schema(), 1) do
      assert built(type, rows, i) == reference(type, rows, i), "#{name} of #{length(rows)} rows"
    end

    # A stream of a constant batch reads back, cell for cell.
    %{batches: [%{length: 300, columns: columns}]} =
      ArrowReader.read(IO.iodata_to_binary(Arrow.stream(Events.schema(), same)))

    assert columns == for(v <- Tuple.to_list(first), do: List.duplicate(v, 300))
  end

  test "chunks/2 cuts a list as Enum.chunk_every/2 does" do
    for len <- [0, 1, 2, 7, 8, 9, 16, 17, 100], n <- [1, 2, 8, 16, 1000] do
      list = Enum.to_list(1..len//1)
      assert Arrow.chunks(list, n) == Enum.chunk_every(list, n), "#{len} in chunks of #{n}"
    end
  end
end
