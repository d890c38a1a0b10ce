/**
 * Messages between the webview host (extension panel or the CLI's headless page) and the
 * webview. Each is a discriminated union on `t`; the receiver validates before use.
 */
import { parseValueBounds, type ValueBounds } from "./values";

/** host → webview */
export type ToWebview =
  /**
   * A whole recording: Arrow IPC bytes (stream or file format). Replaces what is shown.
   * `values`: how its terms print when the bytes carry no header (a live recording's first batch).
   */
  | { t: "recording"; bytes: Uint8Array; title: string; values?: ValueBounds }
  /** More events of the live recording: Arrow IPC stream bytes. */
  | { t: "append"; bytes: Uint8Array }
  /** Move the shared cursor to an event (by `seq`). */
  | { t: "cursor"; seq: number }
  /** List every call of one function (a code lens was clicked). */
  | { t: "calls"; module: string; function: string; arity: number };

/** webview → host */
export type FromWebview =
  /** The webview has loaded and listens. */
  | { t: "ready" }
  /** The user selected an event: reveal its source. */
  | { t: "reveal"; file: string; line: number; seq: number }
  /** The scrub cursor moved to an event. */
  | { t: "cursor"; seq: number };

/** Validates a message from the host; returns it typed or undefined. */
export function parseToWebview(m: unknown): ToWebview | undefined {
  if (typeof m !== "object" || m === null) return undefined;
  const o = m as Record<string, unknown>;
  switch (o.t) {
    case "recording": {
      if (!(o.bytes instanceof Uint8Array) || typeof o.title !== "string") return undefined;
      const values = parseValueBounds(o.values);
      return values ? { t: "recording", bytes: o.bytes, title: o.title, values } : { t: "recording", bytes: o.bytes, title: o.title };
    }
    case "append":
      return o.bytes instanceof Uint8Array ? (o as ToWebview) : undefined;
    case "cursor":
      return typeof o.seq === "number" ? (o as ToWebview) : undefined;
    case "calls":
      return typeof o.module === "string" && typeof o.function === "string" && Number.isInteger(o.arity)
        ? { t: "calls", module: o.module, function: o.function, arity: o.arity as number }
        : undefined;
    default:
      return undefined;
  }
}

/** Validates a message from the webview; returns it typed or undefined. */
export function parseFromWebview(m: unknown): FromWebview | undefined {
  if (typeof m !== "object" || m === null) return undefined;
  const o = m as Record<string, unknown>;
  switch (o.t) {
    case "ready":
      return { t: "ready" };
    case "reveal":
      return typeof o.file === "string" && typeof o.line === "number" && typeof o.seq === "number"
        ? { t: "reveal", file: o.file, line: o.line, seq: o.seq }
        : undefined;
    case "cursor":
      return typeof o.seq === "number" ? { t: "cursor", seq: o.seq } : undefined;
    default:
      return undefined;
  }
}

/** State the webview reports to its test drivers (`window.__elixirScopeTest.state()`). */
export interface TestState {
  state: string;
  events: number;
  lanes: number;
  calls: number;
  exceptions: number;
  cursorSeq: number | null;
  selectedSeq: number | null;
  range: [number, number] | null;
}

/**
 * `window.__elixirScopeTest`: deterministic handles for tests and benchmarks, installed by the
 * webview (webview/src/test-hooks.ts) and used by the headless renderer and the UI tests.
 */
export interface TestHooks {
  state(): TestState;
  /** Client rectangle of the call bar that event `seq` belongs to, or null if not on screen. */
  eventBox(seq: number): { x: number; y: number; width: number; height: number } | null;
  /** Zooms to the call of event `seq`; false if it has none. */
  focusSeq(seq: number): boolean;
  /** seq of the Call event of the latest call that started at or before event `seq`, or null. */
  callBefore(seq: number): number | null;
  /**
   * Zooms to the call of event `seq` (or, for an event outside recorded code, the call before
   * it) and resolves with the centre of its bar once it is on screen, looking again at each
   * animation frame (the view may still be settling its size); after a second without one the
   * call before is tried; null after ~10 s.
   */
  clickTarget(seq: number): Promise<{ seq: number; x: number; y: number } | null>;
  /** seq of the first call of `Module.function` with this printed argument list, or null. */
  findCall(fn: string, args: string): number | null;
  /** Redraws synchronously; returns the time taken (ms). */
  drawTimed(): number;
  zoomBy(factor: number): void;
  panBy(pixels: number): void;
  /** performance marks of the last load, ms since navigation start. */
  marks(): Record<string, number>;
}
