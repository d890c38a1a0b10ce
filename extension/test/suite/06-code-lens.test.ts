import * as assert from "node:assert/strict";
import * as vscode from "vscode";
import { currentRecording, extensionApi, when, workspaceFile } from "./helpers";

suite("code lenses over recorded functions", () => {
  suiteSetup(async () => {
    await currentRecording();
  });

  test("each recorded function of math.ex has 'N calls · p50 · p99' and raised counts", async () => {
    const uri = workspaceFile("lib/sample/math.ex");
    const lenses = (await vscode.commands.executeCommand<vscode.CodeLens[]>("vscode.executeCodeLensProvider", uri)) ?? [];
    const titles = lenses.map((l) => `${l.range.start.line + 1}: ${l.command?.title ?? ""}`);
    const fact = titles.find((t) => t.startsWith("5: ElixirScope: 6 calls"));
    assert.ok(fact, `no lens for factorial/1 on line 5 in:\n${titles.join("\n")}`);
    assert.match(fact, /p50 [\d.]+ (ns|µs|ms) · p99 [\d.]+ (ns|µs|ms)$/);
    const divide = titles.find((t) => t.startsWith("19: ElixirScope: "));
    assert.ok(divide, `no lens for divide/2 in:\n${titles.join("\n")}`);
    assert.match(divide, /1 raised/);
  });

  test("clicking a lens lists that function's calls in the timeline, the cursor on the slowest", async () => {
    const uri = workspaceFile("lib/sample/math.ex");
    const lenses = (await vscode.commands.executeCommand<vscode.CodeLens[]>("vscode.executeCodeLensProvider", uri)) ?? [];
    const lens = lenses.find((l) => l.range.start.line === 18)!;
    assert.equal(lens.command?.command, "elixirScope.showCalls");
    await vscode.commands.executeCommand(lens.command!.command, ...(lens.command!.arguments ?? []));
    const api = await extensionApi();
    assert.equal(api.controller.cursor?.function, "divide");
    assert.equal(api.controller.cursor?.kind, 1);
    const stats = api.controller.current!.index.functionStats(uri.fsPath).find((s) => s.function === "divide")!;
    assert.equal(api.controller.cursor?.seq, stats.slowestSeq);
    // The panel asks the webview to list divide/2's calls (the UI suite checks the list itself).
    const listed = await when("the webview to be asked to list the calls", () => api.panel.lastCalls, [api.panel.onDidListCalls]);
    assert.deepEqual(listed, { module: "Sample.Math", function: "divide", arity: 2 });
  });
});
