/**
 * The webview's only door to the outside. Inside VS Code it talks to the TimelinePanel through
 * `acquireVsCodeApi().postMessage` and `message` events; standalone (the headless renderer,
 * tests, a plain browser) it fetches the recording from the page's `data-recording-url` and
 * keeps what it would have posted in `window.__elixirScopeOutbox` for tests to read.
 * Every incoming message is validated with the protocol's `parseToWebview`.
 */
import { parseToWebview, type FromWebview, type ToWebview } from "../../protocol/src/webview";

interface VsCodeApi {
  postMessage(message: unknown): void;
}

declare global {
  interface Window {
    acquireVsCodeApi?: () => VsCodeApi;
    /** Standalone only: every message the webview posted, oldest first. */
    __elixirScopeOutbox?: FromWebview[];
  }
}

export interface HostHandlers {
  onMessage(message: ToWebview): void;
  /** A problem the user should see (a recording that could not be fetched). */
  onError(message: string): void;
}

export interface Host {
  readonly standalone: boolean;
  post(message: FromWebview): void;
  /** Starts listening; says `ready` to the host (or fetches the recording standalone). */
  start(handlers: HostHandlers): () => void;
}

export function createHost(root: HTMLElement, win: Window = window): Host {
  const vscode = typeof win.acquireVsCodeApi === "function" ? win.acquireVsCodeApi() : undefined;
  const outbox = vscode ? undefined : (win.__elixirScopeOutbox ??= []);
  const post = (message: FromWebview) => {
    if (vscode) vscode.postMessage(message);
    else outbox!.push(message);
  };
  return {
    standalone: !vscode,
    post,
    start(handlers) {
      const listener = (event: MessageEvent) => {
        const message = parseToWebview(event.data);
        if (message) handlers.onMessage(message);
      };
      win.addEventListener("message", listener);
      post({ t: "ready" });
      const url = root.dataset.recordingUrl;
      if (!vscode && url) void fetchRecording(url, root.dataset.title ?? "", handlers);
      return () => win.removeEventListener("message", listener);
    },
  };
}

async function fetchRecording(url: string, title: string, handlers: HostHandlers): Promise<void> {
  let bytes: Uint8Array;
  try {
    bytes = await fetchInRanges(url);
  } catch (e) {
    handlers.onError(`Could not load the recording from ${url}: ${(e as Error).message}.`);
    return;
  }
  handlers.onMessage({ t: "recording", bytes, title });
}

/** Range requests of this size: big recordings arrive in pieces, into one buffer. */
const RANGE_BYTES = 16 * 1024 * 1024;
const RANGES_IN_FLIGHT = 3;

/**
 * Fetches a file with HTTP range requests when the server answers them (the headless
 * renderer's does: it cannot hand hundreds of MB to the page in one response), else whole.
 */
async function fetchInRanges(url: string): Promise<Uint8Array> {
  const range = async (start: number, end: number) => {
    const response = await fetch(url, { headers: { Range: `bytes=${start}-${end - 1}` } });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    return response;
  };
  const first = await range(0, RANGE_BYTES);
  const total = Number(/\/(\d+)$/.exec(first.headers.get("Content-Range") ?? "")?.[1] ?? NaN);
  if (first.status !== 206 || !Number.isFinite(total)) return new Uint8Array(await first.arrayBuffer());
  const out = new Uint8Array(total);
  out.set(new Uint8Array(await first.arrayBuffer()), 0);
  let next = RANGE_BYTES;
  const worker = async () => {
    while (next < total) {
      const start = next;
      next = Math.min(total, start + RANGE_BYTES);
      const response = await range(start, next);
      if (response.status !== 206) throw new Error(`the server ignored a range request (HTTP ${response.status})`);
      out.set(new Uint8Array(await response.arrayBuffer()), start);
    }
  };
  await Promise.all(Array.from({ length: RANGES_IN_FLIGHT }, worker));
  return out;
}
