/**
 * A large synthetic recording in event schema v1 for webview benchmarks: processes that
 * serve requests through nested calls (up to 7 deep), bind variables, and now and then raise,
 * interleaved on one clock like a real BEAM node. Values are realistic inspect text
 * (30–90 bytes), so 1M events make an IPC file of roughly the size the agent would write.
 */
import { Int8, Int32, Int64, makeData, RecordBatch, Table, tableToIPC, type Data } from "apache-arrow";
import { EventKind, type RecordingHeader } from "../../protocol/src/events";
import { batchFromColumns, eventSchema, utf8Data } from "../../test/webview/recording-builder";

const MODULES = [
  "MyApp.Accounts", "MyApp.Accounts.User", "MyApp.Billing", "MyApp.Billing.Invoice", "MyApp.Repo", "MyApp.Cache",
  "MyApp.Orders", "MyApp.Orders.Pricing", "MyApp.Inventory", "MyApp.Notifier", "MyApp.Web.OrderController",
  "MyApp.Web.Router", "MyApp.Workers.Sync", "MyApp.Auth", "MyApp.Search", "Ecto.Changeset", ":lists", "Enum",
];
const FUNCTIONS = ["handle_call", "handle_info", "get", "fetch!", "update", "validate", "price_for", "reserve", "notify", "call", "insert", "encode", "reduce", "map", "authorize", "run"];
const NAMES = ["user", "order", "total", "changeset", "acc", "result", "state", "items", "reply", "opts"];

function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function value(rand: () => number, n: number): string {
  switch (n % 5) {
    case 0:
      return `[%MyApp.Accounts.User{id: ${(rand() * 1e6) | 0}, name: "user_${n % 977}", role: :member}, ${(rand() * 1e4) | 0}]`;
    case 1:
      return `{:ok, %{total: ${(rand() * 1e5) | 0}, currency: "EUR", items: [${n % 13}, ${n % 7}, ${n % 3}]}}`;
    case 2:
      return `%{"order_id" => ${n}, "status" => "pending", "lines" => ${n % 17}}`;
    case 3:
      return `[${n % 97}, :reserve, [timeout: 5000, retries: ${n % 4}]]`;
    default:
      return `{:reply, :ok, %{count: ${n}, last: ~U[2025-11-23 21:30:00Z]}}`;
  }
}

/** Events in columns, then Arrow batches of `batchRows` (like the agent's flushes). */
export function syntheticRecording(events: number, opts: { processes?: number; seed?: number; batchRows?: number } = {}): Uint8Array {
  const P = opts.processes ?? 24;
  const rand = mulberry32(opts.seed ?? 42);
  const seq = new BigInt64Array(events);
  const ts = new BigInt64Array(events);
  const kind = new Int8Array(events);
  const arity = new Int32Array(events);
  const callId = new BigInt64Array(events);
  const parentId = new BigInt64Array(events);
  const line = new Int32Array(events);
  const pid: string[] = new Array(events);
  const mod: string[] = new Array(events);
  const fun: string[] = new Array(events);
  const file: string[] = new Array(events);
  const name: string[] = new Array(events);
  const val: string[] = new Array(events);
  const pids = Array.from({ length: P }, (_, i) => `#PID<0.${200 + i * 7}.0>`);
  type Frame = { id: number; m: string; f: string; a: number; file: string; line: number };
  const stacks: Frame[][] = pids.map(() => []);
  let clock = 0;
  let nextCall = 1;
  let i = 0;
  const emit = (p: number, k: EventKind, fr: Frame, parent: number, nm: string, v: string, ln: number) => {
    seq[i] = BigInt(i + 1);
    ts[i] = BigInt(clock);
    kind[i] = k;
    pid[i] = pids[p];
    mod[i] = fr.m;
    fun[i] = fr.f;
    arity[i] = fr.a;
    callId[i] = BigInt(fr.id);
    parentId[i] = BigInt(parent);
    file[i] = fr.file;
    line[i] = ln;
    name[i] = nm;
    val[i] = v;
    i++;
  };
  while (i < events) {
    clock += 200 + ((rand() * 1800) | 0);
    const p = (rand() * P) | 0;
    const stack = stacks[p];
    const top = stack[stack.length - 1];
    const parent = stack.length > 1 ? stack[stack.length - 2].id : 0;
    const r = rand();
    const room = events - i;
    if (top && (room <= stack.length || stack.length >= 7 || r < 0.42)) {
      stack.pop();
      const raised = rand() < 0.001;
      emit(p, raised ? EventKind.Exception : EventKind.Return, top, parent, "", raised ? "** (RuntimeError) upstream timed out after 5000 ms" : value(rand, i), top.line);
    } else if (top && r < 0.62) {
      emit(p, EventKind.Binding, top, parent, NAMES[i % NAMES.length], value(rand, i), top.line + 1 + (i % 9));
    } else {
      const m = MODULES[(rand() * MODULES.length) | 0];
      const f = FUNCTIONS[(rand() * FUNCTIONS.length) | 0];
      const fr: Frame = { id: nextCall++, m, f, a: 1 + (f.length % 3), file: `/home/dev/my_app/lib/${m.toLowerCase().replace(/\./g, "/")}.ex`, line: 10 + ((rand() * 400) | 0) };
      emit(p, EventKind.Call, fr, top?.id ?? 0, "", value(rand, i), fr.line);
      stack.push(fr);
    }
  }
  const header: RecordingHeader = { schemaVersion: 1, app: "my_app", command: "mix test", startedAt: "2025-11-23T21:30:00.000Z", node: "my_app@localhost", dropped: 0, events };
  const schema = eventSchema(header);
  const size = opts.batchRows ?? 65_536;
  const batches: RecordBatch[] = [];
  const int = <T extends Int64 | Int32 | Int8>(type: T, data: BigInt64Array | Int32Array | Int8Array, a: number, b: number): Data =>
    makeData({ type, length: b - a, nullCount: 0, data: data.subarray(a, b) } as never);
  for (let a = 0; a < events; a += size) {
    const b = Math.min(events, a + size);
    batches.push(
      batchFromColumns(schema, [
        int(new Int64(), seq, a, b),
        int(new Int64(), ts, a, b),
        int(new Int8(), kind, a, b),
        utf8Data(pid.slice(a, b)),
        utf8Data(mod.slice(a, b)),
        utf8Data(fun.slice(a, b)),
        int(new Int32(), arity, a, b),
        int(new Int64(), callId, a, b),
        int(new Int64(), parentId, a, b),
        utf8Data(file.slice(a, b)),
        int(new Int32(), line, a, b),
        utf8Data(name.slice(a, b)),
        utf8Data(val.slice(a, b)),
      ]),
    );
  }
  return tableToIPC(new Table(schema, batches), "file");
}
