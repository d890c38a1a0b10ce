/**
 * Reuses the index of top-level modules whose text did not change since the last indexing of
 * the same document, so a keystroke in a 3,000-line file re-indexes one module, not all of
 * them. Keyed by the module's source text: the same text gives the same index, only moved by
 * the lines inserted or removed above it.
 */
import type { ModuleDef, Position } from "./model";

interface Entry {
  module: ModuleDef;
  start: Position;
}

export class ModuleCache {
  private previous = new Map<string, Entry>();
  private current = new Map<string, Entry>();

  /** The cached index of a module with this text starting at `start`, or null. */
  lookup(text: string, start: Position): ModuleDef | null {
    const entry = this.previous.get(text) ?? this.current.get(text);
    // Columns would shift too if the module moved within its first line; that is rare
    // enough to simply index it again.
    if (!entry || entry.start.character !== start.character) return null;
    const module = start.line === entry.start.line ? entry.module : shiftLines(entry.module, start.line - entry.start.line);
    this.current.set(text, { module, start });
    return module;
  }

  store(text: string, start: Position, module: ModuleDef): void {
    this.current.set(text, { module, start });
  }

  /** Called after indexing the whole document: forget modules that are gone. */
  endGeneration(): void {
    this.previous = this.current;
    this.current = new Map();
  }
}

/** A deep copy with every `line` moved by `delta` (positions and `use` lines alike). */
function shiftLines<T>(value: T, delta: number): T {
  if (Array.isArray(value)) return value.map((v) => shiftLines(v, delta)) as T;
  if (value === null || typeof value !== "object") return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = k === "line" && typeof v === "number" ? v + delta : shiftLines(v, delta);
  return out as T;
}
