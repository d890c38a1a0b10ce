/**
 * Stop Recording on a program that would never end by itself (`mix run --no-halt`): the agent
 * restores the code, flushes and says BYE, then the recorder terminates the program; what was
 * recorded is kept, and the program's BEAM is gone. Closing the extension mid-recording kills it.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { RecordingSession } from "../../extension/src/recorder/session";
import { planWorkspace } from "../../server/src/analysis/plan";
import { EventKind } from "../../protocol/src/events";
import { distDir, freshSampleApp, rows } from "./helpers";

test("Stop Recording ends a program that runs forever and keeps the recording", async () => {
  const app = freshSampleApp();
  const env = { ...process.env, MIX_ENV: "dev" };
  const compiled = spawnSync("mix", ["compile"], { cwd: app, env, encoding: "utf8" });
  assert.equal(compiled.status, 0, compiled.stdout + compiled.stderr);
  const { modules } = await planWorkspace(app, { wasmDir: distDir });
  let out = "";
  const session: RecordingSession = new RecordingSession({
    cwd: app,
    command: `mix run --no-halt -e 'IO.puts("computed #{Sample.Math.factorial(5)}")'`,
    modules,
    agentEbin: join(distDir, "agent/ebin"),
    skipCompile: true,
    env,
    onOutput: (text) => {
      out += text;
      if (out.includes("computed 120")) session.stop();
    },
  });
  const result = await session.run();
  assert.ok(out.includes("computed 120"), out);
  assert.equal(result.bye?.reason, "stopped by the recorder");
  // It did not end by itself: it was terminated after the agent said goodbye.
  assert.ok(result.signal === "SIGTERM" || (result.exitCode !== null && result.exitCode !== 0), `${result.exitCode} ${result.signal}`);
  const factorial = rows(result.ring.all()).filter((r) => r.kind === EventKind.Call && r.function === "factorial");
  assert.deepEqual(factorial.map((c) => c.value), ["[5]", "[4]", "[3]", "[2]", "[1]", "[0]"]);
  // The BEAM itself (not just the shell that started it) is gone.
  await gone(Number(result.hello?.os_pid));
});

test("closing the extension mid-recording (dispose) kills the program", async () => {
  const app = freshSampleApp();
  const env = { ...process.env, MIX_ENV: "dev" };
  const compiled = spawnSync("mix", ["compile"], { cwd: app, env, encoding: "utf8" });
  assert.equal(compiled.status, 0, compiled.stdout + compiled.stderr);
  const { modules } = await planWorkspace(app, { wasmDir: distDir });
  const session: RecordingSession = new RecordingSession({
    cwd: app,
    command: "mix run --no-halt",
    modules,
    agentEbin: join(distDir, "agent/ebin"),
    skipCompile: true,
    env,
    onReady: () => session.dispose(),
  });
  const result = await session.run();
  assert.equal(result.signal, "SIGKILL");
  await gone(Number(result.hello?.os_pid));
});

/** Resolves once `pid` is gone (a zombie counts as gone); the BEAM exits a moment after its shell. */
async function gone(pid: number): Promise<void> {
  assert.ok(pid > 0, "the agent's HELLO names its OS process");
  const alive = () => {
    try {
      process.kill(pid, 0);
      return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
    } catch {
      return false;
    }
  };
  for (let i = 0; i < 250 && alive(); i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal(alive(), false, `the program's BEAM (pid ${pid}) is still running`);
}
