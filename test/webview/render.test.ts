/**
 * The real webview bundle (dist/webview.js) in real headless Chromium, on real Arrow bytes:
 * what it shows, what clicking a call does, what it posts to its host, and the picture.
 */
import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { EventKind } from "../../protocol/src/events";
import type { FromWebview } from "../../protocol/src/webview";
import { openRecordingPage, RenderError, renderRecording, type PageGlobals, type RecordingPage } from "../../extension/src/headless/render";
import { recordingBytes, type EventRow } from "./recording-builder";
import { LEDGER, LEDGER_PID, sampleRecording, sampleScript, TEST_PID, WORKER_PID } from "./sample-recording";

const root = join(__dirname, "../..");
const dist = join(root, "dist");
const results = join(root, "test-results");

interface Poster {
  postMessage(message: unknown, targetOrigin: string): void;
}

/** Posts a message to the webview the way a host would (it arrives as a `message` event). */
async function hostSends(p: RecordingPage, message: unknown): Promise<void> {
  await p.page.evaluate((m) => (globalThis as unknown as Poster).postMessage(m, "*"), message);
}

function callRow(rows: EventRow[], label: string, nth = 0): EventRow {
  const found = rows.filter((r) => r.kind === EventKind.Call && `${r.module}.${r.function}/${r.arity}` === label);
  assert.ok(found[nth], `no call ${label} #${nth}`);
  return found[nth];
}

async function clickCall(p: RecordingPage, seq: number): Promise<void> {
  const box = await p.page.evaluate((s) => (globalThis as unknown as PageGlobals).__elixirScopeTest!.eventBox(s), seq);
  assert.ok(box, `call of event ${seq} is not on screen`);
  await p.page.mouse.click(box.x + Math.min(box.width / 2, 20), box.y + box.height / 2);
  await p.page.waitForSelector(`[data-testid="details"][data-call-seq="${seq}"]`);
}

async function waitForPosted(p: RecordingPage, match: Partial<FromWebview>): Promise<void> {
  await p.page.waitForFunction(
    (m) => ((globalThis as unknown as PageGlobals).__elixirScopeOutbox ?? []).some((x) => Object.entries(m).every(([k, v]) => (x as Record<string, unknown>)[k] === v)),
    match,
  );
}

describe("webview in headless Chromium", () => {
  const { bytes, script } = sampleRecording("file");
  const rows = script.rows;
  let p: RecordingPage;

  before(async () => {
    execFileSync(process.execPath, [join(root, "scripts/build.mjs"), "webview"], { cwd: root, stdio: "inherit" });
    mkdirSync(results, { recursive: true });
    p = await openRecordingPage({ recording: bytes, distDir: dist, width: 1440, height: 720 });
  });

  after(async () => {
    await p?.close();
  });

  it("shows the counts, the title and one labelled lane per process", async () => {
    assert.equal(p.events, rows.length);
    assert.equal(p.lanes, 3);
    const text = (id: string) => p.page.locator(`[data-testid="${id}"]`).textContent();
    assert.equal(await text("event-count"), String(rows.length));
    assert.equal(await text("process-count"), "3");
    assert.equal(await text("call-count"), String(rows.filter((r) => r.kind === EventKind.Call).length));
    assert.equal(await text("exception-count"), "1");
    assert.equal(await text("title"), "sample_app: mix test test/ledger_test.exs");
    assert.deepEqual(await p.page.locator('[data-testid="lane-label"]').allTextContents(), [TEST_PID, LEDGER_PID, WORKER_PID]);
    assert.deepEqual(await p.outbox(), [{ t: "ready" }]);
  });

  it("clicking a call shows its function, arguments and return value and asks the host to reveal it", async () => {
    const deposit = callRow(rows, "Sample.Ledger.deposit/3");
    await clickCall(p, deposit.seq);
    const details = p.page.locator('[data-testid="details"]');
    assert.equal(await details.locator('[data-testid="details-function"]').textContent(), "Sample.Ledger.deposit/3");
    assert.equal(await details.locator('[data-testid="details-args"] pre').textContent(), `[Sample.Ledger, "alice", 100]`);
    assert.equal(await details.locator('[data-testid="details-return"] pre').textContent(), "{:ok, 100}");
    assert.match((await details.textContent()) ?? "", /#PID<0\.210\.0>.*sample\/ledger\.ex:17/);
    await waitForPosted(p, { t: "cursor", seq: deposit.seq });
    const posted = await p.outbox();
    assert.deepEqual(
      posted.filter((m) => m.t === "reveal"),
      [{ t: "reveal", file: LEDGER, line: 17, seq: deposit.seq }],
    );
    const state = await p.page.evaluate(() => (globalThis as unknown as PageGlobals).__elixirScopeTest!.state());
    assert.equal(state.selectedSeq, deposit.seq);
    assert.equal(state.cursorSeq, deposit.seq);
  });

  it("shows a call's bindings, and a raised exception", async () => {
    const handle = callRow(rows, "Sample.Ledger.handle_call/3", 1);
    await clickCall(p, handle.seq);
    assert.deepEqual(await p.page.locator('[data-testid="details-bindings"] li').allTextContents(), [
      "acct= %{balance: 0, entries: []}line 56",
      "updated= %{balance: 100, entries: [deposit: 100]}line 57",
    ]);
    const withdraw = callRow(rows, "Sample.Ledger.withdraw!/3");
    await clickCall(p, withdraw.seq);
    assert.equal(
      await p.page.locator('[data-testid="details-exception"] pre').textContent(),
      "** (Sample.InsufficientFundsError) account alice has 100, cannot withdraw 250",
    );
    assert.deepEqual(
      (await p.outbox()).filter((m) => m.t === "reveal").at(-1),
      { t: "reveal", file: LEDGER, line: 31, seq: withdraw.seq },
    );
  });

  it("looks right (screenshot in test-results/webview-timeline.png)", async () => {
    await clickCall(p, callRow(rows, "Sample.Ledger.handle_call/3", 1).seq);
    await p.page.mouse.move(0, 0); // no hover tooltip in the picture
    const shot = join(results, "webview-timeline.png");
    await p.page.screenshot({ path: shot });
    assert.ok(statSync(shot).size > 10_000);
  });

  it("zooms with the wheel, pans by dragging and steps the cursor with the arrow keys", async () => {
    const state = () => p.page.evaluate(() => (globalThis as unknown as PageGlobals).__elixirScopeTest!.state());
    const canvas = (await p.page.locator('[data-testid="timeline-canvas"]').boundingBox())!;
    const [a0, b0] = (await state()).range!;
    // Below the lanes: empty timeline, nothing to select.
    const x = canvas.x + canvas.width / 2;
    const y = canvas.y + canvas.height - 40;
    await p.page.mouse.move(x, y);
    await p.page.mouse.wheel(0, -400);
    await p.page.waitForFunction((w) => {
      const [a, b] = (globalThis as unknown as PageGlobals).__elixirScopeTest!.state().range!;
      return b - a < w * 0.7;
    }, b0 - a0);
    const [a1, b1] = (await state()).range!;
    await p.page.mouse.down();
    await p.page.mouse.move(x + 150, y, { steps: 5 });
    await p.page.mouse.up();
    const [a2, b2] = (await state()).range!;
    assert.ok(a2 < a1 && Math.abs(b2 - a2 - (b1 - a1)) < 1e-6 * (b1 - a1), `drag pans without zooming: ${[a1, b1]} → ${[a2, b2]}`);

    const before = (await state()).cursorSeq!;
    await p.page.keyboard.press("ArrowRight");
    await waitForPosted(p, { t: "cursor", seq: before + 1 });
    await p.page.keyboard.press("0"); // back to the whole recording
    const [a3, b3] = (await state()).range!;
    assert.deepEqual([a3, b3], [a0, b0]);
  });

  it("follows the host's cursor and selects the call under it, without echoing it", async () => {
    const fact = callRow(rows, "Sample.Math.factorial/1", 2);
    const binding = rows.find((r) => r.kind === EventKind.Binding && r.name === "updated")!;
    const postedBefore = (await p.outbox()).length;
    await hostSends(p, { t: "cursor", seq: fact.seq });
    await p.page.waitForSelector(`[data-testid="details"][data-call-seq="${fact.seq}"]`);
    assert.equal(await p.page.locator('[data-testid="cursor-seq"]').textContent(), String(fact.seq));
    // A binding's cursor selects the call it belongs to.
    await hostSends(p, { t: "cursor", seq: binding.seq });
    await p.page.waitForSelector(`[data-testid="details"][data-call-seq="${callRow(rows, "Sample.Ledger.handle_call/3", 1).seq}"]`);
    // Invalid messages are dropped by the protocol validator.
    await hostSends(p, { t: "cursor", seq: "1" });
    assert.equal((await p.outbox()).length, postedBefore);
  });

  it("scrubs: dragging the axis moves the cursor and posts it", async () => {
    const canvas = await p.page.locator('[data-testid="timeline-canvas"]').boundingBox();
    assert.ok(canvas);
    const y = canvas.y + 42; // on the time axis
    await p.page.mouse.move(canvas.x + 10, y);
    await p.page.mouse.down();
    await p.page.mouse.move(canvas.x + canvas.width * 0.5, y, { steps: 4 });
    await p.page.mouse.up();
    const state = await p.page.evaluate(() => (globalThis as unknown as PageGlobals).__elixirScopeTest!.state());
    assert.ok(state.cursorSeq !== null && state.cursorSeq > 1 && state.cursorSeq < rows.length, `cursor at ${state.cursorSeq}`);
    await waitForPosted(p, { t: "cursor", seq: state.cursorSeq });
  });

  it("a host's `calls` message lists every call of that function, slowest first; clicking one selects it", async () => {
    const calls = rows.filter((r) => r.kind === EventKind.Call && `${r.module}.${r.function}/${r.arity}` === "Sample.Math.factorial/1");
    const duration = (c: EventRow) => rows.find((r) => r.call_id === c.call_id && r.kind !== EventKind.Call && r.kind !== EventKind.Binding)!.ts - c.ts;
    // Not a valid message: ignored.
    await hostSends(p, { t: "calls", module: "Sample.Math", function: "factorial", arity: "1" });
    await hostSends(p, { t: "calls", module: "Sample.Math", function: "factorial", arity: 1 });
    const list = p.page.locator('[data-testid="calls-list"]');
    await list.waitFor();
    assert.equal(await list.getAttribute("data-function"), "Sample.Math.factorial/1");
    assert.equal(await list.getAttribute("data-count"), String(calls.length));
    const shown = () => list.locator("li[data-call-seq]").evaluateAll((els) => els.map((e) => Number((e as unknown as { getAttribute(n: string): string }).getAttribute("data-call-seq"))));
    const slowest = await shown();
    assert.deepEqual([...slowest].sort((a, b) => a - b), calls.map((c) => c.seq));
    const durations = slowest.map((seq) => duration(calls.find((c) => c.seq === seq)!));
    assert.deepEqual(durations, [...durations].sort((a, b) => b - a), "slowest first");
    assert.match((await list.locator("li").first().textContent()) ?? "", /\[4\]→ 24/);
    await list.getByRole("button", { name: "in order" }).click();
    assert.deepEqual(await shown(), calls.map((c) => c.seq));
    const pick = calls[2];
    await list.locator(`li[data-call-seq="${pick.seq}"] button`).click();
    await p.page.waitForSelector(`[data-testid="details"][data-call-seq="${pick.seq}"]`);
    await waitForPosted(p, { t: "cursor", seq: pick.seq });
    assert.equal(await list.locator("li.es-selected").getAttribute("data-call-seq"), String(pick.seq));
    await list.getByRole("button", { name: "Close" }).click();
    await p.page.waitForSelector('[data-testid="calls-list"]', { state: "detached" });
    assert.deepEqual(p.problems, []);
  });

  it("appends live batches and draws without console errors or CSP violations", async () => {
    const more = sampleScript().rows.map((r) => ({ ...r, seq: r.seq + 1000, ts: r.ts + 2_000_000, call_id: r.call_id + 1000, parent_id: r.parent_id && r.parent_id + 1000 }));
    const extra = Array.from(recordingBytes(more, { format: "stream" }));
    // Structured clone keeps a Uint8Array a Uint8Array, as VS Code's postMessage does.
    await p.page.evaluate((b) => (globalThis as unknown as Poster).postMessage({ t: "append", bytes: new Uint8Array(b) }, "*"), extra);
    await p.page.waitForSelector(`[data-testid="event-count"]:text-is("${rows.length * 2}")`);
    assert.equal(await p.page.locator('[data-testid="lane-label"]').count(), 3);
    await hostSends(p, { t: "cursor", seq: 10 });
    await p.page.keyboard.press("0");
    await clickCall(p, callRow(rows, "Sample.Ledger.deposit/3").seq);
    await p.page.mouse.move(0, 0);
    await p.page.screenshot({ path: join(results, "webview-appended.png") });
    assert.deepEqual(p.problems, []);
  });

  it("a new recording with fewer processes replaces the old one cleanly (selection and layout reset)", async () => {
    // As when the user records again: first the live start of the new recording, then the rest.
    await clickCall(p, callRow(rows, "Sample.Ledger.deposit/3").seq);
    const one = sampleScript().rows.filter((r) => r.pid === TEST_PID);
    assert.ok(one.length > 0 && one.length < rows.length);
    const bytes = Array.from(recordingBytes(one, { format: "stream" }));
    await p.page.evaluate((b) => (globalThis as unknown as Poster).postMessage({ t: "recording", bytes: new Uint8Array(b), title: "again" }, "*"), bytes);
    await p.page.waitForSelector(`[data-testid="event-count"]:text-is("${one.length}")`);
    assert.equal(await p.page.locator('[data-testid="lane-label"]').count(), 1);
    assert.deepEqual(p.problems, []);
  });

  it("says clearly when the bytes are not a recording", async () => {
    await assert.rejects(
      openRecordingPage({ recording: new TextEncoder().encode("definitely not arrow"), distDir: dist, width: 800, height: 400 }),
      (e: Error) => e instanceof RenderError && /not an ElixirScope recording/.test(e.message),
    );
  });

  it("draws an empty recording as an explanation", async () => {
    const empty = await openRecordingPage({ recording: recordingBytes([]), distDir: dist, width: 900, height: 400 });
    try {
      assert.equal(empty.events, 0);
      assert.match((await empty.page.locator(".es-empty").textContent()) ?? "", /no events/);
      assert.equal(await empty.page.locator('[data-testid="event-count"]').textContent(), "0");
    } finally {
      await empty.close();
    }
  });

  it("renderRecording writes a PNG of the timeline", async () => {
    const out = join(results, "render-recording.png");
    const r = await renderRecording({ recording: sampleRecording("stream").bytes, distDir: dist, outPng: out, width: 1200, height: 600 });
    assert.deepEqual({ events: r.events, lanes: r.lanes, png: r.png }, { events: rows.length, lanes: 3, png: out });
    assert.deepEqual([...readFileSync(out).subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47]);
  });
});
