/**
 * Owns the current recording: runs a RecordingSession for the workspace with progress and a
 * status bar item, keeps the finished recording and its editor indexes, and tells listeners.
 */
import * as vscode from "vscode";
import type { LanguageClient } from "vscode-languageclient/node";
import { GET_INSTRUMENTATION_PLAN, type GetInstrumentationPlanParams, type PlanResult } from "../../protocol/src/lsp";
import { SCHEMA_VERSION, type RecordingHeader } from "../../protocol/src/events";
import { boundsOf, type ValueBounds } from "../../protocol/src/values";
import { RecorderError, RecordingSession } from "./recorder/session";
import { filterModules, readSettings, SettingsError, type Settings } from "./settings";
import { delimiter } from "node:path";
import { decodeRecording, encodeRecording } from "./recorder/recording-file";
import { RecordingIndex, type CursorEvent } from "./recorder/recording-index";
import { isInteractive, runInTerminal } from "./terminal-launcher";
import { attachLauncher, nodeNameProblem, type AttachTarget } from "./recorder/attach";

export interface Recording {
  /** Arrow IPC file bytes (the same format a saved recording has). */
  bytes: Uint8Array;
  header: RecordingHeader;
  index: RecordingIndex;
  /** The workspace folder it was recorded in (undefined for a file opened from elsewhere). */
  folder: vscode.WorkspaceFolder | undefined;
}

export interface CursorMove {
  at: CursorEvent | undefined;
  source: "host" | "webview";
}

const LAST_COMMAND_KEY = "elixirScope.lastCommand";
const LAST_NODE_KEY = "elixirScope.lastAttachNode";

export class RecordingController implements vscode.Disposable {
  private readonly status = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Left, 50);
  private readonly changed = new vscode.EventEmitter<Recording>();
  /** Fires when a recording finished (or was opened). */
  readonly onDidChangeRecording = this.changed.event;
  private readonly cursorMoved = new vscode.EventEmitter<CursorMove>();
  /** Fires when the shared scrub cursor moves (from the timeline or a step command). */
  readonly onDidMoveCursor = this.cursorMoved.event;
  private readonly liveEvents = new vscode.EventEmitter<{ title: string; payload: Uint8Array | undefined; values: ValueBounds }>();
  /** While recording: fires once with no payload when it starts, then with each EVENTS payload. */
  readonly onDidReceiveLiveEvents = this.liveEvents.event;
  private readonly statusChanged = new vscode.EventEmitter<string>();
  /** Fires with the status bar item's new text (phases, events/s and dropped while recording). */
  readonly onDidChangeStatus = this.statusChanged.event;
  current?: Recording;
  cursor?: CursorEvent;
  private session?: RecordingSession;
  private readonly configWatch: vscode.Disposable;

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly client: LanguageClient,
    private readonly output: vscode.OutputChannel,
  ) {
    this.status.name = "ElixirScope";
    this.idle();
    this.status.show();
    // A newly configured command is the one to record: it replaces the last one picked.
    this.configWatch = vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration("elixirScope.command")) void this.context.workspaceState.update(LAST_COMMAND_KEY, undefined);
    });
  }

  /**
   * What "Record Session" runs in `folder`: the command last picked with "Record Session…" in
   * this workspace, else elixirScope.command.
   */
  commandToRecord(folder: vscode.WorkspaceFolder): string {
    const last = this.context.workspaceState.get<string>(LAST_COMMAND_KEY);
    return last ?? readSettings((key) => vscode.workspace.getConfiguration("elixirScope", folder).get(key)).command;
  }

  /** Remembers `command` for this workspace (what "Record Session…" does with the pick). */
  async rememberCommand(command: string): Promise<void> {
    await this.context.workspaceState.update(LAST_COMMAND_KEY, command.trim());
  }

  /** Records one test file, or the test or describe at `line` (1-based), of the file `uri`. */
  async recordTest(uri: unknown, line: unknown): Promise<Recording | undefined> {
    const file = typeof uri === "string" ? vscode.Uri.parse(uri) : uri instanceof vscode.Uri ? uri : vscode.window.activeTextEditor?.document.uri;
    const folder = file && vscode.workspace.getWorkspaceFolder(file);
    if (!file || !folder) {
      void vscode.window.showErrorMessage("Record This Test needs a test file inside an open workspace folder.");
      return undefined;
    }
    const relative = vscode.workspace.asRelativePath(file, false);
    if (/\s/.test(relative)) {
      void vscode.window.showErrorMessage(`Cannot record "${relative}": test paths with spaces are not supported yet.`);
      return undefined;
    }
    const target = typeof line === "number" && line > 0 ? `${relative}:${line}` : relative;
    return this.recordSession({ folder, command: `mix test ${target}` });
  }

  /** Asks which command to record (remembered per workspace), then records it. */
  async recordSessionWith(): Promise<Recording | undefined> {
    const folder = await this.pickFolder();
    if (!folder) return undefined;
    const last = this.context.workspaceState.get<string>(LAST_COMMAND_KEY);
    const configured = vscode.workspace.getConfiguration("elixirScope", folder).get<string>("command", "mix test");
    const choices = [...new Set([last, configured, "mix test", "mix run", "iex -S mix"].filter((c): c is string => !!c))];
    const describe = (label: string) =>
      [label === last ? "last used" : label === configured ? "elixirScope.command" : "", isInteractive(label) ? "interactive, in a terminal" : ""]
        .filter(Boolean)
        .join(" · ");
    const items: vscode.QuickPickItem[] = [
      ...choices.map((label) => ({ label, description: describe(label) })),
      { label: "Other command…", description: "type a command to run in the project folder" },
    ];
    const picked = await vscode.window.showQuickPick(items, { placeHolder: "What should ElixirScope record?" });
    if (!picked) return undefined;
    const command =
      picked.label === "Other command…"
        ? await vscode.window.showInputBox({ prompt: "Command to record (run in the project folder)", value: last ?? configured })
        : picked.label;
    if (!command?.trim()) return undefined;
    await this.rememberCommand(command);
    return this.recordSession({ folder, command: command.trim() });
  }

  /**
   * Attach to Running Node: asks for the node's name (remembered per workspace) and cookie (not
   * remembered unless elixirScope.attach.rememberCookie is on; then it is kept in VS Code's
   * secret storage), then records that node until Stop Recording; the node runs on afterwards.
   * `given` (from a command invocation with arguments) skips the questions.
   */
  async attachToNode(given?: AttachTarget): Promise<Recording | undefined> {
    const folder = await this.pickFolder();
    if (!folder) return undefined;
    const target = given ?? (await this.askAttachTarget(folder));
    if (!target) return undefined;
    return this.recordSession({ folder, command: `attach ${target.node}`, attach: target });
  }

  private async askAttachTarget(folder: vscode.WorkspaceFolder): Promise<AttachTarget | undefined> {
    const node = (
      await vscode.window.showInputBox({
        title: "ElixirScope: Attach to Running Node",
        prompt: "Node to attach to: name@host as Node.self() prints it in the node, or just name for a node started with --sname on this machine",
        placeHolder: "my_app@localhost",
        value: this.context.workspaceState.get<string>(LAST_NODE_KEY),
        ignoreFocusOut: true,
        validateInput: (v) => nodeNameProblem(v),
      })
    )?.trim();
    if (!node) return undefined;
    await this.context.workspaceState.update(LAST_NODE_KEY, node);
    const config = vscode.workspace.getConfiguration("elixirScope", folder);
    const remember = readSettings((key) => config.get(key)).attachRememberCookie;
    const secretKey = `elixirScope.cookie:${folder.uri.toString()}:${node}`;
    const cookie = await vscode.window.showInputBox({
      title: `ElixirScope: cookie of ${node}`,
      prompt: "The node's cookie (Node.get_cookie() in the node), the path of a file holding it, or empty for ~/.erlang.cookie",
      password: true,
      ignoreFocusOut: true,
      value: remember ? await this.context.secrets.get(secretKey) : undefined,
    });
    if (cookie === undefined) return undefined;
    if (remember) await this.context.secrets.store(secretKey, cookie.trim());
    return { node, cookie: cookie.trim() };
  }

  async recordSession(override?: { folder: vscode.WorkspaceFolder; command: string; attach?: AttachTarget }): Promise<Recording | undefined> {
    if (this.session) {
      void vscode.window.showWarningMessage("ElixirScope is already recording; stop it first (ElixirScope: Stop Recording).");
      return undefined;
    }
    const folder = override?.folder ?? (await this.pickFolder());
    if (!folder) return undefined;
    try {
      const config = vscode.workspace.getConfiguration("elixirScope", folder);
      const settings = readSettings((key) => config.get(key));
      const command = override?.command ?? this.commandToRecord(folder);
      return await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `ElixirScope: recording "${command}"`, cancellable: true },
        (progress, token) => this.record(folder, command, settings, progress, token, override?.attach),
      );
    } catch (e) {
      const message = e instanceof RecorderError || e instanceof SettingsError ? e.message : `Recording failed: ${(e as Error).message}`;
      this.output.appendLine(message);
      this.setStatus("$(error) ElixirScope: recording failed");
      void vscode.window.showErrorMessage(message, "Show Output").then((a) => a && this.output.show());
      return undefined;
    } finally {
      this.session = undefined;
    }
  }

  /** Saves the current recording as an Arrow IPC file (the format the CLI and webview read). */
  async save(target?: vscode.Uri): Promise<vscode.Uri | undefined> {
    const recording = this.current;
    if (!recording) {
      void vscode.window.showInformationMessage("There is no recording to save yet: run ElixirScope: Record Session first.");
      return undefined;
    }
    const uri =
      target ??
      (await vscode.window.showSaveDialog({
        defaultUri: vscode.Uri.joinPath(recording.folder?.uri ?? vscode.Uri.file("."), `${recording.header.app}.arrow`),
        filters: { "ElixirScope recording": ["arrow"] },
      }));
    if (!uri) return undefined;
    await vscode.workspace.fs.writeFile(uri, recording.bytes);
    return uri;
  }

  /** Opens a saved recording and makes it the current one. */
  async open(source?: vscode.Uri): Promise<Recording | undefined> {
    const uri =
      source ??
      (await vscode.window.showOpenDialog({ canSelectMany: false, filters: { "ElixirScope recording": ["arrow"] } }))?.[0];
    if (!uri) return undefined;
    try {
      const bytes = await vscode.workspace.fs.readFile(uri);
      const { header, table } = decodeRecording(bytes);
      const recording: Recording = {
        bytes,
        header: header ?? {
          schemaVersion: SCHEMA_VERSION, app: uri.path.split("/").pop() ?? "recording", command: "", startedAt: "", node: "", dropped: 0, events: table.numRows,
        },
        index: RecordingIndex.fromTable(table),
        folder: vscode.workspace.getWorkspaceFolder(uri),
      };
      this.finish(recording, `Opened ${uri.fsPath}`);
      return recording;
    } catch (e) {
      void vscode.window.showErrorMessage(`Could not open ${uri.fsPath}: ${(e as Error).message}`);
      return undefined;
    }
  }

  /**
   * Moves the shared cursor to the event with this seq (or the one before it). `source` says
   * who moved it, so that view does not get its own move echoed back while the user drags.
   */
  moveCursor(seq: number, source: CursorMove["source"] = "host"): CursorEvent | undefined {
    this.cursor = this.current?.index.eventAt(seq);
    this.cursorMoved.fire({ at: this.cursor, source });
    return this.cursor;
  }

  /** Steps the cursor to the next/previous event of the same process. */
  step(dir: 1 | -1): CursorEvent | undefined {
    const index = this.current?.index;
    if (!index) {
      void vscode.window.showInformationMessage("Record a session or open a recording first.");
      return undefined;
    }
    const from = this.cursor ?? index.eventAt(0);
    const next = from && (this.cursor ? index.step(from, dir) : from);
    if (!next) return this.cursor;
    this.cursor = next;
    this.cursorMoved.fire({ at: next, source: "host" });
    void this.revealCursor(next);
    return next;
  }

  private async revealCursor(at: CursorEvent): Promise<void> {
    if (!at.file || at.line < 1) return;
    const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(at.file));
    const pos = new vscode.Position(at.line - 1, 0);
    await vscode.window.showTextDocument(doc, { preserveFocus: true, selection: new vscode.Range(pos, pos), preview: true });
  }

  stop(): void {
    if (!this.session) {
      void vscode.window.showInformationMessage("ElixirScope is not recording.");
      return;
    }
    this.session.stop();
  }

  dispose(): void {
    // The program ElixirScope started must not outlive it; an attached node runs on.
    this.session?.dispose();
    this.status.dispose();
    this.changed.dispose();
    this.cursorMoved.dispose();
    this.liveEvents.dispose();
    this.statusChanged.dispose();
    this.configWatch.dispose();
  }

  private async record(
    folder: vscode.WorkspaceFolder,
    command: string,
    settings: Settings,
    progress: vscode.Progress<{ message?: string }>,
    token: vscode.CancellationToken,
    attach?: AttachTarget,
  ): Promise<Recording> {
    const params: GetInstrumentationPlanParams = { root: folder.uri.fsPath };
    const plan = await this.client.sendRequest<PlanResult>(GET_INSTRUMENTATION_PLAN, params);
    const modules = filterModules(plan.modules, settings);
    this.output.appendLine(`Plan: ${modules.map((m) => `${m.module} (${m.reason})`).join(", ")}`);
    if (modules.length === 0) {
      throw new RecorderError("Nothing to record: no module of the workspace passes elixirScope.includeModules / excludeModules.");
    }
    const env = settings.elixirBinDir ? { ...process.env, PATH: `${settings.elixirBinDir}${delimiter}${process.env.PATH ?? ""}` } : undefined;
    const title = `${folder.name}: ${command} (recording…)`;
    const rate = { at: 0, events: 0 };
    const values = boundsOf(settings.values);
    const session = new RecordingSession({
      cwd: folder.uri.fsPath,
      command,
      modules,
      agentEbin: this.context.asAbsolutePath("dist/agent/ebin"),
      connectTimeoutMs: settings.connectTimeoutSeconds * 1000,
      ringCapBytes: settings.memoryCapMB * 1024 * 1024,
      spillPath: await this.spillPath(),
      values: settings.values,
      sampling: settings.sampling,
      agentBufferMb: settings.agentBufferMB,
      port: settings.port,
      launcher: attach
        ? attachLauncher(attach, this.context.asAbsolutePath("dist/agent/ebin"))
        : isInteractive(command)
          ? runInTerminal
          : undefined,
      // Attaching records a node that is already running: nothing to compile.
      skipCompile: attach !== undefined,
      env,
      onOutput: (text) => this.output.append(text),
      onLog: (log) => this.output.appendLine(`[agent ${log.level}] ${log.message}`),
      onPhase: (phase) => {
        progress.report({ message: phase });
        this.setStatus(phase === "recording" ? "$(record) ElixirScope: recording" : `$(sync~spin) ElixirScope: ${phase}`);
      },
      onEvents: (payload) => this.liveEvents.fire({ title, payload, values }),
      onReady: () => this.liveEvents.fire({ title, payload: undefined, values }),
      onBatch: () => {
        // At the first batch, then twice a second with the rate since the last update.
        const now = Date.now();
        if (rate.at !== 0 && now - rate.at < 500) return;
        const perS = rate.at === 0 ? "" : ` (${Math.round(((session.events - rate.events) * 1000) / (now - rate.at))}/s)`;
        Object.assign(rate, { at: now, events: session.events });
        const sampled = session.sampled > 0 ? ` · ${session.sampled} calls sampled out` : "";
        this.setStatus(`$(record) ElixirScope: recording · ${session.events} events${perS} · ${session.dropped} dropped${sampled}`);
      },
    });
    this.session = session;
    token.onCancellationRequested(() => session.stop());
    const result = await session.run();
    for (const w of result.warnings) this.output.appendLine(`warning: ${w}`);
    if (result.ring.spillError) this.output.appendLine(`warning: ${result.ring.spillError}; those events were dropped`);
    // What the user must know about this recording's completeness, not only in the log.
    const problems = [
      ...(result.bye ? [] : [`The node ended without the agent's goodbye: what was received is kept, events not yet sent are lost.`]),
      ...(result.ring.spillError
        ? [`${result.ring.spillError}; those events were dropped. Free disk space or raise elixirScope.memoryCapMB.`]
        : []),
    ];
    if (problems.length > 0) void vscode.window.showWarningMessage(`ElixirScope: ${problems.join(" ")}`);
    if (result.ring.spilledEvents > 0) {
      this.output.appendLine(
        `${result.ring.spilledEvents} events beyond elixirScope.memoryCapMB were spilled to ${result.ring.spillPath} (an Arrow IPC stream) and are part of the recording`,
      );
    }
    if (result.ring.keptEvents === 0) throw new RecorderError("The agent connected but recorded no events.");
    const batches = result.ring.all();
    const recording: Recording = {
      bytes: encodeRecording(batches, result.header),
      header: result.header,
      index: RecordingIndex.fromBatches(batches, result.header.values),
      folder,
    };
    result.ring.dispose();
    this.finish(recording, `Recorded "${command}" (exit code ${result.exitCode}).`);
    return recording;
  }

  private finish(recording: Recording, what: string): void {
    this.current = recording;
    this.cursor = undefined;
    this.setStatus(`$(debug-stackframe) ElixirScope: ${recording.header.events} events · ${recording.header.dropped} dropped`);
    this.status.tooltip = `${what} Click to show the timeline.`;
    this.status.command = "elixirScope.showTimeline";
    this.changed.fire(recording);
  }

  /** A fresh spill file in the extension's storage for this workspace. */
  private async spillPath(): Promise<string> {
    const dir = this.context.storageUri ?? this.context.globalStorageUri;
    await vscode.workspace.fs.createDirectory(dir);
    return vscode.Uri.joinPath(dir, `spill-${Date.now()}.arrows`).fsPath;
  }

  /** The status bar item's text, and the event tests and other views follow it by. */
  private setStatus(text: string): void {
    this.status.text = text;
    this.statusChanged.fire(text);
  }

  private idle(): void {
    this.setStatus("$(circle-outline) ElixirScope");
    this.status.tooltip = "Record a session";
    this.status.command = "elixirScope.recordSession";
  }

  private async pickFolder(): Promise<vscode.WorkspaceFolder | undefined> {
    const folders = vscode.workspace.workspaceFolders ?? [];
    if (folders.length === 0) {
      void vscode.window.showErrorMessage("Open the folder of a Mix project (with mix.exs) to record it.");
      return undefined;
    }
    if (folders.length === 1) return folders[0];
    return vscode.window.showWorkspaceFolderPick({ placeHolder: "Which project should ElixirScope record?" });
  }
}
