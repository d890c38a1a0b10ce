/**
 * Interactive commands (`iex -S mix`) need a terminal: the recorded program runs in a VS Code
 * terminal of its own instead of a hidden child process, with the same environment (agent,
 * port, secret). The recording ends when the terminal's program exits or the agent disconnects
 * (Stop Recording: the agent restores the original code and the session goes on unrecorded).
 */
import * as vscode from "vscode";
import type { LaunchSpec, ProgramExit } from "./recorder/session";

/** Whether `command` must run in a terminal: it reads from the keyboard. */
export function isInteractive(command: string): boolean {
  return /^iex(\s|$)/.test(command.trim());
}

export function runInTerminal(spec: LaunchSpec): Promise<ProgramExit> {
  const terminal = vscode.window.createTerminal({
    name: `ElixirScope: ${spec.command}`,
    cwd: spec.cwd,
    env: spec.env,
    strictEnv: true,
    shellPath: process.env.SHELL || "/bin/sh",
    shellArgs: ["-c", spec.command],
    isTransient: true,
  });
  terminal.show();
  const closed = new Promise<ProgramExit>((resolve) => {
    const sub = vscode.window.onDidCloseTerminal((t) => {
      if (t !== terminal) return;
      sub.dispose();
      resolve({ code: t.exitStatus?.code ?? null, signal: null });
    });
  });
  // The terminal may stay open after its program ended: the agent hanging up ends it too.
  return Promise.race([closed, spec.agentGone.then(() => ({ code: null, signal: null }))]);
}
