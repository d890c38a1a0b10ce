/**
 * Runs every benchmark (or those whose name starts with argv[2]) and writes
 * bench/results/latest.json plus a dated copy, following /shared/BENCH.md: each benchmark
 * prints JSON lines {name, value, unit, target, better, baseline}; this adds ok/machine/date.
 */
import { spawnSync } from "node:child_process";
import { cpus } from "node:os";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

interface Metric {
  name: string;
  value: number;
  unit: string;
  target: number | null;
  better: "lower" | "higher" | "report";
  baseline: string;
}

const root = join(__dirname, "..");
const BENCHES: { prefix: string; cmd: string; args: string[]; cwd: string }[] = [
  { prefix: "agent", cmd: "mix", args: ["run", "--no-start", "../bench/agent/hot_path.exs"], cwd: join(root, "beam_agent") },
  { prefix: "agent", cmd: "node", args: ["--import", "tsx", "bench/agent/suite-slowdown.bench.ts"], cwd: root },
  { prefix: "agent", cmd: "node", args: ["--import", "tsx", "bench/agent/ship.bench.ts"], cwd: root },
  { prefix: "agent", cmd: "node", args: ["--import", "tsx", "bench/agent/msgs.bench.ts"], cwd: root },
  { prefix: "agent", cmd: "mix", args: ["run", "--no-start", "../bench/agent/int_vs_full.exs"], cwd: join(root, "beam_agent") },
  { prefix: "ext", cmd: "node", args: ["--import", "tsx", "bench/ext/ingest.bench.ts"], cwd: root },
  { prefix: "ext", cmd: "node", args: ["--import", "tsx", "bench/ext/hover.bench.ts"], cwd: root },
  { prefix: "lsp", cmd: "node", args: ["--import", "tsx", "bench/lsp/index.bench.ts"], cwd: root },
  { prefix: "webview", cmd: "node", args: ["--import", "tsx", "bench/webview/first-paint.bench.ts"], cwd: root },
];

const only = process.argv[2];
const date = new Date().toISOString().slice(0, 10);
const machine = `${cpus().length} cores`;
const results: (Metric & { ok: boolean; machine: string; date: string })[] = [];
let failed = false;

for (const b of BENCHES) {
  if (only && !b.prefix.startsWith(only) && !only.startsWith(b.prefix)) continue;
  console.log(`== ${b.prefix}: ${b.cmd} ${b.args.join(" ")}`);
  const run = spawnSync(b.cmd, b.args, { cwd: b.cwd, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], env: { ...process.env, MIX_ENV: "prod" } });
  if (run.status !== 0) {
    console.error(`benchmark ${b.prefix} failed with ${run.status}`);
    failed = true;
  }
  for (const line of run.stdout.split("\n")) {
    if (!line.startsWith("{")) {
      if (line.trim()) console.log(`   ${line}`);
      continue;
    }
    const m = JSON.parse(line) as Metric;
    if (only && !m.name.startsWith(only)) continue;
    const ok =
      m.target === null || m.better === "report" ? true : m.better === "lower" ? m.value <= m.target : m.value >= m.target;
    results.push({ ...m, ok, machine, date });
    console.log(`   ${ok ? "ok  " : "MISS"} ${m.name} = ${round(m.value)} ${m.unit} (target ${m.target ?? "report"}, ${m.better}) — ${m.baseline}`);
  }
}

const dir = join(root, "bench/results");
mkdirSync(dir, { recursive: true });
// A partial run (`npm run bench -- PREFIX`) replaces only the metrics it measured.
const latest = join(dir, "latest.json");
const fresh = new Set(results.map((r) => r.name));
const kept = only && existsSync(latest) ? (JSON.parse(readFileSync(latest, "utf8")) as typeof results).filter((r) => !fresh.has(r.name)) : [];
const merged = [...kept, ...results].sort((a, b) => a.name.localeCompare(b.name));
writeFileSync(latest, JSON.stringify(merged, null, 2) + "\n");
writeFileSync(join(dir, `${date}.json`), JSON.stringify(merged, null, 2) + "\n");
console.log(`wrote bench/results/latest.json and bench/results/${date}.json (${results.length} measured, ${kept.length} kept from earlier runs)`);
process.exit(failed ? 1 : 0);

function round(v: number): string {
  return Math.abs(v) >= 100 ? v.toFixed(0) : v.toPrecision(3);
}
