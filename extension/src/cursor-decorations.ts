/**
 * The editor follows the scrub cursor: the line of the event under the cursor is highlighted,
 * and the variables bound in that call show their values inline, as a debugger shows them.
 */
import * as vscode from "vscode";
import { CALL_SEQ_ROOM, EventKind } from "../../protocol/src/events";
import type { CursorEvent } from "./recorder/recording-index";
import type { RecordingController } from "./recording-controller";

const MAX_INLINE = 60;

export class CursorDecorations implements vscode.Disposable {
  private readonly line = vscode.window.createTextEditorDecorationType({
    isWholeLine: true,
    backgroundColor: new vscode.ThemeColor("editor.stackFrameHighlightBackground"),
    borderColor: new vscode.ThemeColor("editorWarning.foreground"),
    borderStyle: "solid",
    borderWidth: "0 0 0 2px",
  });
  private readonly values = vscode.window.createTextEditorDecorationType({
    after: { color: new vscode.ThemeColor("editorInlayHint.foreground"), fontStyle: "italic", margin: "0 0 0 2em" },
  });
  private readonly subscriptions: vscode.Disposable[] = [];
  /** What is shown per file, for tests: 1-based line → inline text. */
  readonly shown = new Map<string, Map<number, string>>();

  constructor(private readonly controller: RecordingController) {
    this.subscriptions.push(
      controller.onDidMoveCursor(() => this.applyAll()),
      controller.onDidChangeRecording(() => this.applyAll()),
      vscode.window.onDidChangeVisibleTextEditors(() => this.applyAll()),
    );
  }

  private applyAll(): void {
    this.shown.clear();
    for (const editor of vscode.window.visibleTextEditors) this.apply(editor, this.controller.cursor);
  }

  private apply(editor: vscode.TextEditor, cursor: CursorEvent | undefined): void {
    const file = editor.document.uri.fsPath;
    if (!cursor || cursor.file !== file || cursor.line < 1 || cursor.line > editor.document.lineCount) {
      editor.setDecorations(this.line, []);
      editor.setDecorations(this.values, []);
      return;
    }
    editor.setDecorations(this.line, [editor.document.lineAt(cursor.line - 1).range]);
    // As a debugger shows them: the values the call's variables have at the cursor, each
    // variable's latest binding so far (a comprehension rebinds on every pass). At the call
    // itself its head variables are bound (their rows follow the CALL row, seq + 1…).
    const upTo = cursor.kind === EventKind.Call ? cursor.seq + CALL_SEQ_ROOM : cursor.seq;
    const perLine = new Map<number, Map<string, string>>();
    for (const b of this.controller.current?.index.bindingsOfCall(cursor.callId) ?? []) {
      if (b.seq > upTo) break;
      if (b.line < 1 || b.line > editor.document.lineCount) continue;
      const vars = perLine.get(b.line) ?? perLine.set(b.line, new Map()).get(b.line)!;
      vars.set(b.name, `${b.name} = ${truncate(b.value)}`);
    }
    const shown = new Map<number, string>();
    const options: vscode.DecorationOptions[] = [...perLine].map(([line, vars]) => {
      const text = [...vars.values()].join(", ");
      shown.set(line, text);
      const end = editor.document.lineAt(line - 1).range.end;
      return { range: new vscode.Range(end, end), renderOptions: { after: { contentText: text } } };
    });
    editor.setDecorations(this.values, options);
    this.shown.set(file, shown);
  }

  dispose(): void {
    this.line.dispose();
    this.values.dispose();
    for (const s of this.subscriptions) s.dispose();
  }
}

function truncate(value: string): string {
  return value.length > MAX_INLINE ? `${value.slice(0, MAX_INLINE - 1)}…` : value;
}
