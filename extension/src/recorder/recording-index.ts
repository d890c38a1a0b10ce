/**
 * Indexes of a recording that the editor needs: which lines ran (with call counts) and every
 * value each variable took. Built once per recording from the Arrow batches; pure (no vscode).
 */
import type { RecordBatch, Table } from "apache-arrow";
import { EventKind } from "../../../protocol/src/events";

export interface BindingRecord {
  seq: number;
  ts: number;
  pid: string;
  module: string;
  function: string;
  arity: number;
  line: number;
  value: string;
  callId: number;
}

export interface HistoryQuery {
  /** Only bindings on this 1-based line. */
  line?: number;
  /** Only bindings inside this function. */
  module?: string;
  function?: string;
  arity?: number;
}

export class RecordingIndex {
  /** file → 1-based line → calls that entered a clause on that line. */
  readonly callsByLine = new Map<string, Map<number, number>>();
  /** file → variable name → bindings in capture order. */
  private readonly bindings = new Map<string, Map<string, BindingRecord[]>>();
  events = 0;

  static fromTable(table: Table): RecordingIndex {
    return RecordingIndex.fromBatches(table.batches);
  }

  static fromBatches(batches: readonly RecordBatch[]): RecordingIndex {
    const index = new RecordingIndex();
    for (const b of batches) index.add(b);
    return index;
  }

  add(batch: RecordBatch): void {
    const col = (name: string) => batch.getChild(name)!;
    const [kind, file, line] = [col("kind"), col("file"), col("line")];
    const [seq, ts, pid, mod, fun, arity, name, value, callId] = [
      col("seq"), col("ts"), col("pid"), col("module"), col("function"), col("arity"), col("name"), col("value"), col("call_id"),
    ];
    for (let i = 0; i < batch.numRows; i++) {
      const k = kind.get(i) as number;
      if (k === EventKind.Call) {
        const f = file.get(i) as string;
        const lines = this.callsByLine.get(f) ?? this.callsByLine.set(f, new Map()).get(f)!;
        const l = line.get(i) as number;
        lines.set(l, (lines.get(l) ?? 0) + 1);
      } else if (k === EventKind.Binding) {
        const f = file.get(i) as string;
        const byName = this.bindings.get(f) ?? this.bindings.set(f, new Map()).get(f)!;
        const n = name.get(i) as string;
        const list = byName.get(n) ?? byName.set(n, []).get(n)!;
        list.push({
          seq: Number(seq.get(i)),
          ts: Number(ts.get(i)),
          pid: pid.get(i) as string,
          module: mod.get(i) as string,
          function: fun.get(i) as string,
          arity: arity.get(i) as number,
          line: line.get(i) as number,
          value: value.get(i) as string,
          callId: Number(callId.get(i)),
        });
      }
    }
    this.events += batch.numRows;
  }

  /** Every value `name` took in `file` (newest first), narrowed by the query. */
  history(file: string, name: string, q: HistoryQuery = {}): BindingRecord[] {
    const all = this.bindings.get(file)?.get(name) ?? [];
    const hits = all.filter(
      (b) =>
        (q.line === undefined || b.line === q.line) &&
        (q.module === undefined || b.module === q.module) &&
        (q.function === undefined || b.function === q.function) &&
        (q.arity === undefined || b.arity === q.arity),
    );
    return hits.reverse();
  }

  /** Files that have any recorded event. */
  files(): string[] {
    return [...new Set([...this.callsByLine.keys(), ...this.bindings.keys()])];
  }
}
