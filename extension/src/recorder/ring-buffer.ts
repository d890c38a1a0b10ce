/**
 * The extension's hot store: Arrow record batches of the live recording, bounded by bytes.
 * When the cap is reached the oldest batches spill to a file (length-prefixed Arrow IPC
 * streams) so nothing is lost; `all()` reads them back in order. Without a spill file, or when
 * the disk refuses the write, evicted events are counted in `evictedEvents` (they are lost,
 * and the recording's header says so).
 */
import { appendFileSync, readFileSync, rmSync } from "node:fs";
import { Table, tableFromIPC, tableToIPC, type RecordBatch } from "apache-arrow";

export class RingBuffer {
  private batches: RecordBatch[] = [];
  private byteSizes: number[] = [];
  private bytes = 0;
  private rows = 0;
  /** Events lost: evicted with no spill file, or the spill write failed. */
  evictedEvents = 0;
  evictedBatches = 0;
  /** Events moved to the spill file (kept). */
  spilledEvents = 0;
  /** The last spill failure (e.g. the disk is full), for the user. */
  spillError?: string;

  constructor(
    readonly capBytes: number,
    readonly spillPath?: string,
  ) {
    if (!(capBytes > 0)) throw new RangeError(`ring buffer cap must be > 0 bytes, got ${capBytes}`);
  }

  push(batch: RecordBatch, byteLength: number): void {
    this.batches.push(batch);
    this.bytes += byteLength;
    this.rows += batch.numRows;
    this.byteSizes.push(byteLength);
    while (this.bytes > this.capBytes && this.batches.length > 1) {
      const old = this.batches.shift()!;
      this.bytes -= this.byteSizes.shift()!;
      this.rows -= old.numRows;
      this.evict(old);
    }
  }

  private evict(batch: RecordBatch): void {
    if (this.spillPath) {
      try {
        const ipc = tableToIPC(new Table([batch]), "stream");
        const head = Buffer.alloc(4);
        head.writeUInt32BE(ipc.byteLength, 0);
        appendFileSync(this.spillPath, Buffer.concat([head, ipc]));
        this.spilledEvents += batch.numRows;
        return;
      } catch (e) {
        this.spillError = `could not spill events to ${this.spillPath}: ${(e as Error).message}`;
      }
    }
    this.evictedEvents += batch.numRows;
    this.evictedBatches += 1;
  }

  /** Events held in memory. */
  get events(): number {
    return this.rows;
  }

  /** Events kept: in memory and spilled. */
  get keptEvents(): number {
    return this.rows + this.spilledEvents;
  }

  get byteLength(): number {
    return this.bytes;
  }

  /** Every kept batch in capture order: the spilled ones (read back from disk), then memory. */
  all(): readonly RecordBatch[] {
    if (this.spilledEvents === 0 || !this.spillPath) return this.batches;
    const file = readFileSync(this.spillPath);
    const spilled: RecordBatch[] = [];
    for (let at = 0; at + 4 <= file.length; ) {
      const n = file.readUInt32BE(at);
      spilled.push(...tableFromIPC(file.subarray(at + 4, at + 4 + n)).batches);
      at += 4 + n;
    }
    return [...spilled, ...this.batches];
  }

  /** Removes the spill file. */
  dispose(): void {
    if (this.spillPath) rmSync(this.spillPath, { force: true });
  }
}
