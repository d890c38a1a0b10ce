/** Shared by the extension-host tests: the extension's API, the workspace, waiting on events. */
import * as assert from "node:assert/strict";
import * as vscode from "vscode";
import type { ExtensionApi } from "../../src/extension";
import type { Recording } from "../../src/recording-controller";

export const EXTENSION_ID = "elixir-scope.elixir-scope";

/** The extension's API; activates it if the `workspaceContains:**\/mix.exs` event has not yet. */
export async function extensionApi(): Promise<ExtensionApi> {
  const ext = vscode.extensions.getExtension<ExtensionApi>(EXTENSION_ID);
  assert.ok(ext, `${EXTENSION_ID} is not installed in this VS Code`);
  return ext.isActive ? ext.exports : ext.activate();
}

/** The sample app: the only workspace folder. */
export function workspaceFolder(): vscode.WorkspaceFolder {
  const folders = vscode.workspace.workspaceFolders ?? [];
  assert.equal(folders.length, 1, "the tests expect exactly one workspace folder (a copy of test/fixtures/sample_app)");
  return folders[0];
}

export function workspaceFile(relative: string): vscode.Uri {
  return vscode.Uri.joinPath(workspaceFolder().uri, ...relative.split("/"));
}

/** Runs "ElixirScope: Record Session" as the command palette would; it returns the Recording. */
export async function recordSession(): Promise<Recording> {
  const recording = await vscode.commands.executeCommand<Recording | undefined>("elixirScope.recordSession");
  assert.ok(recording, "elixirScope.recordSession returned no recording: see the ElixirScope output channel");
  return recording;
}

/** The current recording, recording one first if no test has yet. */
export async function currentRecording(): Promise<Recording> {
  return (await extensionApi()).controller.current ?? recordSession();
}

/** Position of the `nth` occurrence of `word` on the first line containing `lineText`. */
export function positionOf(doc: vscode.TextDocument, lineText: string, word: string): vscode.Position {
  for (let i = 0; i < doc.lineCount; i++) {
    const text = doc.lineAt(i).text;
    const at = text.indexOf(lineText);
    if (at < 0) continue;
    const col = text.indexOf(word, at);
    assert.ok(col >= 0, `"${word}" not on line ${i + 1}: ${text}`);
    return new vscode.Position(i, col);
  }
  throw new assert.AssertionError({ message: `no line contains "${lineText}" in ${doc.uri.fsPath}` });
}

/**
 * Resolves with `check()` once it is defined: now, or after one of `events` fires and it holds.
 * Rejects after `ms` with `what` in the message.
 */
export function when<T>(what: string, check: () => T | undefined, events: vscode.Event<unknown>[], ms = 30_000): Promise<T> {
  const now = check();
  if (now !== undefined) return Promise.resolve(now);
  return new Promise<T>((resolve, reject) => {
    const subs: vscode.Disposable[] = [];
    const done = () => {
      clearTimeout(timer);
      for (const s of subs) s.dispose();
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`timed out after ${ms} ms waiting for ${what}`));
    }, ms);
    for (const event of events) {
      subs.push(
        event(() => {
          const value = check();
          if (value === undefined) return;
          done();
          resolve(value);
        }),
      );
    }
  });
}

/** The text of hovers as one string (Markdown sources). */
export function hoverText(hovers: vscode.Hover[]): string {
  return hovers
    .flatMap((h) => h.contents)
    .map((c) => (typeof c === "string" ? c : c.value))
    .join("\n");
}
