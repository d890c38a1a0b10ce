/**
 * Ctrl-C in `elixir-scope record` is Stop Recording: the agent flushes, the program (which
 * would run forever) is terminated, and the recording is written.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { decodeRecording } from "../../extension/src/recorder/recording-file";
import { distDir, freshSampleApp } from "./helpers";

test("Ctrl-C stops the recording, writes it, and ends the program", async () => {
  const app = freshSampleApp();
  const rec = join(app, "stopped.arrow");
  const cli = spawn(
    process.execPath,
    [join(distDir, "cli.js"), "record", "--cwd", app, "--out", rec, "--", "mix", "run", "--no-halt", "-e", `'IO.puts("beam #{System.pid()} #{Sample.Math.factorial(3)}")'`],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let out = "";
  let beam = 0;
  cli.stdout.on("data", (d: Buffer) => {
    out += d.toString();
    const m = /beam (\d+) 6/.exec(out);
    if (m && !beam) {
      beam = Number(m[1]);
      cli.kill("SIGINT");
    }
  });
  cli.stderr.on("data", (d: Buffer) => (out += d.toString()));
  const code = await new Promise((resolve) => cli.once("close", resolve));
  assert.equal(code, 0, out);
  assert.match(out, /stopping \(Ctrl-C again to abandon the recording\)/);
  assert.ok(existsSync(rec), out);
  const { header, table } = decodeRecording(readFileSync(rec));
  assert.ok(header && table.numRows > 0);
  assert.ok(beam > 0);
  for (let i = 0; i < 250 && alive(beam); i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal(alive(beam), false, `the program's BEAM (pid ${beam}) is still running`);
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}
