import * as assert from "node:assert/strict";
import * as vscode from "vscode";
import type { Recording } from "../../src/recording-controller";
import { extensionApi, workspaceFile } from "./helpers";

// Runs last: recording one test replaces the whole-suite recording the other suites read.
suite("Record This Test (code lens from the language server)", () => {
  test("test files get Record lenses; one test's lens records just that test", async () => {
    const uri = workspaceFile("test/math_test.exs");
    await vscode.window.showTextDocument(uri);
    const lenses = (await vscode.commands.executeCommand<vscode.CodeLens[]>("vscode.executeCodeLensProvider", uri)) ?? [];
    const titles = lenses.map((l) => `${l.range.start.line + 1}: ${l.command?.title}`);
    assert.ok(titles.includes("1: $(record) Record This File's Tests"), titles.join("\n"));
    const fib = lenses.find((l) => l.range.start.line === 7 && l.command?.title.includes("Record This Test"));
    assert.ok(fib, `no Record This Test lens on test "fib" (line 8):\n${titles.join("\n")}`);

    const recording = await vscode.commands.executeCommand<Recording | undefined>(fib.command!.command, ...(fib.command!.arguments ?? []));
    assert.ok(recording, "recordTest returned nothing: see the ElixirScope output channel");
    assert.equal(recording.header.command, "mix test test/math_test.exs:8");
    const math = workspaceFile("lib/sample/math.ex").fsPath;
    const fns = recording.index.functionStats(math).map((s) => `${s.function}/${s.arity}`);
    assert.deepEqual(fns, ["fib/1"], "only the chosen test ran");
    const ledger = recording.index.functionStats(workspaceFile("lib/sample/ledger.ex").fsPath).map((s) => s.function);
    assert.ok(!ledger.includes("deposit") && !ledger.includes("handle_call"), `the ledger tests did not run: ${ledger.join(", ")}`);
    assert.equal((await extensionApi()).controller.current, recording);
  });
});
