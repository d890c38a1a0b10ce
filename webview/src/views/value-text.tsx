/**
 * A recorded value (Elixir `inspect` text) with light syntax colouring. Recorded values are
 * untrusted: they only ever become React text children, never markup.
 */
import { memo, type ReactNode } from "react";

const TOKEN = new RegExp(
  [
    /("(?:[^"\\]|\\.)*"?)/.source, // string
    /('(?:[^'\\]|\\.)*'?)/.source, // charlist
    /(:"(?:[^"\\]|\\.)*"|:[A-Za-z_][\w@]*[?!]?)/.source, // atom
    /((?<![\w.])[a-z_][\w]*[?!]?:(?=\s))/.source, // keyword key
    /((?<![\w.:])[A-Z][\w]*(?:\.[A-Z][\w]*)*)/.source, // module / alias
    /((?<![\w.])-?\d[\d_]*(?:\.\d+)?(?:[eE][-+]?\d+)?)/.source, // number
    /((?<![\w.:])(?:true|false|nil)(?![\w?!]))/.source, // literal atoms
    /([{}[\]%]|=>|\*\*)/.source, // structure
  ].join("|"),
  "g",
);
const CLASSES = ["es-tok-string", "es-tok-string", "es-tok-atom", "es-tok-key", "es-tok-module", "es-tok-number", "es-tok-atom", "es-tok-punct"];
/** Beyond this, colouring is not worth the DOM nodes; the text is shown plain. */
const MAX_COLOURED = 20_000;

export function tokenize(text: string): ReactNode[] {
  if (text.length > MAX_COLOURED) return [text];
  const out: ReactNode[] = [];
  let last = 0;
  for (const m of text.matchAll(TOKEN)) {
    const at = m.index ?? 0;
    if (at > last) out.push(text.slice(last, at));
    const group = m.findIndex((g, i) => i > 0 && g !== undefined) - 1;
    out.push(
      <span key={at} className={CLASSES[group]}>
        {m[0]}
      </span>,
    );
    last = at + m[0].length;
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}

export const ValueText = memo(function ValueText({ text, className }: { text: string; className?: string }) {
  return <pre className={`es-value${className ? ` ${className}` : ""}`}>{tokenize(text)}</pre>;
});
