/**
 * agent.slowdown_full_msgs: a message-heavy workload (bench/agent/msgs_app: GenServer calls
 * and casts from 4 clients, a 20,000-round-trip ping-pong between receive loops) fully recorded
 * by the real agent through a real RecordingSession ÷ the same program run plainly. Each run
 * times the workload itself (`elapsed_us=` printed by the program), so VM start-up and the
 * handshake are outside both; 5 interleaved runs each, medians.
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { RecordingSession } from "../../extension/src/recorder/session";
import { planWorkspace } from "../../server/src/analysis/plan";
import { distDir } from "../../test/e2e/helpers";
import { median } from "./helpers";

const RUNS = Number(process.env.RUNS ?? 5);
const BUFFER_MB = 512;
const app = join(__dirname, "msgs_app");
const command = ["mix", "run", "-e", "Msgs.bench()"];

function elapsed(output: string): number {
  const m = /elapsed_us=(\d+) total=(\d+)/.exec(output);
  if (!m || m[2] !== "20000") throw new Error(`unexpected output: ${output}`);
  return Number(m[1]);
}

async function main(): Promise<void> {
  const env = { ...process.env, MIX_ENV: "dev" };
  const compiled = spawnSync("mix", ["compile"], { cwd: app, env, encoding: "utf8" });
  if (compiled.status !== 0) throw new Error(`mix compile failed: ${compiled.stdout}${compiled.stderr}`);
  const { modules } = await planWorkspace(app, { wasmDir: distDir });
  const plain: number[] = [];
  const recorded: number[] = [];
  let events = 0;
  for (let i = 0; i < RUNS; i++) {
    const r = spawnSync(command[0], command.slice(1), { cwd: app, env, encoding: "utf8" });
    plain.push(elapsed(r.stdout));
    let out = "";
    const result = await new RecordingSession({
      cwd: app,
      command: `${command.slice(0, 3).join(" ")} "Msgs.bench()"`,
      modules,
      agentEbin: process.env.AGENT_EBIN ?? join(distDir, "agent/ebin"),
      skipCompile: true,
      // The burst outruns the collector for a moment; a larger buffer than the default 64 MB
      // (elixirScope.agentBufferMB) keeps it whole, which this metric requires.
      agentBufferMb: BUFFER_MB,
      env,
      onOutput: (text) => (out += text),
    }).run();
    recorded.push(elapsed(out));
    events = result.ring.keptEvents;
    if (result.header.dropped > 0) throw new Error(`${result.header.dropped} events dropped`);
  }
  console.log(
    JSON.stringify({
      name: "agent.slowdown_full_msgs",
      value: median(recorded) / median(plain),
      unit: "x",
      target: 8,
      better: "lower",
      baseline: `msgs_app workload (20,000 GenServer calls + 20,000 casts from 4 clients, 20,000 ping-pong round trips): plain median ${(median(plain) / 1000).toFixed(0)} ms, fully recorded median ${(median(recorded) / 1000).toFixed(0)} ms (${events} events, none dropped, agent buffer ${BUFFER_MB} MB, modules: ${modules.map((m) => m.module).join(", ")}), ${RUNS} interleaved runs`,
    }),
  );
}

void main();
