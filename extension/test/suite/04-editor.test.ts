import * as assert from "node:assert/strict";
import { statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as vscode from "vscode";
import type { Recording } from "../../src/recording-controller";
import { currentRecording, extensionApi, hoverText, positionOf, when, workspaceFile } from "./helpers";

suite("editor over a recording", () => {
  let recording: Recording;
  suiteSetup(async () => {
    recording = await currentRecording();
  });

  test("hovering factorial's parameter n shows every value it took", async () => {
    const doc = await vscode.workspace.openTextDocument(workspaceFile("lib/sample/math.ex"));
    await vscode.window.showTextDocument(doc);
    const pos = positionOf(doc, "def factorial(n) when", "(n)").translate(0, 1);
    const hovers = await vscode.commands.executeCommand<vscode.Hover[]>("vscode.executeHoverProvider", doc.uri, pos);
    const text = hoverText(hovers ?? []);
    assert.match(text, /\*\*n\*\* — 5 values recorded/, text);
    for (const n of [5, 4, 3, 2, 1]) assert.ok(text.includes(`n = ${n}`), `no "n = ${n}" in the hover:\n${text}`);
    assert.ok(text.indexOf("n = 1") < text.indexOf("n = 5"), "newest value first");
  });

  test("hover history also works for a pinned variable, a receive clause's binding, a match and a case clause", async () => {
    const pipeline = await vscode.workspace.openTextDocument(workspaceFile("lib/sample/pipeline.ex"));
    const hover = async (doc: vscode.TextDocument, line: string, word: string) =>
      hoverText((await vscode.commands.executeCommand<vscode.Hover[]>("vscode.executeHoverProvider", doc.uri, positionOf(doc, line, word).translate(0, 1))) ?? []);
    // `^ref` binds nothing: its history is that of await_result's parameter `ref`.
    const pinned = await hover(pipeline, "{:result, ^ref, value} -> value", "ref");
    assert.match(pinned, /\*\*ref\*\* — \d+ values? recorded/, pinned);
    assert.match(pinned, /ref = #Reference</, pinned);
    const received = await hover(pipeline, "{:result, ^ref, value} -> value", "value");
    assert.match(received, /\*\*value\*\* — \d+ values? recorded/, received);
    const ledger = await vscode.workspace.openTextDocument(workspaceFile("lib/sample/ledger.ex"));
    const matched = await hover(ledger, "updated = apply_entry(acct, {:deposit, amount})", "updated");
    assert.match(matched, /\*\*updated\*\* — \d+ values? recorded/, matched);
    const clause = await hover(ledger, "{:ok, acct} ->", "acct");
    assert.match(clause, /\*\*acct\*\* — \d+ values? recorded/, clause);
  });

  test("no hover on a word that is not a recorded variable", async () => {
    const doc = await vscode.workspace.openTextDocument(workspaceFile("lib/sample/math.ex"));
    const pos = positionOf(doc, "@moduledoc", "moduledoc");
    const hovers = await vscode.commands.executeCommand<vscode.Hover[]>("vscode.executeHoverProvider", doc.uri, pos);
    assert.doesNotMatch(hoverText(hovers ?? []), /values? recorded/);
  });

  test("the lines that ran are decorated in a visible editor", async () => {
    const { decorations } = await extensionApi();
    const editor = await vscode.window.showTextDocument(workspaceFile("lib/sample/math.ex"));
    const file = editor.document.uri.fsPath;
    const lines = await when("decorations on math.ex", () => decorations.applied.get(file), [vscode.window.onDidChangeVisibleTextEditors]);
    const expected = [...recording.index.callsByLine.get(file)!.keys()].map((l) => l - 1).sort((a, b) => a - b);
    assert.deepEqual([...lines].sort((a, b) => a - b), expected);
    assert.ok(lines.includes(5), "def factorial(n) when n > 0 (line 6) is decorated");
  });

  test("the recording can be saved and reopened", async () => {
    const api = await extensionApi();
    const target = vscode.Uri.file(join(tmpdir(), `es-saved-${process.pid}-${Date.now()}.arrow`));
    const saved = await vscode.commands.executeCommand<vscode.Uri | undefined>("elixirScope.saveRecording", target);
    assert.equal(saved?.fsPath, target.fsPath);
    assert.equal(statSync(target.fsPath).size, recording.bytes.byteLength);
    const reopened = await vscode.commands.executeCommand<Recording | undefined>("elixirScope.openRecording", target);
    assert.ok(reopened, "openRecording returned nothing");
    assert.equal(api.controller.current, reopened);
    assert.equal(reopened.header.events, recording.header.events);
    assert.equal(reopened.header.command, recording.header.command);
    const math = workspaceFile("lib/sample/math.ex").fsPath;
    assert.deepEqual([...reopened.index.callsByLine.get(math)!], [...recording.index.callsByLine.get(math)!]);
  });
});
