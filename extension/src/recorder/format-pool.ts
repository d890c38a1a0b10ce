/**
 * Worker threads that print the agent's terms (value-text.ts) for the RecordingSession, so that
 * a burst of EVENTS neither stalls the extension host's event loop nor is limited to one core.
 * Each request is one EVENTS payload; the answer is the IPC stream of its batches with text
 * values, which the session decodes (cheap: no copies) and keeps. Answers may come back in any
 * order; the session applies them in the order the frames arrived.
 *
 * Where no worker can be started (the worker script missing, a host without worker threads),
 * `FormatPool.start` returns undefined and the session prints terms itself.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import { Table, tableFromIPC, tableToIPC } from "apache-arrow";
import { withTextValues, type ValueBounds } from "./value-text";

export interface FormatRequest {
  id: number;
  payload: ArrayBuffer;
  bounds: ValueBounds;
}

export interface FormatReply {
  id: number;
  ipc?: Uint8Array;
  error?: string;
}

/** An EVENTS payload with its values printed, as an IPC stream (the payload itself if it has none to print). */
export function formatPayload(payload: Uint8Array, bounds: ValueBounds): Uint8Array {
  const received = tableFromIPC(payload).batches;
  const batches = received.map((b) => withTextValues(b, bounds));
  return batches.some((b, i) => b !== received[i]) ? tableToIPC(new Table(batches), "stream") : payload;
}

/** The worker script beside this module: the bundle's .js, or the .ts source under tsx. */
function workerScript(): string | undefined {
  for (const name of ["format-worker.js", "format-worker.ts"]) {
    const file = join(__dirname, name);
    if (existsSync(file)) return file;
  }
  return undefined;
}

export class FormatPool {
  private readonly waiting = new Map<number, { resolve: (ipc: Uint8Array) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  private turn = 0;
  private failure?: Error;
  private keepAlive?: ReturnType<typeof setInterval>;

  private constructor(private readonly workers: Worker[]) {
    for (const w of workers) {
      w.on("message", (reply: FormatReply) => this.answer(reply));
      w.on("error", (e) => this.fail(e));
      w.on("exit", (code) => {
        if (code !== 0) this.fail(new Error(`a value printing worker stopped (exit code ${code})`));
      });
      // An idle pool does not keep the process alive; one with work does (see `busy`).
      w.unref();
    }
  }

  /** A pool of `size` workers, or undefined where none can be started. */
  static start(size: number): FormatPool | undefined {
    const script = workerScript();
    if (!script || size < 1) return undefined;
    // The TypeScript source is what runs under tsx (tests, benchmarks): it registers itself
    // in the worker before loading the script.
    const spawn = script.endsWith(".ts")
      ? () => new Worker(`require("tsx/cjs"); require(${JSON.stringify(script)});`, { eval: true })
      : () => new Worker(script);
    try {
      return new FormatPool(Array.from({ length: size }, spawn));
    } catch {
      return undefined;
    }
  }

  /** Requests not answered yet. */
  get inFlight(): number {
    return this.waiting.size;
  }

  /** Why the pool stopped working (a worker died), if it did. */
  get failed(): Error | undefined {
    return this.failure;
  }

  get size(): number {
    return this.workers.length;
  }

  /** The payload's IPC stream with text values; rejects with the reason the payload could not be read. */
  format(payload: Uint8Array, bounds: ValueBounds): Promise<Uint8Array> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    // A copy in a buffer of its own, handed over without another copy: the frame's bytes may
    // share a larger buffer (Buffer#slice would not copy, and handing that over detaches it).
    const own = new Uint8Array(payload.byteLength);
    own.set(payload);
    const worker = this.workers[this.turn++ % this.workers.length];
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      if (this.waiting.size === 1) this.busy(true);
      const req: FormatRequest = { id, payload: own.buffer as ArrayBuffer, bounds };
      worker.postMessage(req, [req.payload]);
    });
  }

  async close(): Promise<void> {
    this.fail(new Error("the value printing workers were stopped"));
    // Held until they are gone: an unreferenced worker that is still starting would otherwise
    // leave `terminate()` pending with nothing keeping the process alive.
    this.busy(true);
    try {
      await Promise.all(this.workers.map((w) => w.terminate()));
    } finally {
      this.busy(false);
    }
  }

  private answer(reply: FormatReply): void {
    const w = this.waiting.get(reply.id);
    if (!w) return;
    this.waiting.delete(reply.id);
    if (this.waiting.size === 0) this.busy(false);
    if (reply.ipc) w.resolve(reply.ipc);
    else w.reject(new Error(reply.error ?? "no answer"));
  }

  private fail(e: Error): void {
    this.failure ??= e;
    for (const w of this.waiting.values()) w.reject(e);
    this.waiting.clear();
    this.busy(false);
  }

  /**
   * While answers are due (or workers are being stopped) a timer keeps the process alive: the
   * workers themselves are unreferenced, and referencing one that is still starting up does
   * not reliably hold the event loop (seen on a cold start: the loop emptied with work pending).
   */
  private busy(on: boolean): void {
    if (on && !this.keepAlive) this.keepAlive = setInterval(() => {}, 1 << 30);
    else if (!on && this.keepAlive) {
      clearInterval(this.keepAlive);
      this.keepAlive = undefined;
    }
  }
}
