/**
 * Attach to a running node: instead of starting the program, the recorder starts a small hidden
 * helper node (`ElixirScope.Agent.Attach` in beam_agent/) that loads the agent into the target
 * over distribution; the agent connects back with the session's port and secret as usual. When
 * the session ends the helper removes the agent from the target and exits.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { ENV } from "../../../protocol/src/wire";
import { RecorderError } from "./errors";
import type { LaunchSpec, ProgramExit } from "./session";

export interface AttachTarget {
  /** `app@host` (or `app` for a short name on this host). */
  node: string;
  cookie: string;
}

/** A node name as distribution wants it: `app` → `app@<this host>` is left to the caller. */
export function checkAttachTarget(t: AttachTarget): void {
  if (!/^[A-Za-z0-9_.-]+@[A-Za-z0-9_.-]+$/.test(t.node)) {
    throw new RecorderError(`"${t.node}" is not a node name: write it as name@host, as Node.self() prints it in the node.`);
  }
  if (!/^[A-Za-z0-9_.@+-]+$/.test(t.cookie)) {
    throw new RecorderError("The cookie must be the node's cookie (letters, digits and _ . @ + -), as Node.get_cookie() prints it.");
  }
}

export function attachLauncher(target: AttachTarget, agentEbin: string): (spec: LaunchSpec) => Promise<ProgramExit> {
  checkAttachTarget(target);
  return (spec) =>
    new Promise((resolve, reject) => {
      const host = target.node.split("@")[1];
      const longNames = host.includes(".");
      const self = `es_attach_${randomBytes(4).toString("hex")}@${host}`;
      // The helper must not boot an agent of its own: no ELIXIR_ERL_OPTIONS from the session.
      const { ELIXIR_ERL_OPTIONS: _ignored, ...env } = spec.env;
      const args = [longNames ? "--name" : "--sname", self, "--cookie", target.cookie, "--erl", "-hidden", "-pa", agentEbin, "-e", "ElixirScope.Agent.Attach.main()"];
      const child = spawn("elixir", args, {
        cwd: spec.cwd,
        env: { ...env, ES_ATTACH_NODE: target.node, [ENV.port]: spec.env[ENV.port], [ENV.secret]: spec.env[ENV.secret] },
        stdio: ["ignore", "pipe", "pipe"],
      });
      child.stdout!.on("data", (d: Buffer) => spec.output(d.toString("utf8")));
      child.stderr!.on("data", (d: Buffer) => spec.output(d.toString("utf8")));
      child.once("error", (e) => reject(new RecorderError(`Could not start the attach helper (elixir): ${e.message}`)));
      child.once("close", (code, signal) => resolve({ code, signal }));
    });
}
