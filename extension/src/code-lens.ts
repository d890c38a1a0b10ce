/** Above each recorded function: "N calls · p50 t · p99 t · M raised"; click → its calls listed, the cursor on the slowest. */
import * as vscode from "vscode";
import { percentile } from "./recorder/recording-index";
import { formatDuration } from "./format";
import { functionLabel } from "../../protocol/src/events";
import type { RecordingController } from "./recording-controller";

export class RecordedFunctionLenses implements vscode.CodeLensProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.changed.event;
  private readonly subscription: vscode.Disposable;

  constructor(private readonly controller: RecordingController) {
    this.subscription = controller.onDidChangeRecording(() => this.changed.fire());
  }

  provideCodeLenses(doc: vscode.TextDocument): vscode.CodeLens[] {
    const index = this.controller.current?.index;
    if (!index) return [];
    return index
      .functionStats(doc.uri.fsPath)
      .filter((s) => s.line >= 1 && s.line <= doc.lineCount)
      .map((s) => {
        const parts = [`${s.calls} call${s.calls === 1 ? "" : "s"}`];
        if (s.durations.length > 0) {
          parts.push(`p50 ${formatDuration(percentile(s.durations, 50))}`, `p99 ${formatDuration(percentile(s.durations, 99))}`);
        }
        if (s.raised > 0) parts.push(`${s.raised} raised`);
        return new vscode.CodeLens(doc.lineAt(s.line - 1).range, {
          title: `ElixirScope: ${parts.join(" · ")}`,
          tooltip: `List the recorded calls of ${functionLabel(s.module, s.function, s.arity)} in the timeline (slowest first)`,
          command: "elixirScope.showCalls",
          arguments: [{ module: s.module, function: s.function, arity: s.arity, slowestSeq: s.slowestSeq }],
        });
      });
  }

  dispose(): void {
    this.subscription.dispose();
    this.changed.dispose();
  }
}
