/**
 * Event schema of a recording, version 2 (version 1 had no TailCall events; readers accept both). Written by `beam_agent` (Elixir, by hand, in
 * `ElixirScope.Agent.Arrow`), read by the extension, the webview and the CLI with apache-arrow.
 * This file and `protocol/SCHEMA.md` are the single source of truth; both ends test against them.
 *
 * One Arrow table, one row per event. Every column is non-nullable; "no value" is 0 or "".
 */

export const SCHEMA_VERSION = 2;

/** Event kinds (column `kind`, Int8). */
export const EventKind = {
  /** A function clause was entered. `value` = the argument list, `line` = the clause's line. */
  Call: 1,
  /** The call returned. `value` = the return value. */
  Return: 2,
  /** The call raised, threw or exited. `value` = formatted exception ("** (RuntimeError) boom"). */
  Exception: 3,
  /** A variable was bound. `name` = its source name, `value` = its value, `line` = where. */
  Binding: 4,
  /**
   * The call ended by a call in tail position: its frame was replaced by the callee's (tail calls
   * stay tail calls under recording). `name` = the callee ("Sample.Worker.loop/1", "fn/1",
   * "apply/3"), `value` = the callee's argument list, `line` = the call's line. When the callee
   * is recorded, its Call is the next Call of this process whose `parent_id` equals this event's
   * `parent_id`, and the value this call produced is that call's result.
   */
  TailCall: 5,
} as const;
export type EventKind = (typeof EventKind)[keyof typeof EventKind];

/** Arrow type of each column, as the agent writes it. */
export type ColumnType = "int64" | "int32" | "int8" | "utf8";

/** Columns in schema order. Names are the Arrow field names. */
export const COLUMNS = [
  /** Capture order; strictly increasing over a recording. */
  { name: "seq", type: "int64" },
  /** Nanoseconds since the recording started (monotonic clock of the recorded node). */
  { name: "ts", type: "int64" },
  /** One of `EventKind`. */
  { name: "kind", type: "int8" },
  /** Process that emitted the event, as Elixir prints it: "#PID<0.123.0>". */
  { name: "pid", type: "utf8" },
  /** Module as Elixir prints it: "Sample.Ledger", ":lists". */
  { name: "module", type: "utf8" },
  { name: "function", type: "utf8" },
  { name: "arity", type: "int32" },
  /** Call this event belongs to; call/return/exception/binding of one call share it. >= 1. */
  { name: "call_id", type: "int64" },
  /** `call_id` of the calling (instrumented) function in the same process; 0 at the top. */
  { name: "parent_id", type: "int64" },
  /** Absolute path of the source file, as the module was compiled. */
  { name: "file", type: "utf8" },
  /** 1-based source line; 0 when unknown. */
  { name: "line", type: "int32" },
  /** Binding: the variable's source name ("x"). Otherwise "". */
  { name: "name", type: "utf8" },
  /** Bounded printable value (Elixir `inspect` form). Ends with "…" when truncated. */
  { name: "value", type: "utf8" },
] as const satisfies readonly { name: string; type: ColumnType }[];

export type ColumnName = (typeof COLUMNS)[number]["name"];

/** Prefix of the `function` column for anonymous functions: "fn in run/2" (created in run/2). */
export const FN_PREFIX = "fn in ";

/** "add/2"; an anonymous function: "fn/1 in run/2". */
export function shortFunctionLabel(fn: string, arity: number): string {
  return fn.startsWith(FN_PREFIX) ? `fn/${arity} in ${fn.slice(FN_PREFIX.length)}` : `${fn}/${arity}`;
}

/** As Elixir names functions: "Sample.Math.add/2", "anonymous fn/1 in Sample.Math.run/2". */
export function functionLabel(module: string, fn: string, arity: number): string {
  return fn.startsWith(FN_PREFIX)
    ? `anonymous fn/${arity} in ${module}.${fn.slice(FN_PREFIX.length)}`
    : `${module}.${fn}/${arity}`;
}

/** One event as a plain object (int64 columns as numbers), for tests, tools and small reads. */
export interface EventRow {
  seq: number;
  ts: number;
  kind: EventKind;
  pid: string;
  module: string;
  function: string;
  arity: number;
  call_id: number;
  parent_id: number;
  file: string;
  line: number;
  name: string;
  value: string;
}

/** Schema-level custom metadata key under which a saved recording stores `RecordingHeader`. */
export const HEADER_METADATA_KEY = "elixir_scope";

/** Written once into a saved recording (Arrow IPC file format) as schema metadata. */
export interface RecordingHeader {
  schemaVersion: number;
  /** Workspace folder name or the recorded app's name. */
  app: string;
  /** The command that was recorded, e.g. "mix test". */
  command: string;
  /** ISO-8601 wall-clock time the recording started. */
  startedAt: string;
  /** Node name of the recorded BEAM ("nonode@nohost" when not distributed). */
  node: string;
  /** Events the agent dropped (overload), as reported in its stats. */
  dropped: number;
  /** Events in the recording. */
  events: number;
  /** Calls not recorded because the agent was sampling their function (absent in older files). */
  sampled?: number;
  /** Which functions were sampled: calls skipped and the last rate (1 = sampling had ended). */
  sampledFunctions?: { function: string; skipped: number; keep_one_in: number }[];
}
