/**
 * The extension's hot store: Arrow record batches of the live recording, bounded by bytes.
 * When the cap is reached the oldest batches spill to a file so nothing is lost; `all()` reads
 * them back in order. The spill file is one Arrow IPC stream (`.arrows`: the schema message
 * once, then a record batch message per spilled batch, appended as they spill; no
 * end-of-stream marker is needed), so any Arrow reader opens it, the CLI included, while the
 * recording still runs. With a spill file even a single batch larger than the cap leaves
 * memory. Without one, or when the disk refuses the write, evicted events are counted in
 * `evictedEvents` (they are lost, and the recording's header says so).
 */
import { appendFileSync, readFileSync, rmSync } from "node:fs";
import { Table, tableFromIPC, tableToIPC, type RecordBatch } from "apache-arrow";
import { inSeqOrder } from "./seq-order";

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
  /** The schema of the spill stream (its first message), once written. */
  private spillSchema?: string;

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
    // Without a (working) spill file the newest batch stays, whatever its size.
    while (this.bytes > this.capBytes && this.batches.length > (this.spillPath && !this.spillError ? 0 : 1)) {
      const old = this.batches.shift()!;
      this.bytes -= this.byteSizes.shift()!;
      this.rows -= old.numRows;
      this.evict(old);
    }
  }

  private evict(batch: RecordBatch): void {
    if (this.spillPath) {
      try {
        appendFileSync(this.spillPath, this.spillBytes(batch));
        this.spilledEvents += batch.numRows;
        return;
      } catch (e) {
        this.spillError = `could not spill events to ${this.spillPath}: ${(e as Error).message}`;
      }
    }
    this.evictedEvents += batch.numRows;
    this.evictedBatches += 1;
  }

  /**
   * The batch's messages for the spill stream: schema and batch the first time, the batch
   * alone after that (the stream `tableToIPC` writes, without its schema message and
   * end-of-stream marker).
   */
  private spillBytes(batch: RecordBatch): Uint8Array {
    const ipc = tableToIPC(new Table([batch]), "stream");
    const schema = batch.schema.fields.map((f) => `${f.name}:${f.type}`).join(",");
    const eos = ipc.byteLength - 8;
    if (this.spillSchema === undefined) {
      this.spillSchema = schema;
      return ipc.subarray(0, eos);
    }
    if (schema !== this.spillSchema) throw new Error(`a batch with another schema (${schema}) cannot join the spill stream`);
    // Message: 0xFFFFFFFF, int32 metadata length, metadata (the schema message has no body).
    const view = new DataView(ipc.buffer, ipc.byteOffset, ipc.byteLength);
    const schemaEnd = 8 + view.getInt32(4, true);
    return ipc.subarray(schemaEnd, eos);
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

  /**
   * Every kept batch: the spilled ones (read back from disk), then memory, with the rows in
   * capture (seq) order (see seq-order.ts).
   */
  all(): readonly RecordBatch[] {
    if (this.spilledEvents === 0 || !this.spillPath) return inSeqOrder(this.batches);
    return inSeqOrder([...tableFromIPC(readFileSync(this.spillPath)).batches, ...this.batches]);
  }

  /** Removes the spill file. */
  dispose(): void {
    if (this.spillPath) rmSync(this.spillPath, { force: true });
  }
}
