/** The index of one file, checked on real Elixir snippets: `check(input, expected)` tables. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { allModules } from "../../server/src/analysis/model";
import { functionsOf, index } from "./helpers";

type Case = [title: string, source: string, expected: string[]];

async function checkFunctions([title, source, expected]: Case): Promise<void> {
  assert.deepEqual(functionsOf(await index(source)), expected, title);
}

const FUNCTION_CASES: Case[] = [
  [
    "do-block and one-line definitions, public and private",
    `defmodule M do
  def a(x) do
    x
  end
  defp b(y), do: y
end`,
    ["M: def a/1 [1] 1-3 (x)", "M: defp b/1 [1] 4-4 (y)"],
  ],
  [
    "clauses of one name/arity are grouped; other arities are other functions",
    `defmodule M do
  def fib(n) when n < 2, do: n
  def fib(n), do: fib(n - 1) + fib(n - 2)
  def sum(list), do: sum(list, 0)
  defp sum([], acc), do: acc
  defp sum([head | tail], acc), do: sum(tail, acc + head)
end`,
    [
      "M: def fib/1 [1] 1-2 (n) when n < 2 | (n)",
      "M: def sum/1 [1] 3-3 (list)",
      "M: defp sum/2 [2] 4-5 (acc) | (head, tail, acc)",
    ],
  ],
  [
    "default arguments give several arities; a bodiless head declares them",
    `defmodule M do
  def open(ledger \\\\ __MODULE__, account) do
    {ledger, account}
  end
  def join(a, b \\\\ ",", c \\\\ "")
  def join(a, b, c), do: a <> b <> c
end`,
    ["M: def open/2 [1,2] 1-3 (ledger, account)", "M: def join/3 [1,2,3] 4-5 (a, b, c) | (a, b, c)"],
  ],
  [
    "parameters inside patterns; pinned, ignored, attributes and binary sizes are not bindings",
    `defmodule M do
  defp apply_entry(%{balance: balance, entries: entries} = acct, {:deposit, amount} = entry), do: acct
  def parse(<<"v", version::binary-size(1), rest::binary>>, ^expected, _, _ignored, @limit), do: rest
  def keys(%Struct{id: id}, [first, second | _], opts: opts), do: id
end`,
    [
      "M: defp apply_entry/2 [2] 1-1 (balance, entries, acct, amount, entry)",
      "M: def parse/5 [5] 2-2 (version, rest, _ignored)",
      "M: def keys/3 [3] 3-3 (id, first, second, opts)",
    ],
  ],
  [
    "no parentheses, macros, guards with `when` on a do-block, operators",
    `defmodule M do
  def worker do
    :ok
  end
  defmacro my_if(condition, do: block), do: quote(do: unquote(block))
  defmacrop twice(x), do: x
  def deposit(ledger, amount) when is_integer(amount) and amount > 0 do
    {ledger, amount}
  end
  def left +++ right, do: left ++ right
end`,
    [
      "M: def worker/0 [0] 1-3 ()",
      "M: defmacro my_if/2 [2] 4-4 (condition, block)",
      "M: defmacrop twice/1 [1] 5-5 (x)",
      "M: def deposit/2 [2] 6-8 (ledger, amount) when is_integer(amount) and amount > 0",
      "M: def +++/2 [2] 9-9 (left, right)",
    ],
  ],
  [
    "@impl applies to the next definition only; @impl Behaviour keeps the name",
    `defmodule M do
  use GenServer
  @impl true
  def init(state), do: {:ok, state}
  @impl GenServer
  def handle_call(:get, _from, state), do: {:reply, state, state}
  def handle_call(:put, _from, _state), do: {:reply, :ok, nil}
  def helper, do: :ok
  @impl false
  def other, do: :ok
end`,
    [
      "M: def init/1 [1] 3-3 (state) @impl true",
      "M: def handle_call/3 [3] 5-6 (_from, state) | (_from, _state) @impl GenServer",
      "M: def helper/0 [0] 7-7 ()",
      "M: def other/0 [0] 9-9 ()",
    ],
  ],
  [
    "definitions generated in quote/unquote are not the module's own",
    `defmodule M do
  defmacro __using__(_opts) do
    quote do
      def injected, do: :ok
    end
  end
  for name <- [:a, :b] do
    def unquote(name)(), do: unquote(name)
  end
end`,
    ["M: defmacro __using__/1 [1] 1-5 (_opts)"],
  ],
];

for (const c of FUNCTION_CASES) test(`functions: ${c[0]}`, () => checkFunctions(c));

const MODULE_CASES: [string, string, string[]][] = [
  [
    "nested modules get full names; __MODULE__.Name is not doubled",
    `defmodule Outer do
  defmodule Inner do
    defmodule Deep.Er, do: def(x, do: 1)
  end
  defmodule __MODULE__.Sibling do
  end
end
defmodule Other.Top do
end`,
    ["Outer 0-6", "Outer.Inner 1-3", "Outer.Inner.Deep.Er 2-2", "Outer.Sibling 4-5", "Other.Top 7-8"],
  ],
  [
    "protocols and implementations (with and without for:, which are not nested names)",
    `defprotocol Size do
  def size(data)
end
defimpl Size, for: Map do
  def size(map), do: map_size(map)
end
defmodule Box do
  defstruct [:items]
  defimpl Size do
    def size(box), do: length(box.items)
  end
end`,
    ["Size 0-2 protocol", "Size.Map 3-5 impl", "Box 6-11 struct", "Size.Box 8-10 impl"],
  ],
  [
    "a file with a syntax error still indexes what it can",
    `defmodule Broken do
  def ok(x), do: x
  def broken(x do
end`,
    ["Broken 0-3 has-errors"],
  ],
];

for (const [title, source, expected] of MODULE_CASES) {
  test(`modules: ${title}`, async () => {
    const idx = await index(source);
    const seen = allModules(idx).map(
      (m) =>
        `${m.name} ${m.range.start.line}-${m.range.end.line}` +
        (m.kind !== "module" ? ` ${m.kind}` : "") +
        (m.struct ? ` ${m.struct}` : "") +
        (idx.hasErrors ? " has-errors" : ""),
    );
    assert.deepEqual(seen, expected);
  });
}

test("a half-written definition keeps the functions before it in the module", async () => {
  const idx = await index(`defmodule Broken do\n  def ok(x), do: x\n  def broken(x do\nend\n`);
  assert.ok(idx.hasErrors);
  assert.deepEqual(functionsOf(idx), ["Broken: def ok/1 [1] 1-1 (x)"]);
});

test("module: name range points at the alias; use and @behaviour are recorded", async () => {
  const [m] = allModules(
    await index(`defmodule Sample.Ledger do
  use GenServer, restart: :transient
  use Sample.Helpers
  @behaviour Sample.Store
end`),
  );
  assert.deepEqual(m.nameRange, { start: { line: 0, character: 10 }, end: { line: 0, character: 23 } });
  assert.deepEqual(m.uses, [
    { module: "GenServer", line: 1 },
    { module: "Sample.Helpers", line: 2 },
  ]);
  assert.deepEqual(m.behaviours, ["Sample.Store"]);
});

test("ExUnit: tests inside and outside describe blocks, with their lines", async () => {
  const [m] = allModules(
    await index(`defmodule Sample.LedgerTest do
  use ExUnit.Case, async: true
  setup do
    %{ledger: start_supervised!(Sample.Ledger)}
  end
  describe "deposit/3" do
    test "adds to the balance", %{ledger: ledger} do
      assert ledger
    end
    test "rejects zero", do: assert(true)
  end
  test "unknown accounts are reported" do
  end
  test "pending"
  test "with \#{interpolation}" do
  end
end`),
  );
  assert.deepEqual(
    m.describes.map((d) => `${d.name} ${d.range.start.line}-${d.range.end.line}`),
    ["deposit/3 5-10"],
  );
  assert.deepEqual(
    m.tests.map((t) => `${t.describe ?? "-"} / ${t.name} ${t.range.start.line}-${t.range.end.line}`),
    [
      "deposit/3 / adds to the balance 6-8",
      "deposit/3 / rejects zero 9-9",
      "- / unknown accounts are reported 11-12",
      "- / pending 13-13",
      "- / with #{interpolation} 14-15",
    ],
  );
  assert.deepEqual(m.functions, []);
});

const FACT_CASES: [string, string, string][] = [
  ["body recursion", "def f(0), do: 1\ndef f(n), do: n * f(n - 1)", "recursive"],
  ["recursion through a pipe counts the piped argument", "def f([], acc), do: acc\ndef f([h | t], acc), do: t |> f(acc + h)", "recursive"],
  ["recursion through __MODULE__", "def loop(n), do: __MODULE__.loop(n + 1)", "recursive"],
  ["calling another arity is not recursion", "def sum(list), do: sum(list, 0)", ""],
  ["a variable or atom with the function's name is not a call", "def f(x) do\n  f = x\n  {f, :f}\nend", ""],
  [
    "messages and processes",
    "def run(x) do\n  pid = spawn_link(fn -> :ok end)\n  send(pid, x)\n  receive do\n    m -> m\n  end\nend",
    "spawns sends receives",
  ],
  ["GenServer.call is a message; Task.async spawns", "def go(s), do: {GenServer.call(s, :x), Task.async(fn -> 1 end)}", "spawns sends"],
  ["raise, throw and exit", 'def a, do: raise "boom"\ndef b, do: throw(:x)\ndef c, do: exit(:normal)', "raises"],
  ["names in strings, comments and atoms are not calls", 'def a do\n  # send(self(), :x)\n  IO.puts("receive do spawn(x)")\n  :send\nend', ""],
  ["send! is not send", "def a(x), do: send!(x)", ""],
];

for (const [title, body, expected] of FACT_CASES) {
  test(`facts: ${title}`, async () => {
    const [m] = allModules(await index(`defmodule M do\n${body}\nend`));
    const facts = new Set<string>();
    for (const f of m.functions) for (const [k, v] of Object.entries(f.facts)) if (v) facts.add(k);
    const order = ["recursive", "spawns", "sends", "receives", "raises"];
    assert.deepEqual([...facts].sort((a, b) => order.indexOf(a) - order.indexOf(b)), expected.split(" ").filter(Boolean));
  });
}

test("positions count UTF-16 code units, as LSP does", async () => {
  const [m] = allModules(await index(`defmodule Cafe do\n  @doc "naïve 😀"; def größe(x), do: x\nend`));
  const [f] = m.functions;
  assert.equal(f.name, "größe");
  const line = `  @doc "naïve 😀"; def größe(x), do: x`;
  assert.equal(f.nameRange.start.character, line.indexOf("größe"));
  assert.equal(f.nameRange.end.character, line.indexOf("größe") + "größe".length);
});

test("calls named like Object.prototype members are just calls", async () => {
  const idx = await index("constructor(1)\ndefmodule M do\n  toString(2)\n  hasOwnProperty do\n  end\n  def f, do: constructor()\nend\n");
  assert.deepEqual(functionsOf(idx), ["M: def f/0 [0] 5-5 ()"]);
  assert.deepEqual(allModules(idx).map((m) => m.name), ["M"]);
});
