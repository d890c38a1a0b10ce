/**
 * agent.suite_slowdown: wall time of the fixtures' test suites (`mix test --seed 0`: sample_app
 * and the larger inventory_app) fully recorded by the real agent through the real
 * RecordingSession ÷ the same suites run plainly, interleaved in the same run, medians of 5
 * each; the headline is the sum over both fixtures, each fixture is also reported. Compilation is done once beforehand and is
 * outside both timings (both still run Mix's no-op compile check). The first recorded run of
 * each fixture fills the agent's cache of instrumented modules, the others use it (reported
 * apart).
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { RecordingSession } from "../../extension/src/recorder/session";
import { distDir } from "../../test/e2e/helpers";
import { compiledFixture, median } from "./helpers";

const RUNS = 5;
const COMMAND = ["mix", "test", "--seed", "0"];

async function measure(fixture: string): Promise<{ plain: number; recorded: number; first: number; events: number }> {
  const { app, env, modules } = await compiledFixture(fixture);
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
      cwd: app, command: COMMAND.join(" "), modules, agentEbin: process.env.AGENT_EBIN ?? join(distDir, "agent/ebin"), skipCompile: true, env,
    }).run();
    recorded.push(performance.now() - t);
    if (result.exitCode !== 0) throw new Error(`recorded run failed with ${result.exitCode}`);
    events = result.ring.keptEvents;
  }
  // The first recorded run compiles the instrumented modules; later ones load them from the
  // agent's cache (_build/test/elixir_scope_cache), as a developer's repeated recordings do.
  return { plain: median(plain), recorded: median(recorded), first: recorded[0], events };
}

async function main(): Promise<void> {
  const parts: string[] = [];
  let plain = 0;
  let recorded = 0;
  for (const fixture of ["sample_app", "inventory_app"]) {
    const m = await measure(fixture);
    plain += m.plain;
    recorded += m.recorded;
    parts.push(
      `${fixture}: plain ${m.plain.toFixed(0)} ms, recorded ${m.recorded.toFixed(0)} ms (${m.events} events; first recorded run, instrumentation not cached yet, ${m.first.toFixed(0)} ms)`,
    );
    console.log(JSON.stringify({
      name: `agent.suite_slowdown.${fixture}`, value: m.recorded / m.plain, unit: "x", target: null, better: "report",
      baseline: `${fixture} mix test --seed 0, medians of ${RUNS} interleaved runs; first recorded run (cold instrumentation cache) ${(m.first / m.plain).toFixed(2)}x`,
    }));
  }
  console.log(JSON.stringify({
    name: "agent.suite_slowdown", value: recorded / plain, unit: "x", target: 2, better: "lower",
    baseline: `both fixtures' suites, sum of medians — ${parts.join("; ")} (recorded includes listening, handshake, runtime instrumentation and the final flush), ${RUNS} interleaved runs each`,
  }));
}

void main();
