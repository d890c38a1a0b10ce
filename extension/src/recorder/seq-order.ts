/**
 * The recording in capture (seq) order. The agent ships events in seq order, except a process
 * event whose trace message reached its tracer later than the tracer's bound allowed (the
 * agent counts those and says so in a LOG frame): such rows arrive after later ones. The index,
 * saved files and the webview look events up by seq and expect them sorted, so the batches are
 * put in order once, when the recording is complete. In the common case (already sorted) this
 * is one pass over the seq column and the same batches come back.
 */
import { makeData, RecordBatch, Struct, Table, vectorFromArray } from "apache-arrow";

export function inSeqOrder(batches: readonly RecordBatch[]): readonly RecordBatch[] {
  if (sorted(batches)) return batches;
  const table = new Table(batches as RecordBatch[]);
  const seq = table.getChild("seq")!;
  const keys = Float64Array.from({ length: table.numRows }, (_, i) => Number(seq.get(i)));
  // Stable: rows with equal seqs keep their order.
  const order = Array.from({ length: table.numRows }, (_, i) => i).sort((a, b) => keys[a] - keys[b] || a - b);
  const fields = batches[0].schema.fields;
  const children = fields.map((f) => {
    const column = table.getChild(f.name)!;
    return vectorFromArray(
      order.map((i) => column.get(i)),
      f.type,
    ).data[0];
  });
  const data = makeData({ type: new Struct(fields), length: order.length, nullCount: 0, children });
  return [new RecordBatch(batches[0].schema, data)];
}

function sorted(batches: readonly RecordBatch[]): boolean {
  let last = -Infinity;
  for (const b of batches) {
    const seq = b.getChild("seq");
    if (!seq) return true;
    for (let i = 0; i < b.numRows; i++) {
      const s = Number(seq.get(i));
      if (s < last) return false;
      last = s;
    }
  }
  return true;
}
