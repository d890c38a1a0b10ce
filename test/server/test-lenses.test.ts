import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { testLenses } from "../../server/src/lsp/test-lenses";
import { RECORD_TEST_COMMAND } from "../../protocol/src/lsp";
import { index, sampleApp } from "./helpers";

const lensesOf = async (uri: string, source: string) =>
  testLenses(uri, await index(source)).map((l) => `${l.range.start.line + 1}: ${l.command!.title} ${JSON.stringify(l.command!.arguments)}`);

test("a test file gets one lens per test and one for the whole file", async () => {
  const file = join(sampleApp, "test/ledger_test.exs");
  const uri = pathToFileURL(file).href;
  const lenses = testLenses(uri, await index(readFileSync(file, "utf8")));
  assert.ok(lenses.every((l) => l.command!.command === RECORD_TEST_COMMAND));
  const lines = lenses.map((l) => `${l.range.start.line + 1}: ${l.command!.title} ${JSON.stringify(l.command!.arguments)}`);
  assert.deepEqual(lines, [
    `1: $(record) Record This File's Tests ["${uri}"]`,
    `9: $(record) Record This Test ["${uri}",9]`,
    `16: $(record) Record This Test ["${uri}",16]`,
    `25: $(record) Record This Test ["${uri}",25]`,
  ]);
});

test("describes get their own lens; files that are not tests get none", async () => {
  const source = `defmodule MyTest do
  use ExUnit.Case

  describe "sums" do
    test "adds" do
      assert 1 + 1 == 2
    end
  end
end
`;
  assert.deepEqual(await lensesOf("file:///p/test/my_test.exs", source), [
    `1: $(record) Record This File's Tests ["file:///p/test/my_test.exs"]`,
    `4: $(record) Record This Describe ["file:///p/test/my_test.exs",4]`,
    `5: $(record) Record This Test ["file:///p/test/my_test.exs",5]`,
  ]);
  assert.deepEqual(await lensesOf("file:///p/lib/my.ex", source), []);
});
