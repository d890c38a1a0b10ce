/**
 * Webview benchmarks on a 1M-event recording in real headless Chromium, with the production
 * bundle. Prints JSON lines (see /work/shared/BENCH.md):
 *   webview.first_paint_ms_1m        bytes in the webview → first frame drawn: Arrow parsed, the
 *                                    first slice of events in the model (the rest loads in
 *                                    slices after it, with the header showing progress)
 *   webview.load_ms_1m               bytes in the webview → every event in the model and drawn
 *   webview.first_paint_total_ms_1m  page navigation → first frame, including page load and
 *                                    moving the IPC bytes into the page (report only)
 *   webview.frame_p95_ms_1m          p95 of synchronous redraws while zooming and panning
 *   webview.heap_mb_1m               JS heap + array buffers with the recording open
 * There is no slower tool to compare with, so the baseline field reports the parts measured in
 * the same run instead: model build vs first draw in the page, and in Node `tableFromIPC` of
 * the same bytes (the floor: Arrow parsing alone) and the model build cold and warm.
 * Usage: node --import tsx bench/webview/first-paint.bench.ts [events]
 */
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { tableFromIPC } from "apache-arrow";
import { openRecordingPage, type PageGlobals } from "../../extension/src/headless/render";
import { RecordingModel } from "../../webview/src/data/model";
import { syntheticRecording } from "./synthetic-recording";

const root = join(__dirname, "../..");
const EVENTS = Number(process.argv[2] ?? 1_000_000);
const RUNS = 3;
const suffix = EVENTS === 1_000_000 ? "1m" : `${EVENTS}`;
const LOAD_SLICE_NOTE = "60 ms";

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

function emit(name: string, value: number, unit: string, target: number | null, better: "lower" | "higher" | "report", baseline: string): void {
  console.log(JSON.stringify({ name, value: Math.round(value * 10) / 10, unit, target, better, baseline }));
}

async function main(): Promise<void> {
  execFileSync(process.execPath, [join(root, "scripts/build.mjs"), "webview"], { cwd: root, stdio: ["ignore", "ignore", "inherit"], env: { ...process.env, NODE_ENV: "production" } });
  const t0 = performance.now();
  const bytes = syntheticRecording(EVENTS);
  const mb = bytes.byteLength / 1024 / 1024;
  console.log(`generated ${EVENTS} events, ${mb.toFixed(0)} MB Arrow IPC file, in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  // Same-run baselines in Node: Arrow parsing alone, and the model build (cold, then warm).
  let t = performance.now();
  tableFromIPC(bytes);
  const arrowMs = performance.now() - t;
  const nodeModel: number[] = [];
  for (let i = 0; i < 3; i++) {
    t = performance.now();
    RecordingModel.fromIPC(bytes);
    nodeModel.push(performance.now() - t);
  }

  const paint: number[] = [];
  const loaded: number[] = [];
  const total: number[] = [];
  const slice: number[] = [];
  let frames: number[] = [];
  let heapMb = 0;
  for (let run = 0; run < RUNS; run++) {
    const p = await openRecordingPage({ recording: bytes, distDir: join(root, "dist"), width: 1600, height: 900, timeoutMs: 120_000 });
    try {
      if (p.events !== EVENTS) throw new Error(`webview drew ${p.events} events, expected ${EVENTS}`);
      const marks = await p.page.evaluate(() => (globalThis as unknown as PageGlobals).__elixirScopeTest!.marks());
      const got = marks["elixirscope:bytes"];
      const drawn = marks["elixirscope:drawn"];
      paint.push(marks["elixirscope:first-frame"] - got);
      slice.push(marks["elixirscope:first-slice"] - got);
      loaded.push(drawn - got);
      total.push(drawn);
      if (run === RUNS - 1) {
        frames = await p.page.evaluate(() => {
          const h = (globalThis as unknown as PageGlobals).__elixirScopeTest!;
          const out: number[] = [];
          out.push(h.drawTimed()); // fully zoomed out: every call is visited
          for (let i = 0; i < 30; i++) {
            h.zoomBy(0.8);
            out.push(h.drawTimed());
          }
          for (let i = 0; i < 30; i++) {
            h.panBy(i % 2 ? -240 : 200);
            out.push(h.drawTimed());
          }
          for (let i = 0; i < 30; i++) {
            h.zoomBy(1.25);
            out.push(h.drawTimed());
          }
          return out;
        });
        const cdp = await p.context.newCDPSession(p.page);
        await cdp.send("HeapProfiler.collectGarbage");
        const usage = (await cdp.send("Runtime.getHeapUsage")) as { usedSize: number; backingStorageSize?: number };
        heapMb = (usage.usedSize + (usage.backingStorageSize ?? 0)) / 1024 / 1024;
      }
    } finally {
      await p.close();
    }
  }
  const node = `same bytes in Node: tableFromIPC ${arrowMs.toFixed(0)} ms, whole model build cold ${nodeModel[0].toFixed(0)} / warm ${median(nodeModel.slice(1)).toFixed(0)} ms`;
  emit(
    `webview.first_paint_ms_${suffix}`,
    median(paint),
    "ms",
    2000,
    "lower",
    `median of ${RUNS}, ${EVENTS} events (${mb.toFixed(0)} MB IPC) in the page → first frame (parse + first ${LOAD_SLICE_NOTE} slice ${median(slice).toFixed(0)} ms, rest loading behind it); ${node}`,
  );
  emit(`webview.load_ms_${suffix}`, median(loaded), "ms", 2000, "lower", `median of ${RUNS}: bytes in the page → all ${EVENTS} events in the model and drawn, loading in slices with frames in between`);
  emit(`webview.first_paint_total_ms_${suffix}`, median(total), "ms", null, "report", `median of ${RUNS}: navigation → first frame, incl. moving ${mb.toFixed(0)} MB into headless Chromium through Playwright's route (not how VS Code delivers it)`);
  emit(`webview.frame_p95_ms_${suffix}`, percentile(frames, 95), "ms", 16, "lower", `${frames.length} synchronous redraws (1600x900) while zooming in/out and panning; max ${Math.max(...frames).toFixed(1)} ms, fully zoomed out ${frames[0].toFixed(1)} ms`);
  emit(`webview.heap_mb_${suffix}`, heapMb, "MB", 1024, "lower", `JS heap + array buffers after GC with the recording open, incl. the ${mb.toFixed(0)} MB IPC bytes kept for lazy strings`);
}

main().catch((e: unknown) => {
  console.error((e as Error).stack ?? String(e));
  process.exit(1);
});
