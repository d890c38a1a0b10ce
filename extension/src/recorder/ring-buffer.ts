/**
 * The extension's hot store: Arrow record batches of the live recording, bounded by bytes.
 * When the cap is reached the oldest batches are evicted and counted (spilling them to disk
 * instead is the next step; until then the eviction is visible in `evictedEvents`).
 */
import type { RecordBatch } from "apache-arrow";

export class RingBuffer {
  private batches: RecordBatch[] = [];
  private byteSizes: number[] = [];
  private bytes = 0;
  private rows = 0;
  evictedEvents = 0;
  evictedBatches = 0;

  constructor(readonly capBytes: number) {
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
      this.evictedEvents += old.numRows;
      this.evictedBatches += 1;
    }
  }

  get events(): number {
    return this.rows;
  }

  get byteLength(): number {
    return this.bytes;
  }

  all(): readonly RecordBatch[] {
    return this.batches;
  }
}
