/**
 * `elixirScope.*` settings, read and validated in one place. Pure: takes a getter (VS Code's
 * WorkspaceConfiguration.get in the extension, a plain object in tests) and returns typed
 * settings or a SettingsError whose message names the setting and the next step.
 */
import type { InstrumentationPlan, ModulePlan } from "../../protocol/src/wire";

export interface Settings {
  command: string;
  /** Prepended to PATH for `mix` and the recorded command; "" = use PATH as it is. */
  elixirBinDir: string;
  connectTimeoutSeconds: number;
  /** 127.0.0.1 port the agent connects back to; 0 = any free port. */
  port: number;
  memoryCapMB: number;
  /** The agent's memory for events not yet sent (MB), in the recorded node. */
  agentBufferMB: number;
  values: InstrumentationPlan["values"];
  /** "adaptive": the agent samples the hottest functions when it falls behind; "off": it drops. */
  sampling: NonNullable<InstrumentationPlan["sampling"]>;
  /** Module name patterns (`*` = any run of characters) to record only / never. */
  includeModules: string[];
  excludeModules: string[];
  /** Attach to Running Node keeps the cookie (in VS Code's secret storage, per workspace and node). */
  attachRememberCookie: boolean;
}

export class SettingsError extends Error {}

type Get = (key: string) => unknown;

export function readSettings(get: Get): Settings {
  return {
    command: nonEmptyString(get, "command", "mix test"),
    elixirBinDir: string(get, "elixirBinDir", ""),
    connectTimeoutSeconds: number(get, "connectTimeoutSeconds", 120, 1, 3600),
    port: integer(get, "port", 0, 0, 65535),
    memoryCapMB: number(get, "memoryCapMB", 512, 16, 65536),
    agentBufferMB: integer(get, "agentBufferMB", 64, 8, 16384),
    values: {
      max_chars: number(get, "values.maxChars", 400, 16, 1_000_000),
      max_items: number(get, "values.maxItems", 25, 1, 100_000),
      max_depth: number(get, "values.maxDepth", 6, 1, 100),
      max_bytes: integer(get, "values.maxBinaryBytes", 512, 64, 1_048_576),
    },
    sampling: oneOf(get, "sampling", ["adaptive", "off"] as const, "adaptive"),
    includeModules: patterns(get, "includeModules"),
    excludeModules: patterns(get, "excludeModules"),
    attachRememberCookie: boolean(get, "attach.rememberCookie", false),
  };
}

/** The plan's modules narrowed by include/exclude patterns. */
export function filterModules(modules: ModulePlan[], s: Pick<Settings, "includeModules" | "excludeModules">): ModulePlan[] {
  const matches = (name: string, list: string[]) => list.some((p) => globToRegExp(p).test(name));
  return modules.filter(
    (m) => (s.includeModules.length === 0 || matches(m.module, s.includeModules)) && !matches(m.module, s.excludeModules),
  );
}

function globToRegExp(pattern: string): RegExp {
  const escaped = pattern.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*");
  return new RegExp(`^${escaped}$`);
}

function fail(key: string, what: string): never {
  throw new SettingsError(`Setting elixirScope.${key} ${what}; fix it in Settings (JSON) and record again.`);
}

function string(get: Get, key: string, fallback: string): string {
  const v = get(key) ?? fallback;
  if (typeof v !== "string") fail(key, `must be a string, not ${JSON.stringify(v)}`);
  return v;
}

function nonEmptyString(get: Get, key: string, fallback: string): string {
  const v = string(get, key, fallback).trim();
  if (v === "") fail(key, "must not be empty (for example \"mix test\")");
  return v;
}

function oneOf<T extends string>(get: Get, key: string, allowed: readonly T[], fallback: T): T {
  const v = get(key) ?? fallback;
  if (typeof v !== "string" || !(allowed as readonly string[]).includes(v)) {
    fail(key, `must be one of ${allowed.map((a) => JSON.stringify(a)).join(", ")}, not ${JSON.stringify(v)}`);
  }
  return v as T;
}

function boolean(get: Get, key: string, fallback: boolean): boolean {
  const v = get(key) ?? fallback;
  if (typeof v !== "boolean") fail(key, `must be true or false, not ${JSON.stringify(v)}`);
  return v;
}

function integer(get: Get, key: string, fallback: number, min: number, max: number): number {
  const v = number(get, key, fallback, min, max);
  if (!Number.isInteger(v)) fail(key, `must be a whole number, not ${v}`);
  return v;
}

function number(get: Get, key: string, fallback: number, min: number, max: number): number {
  const v = get(key) ?? fallback;
  if (typeof v !== "number" || !Number.isFinite(v)) fail(key, `must be a number, not ${JSON.stringify(v)}`);
  if (v < min || v > max) fail(key, `must be between ${min} and ${max}, not ${v}`);
  return v;
}

function patterns(get: Get, key: string): string[] {
  const v = get(key) ?? [];
  if (!Array.isArray(v) || v.some((p) => typeof p !== "string" || !/^[A-Za-z0-9_.*]+$/.test(p))) {
    fail(key, `must be a list of module names or patterns like "MyApp.Repo" or "MyApp.Web.*", not ${JSON.stringify(v)}`);
  }
  return v as string[];
}
