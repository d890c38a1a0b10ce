/**
 * Recorded values as text. A recording keeps each value as the agent sent it (event schema 3,
 * the `value` column Binary): the term in Erlang's external format (first byte 131), printed
 * here when a view shows it, or UTF-8 text the agent formatted itself (no UTF-8 text starts
 * with byte 131). Recordings of schema 1 and 2 hold text only (a Utf8 column); both read the
 * same through `valueText`.
 *
 * Printing on demand rather than on arrival is what lets the recorder keep up with the agent:
 * printing a term costs ~10× what ingesting its event does, and a view shows a few hundred
 * values of a recording of millions.
 */
import { formatTerm } from "./term-text";

/** How values are printed: `Value.format/2`'s options (the plan's `values`, snake_case as on the wire). */
export interface ValueBounds {
  max_chars: number;
  max_items: number;
  max_depth: number;
}

/** The printing bounds of a plan's `values` (its capture-only fields, such as `max_bytes`, left out). */
export function boundsOf(values: ValueBounds): ValueBounds {
  return { max_chars: values.max_chars, max_items: values.max_items, max_depth: values.max_depth };
}

/** The plan's defaults (settings `elixirScope.values.*`). */
export const DEFAULT_VALUE_BOUNDS: ValueBounds = { max_chars: 400, max_items: 25, max_depth: 6 };

/** What a term that cannot be read prints as (as the agent's `Value.format/2` rescue does). */
export const UNPRINTABLE = "#<unprintable value>";

const ETF_VERSION = 131;
const decoder = new TextDecoder("utf-8", { ignoreBOM: true });

/** Whether the value at `bytes[start, end)` is a term (printed) rather than text. */
export function isTerm(bytes: Uint8Array, start: number, end: number): boolean {
  return end > start && bytes[start] === ETF_VERSION;
}

/**
 * The text of the value at `bytes[start, end)`: a term printed with `bounds`, or the text
 * itself. A term that cannot be read prints as UNPRINTABLE; nothing throws.
 */
export function valueText(bytes: Uint8Array, start: number, end: number, bounds: ValueBounds): string {
  if (!isTerm(bytes, start, end)) return decoder.decode(bytes.subarray(start, end));
  try {
    return formatTerm(bytes, { maxChars: bounds.max_chars, maxItems: bounds.max_items, maxDepth: bounds.max_depth }, start, end - start);
  } catch {
    return UNPRINTABLE;
  }
}

/** `bounds` if it is a usable ValueBounds (from a file's header, a message), else undefined. */
export function parseValueBounds(bounds: unknown): ValueBounds | undefined {
  if (typeof bounds !== "object" || bounds === null) return undefined;
  const o = bounds as Record<string, unknown>;
  const ok = (v: unknown) => typeof v === "number" && Number.isInteger(v) && v > 0;
  return ok(o.max_chars) && ok(o.max_items) && ok(o.max_depth)
    ? { max_chars: o.max_chars as number, max_items: o.max_items as number, max_depth: o.max_depth as number }
    : undefined;
}
