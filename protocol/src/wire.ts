/**
 * Wire protocol between the BEAM agent and the recorder (extension host or CLI), over one TCP
 * connection that the agent opens to 127.0.0.1:ELIXIR_SCOPE_PORT.
 *
 * Frame: u32 big-endian N (length of the rest), u8 frame type, N-1 payload bytes.
 * JSON payloads are UTF-8. The first frame must be HELLO with the session secret; the recorder
 * reads nothing else before checking it and closes the socket on a mismatch.
 *
 * Sequence: agent HELLO → recorder PLAN → agent READY (after instrumenting) → agent EVENTS*,
 * LOG*, STATS* → (recorder STOP →) agent STATS, BYE, close.
 */

export const PROTOCOL_VERSION = 1;
/**
 * Event schema of EVENTS frames: the recording's (`SCHEMA_VERSION` 3, `value` Binary: each
 * value the term in Erlang's external format, first byte 131, or UTF-8 text). The recorder
 * keeps the values as they came; readers print terms when they show them (`values.ts`).
 */
export const EVENTS_SCHEMA_VERSION = 3;

/** Largest frame either side accepts; larger ones are a protocol error. */
export const MAX_FRAME_BYTES = 64 * 1024 * 1024;
/** Largest HELLO accepted before the secret has been checked. */
export const MAX_HELLO_BYTES = 64 * 1024;

export const FrameType = {
  /** agent → recorder, JSON `Hello`. */
  Hello: 1,
  /**
   * recorder → agent, JSON `InstrumentationPlan`. Sent again during the session, it changes what
   * is recorded (modules restored / instrumented, sampling switched); the agent answers READY.
   */
  Plan: 2,
  /** agent → recorder, JSON `Ready`: instrumentation done, program may start. */
  Ready: 3,
  /** agent → recorder, payload = a complete Arrow IPC stream (schema, batches, EOS) of events. */
  Events: 4,
  /** agent → recorder, JSON `Log`. */
  Log: 5,
  /** agent → recorder, JSON `Stats`. */
  Stats: 6,
  /** agent → recorder, JSON `Bye`; the last frame, sent after every event was flushed. */
  Bye: 7,
  /** recorder → agent, empty: stop recording, restore original code, flush, say BYE. */
  Stop: 8,
} as const;
export type FrameType = (typeof FrameType)[keyof typeof FrameType];

/** Environment variables the recorder sets for the recorded program. */
export const ENV = {
  port: "ELIXIR_SCOPE_PORT",
  secret: "ELIXIR_SCOPE_SECRET",
} as const;

export interface Hello {
  secret: string;
  protocol: number;
  /** Event schema of its EVENTS frames (`EVENTS_SCHEMA_VERSION`); the recorder refuses another one. */
  schema: number;
  agent_version: string;
  node: string;
  otp_release: string;
  elixir_version: string;
  os_pid: string;
}

/** Which functions of one module to record. `functions: null` means every function. */
export interface ModulePlan {
  /** Elixir module name as written in source, e.g. "Sample.Ledger". */
  module: string;
  functions: { name: string; arity: number }[] | null;
  /** Why the planner chose it (shown to the user). */
  reason: string;
}

export interface InstrumentationPlan {
  modules: ModulePlan[];
  /**
   * Absolute path of the project's `_build/<env>/lib` directory; the agent looks for
   * `<lib_dir>/<app>/ebin/Elixir.<Module>.beam` there (deps are never instrumented).
   */
  lib_dir: string;
  /**
   * Bounds for captured values: text length, items per collection and depth when printed, and
   * `max_bytes`, the bytes of a binary the agent captures (default 512; longer ones keep that
   * prefix and their size).
   */
  values: { max_chars: number; max_items: number; max_depth: number; max_bytes?: number };
  /** Overload protection: sample the hottest functions when behind (default), or only drop. */
  sampling?: "adaptive" | "off";
  /**
   * Memory the agent may hold in events not yet sent (MB, default 64); beyond it events are
   * dropped and counted. Sampling starts at half of it.
   */
  buffer_mb?: number;
}

export interface Ready {
  instrumented: { module: string; functions: number }[];
  skipped: { module: string; reason: string }[];
}

export interface Log {
  level: "debug" | "info" | "warning" | "error";
  message: string;
}

export interface Stats {
  events: number;
  dropped: number;
  /** Calls not recorded because their function was being sampled (the agent fell behind). */
  sampled?: number;
  /** Per sampled function: calls skipped so far and the current rate (1 = sampling ended). */
  sampled_functions?: { function: string; skipped: number; keep_one_in: number }[];
}

export interface Bye {
  reason: string;
}
