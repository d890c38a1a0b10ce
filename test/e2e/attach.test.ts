/**
 * Attach to a running node: a real named node runs the sample app; the recorder attaches to it
 * through the real helper node (ElixirScope.Agent.Attach), records calls driven over
 * distribution, stops, and the target runs on with no trace of the agent (modules, processes,
 * ETS tables, persistent terms, application). Each way attaching can fail ends with a clear
 * error before anything is recorded.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { RecordingSession, type RecordOptions } from "../../extension/src/recorder/session";
import { attachLauncher, resolveCookie, type AttachTarget } from "../../extension/src/recorder/attach";
import { RecorderError } from "../../extension/src/recorder/errors";
import { planWorkspace } from "../../server/src/analysis/plan";
import { EventKind } from "../../protocol/src/events";
import type { ModulePlan } from "../../protocol/src/wire";
import { distDir, freshSampleApp, rows } from "./helpers";

const host = hostname().split(".")[0];
const cookie = `c${randomBytes(6).toString("hex")}`;
const shortName = `es_target_${randomBytes(3).toString("hex")}`;
const target = `${shortName}@${host}`;
const agentEbin = join(distDir, "agent/ebin");
let app: string;
const nodes: ChildProcess[] = [];
let modules: ModulePlan[];

/** Runs Elixir code in a short-lived hidden node of the same cluster; returns its stdout. */
function onTarget(code: string): string {
  const r = spawnSync("elixir", ["--sname", `es_probe_${randomBytes(3).toString("hex")}`, "--cookie", cookie, "--erl", "-hidden", "-e", code], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  return r.stdout.trim();
}

/** Starts a named node and resolves once it printed `ready` (its distribution is up by then). */
function startNode(command: string, args: string[], cwd: string): Promise<ChildProcess> {
  const node = spawn(command, args, { cwd, env: { ...process.env, MIX_ENV: "dev" }, stdio: ["ignore", "pipe", "pipe"] });
  nodes.push(node);
  let out = "";
  return new Promise((resolve, reject) => {
    node.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      if (out.includes("ready")) resolve(node);
    });
    node.stderr!.on("data", (d: Buffer) => (out += d.toString()));
    node.once("exit", (code) => reject(new Error(`${command} exited (${code}): ${out}`)));
  });
}

/** A session attached to `t`: it ends when the helper node exited, after removing the agent. */
function attachSession(t: AttachTarget, extra: Partial<RecordOptions> = {}) {
  const session: RecordingSession = new RecordingSession({
    cwd: app,
    command: `attach ${t.node}`,
    modules,
    agentEbin,
    skipCompile: true,
    connectTimeoutMs: 60_000,
    launcher: attachLauncher(t, agentEbin),
    ...extra,
  });
  return { session };
}

/** What of the agent is left in the target, and how the target's own code is doing. */
function inspectTarget(): string {
  return onTarget(`
    t = :"${target}"
    ours? = &String.starts_with?(Atom.to_string(&1), "Elixir.ElixirScope")
    mods = for {m, _} <- :erpc.call(t, :code, :all_loaded, []), ours?.(m), do: m
    names = for n <- :erpc.call(t, :erlang, :registered, []), ours?.(n), do: n
    tables = for tab <- :erpc.call(t, :ets, :all, []), n = :erpc.call(t, :ets, :info, [tab, :name]), is_atom(n) and ours?.(n), do: n
    terms = for {k, _} <- :erpc.call(t, :persistent_term, :get, []), k0 = (if is_tuple(k), do: elem(k, 0), else: k), is_atom(k0) and ours?.(k0), do: k
    apps = for {a, _, _} <- :erpc.call(t, :application, :loaded_applications, []), a == :elixir_scope_agent, do: a
    IO.inspect({mods, names, tables, terms, apps, :erpc.call(t, Sample.Math, :module_info, [:md5]) |> Base.encode16(), :erpc.call(t, Sample.Math, :factorial, [3])})
  `);
}

const clean = (md5: string) => `{[], [], [], [], [], "${md5}", 6}`;
let md5: string;

before(async () => {
  app = freshSampleApp();
  const compiled = spawnSync("mix", ["compile"], { cwd: app, env: { ...process.env, MIX_ENV: "dev" }, encoding: "utf8" });
  assert.equal(compiled.status, 0, compiled.stdout + compiled.stderr);
  modules = (await planWorkspace(app, { wasmDir: distDir })).modules;
  await startNode("elixir", ["--sname", shortName, "--cookie", cookie, "-S", "mix", "run", "--no-halt", "-e", 'IO.puts("target ready")'], app);
  md5 = onTarget(`IO.puts(:erpc.call(:"${target}", Sample.Math, :module_info, [:md5]) |> Base.encode16())`);
});

after(() => {
  for (const node of nodes) node.kill("SIGKILL");
});

test("attaches by short name, records what the node does, and leaves it as it was", async () => {
  const { session } = attachSession(
    { node: shortName, cookie },
    {
      onReady: () => {
        // Recording: drive the target over distribution, then stop.
        assert.equal(
          onTarget(`
            t = :"${target}"
            :ok = :erpc.call(t, Sample.Ledger, :open, ["acct"])
            {:ok, 7} = :erpc.call(t, Sample.Ledger, :deposit, ["acct", 7])
            IO.inspect(:erpc.call(t, Sample.Math, :factorial, [4]))
          `),
          "24",
        );
        session.stop();
      },
    },
  );
  const result = await session.run();
  const all = rows(result.ring.all());
  const calls = (f: string) => all.filter((r) => r.kind === EventKind.Call && r.function === f).map((c) => c.value);
  assert.deepEqual(calls("factorial"), ["[4]", "[3]", "[2]", "[1]", "[0]"]);
  assert.deepEqual(calls("deposit"), ['[Sample.Ledger, "acct", 7]']);
  // The Ledger's GenServer state, before and after the deposit.
  const states = all.filter((r) => r.kind === EventKind.State && r.function === "handle_call").map((r) => `${r.name} ${r.value}`);
  assert.ok(states.some((s) => s.startsWith("after") && s.includes("balance: 7")), states.join("\n"));
  assert.equal(result.bye?.reason, "stopped by the recorder");
  assert.equal(result.hello?.node, target);
  assert.equal(result.header.command, `attach ${shortName}`);

  // The helper removed the agent before it exited; the target runs on with its original code.
  assert.equal(result.exitCode, 0);
  assert.equal(inspectTarget(), clean(md5));
});

test("the recorder going away mid-recording (dispose) leaves the target clean too", async () => {
  const { session } = attachSession({ node: target, cookie }, { onReady: () => session.dispose() });
  await session.run();
  assert.equal(inspectTarget(), clean(md5));
});

test("a wrong cookie: a clear error, nothing recorded", async () => {
  await assert.rejects(attachSession({ node: target, cookie: "wrong" }).session.run(), (e: Error) => {
    assert.ok(e instanceof RecorderError, String(e));
    assert.match(e.message, new RegExp(`^Could not attach to ${target}: node ${target} refused the connection: most likely the cookie is wrong`));
    return true;
  });
});

test("a node that is not running: a clear error naming the nodes that are", async () => {
  await assert.rejects(attachSession({ node: `nobody_here@${host}`, cookie }).session.run(), (e: Error) => {
    assert.match(e.message, new RegExp(`no node named nobody_here is running on ${host} \\(named nodes there: .*${shortName}.*\\)`));
    return true;
  });
});

test("no epmd on the host: a clear error with the next step", async () => {
  // epmd is asked on a port where none listens.
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, "127.0.0.1", r));
  const port = (probe.address() as { port: number }).port;
  await new Promise<void>((r) => probe.close(() => r()));
  const { session } = attachSession({ node: target, cookie }, { env: { ...process.env, ERL_EPMD_PORT: String(port) } });
  await assert.rejects(session.run(), /epmd \(the Erlang port mapper\) is not running on .*Start your node with a name \(iex --sname/);
});

test("a node without Elixir: a clear error", async () => {
  const plain = `es_plain_${randomBytes(3).toString("hex")}`;
  await startNode("erl", ["-sname", plain, "-setcookie", cookie, "-noshell", "-eval", 'io:format("ready~n")'], tmpdir());
  await assert.rejects(attachSession({ node: plain, cookie }).session.run(), /runs without Elixir \(plain Erlang\): ElixirScope records Elixir nodes/);
});

test("a node name that is not one is refused before anything starts", () => {
  assert.throws(() => attachLauncher({ node: "not a node", cookie }, agentEbin), /is not a node name: write it as name@host/);
});

test("the cookie: given, read from a file, or ~/.erlang.cookie; a missing file is a clear error", () => {
  const dir = mkdtempSync(join(tmpdir(), "es-cookie-"));
  writeFileSync(join(dir, "cookie"), "FROMFILE\n");
  writeFileSync(join(dir, ".erlang.cookie"), "HOMECOOKIE");
  assert.equal(resolveCookie(" abc ", dir, dir), "abc");
  assert.equal(resolveCookie(join(dir, "cookie"), "/", dir), "FROMFILE");
  assert.equal(resolveCookie("./cookie", dir, dir), "FROMFILE");
  assert.equal(resolveCookie("~/cookie", "/", dir), "FROMFILE");
  assert.equal(resolveCookie("", "/", dir), "HOMECOOKIE");
  assert.throws(() => resolveCookie("", "/", join(dir, "nowhere")), /No cookie given and .*\.erlang\.cookie does not exist/);
  assert.throws(() => resolveCookie("has space", "/", dir), /is not one: a node's cookie is printable ASCII/);
});
