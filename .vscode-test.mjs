// @vscode/test-cli configuration, for contributors with a desktop VS Code:
//   npm install --no-save @vscode/test-cli@0.0.12 @vscode/test-electron@2.5 mocha   (Node 20: newer
//   test-cli / test-electron releases need Node 22)
//   node scripts/build.mjs && npx vscode-test
// It runs the same extension-host tests (out/test/suite/*.test.js, built from extension/test/suite)
// that scripts/vscode-e2e runs inside code-server, with mocha's "tdd" interface. It downloads
// VS Code, so it cannot run on our CI machines: there, scripts/vscode-e2e is the way.
import { defineConfig } from "@vscode/test-cli";
import { cpSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = dirname(fileURLToPath(import.meta.url));

// The tests record the sample app, which writes _build/ into it: work on a fresh copy. A short
// path keeps VS Code's socket paths under 107 characters.
const workspace = join(mkdtempSync(join(tmpdir(), "es-vt-")), "sample_app");
cpSync(join(root, "test/fixtures/sample_app"), workspace, {
  recursive: true,
  filter: (src) => !/[/\\](_build|deps)([/\\]|$)/.test(src),
});
mkdirSync(join(workspace, ".vscode"), { recursive: true });
writeFileSync(join(workspace, ".vscode/settings.json"), JSON.stringify({ "elixirScope.command": "mix test --seed 0" }, null, 2));

export default defineConfig({
  label: "extension-host",
  files: "out/test/suite/*.test.js",
  // The VS Code that CI tests through code-server 4.100.3; engines.vscode is ^1.100.0.
  version: "1.100.3",
  extensionDevelopmentPath: root,
  workspaceFolder: workspace,
  launchArgs: ["--disable-extensions", "--disable-workspace-trust"],
  mocha: { ui: "tdd", timeout: 180_000 },
});
