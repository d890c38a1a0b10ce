/** The CLI as a user runs it: record the sample app, summarise the file, render it to PNG. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { decodeRecording } from "../../extension/src/recorder/recording-file";
import { distDir, freshSampleApp, repoRoot } from "./helpers";

const cli = join(distDir, "cli.js");
const outDir = join(repoRoot, "test-results");

test("record → summary → render, as the README's demo does", () => {
  mkdirSync(outDir, { recursive: true });
  const app = freshSampleApp();
  const rec = join(outDir, "cli-sample_app.arrow");
  const png = join(outDir, "cli-sample_app.png");
  const recorded = execFileSync("node", [cli, "record", "--quiet", "--cwd", app, "--out", rec, "--", "mix", "test", "--seed", "0"], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
  assert.match(recorded, /\d+ events: \d+ calls, [1-9]\d* exceptions/);
  assert.match(recorded, /program exit code: 0/);

  const { header, table } = decodeRecording(readFileSync(rec));
  assert.equal(header?.app, "sample_app");
  assert.equal(header?.command, "mix test --seed 0");
  assert.equal(header?.events, table.numRows);

  const summary = execFileSync("node", [cli, "summary", rec], { encoding: "utf8" });
  assert.match(summary, /Sample\.Math\.fib\/1/);

  const rendered = execFileSync("node", [cli, "render", rec, "--png", png], { encoding: "utf8" });
  assert.match(rendered, /rendered \d+ events in [3-9]\d* process lanes|rendered \d+ events in \d{2,} process lanes/);
  const bytes = readFileSync(png);
  assert.equal(bytes.subarray(1, 4).toString("latin1"), "PNG");
  assert.ok(bytes.length > 10_000, `a real picture, not an empty page (${bytes.length} bytes)`);
});

test("a file that is not a recording gets a clear error and exit code 1", () => {
  mkdirSync(outDir, { recursive: true });
  const bad = join(outDir, "not-a-recording.arrow");
  writeFileSync(bad, "this is not arrow");
  const r = spawnSync("node", [cli, "summary", bad], { encoding: "utf8" });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /not an ElixirScope recording/);
});

test("recording a folder that is not a Mix project says so", () => {
  const r = spawnSync("node", [cli, "record", "--cwd", join(repoRoot, "protocol")], { encoding: "utf8" });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /No Elixir modules found/);
  assert.ok(existsSync(cli));
});

test("a project that fails to compile: a clear error with the compiler's message, nothing recorded", () => {
  const app = freshSampleApp();
  writeFileSync(join(app, "lib/sample/broken.ex"), "defmodule Sample.Broken do\n  def oops(, do: :nope\nend\n");
  const out = join(outDir, "broken.arrow");
  const r = spawnSync("node", [cli, "record", "--quiet", "--cwd", app, "--out", out], { encoding: "utf8" });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /The project failed to compile \(mix compile exited with 1\); fix the errors and record again/);
  assert.match(r.stderr, /broken\.ex/);
  assert.ok(!existsSync(out), "no recording written");
});
