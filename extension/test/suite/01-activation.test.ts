import * as assert from "node:assert/strict";
import * as vscode from "vscode";
import { EXTENSION_ID, extensionApi } from "./helpers";

suite("activation", () => {
  test("activates on the Mix workspace and returns its API", async () => {
    const api = await extensionApi();
    assert.ok(vscode.extensions.getExtension(EXTENSION_ID)?.isActive);
    assert.ok(api.controller, "activate() returned no controller");
    assert.ok(api.decorations, "activate() returned no decorations");
  });

  test("registers every command it contributes", async () => {
    await extensionApi();
    const registered = new Set(await vscode.commands.getCommands(true));
    const ext = vscode.extensions.getExtension(EXTENSION_ID)!;
    const contributed = (ext.packageJSON.contributes.commands as { command: string }[]).map((c) => c.command);
    assert.ok(contributed.includes("elixirScope.recordSession"));
    assert.deepEqual(contributed.filter((id) => !registered.has(id)), []);
  });
});
