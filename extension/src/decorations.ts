/** Marks the lines that ran in the current recording, with their call counts. */
import * as vscode from "vscode";
import type { Recording, RecordingController } from "./recording-controller";

export class RunDecorations implements vscode.Disposable {
  private readonly type = vscode.window.createTextEditorDecorationType({
    isWholeLine: true,
    backgroundColor: new vscode.ThemeColor("diffEditor.insertedLineBackground"),
    overviewRulerColor: new vscode.ThemeColor("editorOverviewRuler.addedForeground"),
    overviewRulerLane: vscode.OverviewRulerLane.Left,
  });
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor(private readonly controller: RecordingController) {
    this.subscriptions.push(
      controller.onDidChangeRecording((r) => this.applyAll(r)),
      vscode.window.onDidChangeVisibleTextEditors(() => this.controller.current && this.applyAll(this.controller.current)),
    );
  }

  /** Decorated line numbers (0-based) per open file, for tests. */
  readonly applied = new Map<string, number[]>();

  private applyAll(recording: Recording): void {
    for (const editor of vscode.window.visibleTextEditors) this.apply(editor, recording);
  }

  private apply(editor: vscode.TextEditor, recording: Recording): void {
    const lines = recording.index.callsByLine.get(editor.document.uri.fsPath);
    const options: vscode.DecorationOptions[] = [];
    for (const [line, calls] of lines ?? []) {
      if (line < 1 || line > editor.document.lineCount) continue;
      const range = editor.document.lineAt(line - 1).range;
      options.push({
        range,
        renderOptions: { after: { contentText: `  ${calls} call${calls === 1 ? "" : "s"}`, color: new vscode.ThemeColor("editorCodeLens.foreground") } },
      });
    }
    editor.setDecorations(this.type, options);
    this.applied.set(editor.document.uri.fsPath, options.map((o) => o.range.start.line));
  }

  dispose(): void {
    this.type.dispose();
    for (const s of this.subscriptions) s.dispose();
  }
}
