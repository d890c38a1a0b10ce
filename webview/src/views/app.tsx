/**
 * The webview's root: receives recordings from the host, owns the model, the selection and the
 * cursor, and links the header, the timeline and the details panel. Talks to the outside only
 * through `Host` (messages of protocol/src/webview.ts).
 */
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import type { ToWebview } from "../../../protocol/src/webview";
import type { ValueBounds } from "../../../protocol/src/values";
import { EventKind } from "../../../protocol/src/events";
import { formatDuration, shortPath } from "../data/format";
import { RecordingModel } from "../data/model";
import type { Host } from "../host";
import { installTestHooks } from "../test-hooks";
import { CallsList, type FunctionRef } from "./calls-list";
import { Details } from "./details";
import { Header } from "./header";
import { Timeline } from "./timeline";
import type { TimelineView } from "./timeline-view";

/** Recordings bigger than this get a "Loading…" frame before parsing starts. */
const SHOW_LOADING_ABOVE_BYTES = 8 * 1024 * 1024;
/** Time spent ingesting before the first frame, and per later slice (ms). */
const FIRST_SLICE_MS = 60;
const LOAD_SLICE_MS = 90;

export type ViewState = "waiting" | "loading" | "drawn" | "error";

export function App({ host, root }: { host: Host; root: HTMLElement }) {
  const [model, setModel] = useState<RecordingModel>();
  const [version, setVersion] = useState(0);
  const [title, setTitle] = useState("");
  const [problem, setProblem] = useState<string>();
  const [loadingBytes, setLoadingBytes] = useState(0);
  const [selected, setSelected] = useState(-1);
  const [cursorRow, setCursorRow] = useState(-1);
  /** The function whose calls are listed (from a code lens), if any. */
  const [fnCalls, setFnCalls] = useState<FunctionRef>();
  const modelRef = useRef<RecordingModel | undefined>(undefined);
  const viewRef = useRef<TimelineView | null>(null);
  const pendingCursor = useRef<number | undefined>(undefined);
  /** Models whose first frame was drawn, and whose slice-by-slice loading has started. */
  const firstFrames = useRef(new WeakSet<RecordingModel>());
  const loadingStarted = useRef(new WeakSet<RecordingModel>());

  const setState = useCallback((state: ViewState) => {
    root.dataset.state = state;
  }, [root]);

  const fail = useCallback(
    (message: string) => {
      setProblem(message);
      setState("error");
    },
    [setState],
  );

  /** Ingests what the model has queued, a slice per task, so the view draws in between. */
  const keepLoading = useCallback(
    (m: RecordingModel) => {
      if (loadingStarted.current.has(m)) return;
      loadingStarted.current.add(m);
      const step = () => {
        if (modelRef.current !== m) return; // another recording replaced it
        try {
          const done = m.continueLoad(performance.now() + LOAD_SLICE_MS);
          setVersion(m.version);
          if (!done) setTimeout(step, 0);
        } catch (e) {
          fail((e as Error).message);
        }
      };
      setTimeout(step, 0);
    },
    [fail],
  );

  const load = useCallback(
    (bytes: Uint8Array, messageTitle: string, values?: ValueBounds) => {
      try {
        const m = new RecordingModel();
        if (values) m.valueBounds = values; // a header in the bytes has the last word
        m.beginAppend(bytes);
        // The first slice is drawn at once; the rest fills in while the user looks.
        m.continueLoad(performance.now() + FIRST_SLICE_MS);
        performance.mark("elixirscope:first-slice");
        modelRef.current = m;
        setModel(m);
        setVersion(m.version);
        setSelected(-1);
        setCursorRow(-1);
        setProblem(undefined);
        setLoadingBytes(0);
        const header = m.header;
        setTitle(messageTitle || (header ? `${header.app}: ${header.command}` : root.dataset.title ?? "Recording"));
        // The rest follows the first frame (see `drawn`), or a moment later if nothing can be
        // drawn now (a hidden panel has no size).
        setTimeout(() => m.loading && keepLoading(m), 100);
      } catch (e) {
        fail((e as Error).message);
      }
    },
    [fail, keepLoading, root],
  );

  const onMessage = useCallback(
    (message: ToWebview) => {
      switch (message.t) {
        case "recording":
          performance.clearMarks();
          performance.mark("elixirscope:bytes");
          setState("loading");
          if (message.bytes.byteLength > SHOW_LOADING_ABOVE_BYTES) {
            setLoadingBytes(message.bytes.byteLength);
            // Let "Loading…" reach the screen before the model build blocks the thread.
            requestAnimationFrame(() => setTimeout(() => load(message.bytes, message.title, message.values), 0));
          } else load(message.bytes, message.title, message.values);
          break;
        case "append": {
          const m = modelRef.current;
          if (!m) return load(message.bytes, "");
          try {
            const idle = !m.loading;
            m.beginAppend(message.bytes);
            if (idle) {
              m.continueLoad(Infinity);
              setVersion(m.version);
            } // else the running load picks it up
          } catch (e) {
            fail((e as Error).message);
          }
          break;
        }
        case "calls":
          setFnCalls({ module: message.module, function: message.function, arity: message.arity });
          break;
        case "cursor": {
          const m = modelRef.current;
          const row = m ? m.rowOfSeq(message.seq) : -1;
          if (!m || row < 0) return;
          viewRef.current?.setCursorRow(row, true);
          setCursorRow(row);
          if (m.callOf[row] >= 0) setSelected(m.callOf[row]);
          break;
        }
      }
    },
    [fail, load, setState],
  );

  useEffect(() => host.start({ onMessage, onError: fail }), [host, onMessage, fail]);

  const postCursor = useCallback(
    (row: number) => {
      setCursorRow(row);
      // Scrubbing fires per pointer move; the host hears at most one cursor per frame.
      if (pendingCursor.current === undefined) {
        requestAnimationFrame(() => {
          const r = pendingCursor.current;
          pendingCursor.current = undefined;
          const m = modelRef.current;
          if (m && r !== undefined && r >= 0 && r < m.count) host.post({ t: "cursor", seq: m.seq[r] });
        });
      }
      pendingCursor.current = row;
    },
    [host],
  );

  const reveal = useCallback(
    (call: number) => {
      const m = modelRef.current;
      if (!m || call < 0) return;
      const row = m.callRow[call];
      const file = m.fileOf(row);
      if (file) host.post({ t: "reveal", file, line: m.lineOf(row), seq: m.seq[row] });
    },
    [host],
  );

  const select = useCallback(
    (call: number) => {
      setSelected(call);
      reveal(call);
    },
    [reveal],
  );

  /** From the details panel (a caller): select it, move the cursor there, show it. */
  const selectAndShow = useCallback(
    (call: number) => {
      const m = modelRef.current;
      if (!m) return;
      select(call);
      viewRef.current?.setCursorRow(m.callRow[call], true);
      postCursor(m.callRow[call]);
    },
    [select, postCursor],
  );

  const drawn = useCallback(
    (m: RecordingModel) => {
      if (m !== modelRef.current) return;
      if (!firstFrames.current.has(m)) {
        firstFrames.current.add(m);
        performance.mark("elixirscope:first-frame");
        if (m.loading) keepLoading(m);
      }
      // "drawn" means all of it: the headless renderer and tests wait for this.
      if (!m.loading && root.dataset.state !== "drawn") {
        performance.mark("elixirscope:drawn");
        setState("drawn");
      }
    },
    [root, setState, keepLoading],
  );

  useEffect(() => installTestHooks({ root, model: () => modelRef.current, view: () => viewRef.current, selected: () => selected }), [root, selected]);

  // `version` changes when appends grow the same model object.
  const summary = useMemo(() => (version >= 0 ? model?.summary() : undefined), [model, version]);

  const placeholder = problem ? (
    <div className="es-error-box" data-testid="error">
      <strong>Cannot show this recording.</strong>
      <div>{problem}</div>
    </div>
  ) : loadingBytes ? (
    <div>Loading {(loadingBytes / 1024 / 1024).toFixed(0)} MB recording…</div>
  ) : model ? (
    <div>
      <strong>This recording has no events.</strong>
      <div>Nothing instrumented ran while recording: check the instrumentation plan, or record a command that runs your code.</div>
    </div>
  ) : (
    <div>
      <strong>No recording yet.</strong>
      <div>Run “ElixirScope: Record Session” to record your program; its timeline appears here.</div>
    </div>
  );

  return (
    <div className="es-app">
      <Header title={title} header={model?.header} summary={summary} pending={model && version >= 0 ? model.pendingEvents : 0} />
      <div className="es-body">
        <div className="es-main">
          <Timeline
            model={problem ? undefined : model}
            version={version}
            selected={selected}
            viewRef={viewRef}
            onSelect={select}
            onCursor={postCursor}
            onReveal={reveal}
            onDrawn={drawn}
            placeholder={placeholder}
          />
          <StatusBar model={model} row={cursorRow} />
        </div>
        <div className="es-side">
          {model && fnCalls && (
            <CallsList model={model} fn={fnCalls} version={version} selected={selected} onSelect={selectAndShow} onClose={() => setFnCalls(undefined)} />
          )}
          <Details model={model} call={selected} version={version} onReveal={reveal} onSelect={selectAndShow} />
        </div>
      </div>
    </div>
  );
}

function StatusBar({ model, row }: { model: RecordingModel | undefined; row: number }) {
  const hint = "Wheel: zoom · Drag: pan · Shift+wheel: scroll · ←/→: step";
  if (!model || row < 0 || row >= model.count) {
    return (
      <div className="es-statusbar">
        <span>
          <span className="es-cursor-dot" />
          Click the timeline or drag the axis to scrub
        </span>
        <span className="es-hint">{hint}</span>
      </div>
    );
  }
  const KIND = ["", "call", "return", "exception", "binding", "tail call"];
  const code = model.kind[row] <= EventKind.TailCall;
  const name = model.nameOf(row);
  return (
    <div className="es-statusbar" data-testid="cursor-status">
      <span>
        <span className="es-cursor-dot" />
        seq <b data-testid="cursor-seq">{model.seq[row]}</b>
      </span>
      <span>
        at <b>{formatDuration(model.ts[row])}</b>
      </span>
      {code ? (
        <span>
          {KIND[model.kind[row]] ?? "event"} <b>{model.labelOf(row)}</b>
          {name ? ` · ${name}` : ""}
        </span>
      ) : (
        <span className="es-event" data-testid="cursor-event">
          {model.describe(row).slice(0, 160)}
        </span>
      )}
      <span>{model.pidOf(row)}</span>
      {code && (
        <span>
          {shortPath(model.fileOf(row), 2)}:{model.lineOf(row)}
        </span>
      )}
      <span className="es-hint">{hint}</span>
    </div>
  );
}
