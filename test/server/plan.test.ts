/** The instrumentation plan over the sample app and over small workspaces made on disk. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { enclosingFunction } from "../../server/src/analysis/enclosing";
import { FileIndexCache, PlanError, planWorkspace } from "../../server/src/analysis/plan";
import { locateWasm, WasmNotFoundError } from "../../server/src/analysis/parser";
import { index, sampleApp } from "./helpers";

test("the sample app's plan: every lib module, whole, with why", async () => {
  const plan = await planWorkspace(sampleApp);
  assert.deepEqual(plan.modules, [
    { module: "Sample.Application", functions: null, reason: "Application: callbacks start/2; 1 public function" },
    { module: "Sample.InsufficientFundsError", functions: null, reason: "exception: callbacks message/1; 1 public function" },
    {
      module: "Sample.Ledger",
      functions: null,
      reason:
        "GenServer: callbacks init/1, handle_call/3; 8 public functions, 1 private; " +
        "sends messages: open/2, deposit/3, withdraw/3, balance/2; raises: withdraw!/3",
    },
    {
      module: "Sample.Math",
      functions: null,
      reason: "4 public functions, 1 private; recursive: factorial/1, fib/1, sum/2",
    },
    {
      module: "Sample.Pipeline",
      functions: null,
      reason:
        "2 public functions, 3 private; recursive: worker/0; spawns processes: run/2; sends messages: run/2, worker/0; " +
        "receives messages: worker/0, await_result/1, await_down/1; raises: await_result/1",
    },
  ]);
  assert.deepEqual(plan.skipped, []);
  assert.equal(plan.files, 5, "lib/ only: test/*.exs and mix.exs are not program files");
  assert.deepEqual(plan.filesWithErrors, []);
});

/** Writes `files` (path → text) under a fresh temporary folder and returns it. */
function workspace(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), "es-plan-"));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

test("deps, _build, hidden folders and each Mix project's test/ are left out; umbrella apps are in", async () => {
  const mod = (name: string) => `defmodule ${name} do\n  def f(x), do: x\nend\n`;
  const root = workspace({
    "mix.exs": "defmodule Umbrella.MixProject do\n  use Mix.Project\n  def project, do: []\nend\n",
    "apps/a/mix.exs": "defmodule A.MixProject do\n  use Mix.Project\n  def project, do: []\nend\n",
    "apps/a/lib/a.ex": mod("A"),
    "apps/a/lib/a/test/helpers.ex": mod("A.Test.Helpers"), // Not a Mix project's test/: kept.
    "apps/a/test/support/case.ex": mod("A.Case"),
    "apps/a/deps/dep/lib/dep.ex": mod("Dep"),
    "apps/b/lib/b.ex": mod("B"),
    "deps/jason/lib/jason.ex": mod("Jason"),
    "_build/dev/lib/x.ex": mod("Built"),
    ".elixir_ls/x.ex": mod("Hidden"),
    "test/support/data_case.ex": mod("DataCase"),
    "lib/scripts/run.exs": mod("Script"),
  });
  try {
    const plan = await planWorkspace(root);
    assert.deepEqual(plan.modules.map((m) => m.module), ["A", "A.Test.Helpers", "B"]);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test("protocols, function-less and macro-only modules and duplicates are skipped, with reasons", async () => {
  const root = workspace({
    "lib/size.ex": "defprotocol Size do\n  def size(x)\nend\ndefimpl Size, for: Map do\n  def size(m), do: map_size(m)\nend\n",
    "lib/types.ex": "defmodule Types do\n  @type t :: integer()\nend\n",
    "lib/macros.ex": "defmodule Macros do\n  defmacro m(x), do: x\nend\n",
    "lib/a.ex": "defmodule Dup do\n  def f, do: 1\nend\n",
    "lib/b.ex": "defmodule Dup do\n  def g, do: 2\nend\n",
    "lib/broken.ex": "defmodule Broken do\n  def ok(x), do: x\n  def broken(x do\nend\n",
  });
  try {
    const plan = await planWorkspace(root);
    assert.deepEqual(
      plan.modules.map((m) => `${m.module}: ${m.reason}`),
      ["Dup: 1 public function", "Broken: 1 public function", "Size.Map: protocol implementation; 1 public function"],
    );
    assert.deepEqual(
      plan.skipped.map((s) => `${s.module} (${s.file}): ${s.reason}`),
      [
        "Dup (lib/b.ex): also defined in lib/a.ex; the first definition is planned",
        "Macros (lib/macros.ex): defines only macros, which run at compile time",
        "Size (lib/size.ex): protocol: consolidated at build time; its implementations are planned instead",
        "Types (lib/types.ex): defines no functions",
      ],
    );
    assert.deepEqual(plan.filesWithErrors, ["lib/broken.ex"]);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test("a folder that does not exist, or a file, is a clear error", async () => {
  await assert.rejects(planWorkspace("/no/such/folder"), (e: Error) => {
    assert.ok(e instanceof PlanError);
    assert.equal(e.message, "Workspace folder /no/such/folder does not exist: open the folder that holds your mix.exs.");
    return true;
  });
  await assert.rejects(planWorkspace(join(sampleApp, "mix.exs")), /is a file, not a folder/);
});

test("missing wasm files are reported with where we looked and what to run", () => {
  assert.throws(
    () => locateWasm({ wasmDir: "/nowhere" }),
    (e: Error) => e instanceof WasmNotFoundError && /not found in \/nowhere: rebuild with `node scripts\/build.mjs server wasm`/.test(e.message),
  );
  const found = locateWasm();
  assert.match(found.runtime, /node_modules\/web-tree-sitter\/web-tree-sitter\.wasm$/);
  assert.match(found.grammar, /node_modules\/tree-sitter-elixir\/tree-sitter-elixir\.wasm$/);
});

const ledger = readFileSync(join(sampleApp, "lib/sample/ledger.ex"), "utf8");

const ENCLOSING: [line: number, expected: string | null][] = [
  [0, null], // `defmodule` line: in the module, in no function.
  [9, "Sample.Ledger.start_link/1 8-10 (opts)"],
  [13, "Sample.Ledger.open/2 12-14 (ledger, account)"],
  [35, "Sample.Ledger.withdraw!/3 29-37 (ledger, account, amount)"],
  [38, null], // Blank line between definitions.
  [46, "Sample.Ledger.handle_call/3 45-51 (account, _from, accounts)"],
  [56, "Sample.Ledger.handle_call/3 53-62 (account, amount, _from, accounts)"],
  [86, "Sample.Ledger.apply_entry/2 85-87 (balance, entries, acct, amount, entry)"],
  [200, null],
];

for (const [line, expected] of ENCLOSING) {
  test(`enclosing function of ledger.ex line ${line}: ${expected}`, async () => {
    const fn = enclosingFunction(await index(ledger), line);
    assert.equal(fn && `${fn.module}.${fn.name}/${fn.arity} ${fn.startLine}-${fn.endLine} (${fn.params.join(", ")})`, expected);
  });
}

test("enclosing function inside a nested module names the inner module", async () => {
  const src = "defmodule Outer do\n  def a, do: 1\n  defmodule Inner do\n    def b(x) do\n      x\n    end\n  end\nend\n";
  assert.deepEqual(enclosingFunction(await index(src), 4), {
    module: "Outer.Inner",
    name: "b",
    arity: 1,
    startLine: 3,
    endLine: 5,
    params: ["x"],
  });
});

test("a plan cache reuses unchanged files and notices edits, new files and deletions", async () => {
  const root = workspace({
    "lib/a.ex": "defmodule A do\n  def f(x), do: x\nend\n",
    "lib/b.ex": "defmodule B do\n  def g(x), do: x\nend\n",
  });
  try {
    const cache = new FileIndexCache();
    const first = await planWorkspace(root, { cache });
    assert.deepEqual(first.modules.map((m) => m.module), ["A", "B"]);
    writeFileSync(join(root, "lib/b.ex"), "defmodule B do\n  def g(x), do: x\n  def h(y), do: y\nend\n");
    writeFileSync(join(root, "lib/c.ex"), "defmodule C do\n  def i, do: 1\nend\n");
    rmSync(join(root, "lib/a.ex"));
    const second = await planWorkspace(root, { cache });
    assert.deepEqual(
      second.modules.map((m) => `${m.module}: ${m.reason}`),
      ["B: 2 public functions", "C: 1 public function"],
    );
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
