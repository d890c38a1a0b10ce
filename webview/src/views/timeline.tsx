/**
 * React shell of the timeline: the process gutter (DOM labels, virtualised), the canvas that
 * TimelineView draws, and the hover tooltip. Props flow into the imperative view in effects.
 */
import { useEffect, useLayoutEffect, useRef, useState, type MutableRefObject, type ReactNode } from "react";
import { formatDuration, plural } from "../data/format";
import { CallFlag, type RecordingModel } from "../data/model";
import { readTheme } from "./theme";
import { TimelineView, TOP, type HoverInfo, type LaneLayout, type TimelineCallbacks } from "./timeline-view";

interface Props {
  model: RecordingModel | undefined;
  version: number;
  selected: number;
  viewRef: MutableRefObject<TimelineView | null>;
  onSelect(call: number): void;
  onCursor(row: number): void;
  onReveal(call: number): void;
  onDrawn(model: RecordingModel): void;
  /** Shown over the canvas while there is nothing to draw. */
  placeholder: ReactNode;
}

export function Timeline(props: Props) {
  const { model, version, selected, viewRef } = props;
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const probeRef = useRef<HTMLDivElement>(null);
  const latest = useRef(props);
  latest.current = props;
  const [lanes, setLanes] = useState<{ layout: LaneLayout; scrollY: number }>({
    layout: { tops: new Float64Array(0), heights: new Float64Array(0), total: 0 },
    scrollY: 0,
  });
  const [hover, setHover] = useState<HoverInfo | null>(null);

  useLayoutEffect(() => {
    const callbacks: TimelineCallbacks = {
      select: (call) => latest.current.onSelect(call),
      cursor: (row) => latest.current.onCursor(row),
      reveal: (call) => latest.current.onReveal(call),
      drawn: (m) => latest.current.onDrawn(m),
      layout: (layout, scrollY) => setLanes({ layout, scrollY }),
      hover: setHover,
    };
    const view = new TimelineView(canvasRef.current!, readTheme(probeRef.current!), callbacks);
    viewRef.current = view;
    // VS Code switches theme by changing the body's classes.
    const observer = new MutationObserver(() => view.setTheme(readTheme(probeRef.current!)));
    observer.observe(document.body, { attributes: true, attributeFilter: ["class", "style"] });
    return () => {
      observer.disconnect();
      view.destroy();
      viewRef.current = null;
    };
  }, [viewRef]);

  useLayoutEffect(() => viewRef.current?.setModel(model), [model, viewRef]);
  useEffect(() => {
    if (version) viewRef.current?.modelChanged();
  }, [version, viewRef]);
  useEffect(() => viewRef.current?.setSelected(selected), [selected, viewRef]);

  const selectedLane = model && selected >= 0 ? model.callLane[selected] : -1;
  const visible: number[] = [];
  if (model) {
    const { tops, heights } = lanes.layout;
    const bottom = lanes.scrollY + window.innerHeight;
    // The layout may still be the previous recording's until the view reports the new one.
    const count = Math.min(tops.length, model.lanes.length);
    for (let i = 0; i < count && tops[i] < bottom; i++) if (tops[i] + heights[i] >= lanes.scrollY) visible.push(i);
  }

  return (
    <div className="es-timeline">
      <div className="es-probe" ref={probeRef} />
      <div className="es-gutter">
        <div className="es-gutter-head" style={{ height: TOP }}>
          <span>Processes</span>
          {model && <span>{model.lanes.length}</span>}
        </div>
        <div className="es-gutter-lanes" style={{ top: TOP }}>
          {model &&
            visible.map((i) => {
              const lane = model.lanes[i];
              return (
                <div
                  key={i}
                  className={`es-lane${i === selectedLane ? " es-has-selection" : ""}`}
                  style={{ top: lanes.layout.tops[i] - lanes.scrollY, height: lanes.layout.heights[i] }}
                >
                  <span className="es-lane-label" data-testid="lane-label" title={lane.pid}>
                    {lane.pid}
                  </span>
                  <span className="es-lane-meta">
                    {plural(lane.calls, "call")} · {plural(lane.events, "event")}
                    {lane.exceptions > 0 && <span className="es-exc"> · {lane.exceptions} raised</span>}
                  </span>
                </div>
              );
            })}
        </div>
      </div>
      <div className="es-canvas-wrap">
        <canvas ref={canvasRef} tabIndex={0} aria-label="Timeline of calls per process" data-testid="timeline-canvas" />
        {(!model || model.count === 0) && <div className="es-empty">{props.placeholder}</div>}
        {model && hover && <Tooltip model={model} hover={hover} width={canvasRef.current?.clientWidth ?? 0} />}
      </div>
    </div>
  );
}

function Tooltip({ model, hover, width }: { model: RecordingModel; hover: HoverInfo; width: number }) {
  const c = hover.call;
  if (c >= model.callCount) return null;
  const row = model.callRow[c];
  const open = model.callEndRow[c] < 0;
  const raised = (model.callFlags[c] & CallFlag.Raised) !== 0;
  return (
    <div className="es-tooltip" style={hover.x > width - 320 ? { right: width - hover.x + 14, top: hover.y + 16 } : { left: hover.x + 14, top: hover.y + 16 }}>
      <div className="es-tooltip-title">{model.labelOf(row)}</div>
      <div className="es-tooltip-meta">
        {open ? "still running" : formatDuration(model.callEnd[c] - model.callStart[c])}
        {raised ? " · raised" : ""} · {model.pidOf(row)}
      </div>
    </div>
  );
}
