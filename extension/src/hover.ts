/** Hovering a variable shows every value it took in the current recording, newest first. */
import * as vscode from "vscode";
import type { LanguageClient } from "vscode-languageclient/node";
import { GET_ENCLOSING_FUNCTION, type EnclosingFunction, type GetEnclosingFunctionParams } from "../../protocol/src/lsp";
import { functionLabel } from "../../protocol/src/events";
import type { BindingRecord } from "./recorder/recording-index";
import { formatDuration } from "./format";
import type { RecordingController } from "./recording-controller";

const SHOW_EVENT = "elixirScope.showEvent";
const SHOWN = 12;

export class VariableHistoryHover implements vscode.HoverProvider {
  constructor(
    private readonly controller: RecordingController,
    private readonly client: LanguageClient,
  ) {}

  async provideHover(doc: vscode.TextDocument, pos: vscode.Position): Promise<vscode.Hover | undefined> {
    const recording = this.controller.current;
    if (!recording) return undefined;
    const range = doc.getWordRangeAtPosition(pos, /[a-z_][a-zA-Z0-9_]*[?!]?/);
    if (!range) return undefined;
    const name = doc.getText(range);
    const file = doc.uri.fsPath;
    const params: GetEnclosingFunctionParams = { uri: doc.uri.toString(), line: pos.line };
    const fn = await this.client.sendRequest<EnclosingFunction | null>(GET_ENCLOSING_FUNCTION, params);
    const history = fn
      ? recording.index.history(file, name, { module: fn.module, function: fn.name })
      : recording.index.history(file, name, { line: pos.line + 1 });
    if (history.length === 0) return undefined;
    return new vscode.Hover(render(name, history), range);
  }
}

function render(name: string, history: BindingRecord[]): vscode.MarkdownString {
  const md = new vscode.MarkdownString();
  // Only the one command the links below use may run from this hover.
  md.isTrusted = { enabledCommands: [SHOW_EVENT] };
  md.appendMarkdown(`**${name}** — ${history.length} value${history.length === 1 ? "" : "s"} recorded (newest first)\n\n`);
  for (const b of history.slice(0, SHOWN)) {
    md.appendCodeblock(`${name} = ${b.value}`, "elixir");
    md.appendText(`${formatDuration(b.ts)} · ${b.pid} · ${functionLabel(b.module, b.function, b.arity)} · line ${b.line} · `);
    const args = encodeURIComponent(JSON.stringify([b.seq]));
    md.appendMarkdown(`[scrub here](command:${SHOW_EVENT}?${args} "Move the recording's cursor to this binding")\n\n`);
  }
  if (history.length > SHOWN) md.appendText(`… and ${history.length - SHOWN} older values`);
  return md;
}
