/**
 * Code lenses above ExUnit tests: "Record This Test" on each `test`/`describe`, and
 * "Record This File's Tests" on each test module. They run the extension's
 * `elixirScope.recordTest` command with the file and (for one test) its 1-based line, which
 * becomes `mix test path:line`.
 */
import { Command, type CodeLens, type Range } from "vscode-languageserver/node";
import { RECORD_TEST_COMMAND } from "../../../protocol/src/lsp";
import { allModules, type FileIndex } from "../analysis/model";

export function testLenses(uri: string, index: FileIndex): CodeLens[] {
  if (!/_test\.exs$/.test(uri)) return [];
  const lenses: CodeLens[] = [];
  for (const m of allModules(index)) {
    if (m.tests.length === 0) continue;
    lenses.push(lens(m.nameRange, Command.create("$(record) Record This File's Tests", RECORD_TEST_COMMAND, uri)));
    for (const d of m.describes) {
      lenses.push(lens(d.range, Command.create("$(record) Record This Describe", RECORD_TEST_COMMAND, uri, d.range.start.line + 1)));
    }
    for (const t of m.tests) {
      lenses.push(lens(t.range, Command.create("$(record) Record This Test", RECORD_TEST_COMMAND, uri, t.range.start.line + 1)));
    }
  }
  return lenses;
}

function lens(range: Range, command: Command): CodeLens {
  return { range, command };
}
