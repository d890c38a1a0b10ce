/**
 * agent.suite_slowdown: wall time of the sample app's test suite (`mix test --seed 0`) fully
 * recorded by the real agent through the real RecordingSession ÷ the same suite run plainly,
 * interleaved in the same run, medians of 5 each. Compilation is done once beforehand and is
 * outside both timings (both still run Mix's no-op compile check).
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { RecordingSession } from "../../extension/src/recorder/session";
import { planWorkspace } from "../../server/src/analysis/plan";
import { distDir, freshSampleApp } from "../../test/e2e/helpers";

const RUNS = 5;
const COMMAND = ["mix", "test", "--seed", "0"];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function main(): Promise<void> {
  const app = freshSampleApp();
  const env = { ...process.env, MIX_ENV: "test" };
  const compiled = spawnSync("mix", ["compile"], { cwd: app, env, encoding: "utf8" });
  if (compiled.status !== 0) throw new Error(`mix compile failed: ${compiled.stderr}`);
  const { modules } = await planWorkspace(app, { wasmDir: distDir });
  const plain: number[] = [];
  const recorded: number[] = [];
  let events = 0;
  for (let i = 0; i < RUNS; i++) {
    let t = performance.now();
    const r = spawnSync(COMMAND[0], COMMAND.slice(1), { cwd: app, env, encoding: "utf8" });
    plain.push(performance.now() - t);
    if (r.status !== 0) throw new Error(`plain run failed: ${r.stdout}${r.stderr}`);

    t = performance.now();
    const result = await new RecordingSession({
      cwd: app, command: COMMAND.join(" "), modules, agentEbin: join(distDir, "agent/ebin"), skipCompile: true, env,
    }).run();
    recorded.push(performance.now() - t);
    if (result.exitCode !== 0) throw new Error(`recorded run failed with ${result.exitCode}`);
    events = result.ring.keptEvents;
  }
  const ratio = median(recorded) / median(plain);
  console.log(JSON.stringify({
    name: "agent.suite_slowdown", value: ratio, unit: "x", target: 2, better: "lower",
    baseline: `sample_app mix test --seed 0: plain median ${median(plain).toFixed(0)} ms, recorded median ${median(recorded).toFixed(0)} ms (${events} events; includes listening, handshake, runtime instrumentation and the final flush), ${RUNS} interleaved runs each`,
  }));
}

void main();
