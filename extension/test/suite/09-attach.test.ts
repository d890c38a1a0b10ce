import * as assert from "node:assert/strict";
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import * as vscode from "vscode";
import type { Recording } from "../../src/recording-controller";
import { extensionApi, workspaceFile, workspaceFolder } from "./helpers";

// Runs last: it replaces the current recording. The node runs the workspace's app in the test
// environment (compiled by the Record Session suite), so the agent finds its modules where the
// node loads them from, not in the plan's _build/dev.
suite("Attach to Running Node", () => {
  const name = `es_host_target_${randomBytes(3).toString("hex")}`;
  const cookie = `c${randomBytes(8).toString("hex")}`;
  let node: ChildProcess | undefined;

  /** Runs Elixir code in a short-lived hidden node next to the target; resolves with its stdout. */
  const probe = (code: string) =>
    new Promise<string>((resolve, reject) => {
      const args = ["--sname", `es_probe_${randomBytes(3).toString("hex")}`, "--cookie", cookie, "--erl", "-hidden", "-e", code];
      execFile("elixir", args, (e, stdout, stderr) => (e ? reject(new Error(`${e.message}\n${stderr}`)) : resolve(stdout.trim())));
    });

  suiteSetup(async () => {
    node = spawn("elixir", ["--sname", name, "--cookie", cookie, "-S", "mix", "run", "--no-halt", "-e", 'IO.puts("target ready")'], {
      cwd: workspaceFolder().uri.fsPath,
      env: { ...process.env, MIX_ENV: "test" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    await new Promise<void>((resolve, reject) => {
      node!.stdout!.on("data", (d: Buffer) => {
        out += d.toString();
        if (out.includes("target ready")) resolve();
      });
      node!.stderr!.on("data", (d: Buffer) => (out += d.toString()));
      node!.once("exit", (code) => reject(new Error(`the target node exited (${code}): ${out}`)));
    });
  });

  suiteTeardown(() => {
    node?.kill("SIGKILL");
  });

  test("records the node until Stop Recording; the node runs on without the agent", async () => {
    const api = await extensionApi();
    const target = `${name}@${hostname().split(".")[0]}`;
    const ready = new Promise<void>((resolve) => {
      const sub = api.controller.onDidReceiveLiveEvents((e) => {
        if (e.payload) return;
        sub.dispose();
        resolve();
      });
    });
    const recorded = vscode.commands.executeCommand<Recording | undefined>("elixirScope.attachToNode", { node: name, cookie });
    await ready;
    assert.equal(await probe(`IO.inspect(:erpc.call(:"${target}", Sample.Math, :factorial, [4]))`), "24");
    await vscode.commands.executeCommand("elixirScope.stopRecording");
    const recording = await recorded;
    assert.ok(recording, "attachToNode returned no recording: see the ElixirScope output channel");
    assert.equal(recording.header.command, `attach ${name}`);
    assert.equal(recording.header.node, target);
    assert.equal(api.controller.current, recording);
    const math = workspaceFile("lib/sample/math.ex").fsPath;
    const factorial = recording.index.functionStats(math).find((s) => s.function === "factorial");
    assert.equal(factorial?.calls, 5);

    // The recording ends when the agent's helper exited, which it does once it removed the
    // agent: the node serves calls with its own code and has no module of ours.
    const left = await probe(`
      t = :"${target}"
      mods = for {m, _} <- :erpc.call(t, :code, :all_loaded, []), String.starts_with?(Atom.to_string(m), "Elixir.ElixirScope"), do: m
      IO.inspect({mods, :erpc.call(t, Sample.Math, :factorial, [3])})
    `);
    assert.equal(left, "{[], 6}");
  });
});
