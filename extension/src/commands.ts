/** Every command of the extension, declared in one table (ids match package.json). */
import * as vscode from "vscode";
import type { RecordingController } from "./recording-controller";
import type { TimelinePanel } from "./timeline-panel";
import type { AttachTarget } from "./recorder/attach";

interface Deps {
  controller: RecordingController;
  panel: TimelinePanel;
}

export const COMMANDS = {
  "elixirScope.recordSession": (d: Deps) => d.controller.recordSession(),
  "elixirScope.recordSessionWith": (d: Deps) => d.controller.recordSessionWith(),
  /** Asks for the node and cookie; `{node, cookie}` (from another extension or a test) skips the questions. */
  "elixirScope.attachToNode": (d: Deps, target?: unknown) => d.controller.attachToNode(attachTarget(target)),
  /** From the language server's test code lenses: (uri, line?) → `mix test path[:line]`. */
  "elixirScope.recordTest": (d: Deps, uri?: unknown, line?: unknown) => d.controller.recordTest(uri, line),
  "elixirScope.stopRecording": (d: Deps) => d.controller.stop(),
  "elixirScope.showTimeline": (d: Deps) => d.panel.show(),
  "elixirScope.saveRecording": (d: Deps, uri?: unknown) => d.controller.save(uri instanceof vscode.Uri ? uri : undefined),
  "elixirScope.openRecording": (d: Deps, uri?: unknown) => d.controller.open(uri instanceof vscode.Uri ? uri : undefined),
  "elixirScope.stepForward": (d: Deps) => d.controller.step(1),
  "elixirScope.stepBack": (d: Deps) => d.controller.step(-1),
  /** From code lenses: show the timeline with the cursor on an event. */
  "elixirScope.showEvent": (d: Deps, seq?: unknown) => {
    d.panel.show();
    return typeof seq === "number" ? d.controller.moveCursor(seq) : undefined;
  },
  /** From a function's code lens: list its calls in the timeline, the cursor on the slowest. */
  "elixirScope.showCalls": (d: Deps, fn?: unknown) => {
    const f = fn as { module?: unknown; function?: unknown; arity?: unknown; slowestSeq?: unknown } | undefined;
    if (typeof f?.module !== "string" || typeof f.function !== "string" || typeof f.arity !== "number") return undefined;
    d.panel.showCalls({ module: f.module, function: f.function, arity: f.arity });
    return typeof f.slowestSeq === "number" ? d.controller.moveCursor(f.slowestSeq) : undefined;
  },
} satisfies Record<string, (d: Deps, ...args: unknown[]) => unknown>;

function attachTarget(arg: unknown): AttachTarget | undefined {
  if (typeof arg !== "object" || arg === null) return undefined;
  const { node, cookie } = arg as Record<string, unknown>;
  return typeof node === "string" ? { node, cookie: typeof cookie === "string" ? cookie : "" } : undefined;
}

export function registerCommands(context: vscode.ExtensionContext, deps: Deps): void {
  for (const [id, run] of Object.entries(COMMANDS)) {
    context.subscriptions.push(vscode.commands.registerCommand(id, (...args: unknown[]) => (run as (d: Deps, ...a: unknown[]) => unknown)(deps, ...args)));
  }
}
