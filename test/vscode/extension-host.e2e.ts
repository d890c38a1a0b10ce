/**
 * Runs the extension-host tests (extension/test/suite/, real `vscode` API) inside code-server
 * against the extension installed from the .vsix, and reports each of them here.
 *
 * code-server has no test-runner exit code: the workbench URL's `payload` names the extension
 * under development and the tests' entry point, the runner writes its result to a file, and we
 * wait for that file. The browser must stay connected: the extension host lives for the window.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { env, openBrowser, resultsDir, sampleWorkspace, startCodeServer, waitForFile } from "./harness";
import type { TestResult } from "../../extension/test/suite/index";

const SUITE_MS = 240_000;

test("extension-host tests in code-server", { timeout: SUITE_MS + 60_000 }, async (t) => {
  const name = "host";
  const workspace = sampleWorkspace(name);
  const resultFile = join(env("ES_RUN_DIR"), name, "result.json");
  // An empty extensions dir: the extension under test is the installed .vsix folder, loaded as
  // the extension under development (so it is the same artifact the UI test uses).
  const emptyExtensions = join(env("ES_RUN_DIR"), name, "exts");
  mkdirSync(emptyExtensions, { recursive: true });
  const server = await startCodeServer({
    name,
    workspace,
    extensionsDir: emptyExtensions,
    env: { ELIXIR_SCOPE_TEST_RESULT: resultFile },
  });
  const browser = await openBrowser(name);
  try {
    const remote = (path: string) => `vscode-remote://127.0.0.1:${server.port}${path}`;
    const payload = [
      ["extensionDevelopmentPath", remote(env("ES_EXTENSION_PATH"))],
      ["extensionTestsPath", remote(env("ES_TESTS_PATH"))],
    ];
    const crashed = new Promise<never>((_, reject) => browser.page.once("crash", () => reject(new Error("the workbench page crashed"))));
    await browser.page.goto(server.url({ payload: JSON.stringify(payload) }));
    await browser.page.locator(".monaco-workbench").waitFor({ timeout: 60_000 });
    await waitForFile(resultFile, SUITE_MS, crashed).catch(async (e: Error) => {
      const shot = join(resultsDir, "host-timeout.png");
      await browser.page.screenshot({ path: shot }).catch(() => undefined);
      throw new Error(`${e.message}\nscreenshot: ${shot}\ncode-server log: ${server.log}\nbrowser console (extension host output): ${join(resultsDir, "host-console.log")}`);
    });
    await browser.page.screenshot({ path: join(resultsDir, "host-done.png") });
  } finally {
    await browser.close();
    await server.stop();
  }

  const { results } = JSON.parse(readFileSync(resultFile, "utf8")) as { results: TestResult[] };
  assert.ok(results.length > 0, "the extension-host runner found no tests");
  for (const r of results) {
    await t.test(`${r.suite} › ${r.name} (${r.ms} ms)`, () => {
      if (!r.ok) throw new Error(r.error);
    });
  }
});
