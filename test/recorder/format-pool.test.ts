/**
 * The recorder's value printing worker threads (format-pool.ts): real workers, real Arrow
 * bytes. They must print exactly what the session would print itself, match answers to
 * requests, report a payload that is not Arrow, and leave the caller's bytes intact.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Table, tableFromIPC, tableToIPC } from "apache-arrow";
import { binaryValueBatch } from "./make-events";
import { FormatPool, formatPayload } from "../../extension/src/recorder/format-pool";

const BOUNDS = { max_chars: 400, max_items: 25, max_depth: 6 };

/** An EVENTS-like payload: `line` and a Binary `value` column of terms. */
function payload(values: Uint8Array[]): Uint8Array {
  return tableToIPC(new Table([binaryValueBatch(values)]), "stream");
}

// {:ok, n} for n = 0..k-1, and a list of small integers.
const okTuple = (n: number) => Uint8Array.of(131, 104, 2, 119, 2, 111, 107, 97, n);
const list = (k: number) => Uint8Array.of(131, 107, 0, k, ...Array.from({ length: k }, (_, i) => i + 1));

test("the workers print what the session prints itself, every answer matched to its request", async () => {
  const pool = FormatPool.start(2);
  assert.ok(pool, "no worker could be started");
  try {
    const payloads = Array.from({ length: 12 }, (_, i) => payload(Array.from({ length: 50 + i }, (_, j) => (j % 2 ? okTuple(j % 200) : list(1 + ((i + j) % 30))))));
    const answers = await Promise.all(payloads.map((p) => pool.format(p, BOUNDS)));
    answers.forEach((ipc, i) => {
      assert.deepEqual(Buffer.from(ipc), Buffer.from(formatPayload(payloads[i], BOUNDS)), `payload ${i}`);
      assert.equal(tableFromIPC(ipc).numRows, 50 + i);
    });
    assert.equal(tableFromIPC(answers[3]).getChild("value")!.get(1), "{:ok, 1}");
    assert.equal(pool.inFlight, 0);
  } finally {
    await pool.close();
  }
});

test("bytes that are not Arrow are rejected with the reader's reason; the pool keeps working", async () => {
  const pool = FormatPool.start(1)!;
  try {
    await assert.rejects(pool.format(Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8, 9), BOUNDS), (e: Error) => e.message.length > 0);
    const ipc = await pool.format(payload([okTuple(7)]), BOUNDS);
    assert.equal(tableFromIPC(ipc).getChild("value")!.get(0), "{:ok, 7}");
  } finally {
    await pool.close();
  }
});

test("a frame's bytes that share a larger buffer are copied, not taken away from it", async () => {
  const pool = FormatPool.start(1)!;
  try {
    const p = payload([okTuple(3)]);
    const shared = Buffer.alloc(p.length + 16);
    shared.set(p, 8);
    const frame = shared.subarray(8, 8 + p.length);
    await pool.format(frame, BOUNDS);
    assert.equal(shared.length, p.length + 16, "the larger buffer was detached");
    assert.deepEqual(Buffer.from(frame), Buffer.from(p));
  } finally {
    await pool.close();
  }
});

test("a closed pool rejects new work (the session then prints on its own thread)", async () => {
  const pool = FormatPool.start(1)!;
  await pool.close();
  await assert.rejects(pool.format(payload([okTuple(1)]), BOUNDS), /stopped/);
});
