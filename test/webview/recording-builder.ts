/**
 * Builds recordings in event schema v2 (protocol/src/events.ts) with apache-arrow, for the
 * webview tests and benchmarks. Columns are made with `makeData` (exact Arrow types, no
 * Builder), the way the agent writes them.
 */
import {
  Field,
  Int8,
  Binary,
  Int32,
  Int64,
  makeData,
  RecordBatch,
  Schema,
  Struct,
  Table,
  tableToIPC,
  Utf8,
  type Data,
  type DataType,
} from "apache-arrow";
import { COLUMNS, EventKind, HEADER_METADATA_KEY, type EventRow, type RecordingHeader } from "../../protocol/src/events";

export type { EventRow };


const encoder = new TextEncoder();

function arrowType(type: (typeof COLUMNS)[number]["type"]): DataType {
  switch (type) {
    case "int64":
      return new Int64();
    case "int32":
      return new Int32();
    case "int8":
      return new Int8();
    case "utf8":
      return new Utf8();
    case "binary":
      return new Binary();
  }
}

export function eventSchema(header?: RecordingHeader): Schema {
  const metadata = new Map<string, string>();
  if (header) metadata.set(HEADER_METADATA_KEY, JSON.stringify(header));
  return new Schema(
    COLUMNS.map((c) => new Field(c.name, arrowType(c.type), false)),
    metadata,
  );
}

export function utf8Data(values: readonly string[]): Data<Utf8> {
  const offsets = new Int32Array(values.length + 1);
  let bytes = new Uint8Array(Math.max(64, values.length * 16));
  let total = 0;
  values.forEach((v, i) => {
    // UTF-8 needs at most 3 bytes per UTF-16 unit.
    if (total + v.length * 3 > bytes.length) {
      const bigger = new Uint8Array(Math.max(bytes.length * 2, total + v.length * 3));
      bigger.set(bytes.subarray(0, total));
      bytes = bigger;
    }
    total += encoder.encodeInto(v, bytes.subarray(total)).written;
    offsets[i + 1] = total;
  });
  return makeData({ type: new Utf8(), length: values.length, nullCount: 0, valueOffsets: offsets, data: bytes.slice(0, total) });
}

function columnData(name: string, rows: readonly EventRow[]): Data {
  const type = COLUMNS.find((c) => c.name === name)!.type;
  const get = (r: EventRow) => r[name as keyof EventRow];
  switch (type) {
    case "int64":
      return makeData({ type: new Int64(), length: rows.length, nullCount: 0, data: BigInt64Array.from(rows, (r) => BigInt(get(r) as number)) });
    case "int32":
      return makeData({ type: new Int32(), length: rows.length, nullCount: 0, data: Int32Array.from(rows, (r) => get(r) as number) });
    case "int8":
      return makeData({ type: new Int8(), length: rows.length, nullCount: 0, data: Int8Array.from(rows, (r) => get(r) as number) });
    case "utf8":
      return utf8Data(rows.map((r) => get(r) as string));
    case "binary": {
      // Values as the agent sends text (UTF-8 bytes in the Binary column).
      const text = utf8Data(rows.map((r) => get(r) as string));
      return makeData({ type: new Binary(), length: rows.length, nullCount: 0, valueOffsets: text.valueOffsets, data: text.values });
    }
  }
}

/** One record batch from column Data in schema order. */
export function batchFromColumns(schema: Schema, columns: Data[]): RecordBatch {
  const length = columns[0].length;
  return new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length, nullCount: 0, children: columns }));
}

export function eventTable(rows: readonly EventRow[], opts: { header?: RecordingHeader; batchSize?: number } = {}): Table {
  const schema = eventSchema(opts.header);
  const size = opts.batchSize ?? 10_000;
  const batches: RecordBatch[] = [];
  for (let i = 0; i < rows.length; i += size) {
    const slice = rows.slice(i, i + size);
    batches.push(batchFromColumns(schema, COLUMNS.map((c) => columnData(c.name, slice))));
  }
  return new Table(schema, batches);
}

export function recordingBytes(
  rows: readonly EventRow[],
  opts: { header?: RecordingHeader; batchSize?: number; format?: "stream" | "file" } = {},
): Uint8Array {
  return tableToIPC(eventTable(rows, opts), opts.format ?? "stream");
}

/**
 * Writes events the way the agent records a program: `enter` pushes a call on its process's
 * stack (parent_id follows), `bind`, `exit` and `raise` act on the innermost open call.
 */
export class RecordingScript {
  readonly rows: EventRow[] = [];
  private clock = 0;
  private nextCallId = 1;
  private readonly stacks = new Map<string, EventRow[]>();

  /** Moves the recorded clock forward (ns). */
  advance(ns: number): this {
    this.clock += ns;
    return this;
  }

  enter(pid: string, mfa: string, args: string, file: string, line: number): number {
    const m = /^(.*)\.([^./]+)\/(\d+)$/.exec(mfa);
    if (!m) throw new Error(`bad mfa ${mfa}`);
    const stack = this.stacks.get(pid) ?? [];
    this.stacks.set(pid, stack);
    const parent = stack.at(-1);
    const row = this.push({
      kind: EventKind.Call,
      pid,
      module: m[1],
      function: m[2],
      arity: Number(m[3]),
      call_id: this.nextCallId++,
      parent_id: parent?.call_id ?? 0,
      file,
      line,
      name: "",
      value: args,
    });
    stack.push(row);
    return row.call_id;
  }

  bind(pid: string, name: string, value: string, line: number): this {
    const call = this.top(pid);
    this.push({ ...call, kind: EventKind.Binding, line, name, value });
    return this;
  }

  exit(pid: string, value: string): number {
    const call = this.stacks.get(pid)!.pop()!;
    return this.push({ ...call, kind: EventKind.Return, name: "", value }).seq;
  }

  raise(pid: string, message: string): number {
    const call = this.stacks.get(pid)!.pop()!;
    return this.push({ ...call, kind: EventKind.Exception, name: "", value: message }).seq;
  }

  // ── process events and samples (event kinds 6–17) ──

  /** A process event of `pid` (parent_id: its innermost open call); returns its seq. */
  processEvent(pid: string, kind: EventKind, fields: Partial<Pick<EventRow, "module" | "function" | "arity" | "call_id" | "name" | "value">> = {}): number {
    const parent = this.stacks.get(pid)?.at(-1);
    return this.push({
      kind,
      pid,
      module: "",
      function: "",
      arity: 0,
      call_id: 0,
      parent_id: parent?.call_id ?? 0,
      file: "",
      line: 0,
      name: "",
      value: "",
      ...fields,
    }).seq;
  }

  spawn(parent: string, child: string, mfa: string, args: string): number {
    const [, module, fn, arity] = /^(.*)\.([^./]+)\/(\d+)$/.exec(mfa)!;
    return this.processEvent(parent, EventKind.Spawn, { module, function: fn, arity: Number(arity), name: child, value: args });
  }

  send(from: string, to: string, message: string): number {
    return this.processEvent(from, EventKind.Send, { name: to, value: message });
  }

  /** A Receive; `send` names the Send row (its seq) when the sender was traced. */
  receive(pid: string, message: string, send?: { seq: number; from: string }): number {
    return this.processEvent(pid, EventKind.Receive, { call_id: send?.seq ?? 0, name: send?.from ?? "", value: message });
  }

  exitProcess(pid: string, reason: string): number {
    return this.processEvent(pid, EventKind.Exit, { value: reason });
  }

  /** A State row of `pid`'s innermost open call (a GenServer callback). */
  state(pid: string, which: "before" | "after", value: string, callId?: number): number {
    const call = callId === undefined ? this.top(pid) : this.rows.find((r) => r.kind === EventKind.Call && r.call_id === callId)!;
    return this.push({ ...call, kind: EventKind.State, name: which, value }).seq;
  }

  /** A metric sample; `pid` "" for the node. */
  sample(pid: string, metric: string, value: number): number {
    return this.push({ kind: EventKind.Sample, pid, module: "", function: "", arity: 0, call_id: 0, parent_id: 0, file: "", line: 0, name: metric, value: String(value) }).seq;
  }

  private top(pid: string): EventRow {
    const call = this.stacks.get(pid)?.at(-1);
    if (!call) throw new Error(`no open call in ${pid}`);
    return call;
  }

  private push(fields: Omit<EventRow, "seq" | "ts">): EventRow {
    const row = { ...fields, seq: this.rows.length + 1, ts: this.clock } as EventRow;
    this.rows.push(row);
    this.clock += 1_000;
    return row;
  }
}
