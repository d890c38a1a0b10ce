import * as assert from "node:assert/strict";
import * as vscode from "vscode";
import { extensionApi, workspaceFile, workspaceFolder } from "./helpers";

// Runs after Record This Test: it replaces the current recording too.
suite("iex -S mix (interactive, in a terminal)", () => {
  test("what is typed into the recorded iex is recorded; quitting iex ends the recording", async () => {
    const api = await extensionApi();
    const opened = new Promise<vscode.Terminal>((resolve) => {
      const sub = vscode.window.onDidOpenTerminal((t) => {
        if (!t.name.startsWith("ElixirScope: iex -S mix")) return;
        sub.dispose();
        resolve(t);
      });
    });
    // The agent's READY (the modules are instrumented): what is typed from then on is recorded.
    const ready = new Promise<void>((resolve) => {
      const sub = api.controller.onDidReceiveLiveEvents(({ payload }) => {
        if (payload !== undefined) return;
        sub.dispose();
        resolve();
      });
    });
    const recording = api.controller.recordSession({ folder: workspaceFolder(), command: "iex -S mix" });
    const terminal = await opened;
    await ready;
    // The terminal buffers what is typed until iex reads it.
    terminal.sendText("Sample.Math.factorial(4)");
    // A graceful stop: the agent flushes and says goodbye (System.halt/0 would skip that).
    terminal.sendText("System.stop()");
    const done = await recording;
    assert.ok(done, "recordSession returned nothing: see the ElixirScope output channel");
    assert.equal(done.header.command, "iex -S mix");
    const stats = done.index.functionStats(workspaceFile("lib/sample/math.ex").fsPath);
    const factorial = stats.find((s) => s.function === "factorial");
    assert.equal(factorial?.calls, 5, JSON.stringify(stats.map((s) => [s.function, s.calls])));
    assert.deepEqual(
      done.index.history(workspaceFile("lib/sample/math.ex").fsPath, "n", { module: "Sample.Math", function: "factorial" }).map((b) => b.value),
      ["1", "2", "3", "4"],
    );
  });
});
