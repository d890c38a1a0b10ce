/**
 * Attach to a running node: instead of starting the program, the recorder starts a small hidden
 * helper node (`ElixirScope.Agent.Attach` in beam_agent/) that loads the agent into the target
 * over distribution; the agent connects back with the session's port and secret as usual. When
 * the session ends the agent is removed from the target (which runs on) and the helper exits.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { isAbsolute, join, resolve } from "node:path";
import { ENV } from "../../../protocol/src/wire";
import { RecorderError } from "./errors";
import type { LaunchSpec, ProgramExit } from "./session";

export interface AttachTarget {
  /** `app@host`, or `app` for a node started with `--sname app` on this machine. */
  node: string;
  /**
   * The node's cookie; or a path to a file holding it (absolute, `~/…` or `./…`); or "" for
   * `~/.erlang.cookie`, which a node started without `--cookie` uses.
   */
  cookie: string;
}

const NODE_NAME = /^[A-Za-z0-9_-]+(@[A-Za-z0-9_.-]+)?$/;

/** Why `node` is not a node name, or undefined when it is one. */
export function nodeNameProblem(node: string): string | undefined {
  return NODE_NAME.test(node.trim())
    ? undefined
    : `"${node}" is not a node name: write it as name@host, as Node.self() prints it in the node (or just name for a node started with --sname on this machine).`;
}

/**
 * The cookie itself. A path is read (relative ones against `cwd`); "" reads ~/.erlang.cookie.
 * Throws a RecorderError that says what to do.
 */
export function resolveCookie(input: string, cwd: string, home = homedir()): string {
  const given = input.trim();
  const path =
    given === "" ? join(home, ".erlang.cookie") : given.startsWith("~/") ? join(home, given.slice(2)) : isAbsolute(given) || given.startsWith("./") ? resolve(cwd, given) : undefined;
  let cookie = given;
  if (path !== undefined) {
    if (!existsSync(path)) {
      throw new RecorderError(
        given === ""
          ? `No cookie given and ${path} does not exist: give the node's cookie (Node.get_cookie() in the node prints it).`
          : `Cookie file ${path} does not exist: give the node's cookie or the path of the file that holds it.`,
      );
    }
    cookie = readFileSync(path, "utf8").trim();
  }
  if (!/^[\x21-\x7e]{1,255}$/.test(cookie)) {
    throw new RecorderError(
      `The cookie${path ? ` in ${path}` : ""} is not one: a node's cookie is printable ASCII without spaces, as Node.get_cookie() prints it.`,
    );
  }
  return cookie;
}

/**
 * A launcher for RecordingSession that attaches to `target` instead of starting a program.
 * It resolves when the helper exits after the session (the target runs on); it rejects with the
 * helper's reason when attaching failed.
 */
export function attachLauncher(target: AttachTarget, agentEbin: string): (spec: LaunchSpec) => Promise<ProgramExit> {
  const problem = nodeNameProblem(target.node);
  if (problem) throw new RecorderError(problem);
  return (spec) => {
    let cookie: string;
    try {
      cookie = resolveCookie(target.cookie, spec.cwd);
    } catch (e) {
      return Promise.reject(e);
    }
    return new Promise((resolve, reject) => {
      // The helper must not boot an agent of its own (no ELIXIR_ERL_OPTIONS from the session).
      // Its own cookie is random and replaced once it runs; the target's travels in the
      // environment, never on a command line (`ps` shows those to every user).
      const { ELIXIR_ERL_OPTIONS: _ignored, ...env } = spec.env;
      const args = ["--cookie", randomBytes(16).toString("hex"), "-pa", agentEbin, "-e", "ElixirScope.Agent.Attach.main()"];
      const child = spawn("elixir", args, {
        cwd: spec.cwd,
        env: { ...env, ES_ATTACH_NODE: target.node.trim(), ES_ATTACH_COOKIE: cookie, [ENV.port]: spec.env[ENV.port], [ENV.secret]: spec.env[ENV.secret] },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let reason = "";
      child.stdout!.on("data", (d: Buffer) => spec.output(d.toString("utf8")));
      child.stderr!.on("data", (d: Buffer) => {
        const text = d.toString("utf8");
        const line = text.split("\n").find((l) => l.startsWith("ElixirScope: "));
        if (line) reason = line.slice("ElixirScope: ".length);
        spec.output(text);
      });
      child.once("error", (e: NodeJS.ErrnoException) =>
        reject(
          new RecorderError(
            e.code === "ENOENT"
              ? "Elixir not found on PATH: install Elixir >= 1.14 or set elixirScope.elixirBinDir, then attach again."
              : `Could not start the attach helper (elixir): ${e.message}`,
          ),
        ),
      );
      child.once("close", (code, signal) => {
        if (code !== 0 && reason) reject(new RecorderError(`Could not attach to ${target.node.trim()}: ${reason}`));
        else resolve({ code, signal });
      });
    });
  };
}
