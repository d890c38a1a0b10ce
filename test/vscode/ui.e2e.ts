/**
 * The product as a user drives it, in code-server with the extension installed from the .vsix:
 * open the sample app, run "ElixirScope: Record Session" from the command palette, watch the
 * status bar, see the timeline webview, scrub it, click an event and land on its source line,
 * see the lines that ran, hover a parameter and read its history. A screenshot after each step
 * lands in test-results/vscode/; a failing step names its screenshot.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { basename, dirname } from "node:path";
import type { FrameLocator, Page } from "playwright-core";
import type { TestHooks } from "../../protocol/src/webview";
import { env, openBrowser, sampleWorkspace, startCodeServer, stepper, type Browser, type CodeServer } from "./harness";

/** Mirrors of webview/src/views/timeline-view.ts: the overview band, then the time axis. */
const OVERVIEW_H = 30;
const AXIS_H = 24;

let server: CodeServer;
let browser: Browser;
let page: Page;

before(async () => {
  const workspace = sampleWorkspace("ui");
  server = await startCodeServer({ name: "ui", workspace, extensionsDir: env("ES_EXTENSIONS_DIR") });
  browser = await openBrowser("ui");
  page = browser.page;
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

const statusItem = (text: string | RegExp) => page.locator(".statusbar-item", { hasText: text });
const timeline = (): FrameLocator => page.frameLocator("iframe.webview.ready").frameLocator("#active-frame");

async function runCommand(title: string): Promise<void> {
  await page.keyboard.press("F1");
  const input = page.locator(".quick-input-widget input");
  await input.waitFor();
  await input.fill(`>${title}`);
  await page.locator(".quick-input-list .monaco-list-row", { hasText: title }).first().waitFor();
  await page.keyboard.press("Enter");
}

async function quickOpen(file: string): Promise<void> {
  await page.keyboard.press("Control+P");
  const input = page.locator(".quick-input-widget input");
  await input.waitFor();
  await input.fill(file);
  // A row shows the file name, then its folder.
  await page.locator(".quick-input-list .monaco-list-row").filter({ hasText: basename(file) }).filter({ hasText: dirname(file) }).first().waitFor();
  await page.keyboard.press("Enter");
  await page.locator(".tab.active", { hasText: basename(file) }).first().waitFor();
}

/**
 * The few DOM APIs the in-page functions below use: the root tsconfig has no DOM lib (only the
 * webview may use the DOM), so they reach them through `globalThis` with these types.
 */
interface DomNode {
  textContent: string | null;
}
interface PageDom {
  document: {
    querySelectorAll(selector: string): Iterable<DomNode>;
    createTreeWalker(root: DomNode, whatToShow: number): { nextNode(): DomNode | null };
    createRange(): {
      setStart(node: DomNode, offset: number): void;
      setEnd(node: DomNode, offset: number): void;
      getBoundingClientRect(): { x: number; y: number; width: number; height: number };
    };
  };
  getComputedStyle(el: DomNode, pseudo: string): { content: string };
  /** The webview's test hooks (webview/src/test-hooks.ts), in its frame. */
  __elixirScopeTest?: TestHooks;
}

/**
 * Center of the `length` characters at `offset` into the first rendered editor line containing
 * `lineText` (a DOM Range over the line's text nodes).
 */
async function textCenter(lineText: string, offset: number, length: number): Promise<{ x: number; y: number }> {
  const box = await page.evaluate(
    ({ lineText, offset, length }) => {
      const { document } = globalThis as unknown as PageDom;
      const SHOW_TEXT = 4;
      for (const line of document.querySelectorAll(".editor-group-container .view-lines .view-line")) {
        // Monaco renders spaces as U+00A0.
        const at = (line.textContent ?? "").replace(/\u00a0/g, " ").indexOf(lineText);
        if (at < 0) continue;
        const col = at + offset;
        const walker = document.createTreeWalker(line, SHOW_TEXT);
        let seen = 0;
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
          const len = node.textContent?.length ?? 0;
          if (col < seen + len) {
            const range = document.createRange();
            range.setStart(node, col - seen);
            range.setEnd(node, col - seen + length);
            const r = range.getBoundingClientRect();
            return { x: r.x + r.width / 2, y: r.y + r.height / 2 };
          }
          seen += len;
        }
      }
      return null;
    },
    { lineText, offset, length },
  );
  assert.ok(box, `"${lineText}" is not on screen in an editor`);
  return box;
}

/**
 * Waits until the rendered line containing `lineText` carries a decoration whose CSS `::after`
 * content (how VS Code draws a decoration's `after.contentText`) contains `label`.
 */
async function waitForAfterText(lineText: string, label: string): Promise<void> {
  await page
    .waitForFunction(
      ({ lineText, label }) => {
        const { document, getComputedStyle } = globalThis as unknown as PageDom;
        for (const line of document.querySelectorAll(".editor-group-container .view-lines .view-line")) {
          if (!(line.textContent ?? "").replace(/\u00a0/g, " ").includes(lineText)) continue;
          for (const el of (line as unknown as { querySelectorAll(s: string): Iterable<DomNode> }).querySelectorAll("*")) {
            if (getComputedStyle(el, "::after").content.includes(label)) return true;
          }
        }
        return false;
      },
      { lineText, label },
      { timeout: 30_000 },
    )
    .catch((e: Error) => {
      throw new Error(`no "${label}" decoration after "${lineText}": ${e.message}`);
    });
}

test("record the sample app and explore it in VS Code", { timeout: 300_000 }, async (t) => {
  const step = stepper(page, "ui");
  const run = (name: string, fn: () => Promise<void>) => t.test(name, () => step(name, fn));
  let events = 0;

  await run("workbench opens the sample app", async () => {
    await page.goto(server.url());
    await page.locator(".monaco-workbench").waitFor({ timeout: 60_000 });
    await page.locator(".explorer-folders-view .monaco-list-row", { hasText: "mix.exs" }).first().waitFor({ timeout: 60_000 });
  });

  await run("the extension activates (status bar)", async () => {
    await statusItem("ElixirScope").first().waitFor({ timeout: 60_000 });
  });

  await run("ElixirScope: Record Session from the command palette", async () => {
    await runCommand("ElixirScope: Record Session");
  });

  await run("the status bar shows the recording", async () => {
    await statusItem(/ElixirScope: recording/).waitFor({ timeout: 120_000 });
  });

  await run("the status bar shows the recording's end", async () => {
    const done = statusItem(/ElixirScope: \d+ events · \d+ dropped/);
    await done.waitFor({ timeout: 180_000 });
    const text = await done.innerText();
    events = Number(/(\d+) events/.exec(text)![1]);
    assert.ok(events > 0, text);
    assert.match(text, / 0 dropped/);
  });

  await run("the timeline webview draws the recording", async () => {
    const frame = timeline();
    await frame.locator('#root[data-state="drawn"]').waitFor({ timeout: 90_000 });
    const state = await frame.locator("#root").evaluate(() => (globalThis as unknown as PageDom).__elixirScopeTest!.state());
    assert.equal(state.events, events, "the webview shows as many events as the status bar counts");
    assert.ok(state.calls > 0);
    await frame.locator(".es-timeline canvas").first().waitFor();
  });

  await run("scrub: dragging the cursor along the time axis moves it to later events", async () => {
    const frame = timeline();
    const box = await frame.locator(".es-timeline canvas").first().boundingBox();
    assert.ok(box, "the timeline canvas has no box");
    const y = box.y + OVERVIEW_H + AXIS_H / 2;
    const seqShown = frame.locator('[data-testid="cursor-seq"]');
    // From the start of the recording to its end: the sample app's events cluster at both ends.
    await page.mouse.move(box.x + 2, y);
    await page.mouse.down();
    await seqShown.waitFor();
    const first = Number(await seqShown.innerText());
    await page.mouse.move(box.x + box.width - 2, y, { steps: 12 });
    await page.mouse.up();
    await frame.locator('[data-testid="cursor-seq"]', { hasNotText: new RegExp(`^${first}$`) }).waitFor();
    const last = Number(await seqShown.innerText());
    assert.ok(last > first, `cursor seq went from ${first} to ${last}`);
  });

  await run("clicking an event in the timeline lands on its source line", async () => {
    const frame = timeline();
    // The call of the event the scrub left the cursor on, zoomed to as a double-click would:
    // a click target no layout change can miss. (Seqs are not dense: take one from the webview.)
    // Looked for at each animation frame until the bar is on screen (see `clickTarget`): the
    // view may still be settling its size right after the zoom.
    const at = await frame.locator("#root").evaluate(() => (globalThis as unknown as PageDom).__elixirScopeTest!.state().cursorSeq);
    assert.ok(at !== null, "the scrub left no cursor");
    const target = await frame
      .locator("#root")
      .evaluate((_root, at) => (globalThis as unknown as PageDom).__elixirScopeTest!.clickTarget(at), at);
    assert.ok(target, `the event under the cursor (seq ${at}) has no call bar on screen after zooming to it`);
    await frame.locator("body").click({ position: { x: target.x, y: target.y } });
    // The details name the call's source. The revealed editor may already cover the timeline
    // (it opens in the timeline's editor group), so the link need not be visible, only there.
    const source = frame.locator(`[data-testid="details"][data-call-seq] .es-facts .es-link`);
    await source.waitFor({ state: "attached" });
    const [file, line] = (await source.getAttribute("title"))!.split(/:(\d+)$/);
    assert.ok(file && Number(line) > 0, `details name no source: ${file}:${line}`);
    await page.locator(".tab.active", { hasText: basename(file) }).first().waitFor();
    await statusItem(`Ln ${line}, Col 1`).waitFor();
  });

  await run("the lines that ran show their call counts", async () => {
    await quickOpen("lib/sample/math.ex");
    await page.locator(".editor-group-container .view-lines .view-line", { hasText: "def factorial(n) when" }).first().waitFor();
    await waitForAfterText("def factorial(n) when n > 0", "5 calls");
    await waitForAfterText("def fib(n), do:", "12 calls");
    // Code lenses above the recorded functions: calls, latency percentiles, raised.
    await page.locator(".editor-group-container .codelens-decoration", { hasText: /ElixirScope: 25 calls · p50 .* · p99 / }).first().waitFor();
    await page.locator(".editor-group-container .codelens-decoration", { hasText: /ElixirScope: 1 call · .*1 raised/ }).first().waitFor();
  });

  await run("the editor follows the timeline's cursor: inline values of the call, then Step Forward", async () => {
    const frame = timeline();
    const target = await frame.locator("#root").evaluate(() => {
      const h = (globalThis as unknown as PageDom).__elixirScopeTest!;
      const seq = h.findCall("Sample.Math.factorial", "[3]");
      if (seq === null || !h.focusSeq(seq)) return null;
      const b = h.eventBox(seq);
      return b && { x: b.x + b.width / 2, y: b.y + b.height / 2 };
    });
    assert.ok(target, "factorial(3) has no call bar in the timeline");
    await frame.locator("body").click({ position: target });
    await waitForAfterText("def factorial(n) when n > 0", "n = 3");
    // Step Forward goes to the next event of the same process: the call factorial(2).
    await runCommand("ElixirScope: Step Forward in Recording");
    await waitForAfterText("def factorial(n) when n > 0", "n = 2");
  });

  await run("hovering a parameter shows its recorded history; a value's link moves the cursor there", async () => {
    const { x, y } = await textCenter("def factorial(n) when", "def factorial(".length, 1);
    await page.mouse.move(x, y - 30);
    await page.mouse.move(x, y);
    const hover = page.locator(".monaco-hover-content", { hasText: "values recorded" });
    await hover.first().waitFor({ timeout: 20_000 });
    const text = await hover.first().innerText();
    assert.match(text, /n — 5 values recorded/);
    for (const n of [5, 4, 3, 2, 1]) assert.ok(text.includes(`n = ${n}`), `no "n = ${n}" in the hover:\n${text}`);
    // Each value links to its moment: the newest (factorial(1)'s n) moves the shared cursor there.
    await hover.first().locator("a", { hasText: "scrub here" }).first().click();
    await waitForAfterText("def factorial(n) when n > 0", "n = 1");
  });

  await run("clicking a function's code lens lists its calls beside the timeline", async () => {
    await quickOpen("lib/sample/math.ex");
    await page.locator(".editor-group-container .codelens-decoration a", { hasText: /ElixirScope: 1 call · .*1 raised/ }).first().click();
    const list = timeline().locator('[data-testid="calls-list"][data-function="Sample.Math.divide/2"]');
    await list.waitFor();
    assert.equal(await list.getAttribute("data-count"), "1");
    await list.locator("li[data-call-seq] .es-exception").waitFor();
    await list.getByRole("button", { name: "Close" }).click();
    await list.waitFor({ state: "detached" });
  });

  await run("Choose Command and Record…: pick mix run from the quick pick; the new recording replaces the old", async () => {
    await runCommand("ElixirScope: Choose Command and Record…");
    await page.locator(".quick-input-list .monaco-list-row", { hasText: "mix run" }).first().waitFor();
    await page.keyboard.type("mix run");
    await page.locator(".quick-input-list .monaco-list-row", { hasText: "mix run" }).first().click();
    await statusItem(/ElixirScope: recording/).waitFor({ timeout: 120_000 });
    const done = statusItem(/ElixirScope: \d+ events · \d+ dropped/);
    await done.waitFor({ timeout: 180_000 });
    const after = Number(/(\d+) events/.exec(await done.innerText())![1]);
    // mix run only starts the application: far fewer events than the whole test suite.
    assert.ok(after > 0 && after < events, `mix run recorded ${after} events, the suite ${events}`);
    const header = timeline().locator('[data-testid="event-count"]');
    await timeline().locator('[data-testid="event-count"]', { hasText: new RegExp(`^${after}$`) }).waitFor();
    assert.equal(Number(await header.innerText()), after);
  });
});
