/** Hosts the timeline webview: sends it the recording, reveals source when an event is clicked. */
import * as vscode from "vscode";
import { parseFromWebview, type ToWebview } from "../../protocol/src/webview";
import type { ValueBounds } from "../../protocol/src/values";
import { makeNonce, webviewHtml } from "./webview-html";
import type { Recording, RecordingController } from "./recording-controller";

export interface CallsOf {
  module: string;
  function: string;
  arity: number;
}

export class TimelinePanel implements vscode.Disposable {
  private panel?: vscode.WebviewPanel;
  private ready = false;
  /** Payloads of the recording in progress, and how many the webview has been sent. */
  private live?: { title: string; payloads: Uint8Array[]; sent: number; values: ValueBounds };
  /** A function whose calls are to be listed once the webview is ready. */
  private pendingCalls?: CallsOf;
  /** The last function whose calls the webview was asked to list (for tests). */
  lastCalls?: CallsOf;
  private readonly listedCalls = new vscode.EventEmitter<CallsOf>();
  /** Fires when the webview is asked to list a function's calls. */
  readonly onDidListCalls = this.listedCalls.event;
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly controller: RecordingController,
  ) {
    this.subscriptions.push(
      controller.onDidChangeRecording((r) => {
        this.live = undefined;
        if (this.panel) this.send(r);
        else this.show();
      }),
      controller.onDidReceiveLiveEvents(({ title, payload, values }) => {
        if (!payload) {
          this.live = { title, payloads: [], sent: 0, values };
          this.show();
          return;
        }
        this.live?.payloads.push(payload);
        this.flushLive();
      }),
      // The webview is the source of most cursor moves; it ignores an echo of its own position.
      controller.onDidMoveCursor(({ at, source }) => {
        if (source === "webview" || !at || !this.panel || !this.ready) return;
        void this.panel.webview.postMessage({ t: "cursor", seq: at.seq } satisfies ToWebview);
      }),
    );
  }

  show(): void {
    if (this.panel) {
      // Stay in its group: moving a webview between groups reloads it.
      this.panel.reveal(this.panel.viewColumn, true);
      return;
    }
    const dist = vscode.Uri.joinPath(this.context.extensionUri, "dist");
    const panel = vscode.window.createWebviewPanel("elixirScope.timeline", "ElixirScope Timeline", vscode.ViewColumn.Beside, {
      enableScripts: true,
      retainContextWhenHidden: true,
      localResourceRoots: [dist],
    });
    this.panel = panel;
    this.ready = false;
    const nonce = makeNonce();
    panel.webview.html = webviewHtml({
      scriptUri: panel.webview.asWebviewUri(vscode.Uri.joinPath(dist, "webview.js")).toString(),
      cspSource: panel.webview.cspSource,
      nonce,
    });
    panel.webview.onDidReceiveMessage((raw) => this.onMessage(raw), undefined, this.subscriptions);
    panel.onDidDispose(() => ((this.panel = undefined), (this.ready = false)), undefined, this.subscriptions);
  }

  /** Shows the timeline listing every call of one function (from a code lens). */
  showCalls(fn: CallsOf): void {
    this.pendingCalls = fn;
    this.show();
    this.flushCalls();
  }

  private flushCalls(): void {
    const fn = this.pendingCalls;
    if (!fn || !this.panel || !this.ready) return;
    this.pendingCalls = undefined;
    this.lastCalls = fn;
    void this.panel.webview.postMessage({ t: "calls", ...fn } satisfies ToWebview);
    this.listedCalls.fire(fn);
  }

  private onMessage(raw: unknown): void {
    const msg = parseFromWebview(raw);
    if (!msg) return;
    switch (msg.t) {
      case "ready":
        this.ready = true;
        if (this.live) {
          this.live.sent = 0;
          this.flushLive();
        } else if (this.controller.current) this.send(this.controller.current);
        this.flushCalls();
        break;
      case "reveal":
        void this.reveal(msg.file, msg.line);
        break;
      case "cursor":
        this.controller.moveCursor(msg.seq, "webview");
        break;
    }
  }

  /** Streams the recording in progress: the first payload opens it, the rest are appended. */
  private flushLive(): void {
    const live = this.live;
    if (!live || !this.panel || !this.ready) return;
    for (; live.sent < live.payloads.length; live.sent++) {
      const bytes = live.payloads[live.sent];
      const msg: ToWebview = live.sent === 0 ? { t: "recording", bytes, title: live.title, values: live.values } : { t: "append", bytes };
      void this.panel.webview.postMessage(msg);
    }
  }

  private send(recording: Recording): void {
    if (!this.panel || !this.ready) return;
    const msg: ToWebview = { t: "recording", bytes: recording.bytes, title: `${recording.header.app}: ${recording.header.command}` };
    void this.panel.webview.postMessage(msg);
  }

  private async reveal(file: string, line: number): Promise<void> {
    const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(file));
    const pos = new vscode.Position(Math.max(0, line - 1), 0);
    // Open the source beside the timeline, never over it.
    const panelColumn = this.panel?.viewColumn;
    const other = vscode.window.visibleTextEditors.find((e) => e.viewColumn !== undefined && e.viewColumn !== panelColumn)?.viewColumn;
    const viewColumn = other ?? (panelColumn === vscode.ViewColumn.One ? vscode.ViewColumn.Two : vscode.ViewColumn.One);
    await vscode.window.showTextDocument(doc, { viewColumn, selection: new vscode.Range(pos, pos) });
  }

  dispose(): void {
    this.panel?.dispose();
    this.listedCalls.dispose();
    for (const s of this.subscriptions) s.dispose();
  }
}
