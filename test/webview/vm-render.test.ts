/**
 * Process events, GenServer state and samples in the real webview bundle in headless Chromium:
 * the details panel shows a callback's state before and after and the messages a call sent,
 * the status line describes a process event under the cursor, stepping skips samples, and the
 * timeline draws messages, spawns and exits without errors (picture in
 * test-results/webview-vm-events.png).
 */
import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { EventKind } from "../../protocol/src/events";
import type { FromWebview } from "../../protocol/src/webview";
import { openRecordingPage, type PageGlobals, type RecordingPage } from "../../extension/src/headless/render";
import { recordingBytes } from "./recording-builder";
import { CLIENT, counterScript, SERVER } from "./vm-recording";

const root = join(__dirname, "../..");
const dist = join(root, "dist");
const results = join(root, "test-results");

interface Poster {
  postMessage(message: unknown, targetOrigin: string): void;
}

describe("process events in the webview (headless Chromium)", () => {
  const { s, sendSeq, recvSeq } = counterScript();
  const rows = s.rows;
  let p: RecordingPage;

  const callSeq = (fn: string) => rows.find((r) => r.kind === EventKind.Call && r.function === fn)!.seq;
  const hostCursor = (seq: number) => p.page.evaluate((m) => (globalThis as unknown as Poster).postMessage(m, "*"), { t: "cursor", seq });
  const posted = (m: Partial<FromWebview>) =>
    p.page.waitForFunction(
      (want) => ((globalThis as unknown as PageGlobals).__elixirScopeOutbox ?? []).some((x) => Object.entries(want).every(([k, v]) => (x as Record<string, unknown>)[k] === v)),
      m,
    );

  before(async () => {
    execFileSync(process.execPath, [join(root, "scripts/build.mjs"), "webview"], { cwd: root, stdio: "inherit" });
    mkdirSync(results, { recursive: true });
    p = await openRecordingPage({ recording: recordingBytes(rows, { format: "file" }), distDir: dist, width: 1200, height: 480 });
  });

  after(async () => {
    await p?.close();
  });

  it("one lane per process, none for node samples", async () => {
    assert.equal(p.events, rows.length);
    assert.deepEqual(await p.page.locator('[data-testid="lane-label"]').allTextContents(), [CLIENT, SERVER]);
    assert.equal(await p.page.locator('[data-testid="call-count"]').textContent(), String(rows.filter((r) => r.kind === EventKind.Call).length));
  });

  it("a call lists the processes it spawned and the messages it sent", async () => {
    const run = callSeq("run");
    await hostCursor(run);
    await p.page.waitForSelector(`[data-testid="details"][data-call-seq="${run}"]`);
    assert.deepEqual(await p.page.locator('[data-testid="details-process-events"] li').allTextContents(), [
      `spawned ${SERVER} running Counter.init/1`,
      `sent to ${SERVER}: {:"$gen_cast", {:add, 1}}`,
    ]);
  });

  it("a GenServer callback shows its state before and after", async () => {
    const cast = callSeq("handle_cast");
    await hostCursor(cast);
    await p.page.waitForSelector(`[data-testid="details"][data-call-seq="${cast}"]`);
    assert.equal(await p.page.locator('[data-testid="details-state-before"] pre').textContent(), "%{n: 0}");
    assert.equal(await p.page.locator('[data-testid="details-state-after"] pre').textContent(), "%{n: 1}");
  });

  it("the status line describes a process event; stepping skips samples", async () => {
    await hostCursor(recvSeq);
    await p.page.waitForSelector(`[data-testid="cursor-seq"]:text-is("${recvSeq}")`);
    assert.equal(await p.page.locator('[data-testid="cursor-event"]').textContent(), `received from ${CLIENT}: {:"$gen_cast", {:add, 1}}`);
    // After the send comes the client's mailbox sample, then its return.
    await hostCursor(sendSeq);
    await p.page.waitForSelector(`[data-testid="cursor-seq"]:text-is("${sendSeq}")`);
    await p.page.locator('[data-testid="timeline-canvas"]').focus();
    await p.page.keyboard.press("ArrowRight");
    assert.equal(rows[sendSeq].kind, EventKind.Sample);
    await posted({ t: "cursor", seq: sendSeq + 2 });
  });

  it("draws messages, spawns and exits without errors", async () => {
    await p.page.keyboard.press("0");
    await p.page.mouse.move(0, 0);
    await p.page.screenshot({ path: join(results, "webview-vm-events.png") });
    assert.deepEqual(p.problems, []);
  });
});
