/**
 * How a recorded program is started: which MIX_ENV, the agent on the code path through
 * ELIXIR_ERL_OPTIONS (no change to the user's mix.exs), and the compile step before it.
 */
import { spawn } from "node:child_process";
import { cpSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RecorderError } from "./errors";

/** `mix test` runs in the test environment; everything else in MIX_ENV or dev. */
export function mixEnvFor(command: string, env: NodeJS.ProcessEnv): string {
  if (env.MIX_ENV) return env.MIX_ENV;
  return /(^|\s|\/)mix\s+test(\s|$)/.test(command) ? "test" : "dev";
}

/**
 * ELIXIR_ERL_OPTIONS with the agent added. The elixir launcher splits this variable on spaces,
 * so an agent path with spaces is copied to a temporary directory without them.
 */
export function agentErlOptions(agentEbin: string, existing: string | undefined): string {
  let ebin = agentEbin;
  if (/\s/.test(ebin)) {
    const copy = join(mkdtempSync(join(tmpdir(), "elixir-scope-agent-")), "ebin");
    cpSync(agentEbin, copy, { recursive: true });
    ebin = copy;
    if (/\s/.test(ebin)) throw new RecorderError(`The temporary directory "${ebin}" contains spaces; set TMPDIR to a path without spaces.`);
  }
  const ours = `-pa ${ebin} -s Elixir.ElixirScope.Agent boot`;
  return existing ? `${existing} ${ours}` : ours;
}

/** Runs `mix compile` so that the agent finds the project's current .beam files at boot. */
export function runCompile(
  cwd: string,
  mixEnv: string,
  env: NodeJS.ProcessEnv | undefined,
  onOutput?: (text: string, stream: "stdout" | "stderr") => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    let tail = "";
    const keep = (d: Buffer, stream: "stdout" | "stderr") => {
      const text = d.toString("utf8");
      tail = (tail + text).slice(-4000);
      onOutput?.(text, stream);
    };
    const child = spawn("mix", ["compile"], { cwd, env: { ...(env ?? process.env), MIX_ENV: mixEnv }, stdio: ["ignore", "pipe", "pipe"] });
    child.stdout.on("data", (d: Buffer) => keep(d, "stdout"));
    child.stderr.on("data", (d: Buffer) => keep(d, "stderr"));
    child.once("error", (e: NodeJS.ErrnoException) => {
      reject(
        e.code === "ENOENT"
          ? new RecorderError(
              "Elixir not found on PATH: install Elixir >= 1.14 (with mix) and add it to PATH, or set elixirScope.elixirBinDir " +
                "to the folder that holds mix and elixir; then record again.",
            )
          : new RecorderError(`Could not run mix compile: ${e.message}`),
      );
    });
    child.once("close", (code) => {
      if (code === 0) resolve();
      else reject(new RecorderError(`The project failed to compile (mix compile exited with ${code}); fix the errors and record again:\n${tail.trim()}`));
    });
  });
}
