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

  test "an empty table still carries its schema and one empty batch" do
    read = Events.schema() |> Arrow.stream([]) |> IO.iodata_to_binary() |> ArrowReader.read()
    assert length(read.fields) == 13
    assert [%{length: 0}] = read.batches
  end
end
