/**
 * The second, larger fixture (test/fixtures/inventory_app: supervision tree, gen_statem orders,
 * GenServer over ETS, receive loop, tasks, protocols, `use` macros) passes its suite identically
 * when every module is recorded by the real agent: the same tests, the same outcomes, in the
 * same order (`--trace --seed 0`). And the recording holds what those tests did.
 */
import { before, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { RecordingSession, type RecordResult } from "../../extension/src/recorder/session";
import { planWorkspace } from "../../server/src/analysis/plan";
import { EventKind } from "../../protocol/src/events";
import { distDir, freshFixture, rows, type Row } from "./helpers";

const COMMAND = "mix test --seed 0 --trace";
let plainOut = "";
let recordedOut = "";
let result: RecordResult;
let all: Row[];
let modules: string[];

before(async () => {
  const app = freshFixture("inventory_app");
  const env = { ...process.env, MIX_ENV: "test" };
  const compiled = spawnSync("mix", ["compile"], { cwd: app, env, encoding: "utf8" });
  assert.equal(compiled.status, 0, compiled.stdout + compiled.stderr);
  const plain = spawnSync("mix", COMMAND.split(" ").slice(1), { cwd: app, env, encoding: "utf8" });
  plainOut = plain.stdout + plain.stderr;
  assert.equal(plain.status, 0, plainOut);
  const plan = await planWorkspace(app, { wasmDir: distDir });
  modules = plan.modules.map((m) => m.module);
  result = await new RecordingSession({
    cwd: app,
    command: COMMAND,
    modules: plan.modules,
    agentEbin: join(distDir, "agent/ebin"),
    skipCompile: true,
    env,
    connectTimeoutMs: 120_000,
    onOutput: (text) => (recordedOut += text),
  }).run();
  all = rows(result.ring.all());
});

/** "test name (Module)" → "ok" | "failed", in the order --trace printed them. */
function outcomes(out: string): string[] {
  // --trace prints each test twice (before, and over it with \r after, with its time).
  const lines = out
    .split(/[\r\n]/)
    .filter((l) => /^\s*\* test /.test(l) && /\[L#\d+\]/.test(l))
    .map((l) => l.replace(/\s*\([\d.]+m?s\)/, "").trim());
  return lines.filter((l, i) => l !== lines[i - 1]);
}

test("the suite passes identically fully recorded: same tests, same order, same outcomes", () => {
  assert.equal(result.exitCode, 0, recordedOut);
  const plain = outcomes(plainOut);
  assert.ok(plain.length >= 23, `only ${plain.length} tests traced:\n${plainOut}`);
  assert.deepEqual(outcomes(recordedOut), plain);
  const summary = (out: string) => /(\d+) tests, (\d+) failures/.exec(out)?.slice(1);
  assert.deepEqual(summary(recordedOut), summary(plainOut));
  assert.deepEqual(summary(plainOut)?.[1], "0");
});

test("every module of the app was instrumented", () => {
  const instrumented = new Set(result.ready!.instrumented.map((m) => m.module));
  for (const m of ["Inventory.Stock", "Inventory.Order", "Inventory.Audit", "Inventory.Report", "Inventory.Pricing"]) {
    assert.ok(instrumented.has(m), `${m} not instrumented; plan: ${modules.join(", ")}; skipped: ${JSON.stringify(result.ready!.skipped)}`);
  }
});

test("the recording holds the gen_statem's state functions, in the order's own process", () => {
  const open = all.filter((r) => r.kind === EventKind.Call && r.module === "Inventory.Order" && r.function === "open");
  const paid = all.filter((r) => r.kind === EventKind.Call && r.module === "Inventory.Order" && r.function === "paid");
  assert.ok(open.length > 0 && paid.length > 0);
  const tests = new Set(all.filter((r) => r.function === "reserve" && r.module === "Inventory.Order" && r.kind === EventKind.Call).map((r) => r.pid));
  assert.ok(open.every((r) => !tests.has(r.pid)), "state functions run in the gen_statem, not in the test process");
});

test("the receive loop and the checksum loop are tail calls, each iteration replacing the last", () => {
  const loopTails = all.filter((r) => r.kind === EventKind.TailCall && r.module === "Inventory.Audit" && r.function === "loop");
  assert.ok(loopTails.length >= 20_000, `${loopTails.length} loop tail calls`);
  assert.ok(loopTails.every((t) => t.name === "Inventory.Audit.loop/1"));
  const checksum = all.filter((r) => r.kind === EventKind.Call && r.module === "Inventory.Report" && r.function === "checksum" && r.arity === 2);
  assert.ok(checksum.length >= 100_000 || result.stats.sampled! > 0 || result.header.dropped > 0, `${checksum.length} checksum calls`);
  assert.ok(checksum.every((c) => c.parent_id === checksum[0].parent_id), "a flat chain, not a 100,000-deep stack");
});

test("exceptions raised and rescued are recorded where they happened", () => {
  const unknown = all.filter((r) => r.kind === EventKind.Exception && /unknown sku "NOPE"/.test(r.value));
  assert.ok(unknown.some((r) => r.module === "Inventory.Stock" && r.function === "fetch!"));
  const crash = all.filter((r) => r.kind === EventKind.Exception && /audit crashed on request/.test(r.value));
  assert.ok(crash.length >= 1, "the audit crash was recorded before its process died");
});
