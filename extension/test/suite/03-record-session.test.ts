import * as assert from "node:assert/strict";
import * as vscode from "vscode";
import { extensionApi, recordSession, workspaceFile, workspaceFolder } from "./helpers";

suite("Record Session", () => {
  test("records the sample app's tests (elixirScope.command from the workspace settings)", async () => {
    const api = await extensionApi();
    const recording = await recordSession();
    assert.equal(api.controller.current, recording, "the new recording is the current one");
    assert.equal(recording.header.command, "mix test --seed 0");
    assert.equal(recording.folder?.uri.fsPath, workspaceFolder().uri.fsPath);
    assert.ok(recording.bytes.byteLength > 0);
  });

  test("events arrived: calls of the sample app's modules, by source line", async () => {
    const recording = (await extensionApi()).controller.current;
    assert.ok(recording, "no recording (the previous test failed)");
    assert.ok(recording.header.events > 0, "header counts no events");
    assert.equal(recording.index.events, recording.header.events, "the index saw every event");
    const files = recording.index.files();
    for (const f of ["lib/sample/math.ex", "lib/sample/ledger.ex", "lib/sample/pipeline.ex"]) {
      assert.ok(files.includes(workspaceFile(f).fsPath), `no events in ${f}; files: ${files.join(", ")}`);
    }
    const mathLines = recording.index.callsByLine.get(workspaceFile("lib/sample/math.ex").fsPath)!;
    // factorial(5) enters `def factorial(n) when n > 0` (line 6) five times and `factorial(0)` once.
    assert.equal(mathLines.get(6), 5, `calls by line in math.ex: ${JSON.stringify([...mathLines])}`);
    assert.equal(mathLines.get(5), 1);
  });
});

suite("Record Session: which command", () => {
  test("the command last picked in Record Session… is what Record Session runs; configuring elixirScope.command replaces it", async () => {
    const api = await extensionApi();
    const folder = workspaceFolder();
    assert.equal(api.controller.commandToRecord(folder), "mix test --seed 0", "before any pick: elixirScope.command");
    await api.controller.rememberCommand("mix run -e 'Sample.Math.factorial(3)'");
    assert.equal(api.controller.commandToRecord(folder), "mix run -e 'Sample.Math.factorial(3)'");
    // A newly configured command wins over the pick.
    const config = vscode.workspace.getConfiguration("elixirScope", folder);
    const changed = new Promise<void>((resolve) => {
      const sub = vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration("elixirScope.command")) {
          sub.dispose();
          resolve();
        }
      });
    });
    await config.update("command", "mix test --seed 0 --trace", vscode.ConfigurationTarget.WorkspaceFolder);
    await changed;
    try {
      assert.equal(api.controller.commandToRecord(folder), "mix test --seed 0 --trace");
    } finally {
      // Back to what the harness wrote (the later suites record with it).
      await config.update("command", "mix test --seed 0", vscode.ConfigurationTarget.WorkspaceFolder);
    }
    assert.equal(api.controller.commandToRecord(folder), "mix test --seed 0");
  });
});
