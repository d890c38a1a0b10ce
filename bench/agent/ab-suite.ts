/**
 * A/B of agent builds on a fixture's test suite (a tool, not one of the benchmarks that
 * `npm run bench` runs): the suite plainly, then recorded once by each build, RUNS rounds in
 * turn. Prints per build the wall times, the recorded BEAM's CPU time and page faults (from
 * `/usr/bin/time` around `mix test`; steadier than wall time on a shared machine) and the
 * recorder's own CPU time, with medians.
 *
 *   cp -r dist/agent/ebin /tmp/a   # build A;  change, `node scripts/build.mjs agent`, then:
 *   cp -r dist/agent/ebin /tmp/b
 *   EBINS=/tmp/a,/tmp/b RUNS=5 node --import tsx bench/agent/ab-suite.ts   [FIXTURE=sample_app]
 *
 * The first recorded round of the first build also fills the instrumentation cache.
 * ERL_FLAGS_AB="<flags>|<flags>" records with each build once per set of emulator flags
 * (ERL_FLAGS of the recorded node only; an empty set is the default), e.g. allocator settings.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { RecordingSession } from "../../extension/src/recorder/session";
import { distDir } from "../../test/e2e/helpers";
import { compiledFixture, median } from "./helpers";

const fixture = process.env.FIXTURE ?? "inventory_app";
const ebins = (process.env.EBINS ?? join(distDir, "agent/ebin")).split(",");
const flagSets = (process.env.ERL_FLAGS_AB ?? "").split("|");
const builds = ebins.flatMap((ebin) => flagSets.map((flags) => ({ ebin, flags, name: flags ? `${ebin} ${flags}` : ebin })));
const runs = Number(process.env.RUNS ?? 5);
const timed = existsSync("/usr/bin/time") ? "/usr/bin/time -f 'AB_FAULTS=%R AB_CPU=%U+%S' " : "";

const show = (xs: number[]) => `${xs.join(" ")}  (median ${median(xs)})`;

async function main(): Promise<void> {
  const { app, env, modules } = await compiledFixture(fixture);
  const plain: number[] = [];
  const stats = new Map(builds.map((b) => [b.name, { wall: [] as number[], cpu: [] as number[], faults: [] as number[], recorder: [] as number[], lost: [] as string[] }]));
  for (let i = 0; i < runs; i++) {
    let t = performance.now();
    spawnSync("mix", ["test", "--seed", "0"], { cwd: app, env });
    plain.push(Math.round(performance.now() - t));
    for (const build of builds) {
      const s = stats.get(build.name)!;
      let out = "";
      const cpu0 = process.cpuUsage();
      t = performance.now();
      const r = await new RecordingSession({
        cwd: app, command: `${timed}mix test --seed 0`, modules, agentEbin: build.ebin, skipCompile: true,
        env: { ...env, ERL_FLAGS: build.flags },
        onOutput: (text) => { out += text; },
      }).run();
      s.wall.push(Math.round(performance.now() - t));
      const cpu = process.cpuUsage(cpu0);
      s.recorder.push(Math.round((cpu.user + cpu.system) / 1000));
      const m = /AB_FAULTS=(\d+) AB_CPU=([\d.]+)\+([\d.]+)/.exec(out);
      if (m) {
        s.faults.push(Number(m[1]));
        s.cpu.push(Math.round((Number(m[2]) + Number(m[3])) * 1000));
      }
      s.lost.push(`${r.ring.keptEvents}/${r.stats.dropped}/${r.stats.sampled}`);
      if (r.exitCode !== 0) throw new Error(`recorded run with ${build.name} failed (${r.exitCode})`);
    }
  }
  console.log(`${fixture}, ${runs} rounds; plain ms: ${show(plain)}`);
  for (const [build, s] of stats) {
    console.log(`${build}\n  wall ms: ${show(s.wall)}\n  BEAM CPU ms: ${s.cpu.length ? show(s.cpu) : "n/a"}\n  page faults: ${s.faults.length ? show(s.faults) : "n/a"}\n  recorder CPU ms: ${show(s.recorder)}\n  events kept/dropped/sampled: ${s.lost.join(" ")}`);
  }
}

void main();
