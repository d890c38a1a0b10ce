# Cases for test/recorder/term-text.test.ts: terms in the external term format together with
# ElixirScope.Agent.Value.format/2's text for each of several option sets, as the agent's
# collector would print them.
#
#     elixir -pa dist/agent/ebin test/recorder/term-text-cases.exs OUT_FILE
#
# OUT_FILE: "TTC1", the option count (8 bits) and each option set as three 32-bit numbers
# (max_chars, max_items, max_depth); then one record per term: a label, the term's bytes, and
# one text per option set, each as a 32-bit size and the bytes.
#
# The terms are hand-picked edge cases of every rule of Value.format/2 and of the inspect/2
# behaviour it relies on, code points sampled across Unicode as atoms, and random nested terms
# from a fixed seed, some pruned by ElixirScope.Agent.Prune.prune/1 as the agent prunes large
# values. None holds what the agent does not send as bytes (structs outside prune markers,
# funs, bitstrings, other nodes' pids).

defmodule TermTextCases do
  alias ElixirScope.Agent.{Prune, Value}

  @opts [
    %{max_chars: 400, max_items: 25, max_depth: 6},
    %{max_chars: 20, max_items: 3, max_depth: 2},
    %{max_chars: 60, max_items: 8, max_depth: 4},
    %{max_chars: 5, max_items: 1, max_depth: 1},
    %{max_chars: 1, max_items: 0, max_depth: 0},
    %{max_chars: 0, max_items: 2, max_depth: 3},
    %{max_chars: 5000, max_items: 200, max_depth: 30}
  ]

  @m Prune.markers()

  def main([path]) do
    :rand.seed(:exsss, {2026, 12, 2})

    cases =
      Enum.map(hand_picked(), &{&1, 1}) ++
        Enum.map(raw_terms(), &{:raw, &1}) ++
        Enum.map(atom_cases(), &{&1, 2}) ++
        Enum.map(float_lists(), &{&1, 1}) ++
        Enum.map(large_maps(), &{&1, 1}) ++
        Enum.map(random_terms(3000), &{&1, Enum.random([1, 2])}) ++
        Enum.map(pruned_terms(700), &{&1, 1})

    header = [
      "TTC1",
      length(@opts),
      for(o <- @opts, do: <<o.max_chars::32, o.max_items::32, o.max_depth::32>>)
    ]

    File.write!(path, [header | Enum.map(cases, &record/1)])
    IO.puts("#{length(cases)} terms, #{length(@opts)} option sets")
  end

  # minor_version 1 (OTP 25's default) writes Latin-1 atoms as ATOM_EXT, 2 as ATOM_UTF8_EXT.
  defp record({:raw, etf}), do: record(:erlang.binary_to_term(etf), etf)
  defp record({term, minor}), do: record(term, :erlang.term_to_binary(term, minor_version: minor))

  defp record(term, etf) do
    label =
      term |> inspect(limit: 8, printable_limit: 60, charlists: :as_lists) |> String.slice(0, 160)

    texts = for o <- @opts, do: sized(Value.format(term, o))
    [sized(label), sized(etf) | texts]
  end

  defp sized(bin), do: <<byte_size(bin)::32, bin::binary>>

  ## Hand-picked

  defp hand_picked do
    integers() ++
      floats() ++
      atoms() ++
      binaries() ++
      charlists() ++
      lists() ++
      tuples() ++
      maps() ++ identifiers() ++ markers() ++ pruned_by_hand() ++ budget()
  end

  defp integers do
    [
      0,
      1,
      -1,
      255,
      256,
      -256,
      2 ** 31 - 1,
      -(2 ** 31),
      2 ** 31,
      -(2 ** 31) - 1,
      2 ** 47,
      2 ** 48,
      2 ** 53 + 1,
      -(2 ** 64),
      2 ** 64 - 1,
      10 ** 30,
      -(10 ** 100),
      2 ** 2100,
      -(3 ** 2000),
      {2 ** 70},
      [10 ** 25, -(10 ** 25)],
      12_345_678_901_234_567_890
    ]
  end

  defp floats do
    [
      0.0,
      -0.0,
      1.0,
      -1.0,
      0.1,
      0.5,
      1.5,
      100.0,
      1.0e15,
      1.0e16,
      1.5e16,
      9_007_199_254_740_992.0,
      9.007199254740994e15,
      1.0e20,
      1.0e21,
      1.0e-4,
      1.2e-4,
      1.0e-5,
      0.001,
      0.00123,
      123.456,
      1.7976931348623157e308,
      5.0e-324,
      2.2250738585072014e-308,
      -1.5e-7,
      3.14159,
      1 / 3,
      2 / 3,
      1.0e100,
      123_456_789.123,
      0.1 + 0.2,
      1.0e-10,
      1.25e-3,
      4.5e15,
      1.0e17,
      1.2345678e22,
      123_456.0,
      1.0e-323,
      0.000123,
      1.0e-3,
      9.999999999999999e15,
      [1.5, -2.25]
    ]
  end

  defp atoms do
    long = String.duplicate("a", 255)

    [
      :ok,
      true,
      false,
      nil,
      :foo,
      :Foo,
      Foo,
      Foo.Bar,
      :"foo bar",
      :"",
      :+,
      :-,
      :"::",
      :"//",
      :..,
      :...,
      :"..//",
      :->,
      :%,
      :%{},
      :{},
      :<<>>,
      :&,
      :@,
      :foo?,
      :foo!,
      :"foo?bar",
      :"foo!?",
      :foo@bar,
      :Foo@bar,
      :"Elixir.foo",
      :"Elixir.Foo.bar",
      :"Elixir",
      :"Elixir.Elixir",
      :"Elixir.Elixir.Foo",
      :"Elixir.Foo.Bar1_x",
      :"Elixir.Foo-Bar",
      :"1abc",
      :_,
      :_foo,
      :__struct__,
      :"foo\nbar",
      :"with\"quote",
      :"#\{",
      :"a#\{b",
      :"\\",
      :|,
      :when,
      :not,
      :and,
      :in,
      :"~~~",
      :"^^^",
      :"<|>",
      :\\,
      :"foo-bar",
      :"foo.bar",
      :"Foo.Bar",
      :héllo,
      :Ñandú,
      :привет,
      :Привет,
      :日本語,
      :ひらがな,
      :한국어,
      :"aпривет",
      :日本abc,
      :"e\u0301",
      :é,
      :μ,
      :"aµ",
      :Aµ,
      :"😀",
      :αβγ,
      :"Ωmega",
      :"a b",
      :"\t",
      :"x\u0085",
      :"\u00A0x",
      :"a\uFEFF",
      :"$elixir_scope_cut",
      :"$elixir_scope_pruned",
      String.to_atom(long),
      :"@foo",
      :foo@,
      :"a\0b",
      :"ǅemal",
      :"ﬁx",
      :"a\u200Db",
      :ab?,
      :"?",
      :!,
      :"=>",
      :<<<,
      :"\\\\",
      :^,
      :!,
      :&&&,
      :"//",
      :=,
      :==,
      :"a.b.c",
      :"Elixir.",
      :"Elixir.A.",
      :"Elixir.a"
    ]
  end

  defp binaries do
    [
      "",
      "alice",
      "a\"b",
      "a\\b",
      "\#{x}",
      "#",
      "a#b",
      "#\{",
      "\n\t\r\e\a\b\v\f\d",
      "héllo",
      "日本",
      "😀",
      "\u00A0",
      "\uFEFF",
      "a\u0085b",
      <<0>>,
      <<1, 2, 3>>,
      <<255>>,
      <<0xC3, 0x28>>,
      <<0xED, 0xA0, 0x80>>,
      <<0xC0, 0x80>>,
      <<0xF4, 0x90, 0x80, 0x80>>,
      <<0xEF, 0xBF, 0xBE>>,
      <<0xEF, 0xBF, 0xBD>>,
      <<0xF0, 0x9F, 0x98>>,
      <<?a, 0xE2, 0x82>>,
      "x\u2028y",
      "tab\there",
      String.duplicate("a", 18),
      String.duplicate("a", 19),
      String.duplicate("a", 20),
      String.duplicate("a", 21),
      String.duplicate("a", 398),
      String.duplicate("a", 399),
      String.duplicate("a", 400),
      String.duplicate("a", 401),
      String.duplicate("a", 5000),
      String.duplicate("é", 10),
      String.duplicate("é", 300),
      String.duplicate("é", 401),
      String.duplicate("ab\n", 200),
      String.duplicate("#\{", 250),
      String.duplicate("😀", 450),
      String.duplicate("\"", 20),
      String.duplicate("a", 19) <> "é",
      :binary.copy(<<1>>, 25),
      :binary.copy(<<1>>, 26),
      :binary.copy(<<200>>, 3),
      :binary.copy(<<200>>, 4),
      :binary.copy(<<200>>, 300),
      "abc" <> <<0>>,
      ["a", "b"],
      {"x", "y\n"}
    ] ++
      for(_ <- 1..30, do: :rand.bytes(:rand.uniform(40)))
  end

  defp charlists do
    long = List.duplicate(?a, 401)

    [
      'abc',
      'a\'b',
      'a"b',
      '#\{',
      '#',
      'a\\b',
      '\e\a',
      [7, 8, 9, 10, 11, 12, 13, 27],
      [31],
      [127],
      [6],
      [32, 126],
      List.duplicate(?x, 25),
      List.duplicate(?x, 400),
      long,
      List.duplicate(?b, 500),
      [?a | ?b],
      [?a, ?b | "c"],
      [?a, ?b | 'c'],
      List.duplicate(?a, 21) ++ [{1}],
      List.duplicate(?a, 401) ++ [{1}],
      List.duplicate(?a, 21) ++ ["bé"],
      List.duplicate(?a, 21) ++ [955],
      List.duplicate(?a, 21) ++ [[?b, [?c]], "d"],
      List.duplicate(?a, 21) ++ [<<255>>],
      List.duplicate(?a, 21) ++ [0xD800],
      List.duplicate(?a, 21) ++ [0x110000],
      List.duplicate(?a, 21) ++ [-1],
      List.duplicate(?a, 21) ++ [2 ** 70],
      List.duplicate(?a, 19) ++ '#\{z',
      List.duplicate(?a, 19) ++ [?#, "\{"],
      List.duplicate(?a, 20) ++ [[?b | "c"]],
      List.duplicate(?a, 20) ++ [[?b | :c]],
      Enum.to_list(0..255),
      [256, 1000],
      'hello world',
      [?a, 300],
      [?\n],
      ['ab', 'cd'],
      List.duplicate(?a, 5) ++ [[]],
      [?a | 'b']
    ]
  end

  defp lists do
    deep = Enum.reduce(1..12, [1], fn _, acc -> [acc] end)

    [
      [],
      [[]],
      [1, 2, 3],
      [1 | 2],
      [1, 2 | 3],
      [[1 | 2] | 3],
      Enum.to_list(1..30),
      deep,
      Enum.to_list(1..300),
      List.duplicate("bin", 300),
      [:a, :b],
      [a: 1, b: 2],
      [{:a, 1}, {:b}],
      [{"a", 1}],
      [a: [b: [c: 1]]],
      [{Foo, 1}],
      [{:"Elixir.Foo", 1}],
      [{Elixir, 1}],
      [a: 1] ++ [2],
      [{:a, 1} | :b],
      [
        {:ok, 1},
        {:"foo bar", 2},
        {:Foo, 3},
        {:+, 4},
        {:"::", 6},
        {true, 7},
        {nil, 8},
        {:héllo, 9},
        {:"a b", 10},
        {:"\#{", 11},
        {:"😀", 12},
        {:foo?, 13},
        {:foo@bar, 14}
      ],
      Enum.map(1..30, &{:k, &1}),
      [[1, 2], [3, [4, [5, [6, [7]]]]]],
      [{1, 2}, {3, 4}],
      [:"$elixir_scope_cut"],
      [1 | :"$elixir_scope_cut"]
    ]
  end

  defp tuples do
    deep = Enum.reduce(1..10, {1}, fn _, acc -> {acc} end)

    [
      {},
      {1},
      {1, 2},
      {:ok, "x"},
      List.to_tuple(Enum.to_list(1..30)),
      List.to_tuple(Enum.to_list(1..300)),
      deep,
      {:error, {:badarg, [1, 2]}},
      {[], %{}, {}},
      {"a" <> <<0>>, 'b'}
    ]
  end

  defp maps do
    [
      %{},
      %{a: 1},
      %{"a" => 1},
      %{1 => 2, :a => 3},
      %{Foo => 1},
      %{Elixir => 1},
      Map.new(1..33, &{&1, &1}),
      Map.new(1..40, &{:"k#{&1}", &1}),
      Map.new(1..100, &{&1, -&1}),
      Map.new(1..60, &{"key#{&1}", [&1]}),
      Map.new(1..50, &{{&1, "t"}, &1}),
      %{{1, 2} => "t", "b" => :b, 3 => 3.0, [1] => [], %{} => nil},
      %{a: %{b: %{c: %{d: 1}}}},
      %{__struct__: 1},
      %{"__struct__" => Foo},
      %{:"foo bar" => 1, :ok => 2},
      %{:+ => 1, :"::" => 2},
      Map.new(1..40, fn i -> {i * 1.5, i} end),
      Map.new(1..35, &{:"a#{&1}", &1}) |> Map.put("s", 1)
    ]
  end

  defp identifiers do
    pid = spawn(fn -> :ok end)
    {:ok, socket} = :gen_udp.open(0)
    table = :ets.new(:t, [])

    [
      self(),
      pid,
      make_ref(),
      Process.monitor(pid),
      :erlang.alias(),
      socket,
      table,
      :erlang.make_ref(),
      {self(), make_ref()},
      [{:deposit, "alice", 17}, {self(), make_ref()}, %{"alice" => 17}]
    ]
  end

  # The agent's markers outside a pruned value are ordinary terms.
  defp markers do
    [
      {@m.cut_bin, 3, "abc"},
      {@m.map, [a: 1], true},
      {@m.cut_tuple, [1], 3},
      @m.cut,
      [1 | @m.cut],
      {@m.pruned},
      {@m.pruned, 1, 2},
      [@m.pruned, 1]
    ]
  end

  defp pruned_by_hand do
    cut = @m.cut

    inners = [
      1,
      :ok,
      "abc",
      'abc',
      [1, 2 | cut],
      [cut],
      [1, cut, 2],
      [1, cut],
      [cut | cut],
      {cut, 1},
      {1, cut},
      {@m.cut_tuple, [1, 2], 5},
      {@m.cut_tuple, [], 5},
      {@m.cut_tuple, :x, 5},
      {@m.cut_tuple, [1 | 2], 3},
      {@m.cut_tuple, [1 | cut], 3},
      {@m.cut_tuple, cut, 3},
      {@m.cut_bin, 1000, "abc"},
      {@m.cut_bin, 1000, <<255, 0>>},
      {@m.cut_bin, :x, "abc"},
      {@m.cut_bin, 1, :notbin},
      {@m.cut_bin, 2 ** 70, "é\n"},
      {@m.map, [a: 1], false},
      {@m.map, [{"a", 1}], true},
      {@m.map, [{:__struct__, Foo}, {:a, 1}], false},
      {@m.map, [{:__struct__, :foo}], false},
      {@m.map, [{:__struct__, 1}, {:a, 1}], false},
      {@m.map, [{:a, 1}, {:__struct__, URI}], true},
      {@m.map, :notalist, false},
      {@m.map, [1, 2], false},
      {@m.map, [], nil},
      {@m.map, [{:__struct__}], false},
      {@m.map, [{:a, 1} | :b], false},
      {@m.map, [{:__struct__, Foo}, {:__struct__, Bar}], false},
      {@m.map, [{"k", cut}], 1},
      {@m.map, [{:__struct__, Foo, 1}, {:a, 1}], false},
      {@m.map, 'ab', false},
      {@m.map, [{:__struct__, Foo} | :x], false},
      {@m.map, [{:__struct__, nil}], false},
      {@m.pruned, 1},
      [{@m.map, [x: {@m.cut_bin, 600, "zz"}], true}, cut],
      %{a: 1},
      [a: 1, b: cut],
      [{:a, 1} | cut],
      {@m.map, Enum.map(1..30, &{&1, &1}), true}
    ]

    Enum.map(inners, &{@m.pruned, &1})
  end

  # Values that run out of the byte budget (max_chars * 4 + 16) at different points.
  defp budget do
    big = String.duplicate("x", 300)

    [
      List.duplicate(big, 10),
      Enum.map(1..10, &{&1, big}),
      Map.new(1..10, &{&1, big}),
      Map.new(1..10, &{"#{&1}#{big}", 1}),
      Enum.map(1..10, &[a: &1, b: big]),
      List.duplicate(String.duplicate("é", 200), 6),
      [big, big | big],
      List.duplicate(String.duplicate("ab", 500), 3) |> List.to_tuple()
    ]
  end

  # Encodings term_to_binary does not write on OTP 25 but binary_to_term reads.
  defp raw_terms do
    node = <<100, byte_size(Atom.to_string(node()))::16, Atom.to_string(node())::binary>>

    [
      <<131, 103, node::binary, 77::32, 3::32, 0>>,
      <<131, 114, 0, 3, node::binary, 0, 1::32, 2::32, 3::32>>,
      <<131, 90, 0, 2, node::binary, 0::32, 1::32, 2::32>>,
      <<131, 90, 0, 1, node::binary, 0::32, 7::32>>,
      <<131, 102, node::binary, 9::32, 0>>,
      <<131, 120, node::binary, 9::64, 0::32>>,
      <<131, 89, node::binary, 9::32, 0::32>>,
      <<131, 108, 1::32, 97, 1, 108, 1::32, 97, 2, 106>>,
      <<131, 108, 1::32, 97, ?a, 107, 2::16, ?b, ?c>>,
      <<131, 108, 2::32, 98, ?a::32, 97, ?b, 107, 1::16, ?c>>,
      <<131, 108, 1::32, 97, 1, 108, 1::32, 97, 2, 97, 3>>,
      <<131, 115, 2, ?o, ?k>>,
      <<131, 100, 2::16, 233, ?x>>,
      <<131, 115, 3, ?F, 0xF6, ?o>>,
      <<131, 110, 1, 0, 97>>,
      <<131, 110, 1, 1, 97>>,
      <<131, 111, 2::32, 0, 1, 1>>,
      <<131, 98, 5::32>>,
      <<131, 107, 0::16>>,
      <<131, 108, 1::32, 105, 2::32, 100, 1::16, ?a, 97, 1, 106>>,
      <<131, 105, 3::32, 97, 1, 97, 2, 97, 3>>
    ]
  end

  ## Atoms from code points across Unicode (the tokenizer's tables and script rules)

  defp atom_cases do
    sample =
      Enum.to_list(0x80..0x6FF) ++
        Enum.take_every(Enum.to_list(0x700..0x33FF), 7) ++
        Enum.take_every(Enum.to_list(0x3400..0x10FFFF), 211) ++
        for(_ <- 1..300, do: :rand.uniform(0x10FFFF))

    cps = Enum.reject(sample, &(&1 in 0xD800..0xDFFF))

    singles =
      for c <- cps, prefix <- ["", "_", "a", "A"], do: String.to_atom(prefix <> <<c::utf8>>)

    pool = ~w(a Z é α Ω д Д 日 ひ カ 한 ب क _ 1 @ ? ! ー 〇 ǅ µ ℮ ٠ ۰) ++ ["\u0301", "\u0903"]

    mixed =
      for _ <- 1..800 do
        Enum.map_join(1..:rand.uniform(4), fn _ -> Enum.random(pool) end) |> String.to_atom()
      end

    keys = for a <- Enum.take_every(singles, 5) ++ mixed, do: [{a, 1}]
    singles ++ mixed ++ keys
  end

  ## Random terms

  # Floats ten to a list: random bit patterns, random magnitudes, and the edges of the fixed
  # and exponent notations.
  defp float_lists do
    edges =
      for k <- -25..25,
          f <- [1.0, 1.5, 9.999, 1.0000000000000002, 0.9999999999999999],
          do: f * :math.pow(10, k)

    powers = for k <- -60..60, do: :math.pow(2, k)
    randoms = for _ <- 1..3000, do: rfloat()
    Enum.chunk_every(edges ++ powers ++ randoms, 10)
  end

  # Maps of more than 32 keys are hash tries: their order is the trie's.
  defp large_maps do
    for _ <- 1..40 do
      Map.new(1..(32 + :rand.uniform(300)), fn k -> {rkey(k), rleaf()} end)
    end
  end

  defp random_terms(n), do: for(_ <- 1..n, do: rterm(:rand.uniform(4), 12))

  defp pruned_terms(n) do
    structs = [
      MapSet.new([1, 2, 3]),
      Date.utc_today(),
      URI.parse("http://x.y/z?q=1"),
      1..10,
      ~r/ab+c/
    ]

    for i <- 1..n do
      term =
        case rem(i, 5) do
          0 -> Enum.random(structs)
          1 -> rterm(4, 14)
          2 -> Enum.map(1..:rand.uniform(300), fn _ -> rterm(2, 8) end)
          3 -> Map.new(1..:rand.uniform(120), fn k -> {rkey(k), rterm(2, 10)} end)
          4 -> {rbig_binary(), [Enum.random(structs) | rterm(3, 20)], rterm(3, 20)}
        end

      Prune.prune(term)
    end
  end

  defp rterm(0, _width), do: rleaf()

  defp rterm(depth, width) do
    case :rand.uniform(10) do
      n when n <= 4 -> rleaf()
      5 -> times(rlen(width), fn _ -> rterm(depth - 1, width) end)
      6 -> times(rlen(width), fn _ -> rterm(depth - 1, width) end) |> List.to_tuple()
      7 -> Map.new(times(rlen(width), fn k -> {rkey(k), rterm(depth - 1, width)} end))
      8 -> times(rlen(width), fn _ -> {ratom(), rterm(depth - 1, width)} end)
      9 -> [rterm(depth - 1, width) | rterm(depth - 1, width)]
      10 -> rcharlist()
    end
  end

  defp rlen(width), do: :rand.uniform(width + 1) - 1

  defp times(n, fun), do: if(n <= 0, do: [], else: Enum.map(1..n, fun))

  # A map with the key :__struct__ and an atom value is a struct, which the agent formats itself.
  defp rkey(k) do
    key =
      case :rand.uniform(5) do
        1 -> k
        2 -> ratom()
        3 -> "k#{k}"
        4 -> {k, ratom()}
        5 -> rleaf()
      end

    if key == :__struct__, do: "__struct__", else: key
  end

  defp rleaf do
    case :rand.uniform(16) do
      1 -> :rand.uniform(600) - 300
      2 -> :rand.uniform(2 ** 40) - 2 ** 39
      3 -> (:rand.uniform(2 ** 200) - 2 ** 199) * Enum.random([1, 10 ** 30])
      4 -> rfloat()
      5 -> ratom()
      6 -> ratom()
      7 -> rbinary()
      8 -> rbinary()
      9 -> Enum.random([self(), make_ref(), spawn(fn -> :ok end)])
      10 -> rcharlist()
      11 -> Enum.random(["alice", "bob", "", "héllo wörld", "line\nbreak", "tab\t#\{x}"])
      12 -> Enum.random([true, false, nil, :ok, :error])
      13 -> :rand.uniform(256) - 1
      14 -> []
      15 -> {}
      16 -> %{}
    end
  end

  defp rfloat do
    case :rand.uniform(3) do
      1 ->
        <<f::float>> = rfinite_bits()
        f

      2 ->
        :rand.uniform() * :math.pow(10, :rand.uniform(60) - 30) * Enum.random([1, -1])

      3 ->
        (:rand.uniform(2000) - 1000) / Enum.random([1, 2, 4, 8, 10, 100, 1000])
    end
  end

  defp rfinite_bits do
    bits = :rand.bytes(8)
    <<_::1, e::11, _::52>> = bits
    if e == 0x7FF, do: rfinite_bits(), else: bits
  end

  @atom_pool [
    :ok,
    :error,
    :foo,
    :Foo,
    Foo.Bar,
    :"foo bar",
    :+,
    :"::",
    :héllo,
    :日本,
    :a?,
    :b!,
    :c@d,
    :"Elixir.foo",
    :"",
    :_x,
    :"a#\{b",
    :"quote\"d",
    :"$elixir_scope_cut",
    :__struct__,
    true,
    false,
    nil,
    :"1x",
    :Ñ,
    :"aπ",
    :"x y z",
    :when,
    :...
  ]

  defp ratom, do: Enum.random(@atom_pool)

  defp rbinary do
    case :rand.uniform(7) do
      1 ->
        :rand.bytes(:rand.uniform(30))

      2 ->
        Enum.map_join(1..:rand.uniform(30), fn _ -> <<Enum.random(32..126)>> end)

      3 ->
        Enum.map_join(1..:rand.uniform(12), fn _ ->
          Enum.random([
            "a",
            "é",
            "日",
            "😀",
            "\n",
            "\"",
            "\\",
            "#",
            "{",
            "\e",
            "\u00A0",
            "\uFEFF",
            "\d"
          ])
        end)

      4 ->
        String.duplicate(Enum.random(["ab", "é", "x\n"]), :rand.uniform(300))

      5 ->
        <<Enum.random(0..255), Enum.random(0..255)>>

      6 ->
        rbig_binary()

      7 ->
        "plain #{:rand.uniform(1000)}"
    end
  end

  defp rbig_binary do
    case :rand.uniform(3) do
      1 -> String.duplicate("big", :rand.uniform(400))
      2 -> :rand.bytes(:rand.uniform(1200))
      3 -> String.duplicate("é", :rand.uniform(500))
    end
  end

  defp rcharlist do
    case :rand.uniform(4) do
      1 ->
        for _ <- 1..:rand.uniform(30), do: Enum.random(32..126)

      2 ->
        for _ <- 1..:rand.uniform(30),
            do: Enum.random([?a, ?', ?", ?\\, ?#, ?{, ?\n, ?\e, 7, 127, 0, 300])

      3 ->
        List.duplicate(?z, :rand.uniform(500))

      4 ->
        for _ <- 1..:rand.uniform(8), do: Enum.random(0..255)
    end
  end
end

TermTextCases.main(System.argv())
