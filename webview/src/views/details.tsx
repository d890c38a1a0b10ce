/**
 * The selected call: what it was called with, what it returned or raised, a GenServer's state
 * before and after, the messages it sent and received, the variables it bound and who called
 * it. Every recorded string is rendered as text.
 */
import { memo } from "react";
import { EventKind, FN_PREFIX } from "../../../protocol/src/events";
import { formatDuration, shortPath } from "../data/format";
import { CallFlag, type RecordingModel } from "../data/model";
import { tokenize, ValueText } from "./value-text";

interface Props {
  model: RecordingModel | undefined;
  call: number;
  /** Bumped on appends so an open call's return shows up. */
  version: number;
  onReveal(call: number): void;
  onSelect(call: number): void;
}

export const Details = memo(function Details({ model, call, onReveal, onSelect }: Props) {
  if (!model || call < 0 || call >= model.callCount) {
    return (
      <aside className="es-details" data-testid="details">
        <div className="es-details-empty">
          Click a call in the timeline to see its arguments, what it returned or raised, and the variables it bound.
          <br />
          Double-click zooms to it; drag the yellow cursor to scrub.
        </div>
      </aside>
    );
  }
  const row = model.callRow[call];
  const endRow = model.callEndRow[call];
  const flags = model.callFlags[call];
  const raised = (flags & CallFlag.Raised) !== 0;
  const tail = (flags & CallFlag.TailCalled) !== 0;
  const file = model.fileOf(row);
  const line = model.lineOf(row);
  const bindings = model.bindingsOf(call);
  const callers = model.ancestorsOf(call);
  return (
    <aside className="es-details" data-testid="details" data-call-seq={model.seq[row]}>
      <div className="es-details-head">
        <div className="es-fn">
          <span data-testid="details-function">
            {model.functionOf(row).startsWith(FN_PREFIX) ? (
              model.labelOf(row)
            ) : (
              <>
                <span className="es-mod">{model.moduleOf(row)}</span>.{model.functionOf(row)}/{model.arityOf(row)}
              </>
            )}
          </span>
          <Outcome flags={flags} />
        </div>
        <dl className="es-facts">
          <dt>Process</dt>
          <dd>{model.pidOf(row)}</dd>
          <dt>Source</dt>
          <dd>
            {file ? (
              <button className="es-link" title={`${file}:${line}`} onClick={() => onReveal(call)}>
                {shortPath(file)}:{line}
              </button>
            ) : (
              <span className="es-muted">unknown</span>
            )}
          </dd>
          <dt>Started</dt>
          <dd>
            {formatDuration(model.callStart[call])} <span className="es-muted">· seq {model.seq[row]}</span>
          </dd>
          <dt>Duration</dt>
          <dd>{endRow >= 0 ? formatDuration(model.callEnd[call] - model.callStart[call]) : <span className="es-muted">still running at the end</span>}</dd>
        </dl>
      </div>
      <section className="es-section" data-testid="details-args">
        <h3>Arguments</h3>
        <ValueText text={model.valueOf(row)} />
      </section>
      {tail && <TailCall model={model} call={call} onSelect={onSelect} />}
      {endRow >= 0 && !tail && (
        <section className="es-section" data-testid={raised ? "details-exception" : "details-return"}>
          <h3>{raised ? "Raised" : "Returned"}</h3>
          <ValueText text={model.valueOf(endRow)} className={raised ? "es-exception" : undefined} />
        </section>
      )}
      <StateChange model={model} call={call} />
      <ProcessEvents model={model} call={call} />
      <section className="es-section" data-testid="details-bindings">
        <h3>Bindings{bindings.length ? ` (${bindings.length})` : ""}</h3>
        {bindings.length === 0 ? (
          <p className="es-muted">No variables were recorded in this call.</p>
        ) : (
          <ul className="es-bindings">
            {bindings.map((b) => (
              <li key={b}>
                <span className="es-var">{model.nameOf(b)}</span>
                <span className="es-bval">= {tokenize(model.valueOf(b))}</span>
                <span className="es-line">{model.kind[b] === EventKind.Binding && model.lineOf(b) ? `line ${model.lineOf(b)}` : ""}</span>
              </li>
            ))}
          </ul>
        )}
      </section>
      <section className="es-section">
        <h3>Called from</h3>
        {callers.length === 0 ? (
          <p className="es-muted">Top of the recorded stack in {model.pidOf(row)}.</p>
        ) : (
          <ol className="es-stack">
            {callers.slice(0, 50).map((c) => (
              <li key={c}>
                <button className="es-link" onClick={() => onSelect(c)}>
                  {model.labelOf(model.callRow[c])}
                </button>
              </li>
            ))}
          </ol>
        )}
      </section>
    </aside>
  );
});

/** A call that ended by a tail call: the callee it handed over to, and what the chain produced. */
function TailCall({ model, call, onSelect }: { model: RecordingModel; call: number; onSelect: (call: number) => void }) {
  const endRow = model.callEndRow[call];
  const next = model.tailTargetOf(call);
  const last = model.resultCallOf(call);
  const lastEnd = model.callEndRow[last];
  const lastRaised = (model.callFlags[last] & CallFlag.Raised) !== 0;
  return (
    <section className="es-section" data-testid="details-tail">
      <h3>Tail call</h3>
      <p>
        Handed over to <span className="es-var">{model.nameOf(endRow)}</span>
        {next >= 0 ? (
          <>
            {" "}
            <button className="es-link" onClick={() => onSelect(next)}>
              (next call)
            </button>
          </>
        ) : (
          <span className="es-muted"> (not recorded)</span>
        )}
      </p>
      <ValueText text={model.valueOf(endRow)} />
      {last !== call && lastEnd >= 0 && !(model.callFlags[last] & CallFlag.TailCalled) && (
        <>
          <h3>{lastRaised ? "Raised (at the end of the tail calls)" : "Returned (at the end of the tail calls)"}</h3>
          <ValueText text={model.valueOf(lastEnd)} className={lastRaised ? "es-exception" : undefined} />
        </>
      )}
    </section>
  );
}

/** A GenServer/gen_statem callback: its state before and after (State rows). */
function StateChange({ model, call }: { model: RecordingModel; call: number }) {
  const [before, after] = model.statesOf(call);
  if (before < 0 && after < 0) return null;
  const same = before >= 0 && after >= 0 && model.valueOf(before) === model.valueOf(after);
  return (
    <section className="es-section" data-testid="details-state">
      <h3>State{same ? " (unchanged)" : ""}</h3>
      {before >= 0 && (
        <div data-testid="details-state-before">
          <span className="es-muted">before</span> <ValueText text={model.valueOf(before)} />
        </div>
      )}
      {after >= 0 && !same && (
        <div data-testid="details-state-after">
          <span className="es-muted">after</span> <ValueText text={model.valueOf(after)} />
        </div>
      )}
    </section>
  );
}

/** Messages sent and received, processes spawned… by the call itself (not its callees). */
function ProcessEvents({ model, call }: { model: RecordingModel; call: number }) {
  const rows = model.processEventsOf(call);
  if (rows.length === 0) return null;
  const shown = rows.slice(0, 200);
  return (
    <section className="es-section" data-testid="details-process-events">
      <h3>Messages and processes ({rows.length})</h3>
      <ul className="es-bindings">
        {shown.map((r) => (
          <li key={r}>
            <span className="es-bval">{model.describe(r).slice(0, 300)}</span>
          </li>
        ))}
      </ul>
      {rows.length > shown.length && <p className="es-muted">and {rows.length - shown.length} more</p>}
    </section>
  );
}

function Outcome({ flags }: { flags: number }) {
  if (flags & CallFlag.Raised) return <span className="es-outcome es-raised">raised</span>;
  if (flags & CallFlag.TailCalled) return <span className="es-outcome es-ok">tail call</span>;
  if (flags & CallFlag.Returned) return <span className="es-outcome es-ok">returned</span>;
  return <span className="es-outcome es-open">running</span>;
}
