/** The recording's title and what it holds: events, processes, calls, exceptions, drops. */
import { memo } from "react";
import type { RecordingHeader } from "../../../protocol/src/events";
import { formatCount } from "../data/format";
import type { RecordingSummary } from "../data/model";

interface Props {
  title: string;
  header: RecordingHeader | undefined;
  summary: RecordingSummary | undefined;
  /** Events still loading (0 when all are in). */
  pending: number;
}

export const Header = memo(function Header({ title, header, summary, pending }: Props) {
  const sub = header ? [header.node, header.startedAt && new Date(header.startedAt).toLocaleString("en-GB", { timeZone: "UTC" }) + " UTC"].filter(Boolean).join(" · ") : "";
  return (
    <header className="es-header">
      <div className="es-logo" aria-hidden="true" />
      <div className="es-title">
        <span className="es-title-main" data-testid="title">
          {title || "ElixirScope"}
        </span>
        {sub && <span className="es-title-sub">{sub}</span>}
      </div>
      {summary && (
        <div className="es-stats">
          {pending > 0 && (
            <span className="es-stat es-loading" data-testid="loading">
              loading <b>{Math.floor((100 * summary.events) / (summary.events + pending))}%</b>
            </span>
          )}
          <span className="es-stat">
            <b data-testid="event-count">{summary.events}</b> events
          </span>
          <span className="es-stat">
            <b data-testid="process-count">{summary.processes}</b> {summary.processes === 1 ? "process" : "processes"}
          </span>
          <span className="es-stat">
            <b data-testid="call-count">{summary.calls}</b> calls
          </span>
          <span className={`es-stat${summary.exceptions ? " es-bad" : ""}`}>
            <b data-testid="exception-count">{summary.exceptions}</b> {summary.exceptions === 1 ? "exception" : "exceptions"}
          </span>
          <span className={`es-stat${summary.dropped ? " es-warn" : ""}`} title="Events the recorder dropped under load">
            {summary.dropped ? (
              <>
                <b data-testid="dropped-count">{formatCount(summary.dropped)}</b> dropped
              </>
            ) : (
              "nothing dropped"
            )}
          </span>
        </div>
      )}
    </header>
  );
});
