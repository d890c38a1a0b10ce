/** Index → LSP document symbols: nesting, kinds, order, and the detail line. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { SymbolKind, type DocumentSymbol } from "vscode-languageserver/node";
import { documentSymbols } from "../../server/src/lsp/symbols";
import { index } from "./helpers";

const KIND = new Map<number, string>(Object.entries(SymbolKind).map(([name, kind]) => [kind as number, name]));

function outline(symbols: DocumentSymbol[], depth = 0): string[] {
  return symbols.flatMap((s) => [
    `${"  ".repeat(depth)}${KIND.get(s.kind)} ${s.name}${s.detail ? ` (${s.detail})` : ""} ${s.range.start.line}-${s.range.end.line}`,
    ...outline(s.children ?? [], depth + 1),
  ]);
}

test("nested modules, functions, describes and tests nest in source order", async () => {
  const source = `defmodule Outer do
  use GenServer
  @impl true
  def init(s), do: {:ok, s}
  defmodule Inner do
    defmacro m(x \\\\ 1), do: x
  end
  defp helper(a), do: a
  defp helper(a, b), do: a + b
end
defimpl String.Chars, for: Outer do
  def to_string(_), do: "outer"
end
defmodule OuterTest do
  use ExUnit.Case
  test "first" do
  end
  describe "group" do
    test "inside" do
    end
  end
end`;
  assert.deepEqual(outline(documentSymbols(await index(source))), [
    "Module Outer 0-9",
    "  Function init/1 (def @impl) 3-3",
    "  Module Outer.Inner 4-6",
    "    Function m/1 (defmacro (also callable as m/0)) 5-5",
    "  Function helper/1 (defp) 7-7",
    "  Function helper/2 (defp) 8-8",
    "Module String.Chars.Outer (defimpl) 10-12",
    "  Function to_string/1 (def) 11-11",
    "Module OuterTest 13-21",
    '  Method test "first" 15-16',
    '  Namespace describe "group" 17-20',
    '    Method test "inside" 18-19',
  ]);
});

test("every selection range lies inside its symbol's range", async () => {
  const source = "defmodule A do\n  def f(0), do: 0\n  def g, do: 1\n  def f(n), do: n\nend\n";
  const inside = (s: DocumentSymbol): boolean => {
    const r = s.range;
    const sel = s.selectionRange;
    const before = (a: typeof r.start, b: typeof r.start) => a.line < b.line || (a.line === b.line && a.character <= b.character);
    return before(r.start, sel.start) && before(sel.end, r.end) && (s.children ?? []).every(inside);
  };
  const symbols = documentSymbols(await index(source));
  assert.ok(symbols.every(inside));
  assert.deepEqual(outline(symbols), ["Module A 0-4", "  Function f/1 (def, 2 clauses) 1-3", "  Function g/0 (def) 2-2"]);
});
