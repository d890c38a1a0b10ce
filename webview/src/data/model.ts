/**
 * The webview's columnar model of a recording (event schema v2, protocol/src/events.ts).
 *
 * Arrow IPC bytes go in; out come one typed array per column plus what the views need to draw
 * fast: a lane per process (ordered by its first event), calls paired with their return or
 * exception (by `call_id`) and stacked by depth (by `parent_id`), exceptions, and the bindings
 * of each call. No object is allocated per event: the model adds ~29 bytes per event and ~60
 * per call to the Arrow buffers it keeps. Columns that drawing does not need per event stay in
 * the Arrow batches and are read in place on demand (arity, line, call_id, parent_id); strings
 * that are few and repeated (pid, module, function, file) are interned on first use, per call;
 * `name` and `value` are decoded only when asked for.
 *
 * Process events (spawn, exit, link, monitor, register, send, receive) belong to their process's
 * lane but to no call; a Receive names its Send by `call_id` (the send's seq), which is not a
 * call id. State rows belong to the callback call they describe. Metric samples belong to no
 * lane (node samples have no process): they are only listed in `sampleRows`.
 */
import { tableFromIPC, type RecordBatch, type Table } from "apache-arrow";
import { COLUMNS, EventKind, functionLabel, HEADER_METADATA_KEY, SCHEMA_VERSION, type RecordingHeader } from "../../../protocol/src/events";
import { copyIntegers, IntColumn, RecordingFormatError, stringChunk, valueChunk, type StringChunk } from "./arrow-columns";
import { DEFAULT_VALUE_BOUNDS, parseValueBounds, type ValueBounds } from "../../../protocol/src/values";
import { ensureCapacity, IntList } from "./growable";
import { Interner } from "./interner";

export { RecordingFormatError } from "./arrow-columns";

/** Bits of `callFlags`. */
export const CallFlag = {
  /** A Return event closed the call. */
  Returned: 1,
  /** An Exception event closed the call. */
  Raised: 2,
  /** A TailCall event closed the call: its frame was replaced by the callee's. */
  TailCalled: 4,
} as const;

export interface Lane {
  readonly index: number;
  readonly pid: string;
  /** Row of the process's first event (lanes are ordered by it). */
  readonly firstRow: number;
  events: number;
  calls: number;
  exceptions: number;
  /** Deepest call depth in this lane (0 = top level); -1 while it has no calls. */
  maxDepth: number;
  /** `tracks[depth]`: the calls at that depth in start order; they never overlap. */
  readonly tracks: IntList[];
}

export interface RecordingSummary {
  events: number;
  processes: number;
  calls: number;
  exceptions: number;
  bindings: number;
  dropped: number;
}

/** Columns of one batch that are read in place, on demand. */
interface LazyChunk {
  start: number;
  pid: StringChunk;
  module: StringChunk;
  fn: StringChunk;
  file: StringChunk;
  name: StringChunk;
  value: StringChunk;
  arity: IntColumn;
  line: IntColumn;
  callId: IntColumn;
  parentId: IntColumn;
}

// Plain constants for the ingestion loop (a property read per event adds up over millions).
const CALL = EventKind.Call;
const RETURN = EventKind.Return;
const EXCEPTION = EventKind.Exception;
const BINDING = EventKind.Binding;
const TAIL = EventKind.TailCall;
const RECEIVE = EventKind.Receive;
const SEND = EventKind.Send;
const STATE = EventKind.State;
const SAMPLE = EventKind.Sample;
/** Kinds 6..15: spawn, exit, link, unlink, monitor, demonitor, register, unregister, send, receive. */
const FIRST_PROCESS_EVENT = EventKind.Spawn;
const LAST_PROCESS_EVENT = EventKind.Receive;

/** Above this, call ids go into a Map instead of a dense lookup array. */
const DENSE_CALL_ID_LIMIT = 1 << 24;

export class RecordingModel {
  /** Number of events. Column arrays may be longer (capacity); read only `[0, count)`. */
  count = 0;
  seq = new Float64Array(0);
  ts = new Float64Array(0);
  kind = new Int8Array(0);
  /** Interned pid id, which is also the lane index. */
  pid = new Int32Array(0);
  /** Index of the call an event belongs to; -1 when its Call event is not in the recording. */
  callOf = new Int32Array(0);
  /** Next binding row of the same call; -1 at the end. */
  nextBinding = new Int32Array(0);

  /** Calls (one per Call event). Arrays are indexed by call index, `[0, callCount)`. */
  callCount = 0;
  callRow = new Int32Array(0);
  /** Row of the Return/Exception event; -1 while the call is open. */
  callEndRow = new Int32Array(0);
  callLane = new Int32Array(0);
  callDepth = new Int32Array(0);
  /** Call index of the caller in the same process; -1 at the top. */
  callParent = new Int32Array(0);
  callStart = new Float64Array(0);
  /** End time; NaN while open (draw it to `tsMax`). */
  callEnd = new Float64Array(0);
  callFlags = new Int8Array(0);
  callFirstBinding = new Int32Array(0);
  callLastBinding = new Int32Array(0);
  /** Interned module and function ids of each call (set as calls are read; bars are coloured by them). */
  callModule = new Int32Array(0);
  callFn = new Int32Array(0);
  /** Interned file id of each call, -1 until first asked for. */
  private callFile = new Int32Array(0);

  readonly lanes: Lane[] = [];
  readonly exceptionRows = new IntList();
  /** Rows of process events (spawn, exit, link, unlink, monitor, demonitor, register, unregister, send, receive). */
  readonly processEventRows = new IntList();
  /** Rows of metric samples (their `pid` is -1: they are in no lane). */
  readonly sampleRows = new IntList();
  /** Rows of State events. */
  readonly stateRows = new IntList();
  /** Send row → the row of the Receive that names it. */
  private readonly receiveBySend = new Map<number, number>();
  /** Call → [State "before" row, State "after" row] (-1 when absent). */
  private readonly statesByCall = new Map<number, [number, number]>();
  /** Lane of each process, by its pid text. */
  private readonly laneByPid = new Map<string, number>();
  bindingCount = 0;
  tsMin = Infinity;
  tsMax = -Infinity;
  header: RecordingHeader | undefined;
  /**
   * How the recording's terms print: its header's bounds, those the host gave for a live
   * recording (`setValueBounds`), or the defaults.
   */
  valueBounds: ValueBounds = DEFAULT_VALUE_BOUNDS;
  /** Incremented by every append; views redraw when it changes. */
  version = 0;

  readonly pids = new Interner();
  readonly modules = new Interner();
  readonly functions = new Interner();
  readonly files = new Interner();

  private readonly chunks: LazyChunk[] = [];
  private readonly queue: RecordBatch[] = [];
  /** Next row to ingest of `queue[0]`. */
  private queueRow = 0;
  private queuedRows = 0;
  private queuedCalls = 0;
  private expectedTsMin = Infinity;
  private expectedTsMax = -Infinity;
  private denseCallIds = new Int32Array(0);
  /** The pid column of the batch being ingested. */
  private pidChunk: StringChunk | undefined;
  private readonly sparseCallIds = new Map<number, number>();

  /** Reads a whole recording (Arrow IPC stream or file format). */
  static fromIPC(bytes: Uint8Array): RecordingModel {
    const model = new RecordingModel();
    model.append(bytes);
    return model;
  }

  /** Adds the events of more Arrow IPC bytes (stream or file format); returns how many. */
  append(bytes: Uint8Array): number {
    const before = this.count;
    this.beginAppend(bytes);
    this.continueLoad(Infinity);
    return this.count - before;
  }

  appendTable(table: Table): number {
    const before = this.count;
    this.beginAppendTable(table);
    this.continueLoad(Infinity);
    return this.count - before;
  }

  /**
   * Queues the events of Arrow IPC bytes; `continueLoad` ingests them. Checks the schema and
   * sizes the columns now, so a bad recording fails here and loading never reallocates.
   */
  beginAppend(bytes: Uint8Array): void {
    let table: Table;
    try {
      table = tableFromIPC(bytes);
    } catch (e) {
      throw new RecordingFormatError(`This is not an ElixirScope recording: the Arrow IPC data could not be read (${(e as Error).message}).`);
    }
    this.beginAppendTable(table);
  }

  beginAppendTable(table: Table): void {
    this.readHeader(table);
    for (const { name } of COLUMNS) {
      if (!table.schema.fields.some((f) => f.name === name)) {
        throw new RecordingFormatError(
          `This is not an ElixirScope recording: it has no "${name}" column (event schema v${SCHEMA_VERSION} expects ${COLUMNS.map((c) => c.name).join(", ")}).`,
        );
      }
    }
    if (table.numRows === 0) return;
    // Size every column once for everything queued: growing batch by batch would copy and
    // re-zero tens of MB per batch of a large recording.
    this.queuedRows += table.numRows;
    this.queuedCalls += countCalls(table);
    this.grow(this.count + this.queuedRows);
    this.growCalls(this.callCount + this.queuedCalls);
    const [lo, hi] = timeRange(table);
    if (lo < this.expectedTsMin) this.expectedTsMin = lo;
    if (hi > this.expectedTsMax) this.expectedTsMax = hi;
    for (const batch of table.batches) if (batch.numRows > 0) this.queue.push(batch);
  }

  /** Events queued by `beginAppend` and not ingested yet. */
  get loading(): boolean {
    return this.queue.length > 0;
  }

  /** How many queued events are still to ingest. */
  get pendingEvents(): number {
    return this.queuedRows;
  }

  /**
   * Ingests queued events until `deadline` (a `performance.now()` time) or the end, in steps
   * of a few thousand events; returns true when nothing is left. The webview draws between
   * calls, so a big recording shows its first part at once and fills in.
   */
  continueLoad(deadline: number): boolean {
    const before = this.count;
    while (this.queue.length > 0) {
      const batch = this.queue[0];
      const from = this.queueRow;
      const to = Math.min(batch.numRows, from + LOAD_STEP_ROWS);
      this.appendRows(batch, from, to);
      this.queuedRows -= to - from;
      if (to === batch.numRows) {
        this.queue.shift();
        this.queueRow = 0;
      } else this.queueRow = to;
      if (performance.now() >= deadline) break;
    }
    if (this.queue.length === 0) this.queuedCalls = 0;
    if (this.count > before) this.version++;
    return this.queue.length === 0;
  }

  /**
   * The time span to show: the events ingested so far, and those queued (known from their
   * batches before they are ingested, so the view need not move while a recording loads).
   */
  timeSpan(): [number, number] {
    return [Math.min(this.tsMin, this.expectedTsMin), Math.max(this.tsMax, this.expectedTsMax)];
  }

  summary(): RecordingSummary {
    return {
      events: this.count,
      processes: this.lanes.length,
      calls: this.callCount,
      exceptions: this.exceptionRows.length,
      bindings: this.bindingCount,
      dropped: this.header?.dropped ?? 0,
    };
  }

  // ── per-event values ─────────────────────────────────────────────────────────────────

  pidOf(row: number): string {
    const lane = this.pid[row];
    if (lane >= 0) return this.pids.strings[lane];
    const c = this.chunkOf(row);
    return c.pid.textAt(row - c.start);
  }
  moduleOf(row: number): string {
    return this.modules.strings[this.moduleId(row)];
  }
  functionOf(row: number): string {
    return this.functions.strings[this.functionId(row)];
  }
  fileOf(row: number): string {
    return this.files.strings[this.fileId(row)];
  }
  arityOf(row: number): number {
    const c = this.chunkOf(row);
    return c.arity.at(row - c.start);
  }
  lineOf(row: number): number {
    const c = this.chunkOf(row);
    return c.line.at(row - c.start);
  }
  callIdOf(row: number): number {
    const c = this.chunkOf(row);
    return c.callId.at(row - c.start);
  }
  parentIdOf(row: number): number {
    const c = this.chunkOf(row);
    return c.parentId.at(row - c.start);
  }

  /**
   * Interned ids of the row's module, function and file: stable numbers for colours and
   * caches. Events of one call name the same function as its Call event, so they are looked
   * up once per call.
   */
  moduleId(row: number): number {
    return this.internedOf(row, this.callModule, "module", this.modules);
  }
  functionId(row: number): number {
    return this.internedOf(row, this.callFn, "fn", this.functions);
  }
  fileId(row: number): number {
    return this.internedOf(row, this.callFile, "file", this.files);
  }

  private internedOf(row: number, perCall: Int32Array, column: "module" | "fn" | "file", interner: Interner): number {
    const call = this.callOf[row];
    const r = call >= 0 ? this.callRow[call] : row;
    if (call >= 0 && perCall[call] >= 0) return perCall[call];
    const c = this.chunkOf(r);
    const id = c[column].internAt(r - c.start, interner);
    if (call >= 0) perCall[call] = id;
    return id;
  }

  /** The variable name of a Binding event ("" otherwise). Decoded on demand. */
  nameOf(row: number): string {
    const c = this.chunkOf(row);
    return c.name.textAt(row - c.start);
  }
  /** The recorded value (args, result, exception or bound value). Decoded on demand. */
  valueOf(row: number): string {
    const c = this.chunkOf(row);
    return c.value.textAt(row - c.start);
  }
  /** "Sample.Ledger.deposit/3", "anonymous fn/1 in Sample.Math.run/2" */
  labelOf(row: number): string {
    return functionLabel(this.moduleOf(row), this.functionOf(row), this.arityOf(row));
  }

  /** A one-line description of any event, for status lines and tooltips (recorded text included as text). */
  describe(row: number): string {
    const kind = this.kind[row];
    if (kind >= CALL && kind <= TAIL) return this.labelOf(row);
    const name = this.nameOf(row);
    const value = this.valueOf(row);
    switch (kind) {
      case EventKind.Spawn:
        return `spawned ${name} running ${this.labelOf(row)}`;
      case EventKind.Exit:
        return `exited: ${value}`;
      case EventKind.Link:
        return `linked to ${name}`;
      case EventKind.Unlink:
        return `unlinked from ${name}`;
      case EventKind.Monitor:
        return `monitors ${name}`;
      case EventKind.Demonitor:
        return `stopped monitoring ${name}`;
      case EventKind.Register:
        return `registered as ${name}`;
      case EventKind.Unregister:
        return `lost its name ${name}`;
      case SEND:
        return `sent to ${name}${this.functionOf(row) === "noproc" ? " (no such process)" : ""}: ${value}`;
      case RECEIVE:
        return `received${name ? ` from ${name}` : ""}: ${value}`;
      case STATE:
        return `state ${name} ${this.labelOf(row)}: ${value}`;
      case SAMPLE:
        return `${this.pidOf(row) || "node"} ${name} = ${value}`;
      default:
        return `event of kind ${kind}`;
    }
  }

  /** Whether a row is a metric sample (in no process's lane; stepping and scrubbing skip it). */
  isSample(row: number): boolean {
    return this.kind[row] === SAMPLE;
  }

  /** The row `delta` events away from `row` (clamped to the recording), skipping samples. */
  stepRow(row: number, delta: number): number {
    const dir = delta < 0 ? -1 : 1;
    let r = Math.min(this.count - 1, Math.max(0, row));
    let last = this.isSample(r) ? -1 : r;
    for (let left = Math.abs(delta); left > 0; ) {
      const next = r + dir;
      if (next < 0 || next >= this.count) break;
      r = next;
      if (!this.isSample(r)) {
        last = r;
        left--;
      }
    }
    return last >= 0 ? last : this.eventRowNear(r);
  }

  /** `row`, or the nearest row before it (else after it) that is not a sample; -1 if none. */
  eventRowNear(row: number): number {
    for (let r = Math.min(row, this.count - 1); r >= 0; r--) if (!this.isSample(r)) return r;
    for (let r = Math.max(row, 0); r < this.count; r++) if (!this.isSample(r)) return r;
    return -1;
  }

  /** For a Receive row, the row of its Send (-1 when the sender was not traced). */
  sendOf(receiveRow: number): number {
    if (this.kind[receiveRow] !== RECEIVE) return -1;
    const sendSeq = this.callIdOf(receiveRow);
    return sendSeq > 0 ? this.rowOfSeq(sendSeq) : -1;
  }

  /** For a Send row, the row of its Receive (-1 when not received in a traced process). */
  receiveOf(sendRow: number): number {
    return this.receiveBySend.get(sendRow) ?? -1;
  }

  /** The lane of the process with this pid text ("#PID<0.1.0>"), or -1 if it has none. */
  laneOfPid(pid: string): number {
    return this.laneByPid.get(pid) ?? -1;
  }

  /**
   * Indexes into `processEventRows` of the process events among rows [fromRow, toRow]:
   * [first, end). Rows are in recording order, so this is two binary searches.
   */
  processEventsBetween(fromRow: number, toRow: number): [number, number] {
    const rows = this.processEventRows;
    return [lowerBoundInt(rows.items, rows.length, fromRow), lowerBoundInt(rows.items, rows.length, toRow + 1)];
  }

  /** Process events (sends, receives, spawns…) that happened inside a call, in order. */
  processEventsOf(call: number): number[] {
    const end = this.callEndRow[call] >= 0 ? this.callEndRow[call] : this.count - 1;
    const [a, b] = this.processEventsBetween(this.callRow[call], end);
    const id = this.callIdOf(this.callRow[call]);
    const out: number[] = [];
    for (let k = a; k < b && out.length < 10_000; k++) {
      const r = this.processEventRows.at(k);
      if (this.parentIdOf(r) === id && this.pid[r] === this.callLane[call]) out.push(r);
    }
    return out;
  }

  /**
   * The call an event happened in: its own call for call events, bindings and states; for a
   * process event (a send, a spawn…) the recorded call of the same process it was made in
   * (`parent_id`); -1 when there is none (outside recorded code, or not recorded).
   */
  enclosingCall(row: number): number {
    if (row < 0 || row >= this.count) return -1;
    const own = this.callOf[row];
    if (own >= 0) return own;
    const kind = this.kind[row];
    if (kind < FIRST_PROCESS_EVENT || kind > LAST_PROCESS_EVENT) return -1;
    const parentId = this.parentIdOf(row);
    const call = parentId > 0 ? this.lookupCall(parentId) : -1;
    return call >= 0 && this.callLane[call] === this.pid[row] ? call : -1;
  }

  /**
   * Calls of `module.fn/arity` in recording order (the function's own calls; the fns created in
   * it are other functions). One pass over the calls comparing interned ids.
   */
  callsOfFunction(module: string, fn: string, arity: number): number[] {
    const out: number[] = [];
    const mod = this.modules.intern(module);
    const f = this.functions.intern(fn);
    for (let call = 0; call < this.callCount; call++) {
      const row = this.callRow[call];
      if (this.moduleId(row) === mod && this.functionId(row) === f && this.arityOf(row) === arity) out.push(call);
    }
    return out;
  }

  /** State rows of a GenServer/gen_statem callback call: [before, after], -1 where absent. */
  statesOf(call: number): [number, number] {
    return this.statesByCall.get(call) ?? [-1, -1];
  }

  // ── lookups ──────────────────────────────────────────────────────────────────────────

  /** Row of the event with this `seq` (among the first `end` rows), or -1. */
  rowOfSeq(seq: number, end = this.count): number {
    let lo = 0;
    let hi = end - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const s = this.seq[mid];
      if (s === seq) return mid;
      if (s < seq) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  /**
   * The last row with `ts <= t` (-1 before the first event). Assumes `ts` does not decrease
   * with `seq`, which holds per process and, up to scheduler skew, across processes.
   */
  rowAtTime(t: number): number {
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.ts[mid] <= t) lo = mid + 1;
      else hi = mid;
    }
    return lo - 1;
  }

  /** End time of a call, the end of the recording while it is still open. */
  endOf(call: number): number {
    const e = this.callEnd[call];
    return e === e ? e : this.tsMax;
  }

  /**
   * The call drawn at time `t` on `depth` of `lane`, or the nearest one within `tolerance`
   * (same unit as t); -1 if none.
   */
  callAt(lane: number, depth: number, t: number, tolerance = 0): number {
    const track = this.lanes[lane]?.tracks[depth];
    if (!track || track.length === 0) return -1;
    const i = upperBound(track.items, track.length, this.callStart, t) - 1;
    let best = -1;
    let bestDistance = tolerance;
    for (const k of [i, i + 1]) {
      if (k < 0 || k >= track.length) continue;
      const c = track.items[k];
      const start = this.callStart[c];
      const end = this.endOf(c);
      const distance = t < start ? start - t : t > end ? t - end : 0;
      if (distance <= bestDistance) {
        best = c;
        bestDistance = distance;
      }
    }
    return best;
  }

  /** First index in `track` whose call starts at or after `t`. */
  firstStartingAtOrAfter(track: IntList, t: number): number {
    return lowerBound(track.items, track.length, this.callStart, t);
  }

  /** Binding rows of a call, in recording order. */
  bindingsOf(call: number): number[] {
    const rows: number[] = [];
    for (let r = this.callFirstBinding[call]; r >= 0; r = this.nextBinding[r]) rows.push(r);
    return rows;
  }

  /**
   * For a call that ended by a tail call, the recorded call that took its place (the next call
   * of the same process at the same depth, under the same caller, named as the TailCall event
   * names its callee); -1 otherwise or when the callee was not recorded.
   */
  tailTargetOf(call: number): number {
    if (!(this.callFlags[call] & CallFlag.TailCalled)) return -1;
    const track = this.lanes[this.callLane[call]].tracks[this.callDepth[call]];
    let k = lowerBound(track.items, track.length, this.callStart, this.callStart[call]);
    while (k < track.length && track.items[k] !== call) k++;
    if (k + 1 >= track.length) return -1;
    const next = track.items[k + 1];
    if (this.callParent[next] !== this.callParent[call] || this.callRow[next] < this.callEndRow[call]) return -1;
    const callee = this.nameOf(this.callEndRow[call]);
    const row = this.callRow[next];
    const dynamic = !callee.includes(".");
    return dynamic || callee === this.labelOf(row) ? next : -1;
  }

  /** Where a call's result comes from: itself, or the last recorded call of its tail-call chain. */
  resultCallOf(call: number): number {
    let c = call;
    for (let n = 0; n < 100_000 && this.callFlags[c] & CallFlag.TailCalled; n++) {
      const next = this.tailTargetOf(c);
      if (next < 0) break;
      c = next;
    }
    return c;
  }

  /** The call's callers, innermost first. */
  ancestorsOf(call: number): number[] {
    const out: number[] = [];
    for (let p = this.callParent[call]; p >= 0 && out.length < 10_000; p = this.callParent[p]) out.push(p);
    return out;
  }

  // ── ingestion ────────────────────────────────────────────────────────────────────────

  private readHeader(table: Table): void {
    const raw = table.schema.metadata.get(HEADER_METADATA_KEY);
    if (!raw || this.header) return;
    let header: RecordingHeader;
    try {
      header = JSON.parse(raw) as RecordingHeader;
    } catch {
      return; // A damaged header must not hide the events; the title falls back to the host's.
    }
    if (header.schemaVersion > SCHEMA_VERSION) {
      throw new RecordingFormatError(
        `This recording uses event schema ${header.schemaVersion}; this ElixirScope reads up to ${SCHEMA_VERSION}: update the extension.`,
      );
    }
    this.header = header;
    this.valueBounds = parseValueBounds(header.values) ?? this.valueBounds;
  }

  private grow(needed: number): void {
    this.seq = ensureCapacity(this.seq, needed);
    this.ts = ensureCapacity(this.ts, needed);
    this.kind = ensureCapacity(this.kind, needed);
    this.pid = ensureCapacity(this.pid, needed);
    this.callOf = ensureCapacity(this.callOf, needed);
    this.nextBinding = ensureCapacity(this.nextBinding, needed);
  }

  private growCalls(needed: number): void {
    const before = this.callModule.length;
    this.callRow = ensureCapacity(this.callRow, needed);
    this.callEndRow = ensureCapacity(this.callEndRow, needed);
    this.callLane = ensureCapacity(this.callLane, needed);
    this.callDepth = ensureCapacity(this.callDepth, needed);
    this.callParent = ensureCapacity(this.callParent, needed);
    this.callStart = ensureCapacity(this.callStart, needed);
    this.callEnd = ensureCapacity(this.callEnd, needed);
    this.callFlags = ensureCapacity(this.callFlags, needed);
    this.callFirstBinding = ensureCapacity(this.callFirstBinding, needed);
    this.callLastBinding = ensureCapacity(this.callLastBinding, needed);
    this.callModule = ensureCapacity(this.callModule, needed);
    this.callFn = ensureCapacity(this.callFn, needed);
    this.callFile = ensureCapacity(this.callFile, needed);
    this.callModule.fill(-1, before);
    this.callFn.fill(-1, before);
    this.callFile.fill(-1, before);
  }

  /** Ingests rows [from, to) of a batch; the columns were sized by beginAppendTable. */
  private appendRows(batch: RecordBatch, from: number, to: number): void {
    const col = (name: string) => batch.getChild(name)!.data[0];
    if (from === 0) {
      const at = this.count;
      copyIntegers(col("seq"), "seq", this.seq, at);
      copyIntegers(col("ts"), "ts", this.ts, at);
      copyIntegers(col("kind"), "kind", this.kind, at);
      const chunk = this.lazyChunk(batch, at);
      this.chunks.push(chunk);
      this.pidChunk = chunk.pid;
    }
    const chunk = this.chunks[this.chunks.length - 1];
    const at = chunk.start;
    const pid = this.pidChunk!;
    const callIds = chunk.callId;
    const parentIds = chunk.parentId;

    for (let j = from; j < to; j++) {
      const i = at + j;
      const t = this.ts[i];
      if (t < this.tsMin) this.tsMin = t;
      if (t > this.tsMax) this.tsMax = t;
      this.nextBinding[i] = -1;
      const kind = this.kind[i];
      if (kind > TAIL && kind !== STATE) {
        this.appendProcessEvent(i, j, kind, pid, callIds);
        continue;
      }
      // An event shares its call's process, and a call its caller's (parent_id names a call
      // in the same process): only top-level calls and events whose call is missing need
      // their pid looked at.
      const call = kind === CALL ? -1 : this.lookupCall(callIds.at(j));
      const parentId = kind === CALL ? parentIds.at(j) : 0;
      const parent = parentId > 0 ? this.lookupCall(parentId) : -1;
      const known = call >= 0 ? call : parent;
      let lane: Lane;
      if (known >= 0) {
        lane = this.lanes[(this.pid[i] = this.callLane[known])];
      } else {
        const laneIndex = (this.pid[i] = pid.internAt(j, this.pids));
        lane = laneIndex < this.lanes.length ? this.lanes[laneIndex] : this.newLane(laneIndex, i);
      }
      lane.events++;
      if (kind === CALL) {
        const c = (this.callOf[i] = this.addCall(i, lane, callIds.at(j), parent));
        // Bars are coloured by module and function: intern them now, while loading, rather
        // than on the first frames that show each call.
        this.callModule[c] = chunk.module.internAt(j, this.modules);
        this.callFn[c] = chunk.fn.internAt(j, this.functions);
        continue;
      }
      this.callOf[i] = call;
      if (kind === RETURN || kind === EXCEPTION || kind === TAIL) {
        if (kind === EXCEPTION) {
          this.exceptionRows.push(i);
          lane.exceptions++;
        }
        if (call >= 0 && this.callEndRow[call] < 0) {
          this.callEndRow[call] = i;
          this.callEnd[call] = t;
          this.callFlags[call] = kind === EXCEPTION ? CallFlag.Raised : kind === TAIL ? CallFlag.TailCalled : CallFlag.Returned;
        }
      } else if (kind === BINDING) {
        this.bindingCount++;
        if (call >= 0) {
          const last = this.callLastBinding[call];
          if (last < 0) this.callFirstBinding[call] = i;
          else this.nextBinding[last] = i;
          this.callLastBinding[call] = i;
        }
      } else if (kind === STATE) {
        this.stateRows.push(i);
        if (call >= 0) {
          const states = this.statesByCall.get(call) ?? [-1, -1];
          states[chunk.name.textAt(j) === "after" ? 1 : 0] = i;
          this.statesByCall.set(call, states);
        }
      }
    }
    this.count = at + to;
  }

  /**
   * A process event (in its process's lane, in no call) or a sample (in no lane). Unknown
   * kinds of a later schema are kept as rows of their process and otherwise ignored.
   */
  private appendProcessEvent(i: number, j: number, kind: number, pid: StringChunk, callIds: IntColumn): void {
    this.callOf[i] = -1;
    if (kind === SAMPLE) {
      this.pid[i] = -1;
      this.sampleRows.push(i);
      return;
    }
    const laneIndex = (this.pid[i] = pid.internAt(j, this.pids));
    const lane = laneIndex < this.lanes.length ? this.lanes[laneIndex] : this.newLane(laneIndex, i);
    lane.events++;
    if (kind < FIRST_PROCESS_EVENT || kind > LAST_PROCESS_EVENT) return;
    this.processEventRows.push(i);
    if (kind === RECEIVE) {
      const sendSeq = callIds.at(j);
      // Rows of the batch being ingested are not counted yet: search up to this one.
      const send = sendSeq > 0 ? this.rowOfSeq(sendSeq, i) : -1;
      if (send >= 0 && this.kind[send] === SEND) this.receiveBySend.set(send, i);
    }
  }

  private lazyChunk(batch: RecordBatch, start: number): LazyChunk {
    const col = (name: string) => batch.getChild(name)!.data[0];
    return {
      start,
      pid: stringChunk(col("pid"), "pid"),
      module: stringChunk(col("module"), "module"),
      fn: stringChunk(col("function"), "function"),
      file: stringChunk(col("file"), "file"),
      name: stringChunk(col("name"), "name"),
      value: valueChunk(col("value"), this.valueBounds),
      arity: new IntColumn(col("arity"), "arity"),
      line: new IntColumn(col("line"), "line"),
      callId: new IntColumn(col("call_id"), "call_id"),
      parentId: new IntColumn(col("parent_id"), "parent_id"),
    };
  }

  private newLane(index: number, row: number): Lane {
    const lane: Lane = { index, pid: this.pids.strings[index], firstRow: row, events: 0, calls: 0, exceptions: 0, maxDepth: -1, tracks: [] };
    this.lanes.push(lane);
    this.laneByPid.set(lane.pid, index);
    return lane;
  }

  /** `parent`: the caller's call index (in the same lane), -1 at the top. */
  private addCall(row: number, lane: Lane, callId: number, parent: number): number {
    const c = this.callCount++;
    const depth = parent >= 0 ? this.callDepth[parent] + 1 : 0;
    this.callRow[c] = row;
    this.callEndRow[c] = -1;
    this.callLane[c] = lane.index;
    this.callDepth[c] = depth;
    this.callParent[c] = parent;
    this.callStart[c] = this.ts[row];
    this.callEnd[c] = NaN;
    this.callFlags[c] = 0;
    this.callFirstBinding[c] = -1;
    this.callLastBinding[c] = -1;
    this.registerCall(callId, c);
    while (lane.tracks.length <= depth) lane.tracks.push(new IntList(64));
    lane.tracks[depth].push(c);
    lane.calls++;
    if (depth > lane.maxDepth) lane.maxDepth = depth;
    return c;
  }

  private registerCall(id: number, call: number): void {
    if (id >= 0 && id < DENSE_CALL_ID_LIMIT && Number.isInteger(id)) {
      if (id >= this.denseCallIds.length) {
        const old = this.denseCallIds.length;
        this.denseCallIds = ensureCapacity(this.denseCallIds, id + 1);
        this.denseCallIds.fill(-1, old);
      }
      this.denseCallIds[id] = call;
    } else {
      this.sparseCallIds.set(id, call);
    }
  }

  private lookupCall(id: number): number {
    if (id >= 0 && id < DENSE_CALL_ID_LIMIT && Number.isInteger(id)) {
      return id < this.denseCallIds.length ? this.denseCallIds[id] : -1;
    }
    return this.sparseCallIds.get(id) ?? -1;
  }

  private chunkOf(row: number): LazyChunk {
    if (row < 0 || row >= this.count) throw new RangeError(`event row ${row} is outside the recording (0..${this.count - 1})`);
    let lo = 0;
    let hi = this.chunks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.chunks[mid].start <= row) lo = mid;
      else hi = mid - 1;
    }
    return this.chunks[lo];
  }
}

/** Rows ingested between two looks at the clock. */
const LOAD_STEP_ROWS = 8192;

/**
 * Smallest and largest `ts` of a table, from the first and last event of each batch (ts
 * grows with seq, up to scheduler skew, which `tsMin`/`tsMax` correct as events are read).
 */
function timeRange(table: Table): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const batch of table.batches) {
    const data = batch.getChild("ts")?.data[0];
    if (!data || batch.numRows === 0) continue;
    const ts = new IntColumn(data, "ts");
    lo = Math.min(lo, ts.at(0), ts.at(batch.numRows - 1));
    hi = Math.max(hi, ts.at(0), ts.at(batch.numRows - 1));
  }
  return [lo, hi];
}

/** Number of Call events in a table (to size the call arrays once). */
function countCalls(table: Table): number {
  let calls = 0;
  for (const batch of table.batches) {
    const kinds = batch.getChild("kind")?.data[0]?.values as ArrayLike<number> | undefined;
    if (!kinds) continue;
    for (let j = 0; j < batch.numRows; j++) if (kinds[j] === CALL) calls++;
  }
  return calls;
}

/** First k in [0, n) with key[items[k]] > t. */
function upperBound(items: Int32Array, n: number, key: Float64Array, t: number): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (key[items[mid]] <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First k in [0, n) with items[k] >= x (items ascending). */
function lowerBoundInt(items: Int32Array, n: number, x: number): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (items[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First k in [0, n) with key[items[k]] >= t. */
function lowerBound(items: Int32Array, n: number, key: Float64Array, t: number): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (key[items[mid]] < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The narrowest time window holding at least `share` of the events, as [start, end]; ts must
 * not decrease. Recordings often idle (startup, then a burst of test activity): the timeline
 * opens on where things happened instead of slivers at one end.
 */
export function busiestWindow(ts: Float64Array, count: number, share: number): [number, number] {
  if (count === 0) return [0, 0];
  const k = Math.max(1, Math.min(count, Math.ceil(count * share)));
  let best = 0;
  for (let i = 1; i + k - 1 < count; i++) if (ts[i + k - 1] - ts[i] < ts[best + k - 1] - ts[best]) best = i;
  return [ts[best], ts[best + k - 1]];
}
