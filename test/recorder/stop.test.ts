/**
 * Stop Recording and the end of a recording's owner, with real processes: a launched program
 * that would run forever (fake-server.mjs, with a child process of its own) is gone, with its
 * whole process group, once the recording is stopped, abandoned, or its owner exits.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { RecordingSession, RecorderError, type RecordOptions } from "../../extension/src/recorder/session";

const server = join(__dirname, "fake-server.mjs");

/** A recording of fake-server.mjs; `pids` resolves with its pid and its child's once it runs. */
function record(mode: string, extra: Partial<RecordOptions> = {}) {
  let seen: (pids: number[]) => void = () => {};
  const pids = new Promise<number[]>((resolve) => (seen = resolve));
  const session = new RecordingSession({
    cwd: __dirname,
    command: `node ${server}`,
    modules: [{ module: "Sample.Math", functions: null, reason: "test" }],
    agentEbin: __dirname,
    skipCompile: true,
    stopGraceMs: 300,
    env: { ...process.env, FAKE_SERVER_MODE: mode },
    onOutput: (text) => {
      const m = /pids (\d+) (\d+)/.exec(text);
      if (m) seen([Number(m[1]), Number(m[2])]);
    },
    ...extra,
  });
  return { session, pids };
}

/** Whether a process exists (a zombie waiting to be reaped counts as gone). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

/** Resolves once none of `pids` exists (the grandchild is reaped by init, a moment after). */
async function gone(pids: number[]): Promise<void> {
  for (let i = 0; i < 200 && pids.some(alive); i++) await new Promise((r) => setImmediate(r));
  for (let i = 0; i < 100 && pids.some(alive); i++) await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(pids.filter(alive), [], "processes still running");
}

test("Stop Recording: the agent says BYE, then the program and its children are terminated", async () => {
  const { session, pids } = record("bye");
  const running = session.run();
  const [pid, child] = await pids;
  assert.ok(alive(pid) && alive(child));
  session.stop();
  const result = await running;
  assert.equal(result.bye?.reason, "stopped by the recorder");
  assert.equal(result.signal, "SIGTERM");
  assert.deepEqual(result.warnings, []);
  await gone([pid, child]);
});

test("an agent that never answers STOP is not waited for beyond the grace", async () => {
  const { session, pids } = record("mute");
  const running = session.run();
  const [pid, child] = await pids;
  session.stop();
  const result = await running;
  assert.equal(result.bye, undefined);
  assert.equal(result.signal, "SIGTERM");
  assert.match(result.warnings.join("\n"), /the agent did not finish within 0.3 s of Stop Recording; the program was terminated/);
  await gone([pid, child]);
});

test("a program that ignores SIGTERM is killed after the grace", async () => {
  const { session, pids } = record("stubborn");
  const running = session.run();
  const [pid, child] = await pids;
  const stoppedAt = Date.now();
  session.stop();
  const result = await running;
  assert.equal(result.bye?.reason, "stopped by the recorder");
  // It outlived SIGTERM (its shell did not) until SIGKILL came, after the grace.
  assert.ok(Date.now() - stoppedAt >= 300, `ended after ${Date.now() - stoppedAt} ms`);
  await gone([pid, child]);
});

test("dispose (the extension goes away) kills the program at once and keeps what was received", async () => {
  const { session, pids } = record("mute");
  const running = session.run();
  const [pid, child] = await pids;
  session.dispose();
  const result = await running;
  assert.equal(result.signal, "SIGKILL");
  assert.equal(result.hello?.node, "server@host");
  await gone([pid, child]);
});

test("the recording's owner exiting mid-recording takes the program with it", async () => {
  const host = spawn(process.execPath, ["--import", "tsx", join(__dirname, "host-exits.ts")], { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  host.stdout.on("data", (d: Buffer) => (out += d.toString()));
  const code = await new Promise((resolve) => host.once("close", resolve));
  assert.equal(code, 0);
  const m = /pids (\d+) (\d+)/.exec(out);
  assert.ok(m, out);
  await gone([Number(m[1]), Number(m[2])]);
});

test("Stop Recording before the program started: nothing is started", async () => {
  let started = false;
  const { session } = record("bye", { onPhase: (p) => (started ||= p === "starting") });
  session.stop();
  await assert.rejects(session.run(), (e: Error) => {
    assert.ok(e instanceof RecorderError);
    assert.equal(e.message, "Recording stopped before the program started; nothing was recorded.");
    return true;
  });
  assert.equal(started, false);
});
