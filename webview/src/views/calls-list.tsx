/**
 * Every call of one function (opened from the editor's code lens above it): arguments, outcome
 * and duration per call, slowest first or in recording order. Clicking a call selects it, moves
 * the cursor there and shows its source. At most `MAX_SHOWN` rows are rendered; the heading
 * says how many there are.
 */
import { memo, useMemo, useState } from "react";
import { formatDuration } from "../data/format";
import { CallFlag, type RecordingModel } from "../data/model";

export interface FunctionRef {
  module: string;
  function: string;
  arity: number;
}

const MAX_SHOWN = 500;
const MAX_ARGS_CHARS = 120;

interface Props {
  model: RecordingModel;
  fn: FunctionRef;
  /** Bumped on appends, so a live recording's new calls show up. */
  version: number;
  selected: number;
  onSelect(call: number): void;
  onClose(): void;
}

export const CallsList = memo(function CallsList({ model, fn, version, selected, onSelect, onClose }: Props) {
  const [order, setOrder] = useState<"slowest" | "time">("slowest");
  const calls = useMemo(() => (version >= 0 ? model.callsOfFunction(fn.module, fn.function, fn.arity) : []), [model, fn, version]);
  const sorted = useMemo(() => {
    if (order === "time") return calls;
    const duration = (c: number) => model.endOf(c) - model.callStart[c];
    return [...calls].sort((a, b) => duration(b) - duration(a));
  }, [calls, order, model]);
  const raised = calls.filter((c) => (model.callFlags[c] & CallFlag.Raised) !== 0).length;
  return (
    <section className="es-calls" data-testid="calls-list" data-function={`${fn.module}.${fn.function}/${fn.arity}`} data-count={calls.length}>
      <div className="es-calls-head">
        <span className="es-fn">
          <span className="es-mod">{fn.module}</span>.{fn.function}/{fn.arity}
        </span>
        <span className="es-muted">
          {" "}
          · {calls.length} {calls.length === 1 ? "call" : "calls"}
          {raised > 0 ? ` · ${raised} raised` : ""}
        </span>
        <span className="es-calls-tools">
          <button className={`es-link${order === "slowest" ? " es-on" : ""}`} onClick={() => setOrder("slowest")}>
            slowest
          </button>
          <button className={`es-link${order === "time" ? " es-on" : ""}`} onClick={() => setOrder("time")}>
            in order
          </button>
          <button className="es-link" title="Close" aria-label="Close" onClick={onClose}>
            ✕
          </button>
        </span>
      </div>
      {calls.length === 0 ? (
        <p className="es-muted es-calls-empty">This recording has no calls of it.</p>
      ) : (
        <ol className="es-calls-rows">
          {sorted.slice(0, MAX_SHOWN).map((c) => (
            <CallRow key={c} model={model} call={c} selected={c === selected} onSelect={onSelect} />
          ))}
          {sorted.length > MAX_SHOWN && <li className="es-muted">… and {sorted.length - MAX_SHOWN} more</li>}
        </ol>
      )}
    </section>
  );
});

function CallRow({ model, call, selected, onSelect }: { model: RecordingModel; call: number; selected: boolean; onSelect(call: number): void }) {
  const row = model.callRow[call];
  const end = model.callEndRow[call];
  const flags = model.callFlags[call];
  const args = model.valueOf(row);
  const outcome = end < 0 ? "running" : flags & CallFlag.Raised ? "raised" : flags & CallFlag.TailCalled ? "tail call" : model.valueOf(end);
  return (
    <li className={selected ? "es-selected" : undefined} data-call-seq={model.seq[row]}>
      <button className="es-call-row" onClick={() => onSelect(call)} title={`${args} → ${outcome}`}>
        <span className="es-call-args">{clip(args)}</span>
        <span className={flags & CallFlag.Raised ? "es-call-out es-exception" : "es-call-out"}>→ {clip(outcome)}</span>
        <span className="es-call-time">{end < 0 ? "open" : formatDuration(model.callEnd[call] - model.callStart[call])}</span>
      </button>
    </li>
  );
}

function clip(text: string): string {
  return text.length > MAX_ARGS_CHARS ? `${text.slice(0, MAX_ARGS_CHARS - 1)}…` : text;
}
