/**
 * Runs a real VS Code for the tests in this folder: code-server 4.100.3 (installed by
 * scripts/vscode-e2e) plus headless Chromium through playwright-core. Every wait is on a
 * message, a file or a selector; deadlines only bound them.
 *
 * Inputs come from scripts/vscode-e2e through the environment:
 *   ES_CODE_SERVER      the code-server executable
 *   ES_RUN_DIR          a fresh, short directory for this run (socket paths must stay < 107 chars)
 *   ES_EXTENSIONS_DIR   extensions dir the .vsix was installed into
 *   ES_EXTENSION_PATH   the installed extension's folder (inside ES_EXTENSIONS_DIR)
 *   ES_TESTS_PATH       out/test/suite/index.js (the extension-host test runner)
 */
import { spawn, type ChildProcess } from "node:child_process";
import { cpSync, createWriteStream, existsSync, mkdirSync, watch, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { basename, dirname, join } from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";

export const repoRoot = join(__dirname, "../..");
export const resultsDir = join(repoRoot, "test-results/vscode");

export function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run these tests through bash scripts/vscode-e2e`);
  return value;
}

/**
 * Copies test/fixtures/sample_app (without _build/deps) to RUN/NAME/sample_app with workspace
 * settings that record `mix test --seed 0`. Returns the folder.
 */
export function sampleWorkspace(name: string): string {
  const app = join(env("ES_RUN_DIR"), name, "sample_app");
  cpSync(join(repoRoot, "test/fixtures/sample_app"), app, {
    recursive: true,
    filter: (src) => !/[/\\](_build|deps)([/\\]|$)/.test(src),
  });
  mkdirSync(join(app, ".vscode"), { recursive: true });
  writeFileSync(join(app, ".vscode/settings.json"), JSON.stringify({ "elixirScope.command": "mix test --seed 0" }, null, 2));
  return app;
}

export interface CodeServer {
  port: number;
  /** The workbench URL with the folder open (plus extra query parameters). */
  url(query?: Record<string, string>): string;
  log: string;
  stop(): Promise<void>;
}

/** Starts code-server in its own process group and resolves once it listens. */
export async function startCodeServer(o: {
  name: string;
  workspace: string;
  extensionsDir: string;
  env?: Record<string, string>;
}): Promise<CodeServer> {
  const run = join(env("ES_RUN_DIR"), o.name);
  const userData = join(run, "ud");
  for (const d of [join(userData, "User"), join(run, "cfg"), join(run, "tmp"), o.extensionsDir, resultsDir]) mkdirSync(d, { recursive: true });
  writeFileSync(
    join(userData, "User/settings.json"),
    JSON.stringify(
      {
        "workbench.startupEditor": "none",
        "editor.hover.delay": 100,
        "workbench.tips.enabled": false,
        "extensions.autoCheckUpdates": false,
        "extensions.autoUpdate": false,
        "extensions.ignoreRecommendations": true,
        "telemetry.telemetryLevel": "off",
        "security.workspace.trust.enabled": false,
        "window.restoreWindows": "none",
      },
      null,
      2,
    ),
  );
  const port = await freePort();
  const log = join(resultsDir, `${o.name}-code-server.log`);
  const out = createWriteStream(log);
  const child = spawn(
    env("ES_CODE_SERVER"),
    [
      "--auth", "none",
      "--bind-addr", `127.0.0.1:${port}`,
      "--user-data-dir", userData,
      "--extensions-dir", o.extensionsDir,
      "--disable-telemetry",
      "--disable-update-check",
      "--disable-workspace-trust",
      "--disable-getting-started-override",
      "--ignore-last-opened",
      o.workspace,
    ],
    {
      detached: true, // its own process group, so stop() ends the extension host and the language server too
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, XDG_CONFIG_HOME: join(run, "cfg"), TMPDIR: join(run, "tmp"), ...o.env },
    },
  );
  child.stderr!.pipe(out);
  await new Promise<void>((resolve, reject) => {
    let seen = "";
    const timer = setTimeout(() => reject(new Error(`code-server did not listen within 60 s; log: ${log}`)), 60_000);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`code-server exited with ${code} before listening; log: ${log}`));
    });
    child.stdout!.on("data", (chunk: Buffer) => {
      out.write(chunk);
      seen += chunk.toString();
      if (seen.includes("HTTP server listening on")) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  const health = await fetch(`http://127.0.0.1:${port}/healthz`);
  if (!health.ok) throw new Error(`code-server /healthz answered ${health.status}; log: ${log}`);
  return {
    port,
    log,
    url: (query = {}) => `http://127.0.0.1:${port}/?${new URLSearchParams({ folder: o.workspace, ...query })}`,
    stop: () => stopGroup(child),
  };
}

async function stopGroup(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const kill = (signal: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, signal);
    } catch {
      // The group is already gone.
    }
  };
  kill("SIGTERM");
  const timer = setTimeout(() => kill("SIGKILL"), 10_000);
  await exited;
  clearTimeout(timer);
  // The extension host and language server may outlive the main process by a moment.
  kill("SIGKILL");
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface Browser {
  context: BrowserContext;
  page: Page;
  close(): Promise<void>;
}

/** Headless Debian Chromium with a fresh profile; the page's console goes to RESULTS/NAME-console.log. */
export async function openBrowser(name: string): Promise<Browser> {
  const context = await chromium.launchPersistentContext(join(env("ES_RUN_DIR"), name, "chrome"), {
    executablePath: "/usr/bin/chromium",
    headless: true,
    viewport: { width: 1440, height: 900 },
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const console = createWriteStream(join(resultsDir, `${name}-console.log`));
  page.on("console", (m) => console.write(`[${m.type()}] ${m.text()}\n`));
  page.on("pageerror", (e) => console.write(`[pageerror] ${e.stack ?? e.message}\n`));
  return {
    context,
    page,
    close: async () => {
      await context.close();
      console.end();
    },
  };
}

/** Resolves when `file` exists (watching its folder), rejects after `ms` or when `abort` rejects. */
export function waitForFile(file: string, ms: number, abort?: Promise<never>): Promise<void> {
  mkdirSync(dirname(file), { recursive: true });
  return new Promise<void>((resolve, reject) => {
    const watcher = watch(dirname(file), () => existsSync(file) && finish());
    const timer = setTimeout(() => finish(new Error(`timed out after ${ms / 1000} s waiting for ${file}`)), ms);
    function finish(error?: Error) {
      clearTimeout(timer);
      watcher.close();
      if (error) reject(error);
      else resolve();
    }
    abort?.catch((e: Error) => finish(e));
    if (existsSync(file)) finish();
  });
}

/**
 * Runs the steps of a UI test in order, with a screenshot after each into RESULTS/PREFIX-NN-name.png.
 * A failing step throws with its screenshot's path; the steps after it fail as not run.
 */
export function stepper(page: Page, prefix: string) {
  let n = 0;
  let broken: string | undefined;
  return async function step(name: string, fn: () => Promise<void>): Promise<void> {
    n++;
    const file = join(resultsDir, `${prefix}-${String(n).padStart(2, "0")}-${name.replace(/[^a-z0-9]+/gi, "-").toLowerCase()}.png`);
    if (broken) throw new Error(`not run: step "${broken}" failed before it`);
    try {
      await fn();
    } catch (e) {
      broken = name;
      const failed = file.replace(/\.png$/, "-FAILED.png");
      await page.screenshot({ path: failed, animations: "disabled" }).catch(() => undefined);
      const error = new Error(`step "${name}" failed: ${(e as Error).message}\nscreenshot: ${failed}`);
      error.stack = `${error.message}\n${(e as Error).stack ?? ""}`;
      throw error;
    }
    // Finite CSS animations (the hover's fade-in) are fast-forwarded to their end state.
    await page.screenshot({ path: file, animations: "disabled" });
    process.stdout.write(`# screenshot: ${basename(file)}\n`);
  };
}
