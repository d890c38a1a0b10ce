/**
 * Attach to a running node: a real named node runs the sample app; the recorder attaches to it
 * through the real helper node (ElixirScope.Agent.Attach), records calls driven over
 * distribution, stops, and the target runs on with no trace of the agent. Failures (no such
 * node, wrong cookie) end with a clear error before anything is recorded.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { join } from "node:path";
import { RecordingSession } from "../../extension/src/recorder/session";
import { attachLauncher } from "../../extension/src/recorder/attach";
import { planWorkspace } from "../../server/src/analysis/plan";
import { EventKind } from "../../protocol/src/events";
import type { ModulePlan } from "../../protocol/src/wire";
import { distDir, freshSampleApp, rows } from "./helpers";

const host = hostname().split(".")[0];
const cookie = `c${randomBytes(6).toString("hex")}`;
const target = `es_target_${randomBytes(3).toString("hex")}@${host}`;
const agentEbin = join(distDir, "agent/ebin");
let app: string;
let node: ChildProcess;
let modules: ModulePlan[];

/** Runs Elixir code in a short-lived hidden node of the same cluster; returns its stdout. */
function onTarget(code: string): string {
  const r = spawnSync("elixir", ["--sname", `es_probe_${randomBytes(3).toString("hex")}`, "--cookie", cookie, "--erl", "-hidden", "-e", code], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  return r.stdout.trim();
}

before(async () => {
  app = freshSampleApp();
  const env = { ...process.env, MIX_ENV: "dev" };
  const compiled = spawnSync("mix", ["compile"], { cwd: app, env, encoding: "utf8" });
  assert.equal(compiled.status, 0, compiled.stdout + compiled.stderr);
  modules = (await planWorkspace(app, { wasmDir: distDir })).modules;
  node = spawn("elixir", ["--sname", target.split("@")[0], "--cookie", cookie, "-S", "mix", "run", "--no-halt", "-e", 'IO.puts("target ready")'], { cwd: app, env, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  await new Promise<void>((resolve, reject) => {
    node.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      if (out.includes("target ready")) resolve();
    });
    node.once("exit", (code) => reject(new Error(`target node exited (${code}): ${out}`)));
  });
});

after(() => {
  node?.kill("SIGKILL");
});

test("attaches, records what the node does, and leaves it as it was", async () => {
  const session: RecordingSession = new RecordingSession({
    cwd: app,
    command: `attach ${target}`,
    modules,
    agentEbin,
    skipCompile: true,
    launcher: attachLauncher({ node: target, cookie }, agentEbin),
    onReady: () => {
      // Recording: drive the target over distribution, then stop.
      assert.equal(onTarget(`IO.inspect(:erpc.call(:"${target}", Sample.Math, :factorial, [4]))`), "24");
      session.stop();
    },
  });
  const result = await session.run();
  const all = rows(result.ring.all());
  const calls = all.filter((r) => r.kind === EventKind.Call && r.module === "Sample.Math" && r.function === "factorial");
  assert.deepEqual(calls.map((c) => c.value), ["[4]", "[3]", "[2]", "[1]", "[0]"]);
  assert.equal(result.bye?.reason, "stopped by the recorder");
  assert.equal(result.exitCode, 0);
  assert.ok(result.hello?.node.startsWith("es_target_"), result.hello?.node);

  // The agent is gone from the target, which runs on with its original code.
  const left = onTarget(`
    t = :"${target}"
    mods = for {m, _} <- :erpc.call(t, :code, :all_loaded, []), String.starts_with?(Atom.to_string(m), "Elixir.ElixirScope"), do: m
    IO.inspect({mods, :erpc.call(t, :erlang, :whereis, [ElixirScope.Agent.Collector]), :erpc.call(t, Application, :started_applications, []) |> Enum.any?(&(elem(&1, 0) == :elixir_scope_agent)), :erpc.call(t, Sample.Math, :factorial, [3]), :erpc.call(t, :code, :which, [Sample.Math]) |> to_string() |> String.ends_with?("Elixir.Sample.Math.beam")})
  `);
  assert.equal(left, "{[], :undefined, false, 6, true}");
});

test("a wrong cookie: a clear error, nothing recorded", async () => {
  const session = new RecordingSession({
    cwd: app,
    command: `attach ${target}`,
    modules,
    agentEbin,
    skipCompile: true,
    connectTimeoutMs: 60_000,
    launcher: attachLauncher({ node: target, cookie: "wrong" }, agentEbin),
  });
  await assert.rejects(session.run(), /cannot reach node .*same cookie/);
});

test("a node name that is not one is refused before anything starts", () => {
  assert.throws(() => attachLauncher({ node: "not a node", cookie }, agentEbin), /is not a node name: write it as name@host/);
});
