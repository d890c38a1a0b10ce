/**
 * Extension entry point: starts the language server, and wires the recording controller to
 * commands, the status bar, editor decorations, hovers and the timeline panel.
 */
import * as vscode from "vscode";
import { startLanguageClient } from "./language-client";
import { RecordingController } from "./recording-controller";
import { registerCommands } from "./commands";
import { RunDecorations } from "./decorations";
import { VariableHistoryHover } from "./hover";
import { TimelinePanel } from "./timeline-panel";
import { CursorDecorations } from "./cursor-decorations";
import { RecordedFunctionLenses } from "./code-lens";

export async function activate(context: vscode.ExtensionContext): Promise<ExtensionApi> {
  const output = vscode.window.createOutputChannel("ElixirScope");
  context.subscriptions.push(output);
  const client = await startLanguageClient(context);
  const controller = new RecordingController(context, client, output);
  const decorations = new RunDecorations(controller);
  const panel = new TimelinePanel(context, controller);
  const cursor = new CursorDecorations(controller);
  const lenses = new RecordedFunctionLenses(controller);
  context.subscriptions.push(
    controller,
    decorations,
    cursor,
    panel,
    lenses,
    vscode.languages.registerCodeLensProvider({ language: "elixir" }, lenses),
    vscode.languages.registerHoverProvider({ language: "elixir" }, new VariableHistoryHover(controller, client)),
  );
  registerCommands(context, { controller, panel });
  return { controller, decorations, cursor, panel };
}

export function deactivate(): void {
  // Disposables registered in activate() stop the language client and any recording.
}

/** What the extension returns from activate(), for tests in the extension host. */
export interface ExtensionApi {
  controller: RecordingController;
  /** Which lines are decorated in which editors (`RunDecorations.applied`). */
  decorations: RunDecorations;
  /** Current-line highlight and inline values at the scrub cursor. */
  cursor: CursorDecorations;
  /** The timeline webview's host. */
  panel: TimelinePanel;
}
