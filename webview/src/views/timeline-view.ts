/**
 * The timeline canvas: one lane per process, calls as flame-style bars stacked by depth
 * (x = time), raised calls in red, a density overview of the whole recording, a time axis and
 * the scrub cursor, with messages (send → receive arrows), spawn links and exits drawn over the
 * lanes. Imperative on purpose: React renders the chrome around it, while zooming,
 * panning and scrubbing redraw this canvas straight from the model's typed arrays, without a
 * React render per frame.
 *
 * Interaction: wheel zooms around the pointer (shift+wheel scrolls lanes, horizontal wheel
 * pans), drag pans, a click selects the call under the pointer and moves the cursor, dragging
 * on the axis or the cursor line scrubs, double-click zooms to a call; ←/→ step the cursor,
 * +/−/0 zoom, Enter reveals the selection, Escape clears it.
 */
import { scaleLinear } from "d3";
import { EventKind, shortFunctionLabel } from "../../../protocol/src/events";
import { busiestWindow, CallFlag, type RecordingModel } from "../data/model";
import { formatTick } from "../data/format";
import { PaintBatch } from "./paint-batch";
import { ColorResolver, pack, PixelRaster } from "./pixels";
import { shade, type Theme } from "./theme";

export const OVERVIEW_H = 30;
export const AXIS_H = 24;
/** Height of the fixed band above the lanes (overview + axis). */
export const TOP = OVERVIEW_H + AXIS_H;
export const ROW_H = 18;
export const BAR_H = 16;
export const LANE_PAD_TOP = 8;
export const LANE_PAD_BOTTOM = 10;
export const MIN_LANE_H = 46;

/** Narrowest visible time range, ns: below this the axis stops being meaningful. */
const MIN_RANGE_NS = 200;
const CLICK_SLOP_PX = 3;
/** Calls narrower than this (px) merge with touching neighbours into one rectangle. */
const MERGE_BELOW_PX = 4;
/** Calls at least this wide (px) get a label. */
const LABEL_MIN_PX = 34;
const CURSOR_GRAB_PX = 5;
/** Process events (messages, spawns, exits) drawn at most; more in view are not drawn. */
const MAX_PROCESS_MARKS = 4_000;

export interface LaneLayout {
  tops: Float64Array;
  heights: Float64Array;
  total: number;
}

export interface HoverInfo {
  call: number;
  x: number;
  y: number;
}

export interface TimelineCallbacks {
  /** The user clicked a call bar. */
  select(call: number): void;
  /** The user moved the scrub cursor (row of the event under it). */
  cursor(row: number): void;
  /** Lane positions or the vertical scroll changed (the gutter follows). */
  layout(layout: LaneLayout, scrollY: number): void;
  hover(info: HoverInfo | null): void;
  /** The user asked to reveal the selected call's source (Enter). */
  reveal(call: number): void;
  /** A frame was drawn with this model on it. */
  drawn(model: RecordingModel): void;
}

interface PixelColors {
  bg: number;
  alt: number;
  grid: number;
  gridAlt: number;
  border: number;
  error: number;
}

type DragMode = { kind: "none" } | { kind: "pending" | "pan"; x: number; y: number; t0: number; scrollY: number } | { kind: "cursor" } | { kind: "overview" };

export class TimelineView {
  private model: RecordingModel | undefined;
  private theme: Theme;
  private width = 0;
  private height = 0;
  private dpr = 1;
  private t0 = 0;
  private t1 = 1;
  private scrollY = 0;
  /** The user has not zoomed or panned since the recording was loaded: live appends re-fit. */
  private fitted = true;
  /** Model version drawn; appends bump it. */
  private shownVersion = -1;
  /** The model was still loading when set: open on its busiest part once it is complete. */
  private activityFitPending = false;
  private layout: LaneLayout = { tops: new Float64Array(0), heights: new Float64Array(0), total: 0 };
  private cursorRow = -1;
  private selected = -1;
  private hovered = -1;
  private drag: DragMode = { kind: "none" };
  private frame = 0;
  private overviewKey = "";
  private shades: { theme: Theme; pixels: Uint32Array } | undefined;
  /** Label texts and their widths by (module, function, arity). */
  private readonly labels = new Map<number, { full: string; short: string; fullW: number; shortW: number }>();
  private readonly batch = new PaintBatch();
  private readonly raster = new PixelRaster();
  private readonly resolver = new ColorResolver();
  private pixelCache: { theme: Theme; colors: PixelColors } | undefined;
  private overviewImage: HTMLCanvasElement | undefined;
  /** Events per overview pixel column, and how many events are counted in. */
  private density: { model: RecordingModel; key: string; bins: Float32Array; counted: number } | undefined;
  private readonly ctx: CanvasRenderingContext2D;
  private readonly cleanup: (() => void)[] = [];

  constructor(
    private readonly canvas: HTMLCanvasElement,
    theme: Theme,
    private readonly on: TimelineCallbacks,
  ) {
    this.theme = theme;
    const ctx = canvas.getContext("2d", { alpha: false });
    if (!ctx) throw new Error("This webview cannot draw: the browser gave no 2D canvas context.");
    this.ctx = ctx;
    this.listen("pointerdown", (e) => this.onPointerDown(e as PointerEvent));
    this.listen("pointermove", (e) => this.onPointerMove(e as PointerEvent));
    this.listen("pointerup", (e) => this.onPointerUp(e as PointerEvent));
    this.listen("pointerleave", () => this.setHover(-1, 0, 0));
    this.listen("dblclick", (e) => this.onDoubleClick(e as MouseEvent));
    this.listen("wheel", (e) => this.onWheel(e as WheelEvent), { passive: false });
    this.listen("keydown", (e) => this.onKey(e as KeyboardEvent));
    const observer = new ResizeObserver(() => this.resize());
    observer.observe(canvas.parentElement ?? canvas);
    this.cleanup.push(() => observer.disconnect());
    this.resize();
  }

  destroy(): void {
    cancelAnimationFrame(this.frame);
    for (const f of this.cleanup) f();
  }

  // ── state from outside ───────────────────────────────────────────────────────────────

  setModel(model: RecordingModel | undefined): void {
    this.model = model;
    this.cursorRow = -1;
    this.selected = -1;
    this.hovered = -1;
    this.scrollY = 0;
    this.overviewKey = "";
    this.shownVersion = model?.version ?? -1;
    this.relayout();
    this.activityFitPending = model?.loading ?? false;
    if (this.activityFitPending) this.fit();
    else this.fitActivity();
    this.drawNow();
  }

  /** The model grew (live append): keep the view, follow the end if it was never moved. */
  modelChanged(): void {
    if (!this.model || this.model.version === this.shownVersion) return;
    this.shownVersion = this.model.version;
    this.overviewKey = "";
    this.relayout();
    if (this.activityFitPending && !this.model.loading) {
      // The recording finished loading: now its busiest part is known.
      this.activityFitPending = false;
      if (this.fitted) this.fitActivity();
    } else if (this.fitted) this.fit();
    this.invalidate();
  }

  setTheme(theme: Theme): void {
    this.theme = theme;
    this.labels.clear();
    this.batch.reset();
    this.overviewKey = "";
    this.invalidate();
  }

  setSelected(call: number): void {
    if (call === this.selected) return;
    this.selected = call;
    this.invalidate();
  }

  /** Moves the cursor to an event; with `reveal`, scrolls it into view. Does not notify. */
  setCursorRow(row: number, reveal: boolean): void {
    const m = this.model;
    if (!m || row < 0 || row >= m.count) return;
    this.cursorRow = row;
    if (reveal) {
      const t = m.ts[row];
      if (t < this.t0 || t > this.t1) this.panTo(t);
      this.scrollLaneIntoView(m.pid[row], m.callOf[row] >= 0 ? m.callDepth[m.callOf[row]] : 0);
    }
    this.invalidate();
  }

  get cursor(): number {
    return this.cursorRow;
  }

  get visibleRange(): [number, number] {
    return [this.t0, this.t1];
  }

  /** Zooms and scrolls so the call fills the middle of the view. */
  focusCall(call: number): void {
    const m = this.model;
    if (!m || call < 0 || call >= m.callCount) return;
    const start = m.callStart[call];
    const end = m.endOf(call);
    const span = Math.max(MIN_RANGE_NS, (end - start) / 0.6);
    this.setRange((start + end) / 2 - span / 2, (start + end) / 2 + span / 2);
    this.scrollLaneIntoView(m.callLane[call], m.callDepth[call]);
    this.drawNow();
  }

  /** Client-space rectangle of a call bar (by any of its events' seq, process events included), or null if hidden. */
  eventBox(seq: number): { x: number; y: number; width: number; height: number } | null {
    const m = this.model;
    if (!m) return null;
    const call = m.enclosingCall(m.rowOfSeq(seq));
    if (call < 0) return null;
    const r = this.callRect(call);
    if (!r) return null;
    const x0 = Math.max(0, r.x);
    const x1 = Math.min(this.width, r.x + r.w);
    const y0 = Math.max(TOP, r.y);
    const y1 = Math.min(this.height, r.y + BAR_H);
    if (x1 <= x0 || y1 <= y0) return null;
    const origin = this.canvas.getBoundingClientRect();
    return { x: origin.left + x0, y: origin.top + y0, width: x1 - x0, height: y1 - y0 };
  }

  /** Draws now and returns how long it took (ms); for benchmarks. */
  drawTimed(): number {
    const start = performance.now();
    this.drawNow();
    // Reading a pixel makes Chromium rasterise the recorded canvas commands now, so the time
    // includes painting and not only recording them.
    this.ctx.getImageData(0, 0, 1, 1);
    return performance.now() - start;
  }

  /** Programmatic zoom around the view's centre (benchmarks, keyboard). */
  zoomBy(factor: number, atX = this.width / 2): void {
    const t = this.timeAt(atX);
    this.setRange(t - (t - this.t0) * factor, t + (this.t1 - t) * factor);
    this.fitted = false;
    this.invalidate();
  }

  panByPixels(dx: number): void {
    const dt = (dx / this.width) * (this.t1 - this.t0);
    this.setRange(this.t0 + dt, this.t1 + dt);
    this.fitted = false;
    this.invalidate();
  }

  // ── geometry ─────────────────────────────────────────────────────────────────────────

  private resize(): void {
    const box = (this.canvas.parentElement ?? this.canvas).getBoundingClientRect();
    const dpr = window.devicePixelRatio || 1;
    const w = Math.max(0, Math.floor(box.width));
    const h = Math.max(0, Math.floor(box.height));
    if (w === this.width && h === this.height && dpr === this.dpr) return;
    this.width = w;
    this.height = h;
    this.dpr = dpr;
    this.canvas.width = Math.round(w * dpr);
    this.canvas.height = Math.round(h * dpr);
    this.clampScroll();
    this.on.layout(this.layout, this.scrollY);
    this.drawNow();
  }

  private relayout(): void {
    const lanes = this.model?.lanes ?? [];
    const tops = new Float64Array(lanes.length);
    const heights = new Float64Array(lanes.length);
    let y = 0;
    lanes.forEach((lane, i) => {
      tops[i] = y;
      heights[i] = Math.max(MIN_LANE_H, LANE_PAD_TOP + Math.max(1, lane.maxDepth + 1) * ROW_H + LANE_PAD_BOTTOM);
      y += heights[i];
    });
    this.layout = { tops, heights, total: y };
    this.clampScroll();
    this.on.layout(this.layout, this.scrollY);
  }

  /** Where the recording starts and how long it is (ns), including events still loading. */
  private extent(): { lo: number; full: number } {
    const [lo, hi] = this.model ? this.model.timeSpan() : [0, 1];
    return { lo, full: Math.max(MIN_RANGE_NS * 5, hi - lo) };
  }

  private get scale(): number {
    return this.width / (this.t1 - this.t0);
  }

  private timeAt(x: number): number {
    return this.t0 + x / this.scale;
  }

  private fit(): void {
    const m = this.model;
    if (!m || m.count === 0) {
      this.t0 = 0;
      this.t1 = 1;
      return;
    }
    const span = this.extent().full;
    const pad = span * 0.015;
    this.t0 = this.extent().lo - pad;
    this.t1 = this.extent().lo + span + pad;
    this.fitted = true;
  }

  /**
   * Opens on the recording's activity: the whole recording, unless 90% of its events happen
   * within less than 40% of its time (an idle start, then a burst); then on that burst.
   */
  private fitActivity(): void {
    this.fit();
    const m = this.model;
    if (!m || m.count < 20) return;
    const full = this.extent().full;
    const [a, b] = busiestWindow(m.ts, m.count, 0.9);
    if (b - a >= full * 0.4) return;
    const pad = Math.max((b - a) * 0.05, MIN_RANGE_NS);
    this.setRange(a - pad, b + pad);
    this.fitted = false;
  }

  private setRange(t0: number, t1: number): void {
    const m = this.model;
    if (!m || m.count === 0) return;
    const full = this.extent().full;
    let range = Math.min(Math.max(t1 - t0, MIN_RANGE_NS), full * 1.25);
    const mid = (t0 + t1) / 2;
    let a = mid - range / 2;
    // Keep some of the recording on screen: panning stops at its ends (plus a margin).
    const lo = this.extent().lo - full * 0.1;
    const hi = this.extent().lo + full * 1.1;
    if (a < lo) a = lo;
    if (a + range > hi) a = Math.max(lo, hi - range);
    range = Math.min(range, hi - lo);
    this.t0 = a;
    this.t1 = a + range;
  }

  private panTo(t: number): void {
    const half = (this.t1 - this.t0) / 2;
    this.setRange(t - half, t + half);
  }

  private clampScroll(): void {
    const max = Math.max(0, this.layout.total - (this.height - TOP));
    this.scrollY = Math.min(Math.max(0, this.scrollY), max);
  }

  private setScroll(y: number): void {
    const before = this.scrollY;
    this.scrollY = y;
    this.clampScroll();
    if (this.scrollY !== before) this.on.layout(this.layout, this.scrollY);
  }

  private scrollLaneIntoView(lane: number, depth: number): void {
    if (lane < 0 || lane >= this.layout.tops.length) return;
    const rowTop = this.layout.tops[lane] + LANE_PAD_TOP + depth * ROW_H;
    const view = this.height - TOP;
    if (rowTop < this.scrollY || rowTop + ROW_H > this.scrollY + view) this.setScroll(rowTop - view / 3);
  }

  /** Canvas-space rectangle of a call (unclipped). */
  private callRect(call: number): { x: number; y: number; w: number } | null {
    const m = this.model!;
    const lane = m.callLane[call];
    if (lane >= this.layout.tops.length) return null;
    const k = this.scale;
    const x = (m.callStart[call] - this.t0) * k;
    const w = Math.max(m.callFlags[call] & CallFlag.Raised ? 3 : 1, (m.endOf(call) - m.callStart[call]) * k);
    const y = TOP + this.layout.tops[lane] - this.scrollY + LANE_PAD_TOP + m.callDepth[call] * ROW_H;
    return { x, y, w };
  }

  private laneAt(y: number): number {
    const contentY = y - TOP + this.scrollY;
    const { tops, heights } = this.layout;
    let lo = 0;
    let hi = tops.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (contentY < tops[mid]) hi = mid - 1;
      else if (contentY >= tops[mid] + heights[mid]) lo = mid + 1;
      else return mid;
    }
    return -1;
  }

  /** The call bar under a canvas point, or -1. */
  hitTest(x: number, y: number): number {
    const m = this.model;
    if (!m || y < TOP) return -1;
    const lane = this.laneAt(y);
    if (lane < 0) return -1;
    const rel = y - TOP + this.scrollY - this.layout.tops[lane] - LANE_PAD_TOP;
    if (rel < 0) return -1;
    const depth = Math.floor(rel / ROW_H);
    if (rel - depth * ROW_H > BAR_H) return -1;
    return m.callAt(lane, depth, this.timeAt(x), 3 / this.scale);
  }

  // ── input ────────────────────────────────────────────────────────────────────────────

  private listen(type: string, handler: (e: Event) => void, options?: AddEventListenerOptions): void {
    this.canvas.addEventListener(type, handler, options);
    this.cleanup.push(() => this.canvas.removeEventListener(type, handler, options));
  }

  private point(e: MouseEvent): [number, number] {
    const r = this.canvas.getBoundingClientRect();
    return [e.clientX - r.left, e.clientY - r.top];
  }

  private cursorX(): number {
    const m = this.model;
    return m && this.cursorRow >= 0 ? (m.ts[this.cursorRow] - this.t0) * this.scale : -100;
  }

  private onPointerDown(e: PointerEvent): void {
    if (!this.model || e.button !== 0) return;
    this.canvas.focus();
    this.canvas.setPointerCapture(e.pointerId);
    const [x, y] = this.point(e);
    if (y < OVERVIEW_H) {
      this.drag = { kind: "overview" };
      this.overviewJump(x);
    } else if (y < TOP || Math.abs(x - this.cursorX()) <= CURSOR_GRAB_PX) {
      this.drag = { kind: "cursor" };
      this.scrubTo(x);
    } else {
      this.drag = { kind: "pending", x, y, t0: this.t0, scrollY: this.scrollY };
    }
  }

  private onPointerMove(e: PointerEvent): void {
    const [x, y] = this.point(e);
    const d = this.drag;
    if (d.kind === "overview") return this.overviewJump(x);
    if (d.kind === "cursor") return this.scrubTo(x);
    if (d.kind === "pending" && Math.hypot(x - d.x, y - d.y) > CLICK_SLOP_PX) {
      this.drag = { ...d, kind: "pan" };
      this.setHover(-1, 0, 0);
    }
    if (d.kind === "pending" || d.kind === "pan") {
      if (this.drag.kind !== "pan") return;
      const range = this.t1 - this.t0;
      const t0 = d.t0 - (x - d.x) / this.scale;
      this.setRange(t0, t0 + range);
      this.setScroll(d.scrollY - (y - d.y));
      this.fitted = false;
      this.canvas.style.cursor = "grabbing";
      this.invalidate();
      return;
    }
    const call = this.hitTest(x, y);
    this.setHover(call, x, y);
    this.canvas.style.cursor = y < OVERVIEW_H ? "pointer" : y < TOP || Math.abs(x - this.cursorX()) <= CURSOR_GRAB_PX ? "ew-resize" : call >= 0 ? "pointer" : "default";
  }

  private onPointerUp(e: PointerEvent): void {
    const d = this.drag;
    this.drag = { kind: "none" };
    if (this.canvas.hasPointerCapture(e.pointerId)) this.canvas.releasePointerCapture(e.pointerId);
    this.canvas.style.cursor = "default";
    if (d.kind !== "pending" || !this.model) return;
    const [x, y] = this.point(e);
    const call = this.hitTest(x, y);
    if (call >= 0) {
      this.selected = call;
      this.cursorRow = this.model.callRow[call];
      this.on.select(call);
      this.on.cursor(this.cursorRow);
      this.invalidate();
    } else {
      this.scrubTo(x);
    }
  }

  private onDoubleClick(e: MouseEvent): void {
    const [x, y] = this.point(e);
    const call = this.hitTest(x, y);
    if (call >= 0) {
      this.fitted = false;
      this.focusCall(call);
    }
  }

  private onWheel(e: WheelEvent): void {
    if (!this.model) return;
    e.preventDefault();
    const unit = e.deltaMode === 1 ? 16 : e.deltaMode === 2 ? this.height : 1;
    const dx = e.deltaX * unit;
    const dy = e.deltaY * unit;
    if (e.shiftKey && !e.ctrlKey) {
      this.setScroll(this.scrollY + dy);
      this.invalidate();
    } else if (Math.abs(dx) > Math.abs(dy)) {
      this.panByPixels(dx);
    } else {
      this.zoomBy(Math.exp(dy * (e.ctrlKey ? 0.01 : 0.0018)), this.point(e)[0]);
    }
  }

  private onKey(e: KeyboardEvent): void {
    const m = this.model;
    if (!m) return;
    const step = (delta: number) => {
      // Metric samples are no step of any process: skipped.
      const row = m.stepRow(this.cursorRow < 0 ? 0 : this.cursorRow, delta);
      if (row < 0) return;
      this.setCursorRow(row, true);
      this.on.cursor(row);
    };
    const keys: Record<string, () => void> = {
      ArrowRight: () => step(e.shiftKey ? 10 : 1),
      ArrowLeft: () => step(e.shiftKey ? -10 : -1),
      Home: () => step(-m.count),
      End: () => step(m.count),
      "+": () => this.zoomBy(0.7),
      "=": () => this.zoomBy(0.7),
      "-": () => this.zoomBy(1 / 0.7),
      "0": () => {
        this.fit();
        this.invalidate();
      },
      Enter: () => this.selected >= 0 && this.on.reveal(this.selected),
      Escape: () => {
        this.selected = -1;
        this.on.select(-1);
        this.invalidate();
      },
    };
    const action = keys[e.key];
    if (action) {
      e.preventDefault();
      action();
    }
  }

  private scrubTo(x: number): void {
    const m = this.model!;
    const row = m.eventRowNear(Math.max(0, m.rowAtTime(this.timeAt(Math.min(Math.max(0, x), this.width)))));
    if (row >= 0 && row !== this.cursorRow) {
      this.cursorRow = row;
      this.on.cursor(row);
      this.invalidate();
    }
  }

  private overviewJump(x: number): void {
    const { lo, full } = this.extent();
    this.panTo(lo + (Math.min(Math.max(0, x), this.width) / this.width) * full);
    this.fitted = false;
    this.invalidate();
  }

  private setHover(call: number, x: number, y: number): void {
    if (call === this.hovered && call < 0) return;
    const changed = call !== this.hovered;
    this.hovered = call;
    this.on.hover(call >= 0 ? { call, x, y } : null);
    if (changed) this.invalidate();
  }

  // ── drawing ──────────────────────────────────────────────────────────────────────────

  invalidate(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.drawNow();
    });
  }

  drawNow(): void {
    if (this.frame) {
      cancelAnimationFrame(this.frame);
      this.frame = 0;
    }
    const { ctx, theme } = this;
    if (this.width === 0 || this.height === 0) return;
    ctx.setTransform(this.dpr, 0, 0, this.dpr, 0, 0);
    ctx.fillStyle = theme.background;
    ctx.fillRect(0, 0, this.width, this.height);
    const m = this.model;
    if (!m) return;
    if (m.count === 0) return this.on.drawn(m);
    const ticks = scaleLinear().domain([this.t0, this.t1]).range([0, this.width]).ticks(Math.max(2, Math.floor(this.width / 130)));
    this.drawLanes(ticks);
    this.drawOverview();
    this.drawAxis(ticks);
    this.drawCursor();
    this.on.drawn(m);
  }

  /** Pixel values of the theme's colours for the raster (lane rows are opaque). */
  private pixelColors(): PixelColors {
    if (this.pixelCache?.theme === this.theme) return this.pixelCache.colors;
    const colors = this.resolvePixelColors();
    this.pixelCache = { theme: this.theme, colors };
    return colors;
  }

  private resolvePixelColors(): PixelColors {
    const t = this.theme;
    const r = this.resolver;
    const alt = `${t.laneAlt}`;
    return {
      bg: r.over(t.background, t.background),
      alt: r.over(alt, t.background),
      grid: r.over(t.grid, t.background),
      gridAlt: this.blend(t.grid, alt),
      border: r.over(t.border, t.background),
      error: r.over(t.error, t.background),
    };
  }

  /** `top` over (`under` over the background). */
  private blend(top: string, under: string): number {
    const v = this.resolver.over(under, this.theme.background);
    const rgb = `rgb(${v & 255}, ${(v >>> 8) & 255}, ${(v >>> 16) & 255})`;
    return this.resolver.over(top, rgb);
  }

  private drawLanes(ticks: number[]): void {
    const { ctx, layout, raster } = this;
    const m = this.model!;
    const d = this.dpr;
    const top = Math.round(TOP * d);
    raster.resize(ctx, Math.round(this.width * d), Math.round(this.height * d) - top);
    const colors = this.pixelColors();
    raster.clear(colors.bg);
    const k = this.scale;
    const gridX = ticks.map((t) => Math.round((t - this.t0) * k * d));
    for (const x of gridX) raster.fill(colors.grid, x, 0, x + Math.max(1, Math.round(d)), raster.height);
    ctx.font = `11px ${this.theme.font}`;
    ctx.textBaseline = "middle";
    for (let lane = 0; lane < m.lanes.length; lane++) {
      const y0 = TOP + layout.tops[lane] - this.scrollY;
      const h = layout.heights[lane];
      if (y0 + h < TOP) continue;
      if (y0 > this.height) break;
      const ry0 = Math.round(y0 * d) - top;
      const ry1 = Math.round((y0 + h) * d) - top;
      if (lane % 2 === 1) {
        raster.fill(colors.alt, 0, ry0, raster.width, ry1);
        for (const x of gridX) raster.fill(colors.gridAlt, x, ry0, x + Math.max(1, Math.round(d)), ry1);
      }
      raster.fill(colors.border, 0, ry1 - Math.max(1, Math.round(d)), raster.width, ry1);
      const tracks = m.lanes[lane].tracks;
      for (let depth = 0; depth < tracks.length; depth++) {
        const y = y0 + LANE_PAD_TOP + depth * ROW_H;
        if (y + BAR_H < TOP) continue;
        if (y > this.height) break;
        this.drawTrack(lane, depth, y, Math.round(y * d) - top, Math.round((y + BAR_H) * d) - top, colors.error);
      }
    }
    ctx.putImageData(raster.image!, 0, top);
    ctx.save();
    ctx.beginPath();
    ctx.rect(0, TOP, this.width, this.height - TOP);
    ctx.clip();
    this.batch.paint(ctx);
    this.drawProcessEvents();
    this.drawExceptionMarks();
    this.outline(this.hovered, this.theme.foreground, 1);
    this.outline(this.selected, this.theme.accent, 2);
    ctx.restore();
  }

  /** One depth of one lane: bars into the raster (rows ry0..ry1), labels into the batch. */
  private drawTrack(lane: number, depth: number, y: number, ry0: number, ry1: number, errorPx: number): void {
    const m = this.model!;
    const { raster } = this;
    const track = m.lanes[lane].tracks[depth];
    const items = track.items;
    const d = this.dpr;
    const k = this.scale;
    const t0 = this.t0;
    const t1 = this.t1;
    const w = this.width;
    let i = m.firstStartingAtOrAfter(track, t0);
    if (i > 0) i--;
    // Calls narrower than a few pixels merge with their neighbours into runs (on whole
    // pixels, so real gaps stay visible): a dense track costs at most a rectangle per few
    // pixel columns, whatever the number of calls.
    let runStart = 0;
    let runEnd = -1;
    let runColor = 0;
    for (; i < track.length; i++) {
      const c = items[i];
      const s = m.callStart[c];
      if (s > t1) break;
      const xe = (m.endOf(c) - t0) * k;
      if (xe < 0) continue;
      const x0 = Math.max(-1, Math.floor((s - t0) * k));
      let x1 = Math.min(w + 1, Math.max(x0 + 1, Math.ceil(xe)));
      const raised = (m.callFlags[c] & CallFlag.Raised) !== 0;
      if (!raised && x1 - x0 < MERGE_BELOW_PX) {
        if (runEnd >= 0 && x0 <= runEnd) {
          if (x1 > runEnd) runEnd = x1;
        } else {
          if (runEnd >= 0) raster.fill(runColor, Math.round(runStart * d), ry0, Math.round(runEnd * d), ry1);
          runStart = x0;
          runEnd = x1;
          runColor = this.colorOf(c);
        }
        continue;
      }
      if (runEnd >= 0) raster.fill(runColor, Math.round(runStart * d), ry0, Math.round(runEnd * d), ry1);
      runEnd = -1;
      if (raised) x1 = Math.max(x1, x0 + 3);
      // A one-pixel gap at the right keeps neighbouring calls apart.
      raster.fill(raised ? errorPx : this.colorOf(c), Math.round(x0 * d), ry0, Math.round((x1 - 1) * d), ry1);
      if (x1 - x0 >= LABEL_MIN_PX) this.label(c, x0, x1, y, raised);
    }
    if (runEnd >= 0) raster.fill(runColor, Math.round(runStart * d), ry0, Math.round(runEnd * d), ry1);
  }

  private label(c: number, x0: number, x1: number, y: number, raised: boolean): void {
    const m = this.model!;
    const row = m.callRow[c];
    const fn = m.functionId(row);
    const arity = m.arityOf(row);
    const key = (m.moduleId(row) * 1_048_576 + fn) * 256 + (arity & 255);
    let l = this.labels.get(key);
    if (!l) {
      const short = shortFunctionLabel(m.functionOf(row), arity);
      const full = m.labelOf(row);
      const ctx = this.ctx;
      l = { full, short, fullW: ctx.measureText(full).width, shortW: ctx.measureText(short).width };
      if (this.labels.size > 20_000) this.labels.clear();
      this.labels.set(key, l);
    }
    const left = Math.max(x0, 0) + 5;
    const room = Math.min(x1, this.width) - left - 6;
    let text: string;
    if (l.fullW <= room) text = l.full;
    else if (l.shortW <= room) text = l.short;
    else {
      const chars = Math.floor(room / (l.shortW / l.short.length)) - 1;
      if (chars < 3) return;
      text = `${l.short.slice(0, chars)}…`;
    }
    this.batch.text(raised ? this.theme.errorText : this.theme.barText, text, left, y + BAR_H / 2 + 0.5);
  }

  /**
   * Process events over the lanes, in the band above each lane's calls: a message as a thin
   * arrow from its send (sender's lane) to its receive (receiver's lane), a spawn as a dashed
   * link from the parent to the child's lane, an exit as a tick (error colour unless the reason
   * is :normal or a shutdown). Only what lies in the visible time window, at most
   * `MAX_PROCESS_MARKS` of them: beyond that the view is too zoomed out for them to be read.
   */
  private drawProcessEvents(): void {
    const m = this.model!;
    if (m.processEventRows.length === 0) return;
    const [a, b] = m.processEventsBetween(m.rowAtTime(this.t0) + 1, m.rowAtTime(this.t1));
    if (b <= a || b - a > MAX_PROCESS_MARKS) return;
    const { ctx, theme } = this;
    const k = this.scale;
    const xOf = (row: number) => (m.ts[row] - this.t0) * k;
    const yOf = (lane: number) => TOP + this.layout.tops[lane] - this.scrollY + LANE_PAD_TOP / 2;
    ctx.lineWidth = 1;
    for (let i = a; i < b; i++) {
      const row = m.processEventRows.at(i);
      const lane = m.pid[row];
      if (lane < 0 || lane >= this.layout.tops.length) continue;
      const kind = m.kind[row];
      const x = xOf(row);
      const y = yOf(lane);
      if (kind === EventKind.Send || kind === EventKind.Receive) {
        // Each message once: from its send, or from its receive when the send is off screen.
        const send = kind === EventKind.Send ? row : m.sendOf(row);
        if (kind === EventKind.Receive && send >= 0 && m.ts[send] >= this.t0) continue;
        const recv = kind === EventKind.Send ? m.receiveOf(row) : row;
        ctx.strokeStyle = ctx.fillStyle = theme.accent;
        if (send < 0 || recv < 0 || m.pid[send] < 0 || m.pid[recv] < 0) {
          ctx.fillRect(Math.round(x) - 1, y - 2, 3, 3);
          continue;
        }
        this.arrow(xOf(send), yOf(m.pid[send]), xOf(recv), yOf(m.pid[recv]));
      } else if (kind === EventKind.Spawn) {
        const child = m.laneOfPid(m.nameOf(row));
        ctx.strokeStyle = ctx.fillStyle = theme.muted;
        ctx.fillRect(Math.round(x) - 1, y - 2, 3, 3);
        if (child < 0) continue;
        ctx.setLineDash([3, 3]);
        ctx.beginPath();
        ctx.moveTo(x + 0.5, y);
        ctx.lineTo(x + 0.5, yOf(child));
        ctx.stroke();
        ctx.setLineDash([]);
      } else if (kind === EventKind.Exit) {
        const normal = /^(:normal|:shutdown|\{:shutdown, )/.test(m.valueOf(row));
        ctx.fillStyle = normal ? theme.muted : theme.error;
        ctx.fillRect(Math.round(x) - 1, y - 4, 2, 9);
      }
    }
  }

  /** A straight arrow from (x0, y0) to (x1, y1) with a small head, in the current stroke style. */
  private arrow(x0: number, y0: number, x1: number, y1: number): void {
    const { ctx } = this;
    ctx.beginPath();
    ctx.moveTo(x0, y0);
    ctx.lineTo(x1, y1);
    ctx.stroke();
    const angle = Math.atan2(y1 - y0, x1 - x0);
    ctx.beginPath();
    ctx.moveTo(x1, y1);
    ctx.lineTo(x1 - 6 * Math.cos(angle - 0.45), y1 - 6 * Math.sin(angle - 0.45));
    ctx.lineTo(x1 - 6 * Math.cos(angle + 0.45), y1 - 6 * Math.sin(angle + 0.45));
    ctx.closePath();
    ctx.fill();
  }

  private drawExceptionMarks(): void {
    const { ctx, theme, layout } = this;
    const m = this.model!;
    const k = this.scale;
    ctx.fillStyle = theme.error;
    for (let i = 0; i < m.exceptionRows.length; i++) {
      const row = m.exceptionRows.at(i);
      const x = (m.ts[row] - this.t0) * k;
      if (x < -6 || x > this.width + 6) continue;
      const lane = m.pid[row];
      const y = TOP + layout.tops[lane] - this.scrollY + 1;
      if (y < TOP - 8 || y > this.height) continue;
      ctx.beginPath();
      ctx.moveTo(x - 5, y);
      ctx.lineTo(x + 5, y);
      ctx.lineTo(x, y + 6);
      ctx.closePath();
      ctx.fill();
    }
  }

  private outline(call: number, color: string, lineWidth: number): void {
    if (call < 0 || !this.model || call >= this.model.callCount) return;
    const r = this.callRect(call);
    if (!r) return;
    const { ctx } = this;
    ctx.strokeStyle = color;
    ctx.lineWidth = lineWidth;
    const inset = lineWidth / 2;
    ctx.strokeRect(Math.round(r.x) - inset, r.y - inset, Math.max(1, Math.round(r.w)) + lineWidth - 1, BAR_H + lineWidth);
  }

  private drawOverview(): void {
    const { ctx, theme } = this;
    const m = this.model!;
    const w = this.width;
    ctx.drawImage(this.overviewPicture(), 0, 0, w, OVERVIEW_H);
    const full = this.extent().full;
    const toX = (t: number) => ((t - this.extent().lo) / full) * (w - 1);
    // The visible window: dim what is outside it.
    const a = Math.max(0, toX(this.t0));
    const b = Math.min(w, toX(this.t1));
    ctx.fillStyle = theme.dark ? "rgba(0,0,0,0.38)" : "rgba(255,255,255,0.5)";
    ctx.fillRect(0, 0, a, OVERVIEW_H - 1);
    ctx.fillRect(b, 0, w - b, OVERVIEW_H - 1);
    ctx.strokeStyle = theme.accent;
    ctx.lineWidth = 1;
    ctx.strokeRect(Math.round(a) + 0.5, 1.5, Math.max(2, Math.round(b - a) - 1), OVERVIEW_H - 3);
    if (this.cursorRow >= 0) {
      ctx.fillStyle = theme.cursor;
      ctx.fillRect(Math.round(toX(m.ts[this.cursorRow])), 2, 1, OVERVIEW_H - 4);
    }
  }

  /**
   * The overview's still part: events per pixel column over the whole recording and the
   * exceptions, painted once per model version, size and theme.
   */
  private overviewPicture(): HTMLCanvasElement {
    const m = this.model!;
    const key = `${m.version}:${m.count}:${this.width}:${this.dpr}`;
    if (this.overviewImage && key === this.overviewKey) return this.overviewImage;
    const w = this.width;
    const { lo, full } = this.extent();
    // While a recording loads, its span is known and only new events need counting.
    const binsKey = `${w}:${lo}:${full}`;
    let d = this.density;
    if (!d || d.model !== m || d.key !== binsKey || d.counted > m.count) {
      d = this.density = { model: m, key: binsKey, bins: new Float32Array(Math.max(1, w)), counted: 0 };
    }
    const bins = d.bins;
    const f = (bins.length - 1) / full;
    const ts = m.ts;
    for (let i = d.counted; i < m.count; i++) bins[Math.min(bins.length - 1, Math.max(0, ((ts[i] - lo) * f) | 0))]++;
    d.counted = m.count;
    let max = 0;
    for (let i = 0; i < bins.length; i++) if (bins[i] > max) max = bins[i];

    const image = this.overviewImage ?? document.createElement("canvas");
    image.width = Math.max(1, Math.round(w * this.dpr));
    image.height = Math.round(OVERVIEW_H * this.dpr);
    const g = image.getContext("2d")!;
    const { theme } = this;
    g.setTransform(this.dpr, 0, 0, this.dpr, 0, 0);
    g.fillStyle = theme.background;
    g.fillRect(0, 0, w, OVERVIEW_H);
    const h = OVERVIEW_H - 8;
    g.fillStyle = theme.overview;
    for (let x = 0; x < bins.length; x++) {
      if (bins[x] === 0) continue;
      const bh = Math.max(1, Math.sqrt(bins[x] / max) * h);
      g.fillRect(x, OVERVIEW_H - 4 - bh, 1, bh);
    }
    g.fillStyle = theme.error;
    for (let i = 0; i < m.exceptionRows.length; i++) g.fillRect(Math.round((ts[m.exceptionRows.at(i)] - lo) * f), 3, 2, OVERVIEW_H - 7);
    g.fillStyle = theme.border;
    g.fillRect(0, OVERVIEW_H - 1, w, 1);
    this.overviewImage = image;
    this.overviewKey = key;
    return image;
  }

  private drawAxis(ticks: number[]): void {
    const { ctx, theme } = this;
    const y = OVERVIEW_H;
    ctx.fillStyle = theme.background;
    ctx.fillRect(0, y, this.width, AXIS_H);
    ctx.fillStyle = theme.border;
    ctx.fillRect(0, TOP - 1, this.width, 1);
    const k = this.scale;
    const step = ticks.length > 1 ? ticks[1] - ticks[0] : this.t1 - this.t0;
    const magnitude = Math.max(Math.abs(this.t0), Math.abs(this.t1));
    ctx.font = `10.5px ${theme.font}`;
    ctx.textBaseline = "middle";
    for (const t of ticks) {
      const x = Math.round((t - this.t0) * k);
      ctx.fillStyle = theme.grid;
      ctx.fillRect(x, TOP - 7, 1, 6);
      ctx.fillStyle = theme.muted;
      ctx.fillText(formatTick(t, step, magnitude), x + 4, y + AXIS_H / 2 - 1);
    }
  }

  private drawCursor(): void {
    const m = this.model!;
    if (this.cursorRow < 0) return;
    const x = Math.round((m.ts[this.cursorRow] - this.t0) * this.scale);
    if (x < -6 || x > this.width + 6) return;
    const { ctx, theme } = this;
    ctx.fillStyle = theme.cursor;
    ctx.fillRect(x - 0.5, OVERVIEW_H, 1.5, this.height - OVERVIEW_H);
    // A handle on the axis to grab.
    const y = OVERVIEW_H + 3;
    ctx.beginPath();
    ctx.moveTo(x - 6, y);
    ctx.lineTo(x + 6, y);
    ctx.lineTo(x + 6, y + 9);
    ctx.lineTo(x, y + 15);
    ctx.lineTo(x - 6, y + 9);
    ctx.closePath();
    ctx.fill();
  }

  /** Pixel value of a call's bar: its module's hue, a little lighter or darker per function. */
  private colorOf(call: number): number {
    const m = this.model!;
    const shades = this.barShades();
    return shades[(m.callModule[call] % this.theme.palette.length) * 5 + ((m.callFn[call] * 7) % 5)];
  }

  /** Five shades of each palette colour, as pixel values, for the current theme. */
  private barShades(): Uint32Array {
    if (this.shades?.theme === this.theme) return this.shades.pixels;
    const palette = this.theme.palette;
    const pixels = new Uint32Array(palette.length * 5);
    palette.forEach((hex, i) => {
      for (let k = 0; k < 5; k++) {
        const [r, g, b] = shade(hex, (k - 2) * 0.07);
        pixels[i * 5 + k] = pack(r, g, b);
      }
    });
    this.shades = { theme: this.theme, pixels };
    return pixels;
  }


}
