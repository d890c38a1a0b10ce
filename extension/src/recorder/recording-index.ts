/**
 * Indexes of a recording that the editor needs: which lines ran (with call counts) and every
 * value each variable took. Built once per recording from the Arrow batches; pure (no vscode).
 */
import type { RecordBatch, Table } from "apache-arrow";
import { EventKind, FN_PREFIX, HEADER_METADATA_KEY, isCodeEvent } from "../../../protocol/src/events";
import { DEFAULT_VALUE_BOUNDS, parseValueBounds, type ValueBounds } from "../../../protocol/src/values";
import { numbers, utf8, ValueColumn } from "./columns";

export interface BindingRecord {
  /** The variable's source name. */
  readonly name: string;
  readonly seq: number;
  readonly ts: number;
  readonly pid: string;
  readonly module: string;
  readonly function: string;
  readonly arity: number;
  readonly line: number;
  readonly value: string;
  readonly callId: number;
}

/** One event, as the editor needs it when the scrub cursor lands on it. */
/** A binding whose value is printed from the Arrow column when read. */
class Binding implements BindingRecord {
  readonly function: string;

  constructor(
    readonly name: string,
    readonly seq: number,
    readonly ts: number,
    readonly pid: string,
    readonly module: string,
    fun: string,
    readonly arity: number,
    readonly line: number,
    readonly callId: number,
    private readonly values: ValueColumn,
    private readonly row: number,
  ) {
    this.function = fun;
  }

  get value(): string {
    return this.values.get(this.row);
  }
}

export interface CursorEvent {
  seq: number;
  kind: number;
  pid: string;
  module: string;
  function: string;
  arity: number;
  file: string;
  line: number;
  callId: number;
}

/** Calls of one function in a recording, for code lenses. */
export interface FunctionStats {
  module: string;
  function: string;
  arity: number;
  file: string;
  /** Smallest clause line that ran (1-based). */
  line: number;
  calls: number;
  raised: number;
  /** Durations in ns of the calls that ended (returned or raised). */
  durations: number[];
  /** seq of the slowest call's CALL event. */
  slowestSeq: number;
  slowestNs: number;
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
  /** call_id → the bindings made in that call. */
  private readonly bindingsByCall = new Map<number, BindingRecord[]>();
  /** Batches in capture order with their first seq, to find an event by seq. */
  private readonly batches: RecordBatch[] = [];
  private readonly firstSeq: number[] = [];
  /** file → "Module.fun/arity" → stats. */
  private readonly functions = new Map<string, Map<string, FunctionStats>>();
  /** Open calls: call_id → [CALL ts, CALL seq, stats]. */
  private readonly open = new Map<number, [number, number, FunctionStats]>();
  events = 0;

  private constructor(private readonly bounds: ValueBounds) {}

  /** The index of a recording; its terms print with the bounds its header gives. */
  static fromTable(table: Table): RecordingIndex {
    let bounds: ValueBounds | undefined;
    try {
      bounds = parseValueBounds(JSON.parse(table.schema.metadata.get(HEADER_METADATA_KEY) ?? "null")?.values);
    } catch {
      // A damaged header leaves the events readable, with the default bounds.
    }
    return RecordingIndex.fromBatches(table.batches, bounds);
  }

  /** `bounds`: how the values' terms print (the recording's plan). */
  static fromBatches(batches: readonly RecordBatch[], bounds: ValueBounds = DEFAULT_VALUE_BOUNDS): RecordingIndex {
    const index = new RecordingIndex(bounds);
    for (const b of batches) index.add(b);
    return index;
  }

  add(batch: RecordBatch): void {
    const [kind, seq, ts, arity, line, callId] = ["kind", "seq", "ts", "arity", "line", "call_id"].map((n) => numbers(batch, n));
    const [file, pid, mod, fun, name] = ["file", "pid", "module", "function", "name"].map((n) => utf8(batch, n));
    // Values are printed only when a hover or inline value shows them.
    const values = new ValueColumn(batch.getChild("value")!, this.bounds);
    for (let i = 0; i < batch.numRows; i++) {
      const k = kind[i];
      if (k === EventKind.Call) {
        const f = file.get(i);
        const lines = this.callsByLine.get(f) ?? this.callsByLine.set(f, new Map()).get(f)!;
        const l = line[i];
        lines.set(l, (lines.get(l) ?? 0) + 1);
        const stats = this.statsFor(f, mod.get(i), fun.get(i), arity[i], l);
        stats.calls++;
        this.open.set(callId[i], [ts[i], seq[i], stats]);
      } else if (k === EventKind.Return || k === EventKind.Exception || k === EventKind.TailCall) {
        const id = callId[i];
        const started = this.open.get(id);
        if (started) {
          this.open.delete(id);
          const [t0, callSeq, stats] = started;
          const d = ts[i] - t0;
          stats.durations.push(d);
          if (k === EventKind.Exception) stats.raised++;
          if (d > stats.slowestNs) {
            stats.slowestNs = d;
            stats.slowestSeq = callSeq;
          }
        }
      } else if (k === EventKind.Binding) {
        const f = file.get(i);
        const byName = this.bindings.get(f) ?? this.bindings.set(f, new Map()).get(f)!;
        const n = name.get(i);
        const list = byName.get(n) ?? byName.set(n, []).get(n)!;
        const record = new Binding(n, seq[i], ts[i], pid.get(i), mod.get(i), fun.get(i), arity[i], line[i], callId[i], values, i);
        list.push(record);
        const inCall = this.bindingsByCall.get(record.callId) ?? this.bindingsByCall.set(record.callId, []).get(record.callId)!;
        inCall.push(record);
      }
    }
    if (batch.numRows > 0) {
      this.batches.push(batch);
      this.firstSeq.push(seq[0]);
    }
    this.events += batch.numRows;
  }

  private statsFor(file: string, module: string, fun: string, arity: number, line: number): FunctionStats {
    const byKey = this.functions.get(file) ?? this.functions.set(file, new Map()).get(file)!;
    const key = `${module}.${fun}/${arity}`;
    let stats = byKey.get(key);
    if (!stats) {
      stats = { module, function: fun, arity, file, line, calls: 0, raised: 0, durations: [], slowestSeq: 0, slowestNs: -1 };
      byKey.set(key, stats);
    }
    if (line > 0 && (stats.line <= 0 || line < stats.line)) stats.line = line;
    return stats;
  }

  /** Recorded functions of a file, with their call statistics. */
  functionStats(file: string): FunctionStats[] {
    return [...(this.functions.get(file)?.values() ?? [])];
  }

  /**
   * The event with this seq, or the last one before it (seqs have gaps). Metric samples are
   * not events of any process: the last event before one is returned instead.
   */
  eventAt(seq: number): CursorEvent | undefined {
    let b = upperBound(this.firstSeq, seq) - 1;
    if (b < 0) return undefined;
    const seqs = this.batches[b].getChild("seq")!;
    let lo = 0;
    let hi = this.batches[b].numRows - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (Number(seqs.get(mid)) <= seq) lo = mid;
      else hi = mid - 1;
    }
    for (;;) {
      if (this.batches[b].getChild("kind")!.get(lo) !== EventKind.Sample) break;
      if (--lo < 0) {
        if (--b < 0) return undefined;
        lo = this.batches[b].numRows - 1;
      }
    }
    const batch = this.batches[b];
    const get = (name: string) => batch.getChild(name)!.get(lo);
    return {
      seq: Number(get("seq")),
      kind: get("kind") as number,
      pid: get("pid") as string,
      module: get("module") as string,
      function: get("function") as string,
      arity: get("arity") as number,
      file: get("file") as string,
      line: get("line") as number,
      callId: Number(get("call_id")),
    };
  }

  /**
   * The next (dir 1) or previous (dir -1) call, return, exception or tail call of the same
   * process after `from` (bindings, process events, states and samples are skipped: they have
   * no source line to step to); undefined at either end. A linear scan from the cursor's
   * batch: fine for stepping.
   */
  step(from: CursorEvent, dir: 1 | -1): CursorEvent | undefined {
    let b = upperBound(this.firstSeq, from.seq) - 1;
    for (; b >= 0 && b < this.batches.length; b += dir) {
      const batch = this.batches[b];
      const [seqs, pids, kinds] = [batch.getChild("seq")!, batch.getChild("pid")!, batch.getChild("kind")!];
      const start = dir === 1 ? 0 : batch.numRows - 1;
      for (let i = start; i >= 0 && i < batch.numRows; i += dir) {
        const seq = Number(seqs.get(i));
        if (dir === 1 ? seq <= from.seq : seq >= from.seq) continue;
        const k = kinds.get(i) as number;
        if (pids.get(i) !== from.pid || k === EventKind.Binding || !isCodeEvent(k)) continue;
        return this.eventAt(seq);
      }
    }
    return undefined;
  }

  /** Variables bound in one call, in capture order. */
  bindingsOfCall(callId: number): readonly BindingRecord[] {
    return this.bindingsByCall.get(callId) ?? [];
  }

  /** Every value `name` took in `file` (newest first), narrowed by the query. */
  history(file: string, name: string, q: HistoryQuery = {}): BindingRecord[] {
    const all = this.bindings.get(file)?.get(name) ?? [];
    const hits = all.filter(
      (b) =>
        (q.line === undefined || b.line === q.line) &&
        (q.module === undefined || b.module === q.module) &&
        // A function's own bindings and those of the fns created in it ("fn in run/2").
        (q.function === undefined || b.function === q.function || b.function.startsWith(`${FN_PREFIX}${q.function}/`)) &&
        (q.arity === undefined || b.arity === q.arity),
    );
    return hits.reverse();
  }

  /** Files that have any recorded event. */
  files(): string[] {
    return [...new Set([...this.callsByLine.keys(), ...this.bindings.keys()])];
  }
}

/** First index whose value is > x in an ascending array. */
function upperBound(xs: number[], x: number): number {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (xs[mid] <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The p-th percentile (0..100) of unsorted values, nearest-rank; NaN when empty. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}
