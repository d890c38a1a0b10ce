/** Every command of the extension, declared in one table (ids match package.json). */
import * as vscode from "vscode";
import type { RecordingController } from "./recording-controller";
import type { TimelinePanel } from "./timeline-panel";

interface Deps {
  controller: RecordingController;
  panel: TimelinePanel;
}

export const COMMANDS = {
  "elixirScope.recordSession": (d: Deps) => d.controller.recordSession(),
  "elixirScope.stopRecording": (d: Deps) => d.controller.stop(),
  "elixirScope.showTimeline": (d: Deps) => d.panel.show(),
  "elixirScope.saveRecording": (d: Deps, uri?: vscode.Uri) => d.controller.save(uri),
  "elixirScope.openRecording": (d: Deps, uri?: vscode.Uri) => d.controller.open(uri),
  "elixirScope.stepForward": (d: Deps) => d.controller.step(1),
  "elixirScope.stepBack": (d: Deps) => d.controller.step(-1),
} satisfies Record<string, (d: Deps, uri?: vscode.Uri) => unknown>;

export function registerCommands(context: vscode.ExtensionContext, deps: Deps): void {
  for (const [id, run] of Object.entries(COMMANDS)) {
    context.subscriptions.push(vscode.commands.registerCommand(id, (uri?: vscode.Uri) => run(deps, uri instanceof vscode.Uri ? uri : undefined)));
  }
}
