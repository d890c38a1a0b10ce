/**
 * Event schema of a recording, version 3 (version 2 held `value` as Utf8 text; version 1 had,
 * besides, no TailCall events and no VM events; readers accept all three). Written by `beam_agent` (Elixir, by hand, in
 * `ElixirScope.Agent.Arrow`), read by the extension, the webview and the CLI with apache-arrow.
 * This file and `protocol/SCHEMA.md` are the single source of truth; both ends test against them.
 *
 * One Arrow table, one row per event. Every column is non-nullable; "no value" is 0 or "".
 * Kinds 1–5 are code events (a call and what happened inside it); kinds 6–16 are process
 * events (VM tracing and OTP state); kind 17 is a metric sample. Readers must skip kinds they
 * do not know: later versions may add more.
 */

export const SCHEMA_VERSION = 3;

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

  // ── Process events (VM tracing). `pid` = the process it happened in; `parent_id` = the
  // innermost recorded call that process was in at that moment (0 if none); `file`/`line`
  // empty; `module`/`function`/`arity` empty unless said otherwise. Only processes that run
  // instrumented code are traced (from their first recorded event on), plus the spawn, link,
  // register and exit events of their direct children.

  /**
   * `pid` spawned a process. `name` = the child's pid; `module`/`function`/`arity` = what it
   * runs (the user's module and `init` for a GenServer or gen_statem started through OTP,
   * "fn in run/2" for an anonymous function); `value` = its arguments.
   */
  Spawn: 6,
  /** `pid` exited. `value` = the exit reason (":normal", "{%RuntimeError{…}, […]}"). */
  Exit: 7,
  /** `pid` linked to `name` (a pid or port); spawn_link gives Spawn then Link. */
  Link: 8,
  /** `pid` removed its link to `name`. */
  Unlink: 9,
  /**
   * `pid` monitored `name` (pid, registered name or `{name, node}`) with `Process.monitor`;
   * `value` = the monitor reference. (The monitor `GenServer.call` sets up is not recorded.)
   */
  Monitor: 10,
  /** `pid` removed the monitor `value` (a reference) on `name`; only for recorded monitors. */
  Demonitor: 11,
  /** `pid` registered under the name `name` (":my_name", "MyApp.Worker"). */
  Register: 12,
  /** `pid` lost its registered name `name` (unregister or exit). */
  Unregister: 13,
  /**
   * `pid` sent `value` (the message) to `name` (a pid, registered name or alias reference).
   * `function` = "noproc" when no such process existed, else "".
   */
  Send: 14,
  /**
   * The message `value` entered `pid`'s mailbox (the VM's "receive": when a `receive` clause
   * takes it, the clause's Binding rows show it). `call_id` = the `seq` of the matching Send
   * and `name` = its sender's pid when the sender is traced; 0 and "" otherwise.
   */
  Receive: 15,
  /**
   * State of a GenServer (`value` = the state) or gen_statem (`value` = `{state, data}`),
   * `name` = "before" (when a callback is entered) or "after" (when it returned; from the
   * result of the call that took its place when it ended by a tail call). `call_id`,
   * `parent_id`, `module`, `function`, `arity`, `file`, `line` = those of the callback's Call.
   * init has only "after", terminate only "before". Values may be truncated ("…").
   */
  State: 16,

  // ── Metrics

  /**
   * One metric sampled on an interval (PLAN `vm.sample_ms`, default 250 ms). `name` = the
   * metric, `value` = its value as a decimal number. `pid` = "" for the node:
   * "scheduler_utilisation" (0..1, busy share of the normal schedulers since the previous
   * sample), "memory" (bytes), "process_count", "run_queue"; or a recorded process: "mailbox"
   * (message queue length), "reductions" (total so far), "memory" (bytes). `call_id` and
   * `parent_id` are 0. Node "message_tracing" = 0 marks where the agent stopped tracing
   * messages because it fell behind (until a "message_tracing" = 1): sends and receives in
   * between are missing, and those it discarded are counted in the stats' `dropped`.
   */
  Sample: 17,
} as const;
export type EventKind = (typeof EventKind)[keyof typeof EventKind];

/** Kinds of the events of a call (Call, Return, Exception, Binding, TailCall). */
export function isCodeEvent(kind: number): boolean {
  return kind >= EventKind.Call && kind <= EventKind.TailCall;
}

/** Kinds that happen in a process: code events and process events (not Sample). */
export function isProcessEvent(kind: number): boolean {
  return kind >= EventKind.Call && kind <= EventKind.State;
}

/** Values of `name` in Sample rows. */
export const SampleMetric = {
  SchedulerUtilisation: "scheduler_utilisation",
  Memory: "memory",
  ProcessCount: "process_count",
  RunQueue: "run_queue",
  Mailbox: "mailbox",
  Reductions: "reductions",
  MessageTracing: "message_tracing",
} as const;

/** Arrow type of each column, as the agent writes it. */
/**
 * Row seqs are the agent's capture order × 64: a CALL row at `s` is followed by the rows of
 * its head bindings (and a callback's STATE "before") at `s + 1` … `s + 63`.
 */
export const CALL_SEQ_ROOM = 63;

export type ColumnType = "int64" | "int32" | "int8" | "utf8" | "binary";

/** Columns in schema order. Names are the Arrow field names. */
export const COLUMNS = [
  /** Capture order; strictly increasing over a recording. */
  { name: "seq", type: "int64" },
  /** Nanoseconds since the recording started (monotonic clock of the recorded node). */
  { name: "ts", type: "int64" },
  /** One of `EventKind`. */
  { name: "kind", type: "int8" },
  /** Process the event happened in, as Elixir prints it: "#PID<0.123.0>"; "" for node samples. */
  { name: "pid", type: "utf8" },
  /** Module as Elixir prints it: "Sample.Ledger", ":lists". */
  { name: "module", type: "utf8" },
  { name: "function", type: "utf8" },
  { name: "arity", type: "int32" },
  /**
   * Call this event belongs to; call/return/exception/binding/state of one call share it
   * (>= 1). Receive: the matching Send's `seq`. Other process events and samples: 0.
   */
  { name: "call_id", type: "int64" },
  /**
   * `call_id` of the calling (instrumented) function in the same process; 0 at the top. For a
   * process event: the innermost recorded call the process was in when it happened.
   */
  { name: "parent_id", type: "int64" },
  /** Absolute path of the source file, as the module was compiled. */
  { name: "file", type: "utf8" },
  /** 1-based source line; 0 when unknown. */
  { name: "line", type: "int32" },
  /**
   * Binding: the variable's source name ("x"). TailCall: the callee. Process events: the other
   * process or name (see `EventKind`). State: "before"/"after". Sample: the metric. Else "".
   */
  { name: "name", type: "utf8" },
  /**
   * The bounded value: the term in Erlang's external format (first byte 131), printed by
   * readers as Elixir's `inspect` would (`values.ts` `valueText`, with the header's `values`
   * bounds), or UTF-8 text the agent printed itself. Ends with "…" when truncated. Schema 1
   * and 2: Utf8 text only.
   */
  { name: "value", type: "binary" },
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
  /**
   * How the `value` column's terms are printed: the bounds of the recording's last plan
   * (`values.ts` `ValueBounds`; absent in schema 1 and 2, whose values are text).
   */
  values?: { max_chars: number; max_items: number; max_depth: number };
}
