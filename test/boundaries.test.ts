/** The boundary checker really fails on each kind of violation (and passes on this repo). */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

const script = join(__dirname, "../scripts/check-boundaries.mjs");

function check(files: Record<string, string>): { ok: boolean; out: string } {
  const root = mkdtempSync(join(tmpdir(), "es-bounds-"));
  for (const dir of ["server/src", "webview/src", "protocol/src"]) mkdirSync(join(root, dir), { recursive: true });
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  const r = spawnSync("node", [script], { env: { ...process.env, BOUNDARY_ROOT: root }, encoding: "utf8" });
  return { ok: r.status === 0, out: r.stdout + r.stderr };
}

const cases: [string, Record<string, string>, RegExp | null][] = [
  ["clean tree", { "server/src/a.ts": 'import { x } from "./b";', "webview/src/a.ts": 'import React from "react";' }, null],
  ["vscode in server", { "server/src/a.ts": 'import * as vscode from "vscode";' }, /server\/ must not import vscode/],
  ["node API in webview", { "webview/src/a.ts": 'import { readFileSync } from "node:fs";' }, /webview\/ must not use Node API/],
  ["Node global in webview", { "webview/src/a.ts": "const b = Buffer.from('x');" }, /Node globals/],
  ["protocol importing a package", { "protocol/src/a.ts": 'import { Table } from "apache-arrow";' }, /protocol\/ must import nothing/],
  ["vscode in test outside extension", { "test/a.test.ts": 'import * as vscode from "vscode";' }, /only extension\/ may import vscode/],
];

for (const [name, files, expected] of cases) {
  test(`boundaries: ${name}`, () => {
    const { ok, out } = check(files);
    if (expected === null) assert.ok(ok, out);
    else {
      assert.ok(!ok, `should fail: ${out}`);
      assert.match(out, expected);
    }
  });
}

test("boundaries: this repository passes", () => {
  const r = spawnSync("node", [script], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
});
