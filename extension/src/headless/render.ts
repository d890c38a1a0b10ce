/**
 * Renders a recording with the real webview bundle in headless Chromium (Debian's, driven by
 * playwright-core). The page, dist/webview.js and the recording bytes are served through
 * `context.route` from a made-up origin: no HTTP server, no network. Used by
 * `elixir-scope render` and by the webview tests and benchmarks. No `vscode` import.
 */
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import type { FromWebview, TestHooks } from "../../../protocol/src/webview";
import { makeNonce, webviewHtml } from "../webview-html";

export const DEFAULT_CHROMIUM = "/usr/bin/chromium";
/** Made-up origin the page is served from; requests never leave the browser. */
export const PAGE_ORIGIN = "https://elixir-scope.invalid";

const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-dev-shm-usage",
];

export interface OpenRecordingOptions {
  /** Arrow IPC bytes (stream or file format), event schema v1. */
  recording: Uint8Array;
  /** Directory holding webview.js (the build's dist/). */
  distDir: string;
  width?: number;
  height?: number;
  deviceScaleFactor?: number;
  chromiumPath?: string;
  /** Title for recordings whose header names none. */
  title?: string;
  /** How long to wait for the first drawn frame (ms). */
  timeoutMs?: number;
  /** Called with the page before it loads (benchmarks attach a profiler here). */
  beforeLoad?: (page: Page) => Promise<void>;
}

export interface RecordingPage {
  page: Page;
  context: BrowserContext;
  /** Events and process lanes the webview drew. */
  events: number;
  lanes: number;
  /** Console errors, CSP violations and uncaught exceptions of the page so far. */
  problems: string[];
  /** Messages the webview posted to its host, oldest first. */
  outbox(): Promise<FromWebview[]>;
  close(): Promise<void>;
}

export class RenderError extends Error {}

/** What the page exposes for tests (webview/src/test-hooks.ts); this tsconfig has no DOM types. */
export interface PageGlobals {
  __elixirScopeTest?: TestHooks;
  __elixirScopeOutbox?: FromWebview[];
}


/** Opens the webview on a recording in headless Chromium and waits until it has drawn it. */
export async function openRecordingPage(o: OpenRecordingOptions): Promise<RecordingPage> {
  const executablePath = o.chromiumPath ?? DEFAULT_CHROMIUM;
  if (!existsSync(executablePath)) {
    throw new RenderError(`Chromium not found at ${executablePath}: install it (apt-get install -y chromium) or pass its path.`);
  }
  const script = join(o.distDir, "webview.js");
  if (!existsSync(script)) throw new RenderError(`${script} is missing: build the webview first (node scripts/build.mjs webview).`);
  const scriptBytes = await readFile(script);

  const userDataDir = await mkdtemp(join(tmpdir(), "es-chromium-"));
  let context: BrowserContext | undefined;
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: o.width ?? 1600, height: o.height ?? 900 },
      deviceScaleFactor: o.deviceScaleFactor ?? 1,
      colorScheme: "dark",
    });
    const page = context.pages()[0] ?? (await context.newPage());
    const problems: string[] = [];
    page.on("console", (m) => {
      if (m.type() === "error") problems.push(m.text());
    });
    page.on("pageerror", (e) => problems.push(`uncaught: ${e.message}`));

    const html = webviewHtml({
      scriptUri: `${PAGE_ORIGIN}/webview.js`,
      cspSource: PAGE_ORIGIN,
      nonce: makeNonce(),
      recordingUrl: `${PAGE_ORIGIN}/recording.arrow`,
      title: o.title,
    });
    const files: Record<string, { body: Buffer; contentType: string }> = {
      "/": { body: Buffer.from(html), contentType: "text/html; charset=utf-8" },
      "/webview.js": { body: scriptBytes, contentType: "text/javascript; charset=utf-8" },
      "/recording.arrow": {
        body: Buffer.from(o.recording.buffer, o.recording.byteOffset, o.recording.byteLength),
        contentType: "application/vnd.apache.arrow.file",
      },
    };
    await context.route("**/*", async (route) => {
      const url = new URL(route.request().url());
      const file = url.origin === PAGE_ORIGIN ? files[url.pathname] : undefined;
      if (!file) return route.abort("blockedbyclient");
      // The webview fetches big files in ranges: one fulfilled body is sent to Chromium as a
      // single base64 DevTools message, and a few hundred MB of it closes the connection.
      const range = /^bytes=(\d+)-(\d+)$/.exec((await route.request().headerValue("range")) ?? "");
      if (!range) return route.fulfill({ status: 200, body: file.body, contentType: file.contentType });
      const start = Math.min(Number(range[1]), file.body.length);
      const end = Math.min(Number(range[2]) + 1, file.body.length);
      return route.fulfill({
        status: 206,
        body: file.body.subarray(start, end),
        contentType: file.contentType,
        headers: { "Content-Range": `bytes ${start}-${end - 1}/${file.body.length}`, "Accept-Ranges": "bytes" },
      });
    });

    await o.beforeLoad?.(page);
    await page.goto(`${PAGE_ORIGIN}/`);
    const timeout = o.timeoutMs ?? 60_000;
    await page.waitForSelector('#root[data-state="drawn"], #root[data-state="error"]', { state: "attached", timeout });
    const state = await page.evaluate(() => (globalThis as unknown as PageGlobals).__elixirScopeTest?.state());
    if (!state || state.state === "error") {
      const why = await page.locator('[data-testid="error"]').textContent().catch(() => null);
      throw new RenderError(`The webview could not draw the recording: ${why ?? (problems.join("; ") || "no error was reported")}`);
    }
    const ctx = context;
    return {
      page,
      context: ctx,
      events: state.events,
      lanes: state.lanes,
      problems,
      outbox: () => page.evaluate(() => [...((globalThis as unknown as PageGlobals).__elixirScopeOutbox ?? [])]),
      close: async () => {
        await ctx.close();
        await rm(userDataDir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    await context?.close().catch(() => undefined);
    await rm(userDataDir, { recursive: true, force: true });
    throw e;
  }
}

export interface RenderOptions extends OpenRecordingOptions {
  outPng: string;
}

/** Renders a recording to a PNG; returns what was drawn and the PNG's path. */
export async function renderRecording(o: RenderOptions): Promise<{ events: number; lanes: number; png: string }> {
  const opened = await openRecordingPage(o);
  try {
    await writeFile(o.outPng, await opened.page.screenshot({ type: "png" }));
    return { events: opened.events, lanes: opened.lanes, png: o.outPng };
  } finally {
    await opened.close();
  }
}
