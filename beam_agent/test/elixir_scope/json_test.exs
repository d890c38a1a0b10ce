defmodule ElixirScope.Agent.JSONTest do
  use ExUnit.Case, async: true

  alias ElixirScope.Agent.JSON

  defp round_trip(term), do: term |> JSON.encode!() |> JSON.decode()

  test "round trips the protocol's messages with string keys" do
    plan = %{
      "modules" => [
        %{"module" => "Sample.Ledger", "functions" => nil, "reason" => "GenServer"},
        %{
          "module" => "Sample.Math",
          "functions" => [%{"name" => "fib", "arity" => 1}],
          "reason" => "recursion"
        }
      ],
      "lib_dir" => "/tmp/x/_build/test/lib",
      "values" => %{"max_chars" => 400, "max_items" => 25, "max_depth" => 6}
    }

    assert round_trip(plan) == {:ok, plan}
  end

  test "data-driven values" do
    check = fn input, expected -> assert JSON.decode(input) == {:ok, expected}, input end

    check.(~s({"a": [1, -2, 3.5, 1e3, -0.25E-2, true, false, null]}), %{
      "a" => [1, -2, 3.5, 1.0e3, -0.0025, true, false, nil]
    })

    check.(~s("\\u00e9\\u2026 \\ud83d\\ude00 \\n\\t\\"\\\\\\/"), "é… 😀 \n\t\"\\/")
    check.(~s( [ ] ), [])
    check.(~s({}), %{})
    check.(~s({"k": 1, "k": 2}), %{"k" => 2})
    check.(~s("\\ud800"), "\uFFFD")
    check.(~s("plain é"), "plain é")
  end

  test "object keys never become atoms" do
    key = "never_an_atom_#{System.unique_integer([:positive])}"
    assert {:ok, %{^key => 1}} = JSON.decode(~s({"#{key}": 1}))
    assert_raise ArgumentError, fn -> String.to_existing_atom(key) end
  end

  test "invalid documents are errors, not exceptions" do
    for bad <- [
          "",
          "{",
          "[1,]",
          ~s({"a" 1}),
          ~s({a: 1}),
          "01x",
          ~s("unterminated),
          "tru",
          ~s("\\x"),
          "[1] 2",
          <<?", 0xFF, ?">>,
          ~s("a\nb")
        ] do
      assert {:error, reason} = JSON.decode(bad), inspect(bad)
      assert is_binary(reason)
    end
  end

  test "encoding escapes control characters and replaces invalid UTF-8" do
    assert JSON.encode!("a\"b\\c\n\u0001") == ~s("a\\"b\\\\c\\n\\u0001")
    assert JSON.encode!(<<"ok", 0xFF>>) == ~s("ok\uFFFD")
    assert JSON.encode!(%{a: [1, 2.5, nil, true, :x]}) == ~s({"a":[1,2.5,null,true,"x"]})
    assert {:ok, "a\"b\\c\n\u0001"} = round_trip("a\"b\\c\n\u0001")
  end
end
