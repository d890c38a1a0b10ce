import * as assert from "node:assert/strict";
import * as vscode from "vscode";
import { extensionApi, recordSession, workspaceFile, workspaceFolder } from "./helpers";

suite("Record Session", () => {
  test("records the sample app's tests (elixirScope.command from the workspace settings)", async () => {
    const api = await extensionApi();
    const statuses: string[] = [];
    const sub = api.controller.onDidChangeStatus((text) => statuses.push(text));
    const recording = await recordSession().finally(() => sub.dispose());
    assert.equal(api.controller.current, recording, "the new recording is the current one");
    assert.equal(recording.header.command, "mix test --seed 0");
    assert.equal(recording.folder?.uri.fsPath, workspaceFolder().uri.fsPath);
    assert.ok(recording.bytes.byteLength > 0);
    // The status bar went through the phases, counted events while recording, and ends on the
    // recording's totals.
    const seen = (re: RegExp) => statuses.findIndex((t) => re.test(t));
    const [compiling, starting, recordingPhase, counting, finishing] = [/: compiling$/, /: starting$/, /: recording$/, /: recording · \d+ events.* · 0 dropped/, /: finishing$/].map(seen);
    const all = statuses.join(" | ");
    assert.ok(compiling >= 0 && compiling < starting && starting < recordingPhase && recordingPhase < finishing, `phases in order: ${all}`);
    // Batches are counted as they come (the last ones may come after the program ended).
    assert.ok(counting > recordingPhase, `events counted while recording: ${all}`);
    assert.match(statuses[statuses.length - 1], new RegExp(`ElixirScope: ${recording.header.events} events · 0 dropped`));
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
    await config.update("command", "mix test --seed 0 --trace", vscode.ConfigurationTarget.Workspace);
    await changed;
    try {
      assert.equal(api.controller.commandToRecord(folder), "mix test --seed 0 --trace");
    } finally {
      // Back to what the harness wrote (the later suites record with it).
      await config.update("command", "mix test --seed 0", vscode.ConfigurationTarget.Workspace);
    }
    assert.equal(api.controller.commandToRecord(folder), "mix test --seed 0");
  });
});
