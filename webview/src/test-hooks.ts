/**
 * `window.__elixirScopeTest`: deterministic handles for tests and benchmarks (where a call bar
 * is on screen, what is selected, timed redraws). Read-only views of the webview's state plus
 * view commands a user could also give; nothing here bypasses the message protocol.
 */
import type { RecordingModel } from "./data/model";
import type { TimelineView } from "./views/timeline-view";
import type { TestHooks, TestState } from "../../protocol/src/webview";

export type { TestHooks, TestState };

declare global {
  interface Window {
    __elixirScopeTest?: TestHooks;
  }
}

interface Sources {
  root: HTMLElement;
  model(): RecordingModel | undefined;
  view(): TimelineView | null;
  selected(): number;
}

export function installTestHooks(s: Sources): () => void {
  const hooks: TestHooks = {
    state() {
      const m = s.model();
      const view = s.view();
      const sel = s.selected();
      const cursor = view?.cursor ?? -1;
      return {
        state: s.root.dataset.state ?? "",
        events: m?.count ?? 0,
        lanes: m?.lanes.length ?? 0,
        calls: m?.callCount ?? 0,
        exceptions: m?.exceptionRows.length ?? 0,
        cursorSeq: m && cursor >= 0 ? m.seq[cursor] : null,
        selectedSeq: m && sel >= 0 ? m.seq[m.callRow[sel]] : null,
        range: view ? view.visibleRange : null,
      };
    },
    eventBox: (seq) => s.view()?.eventBox(seq) ?? null,
    focusSeq(seq) {
      const m = s.model();
      const call = m ? m.enclosingCall(m.rowOfSeq(seq)) : -1;
      if (call < 0) return false;
      s.view()?.focusCall(call);
      return true;
    },
    callBefore(seq) {
      const m = s.model();
      if (!m) return null;
      const row = m.rowOfSeq(seq);
      for (let r = row; r >= 0; r--) if (m.kind[r] === 1) return m.seq[r];
      return null;
    },
    clickTarget(at) {
      return new Promise((resolve) => {
        let frames = 0;
        let cur = at;
        const look = () => {
          const seq = hooks.focusSeq(cur) ? cur : hooks.callBefore(cur);
          const b = seq !== null && hooks.focusSeq(seq) ? hooks.eventBox(seq) : null;
          if (b && seq !== null) return resolve({ seq, x: b.x + b.width / 2, y: b.y + b.height / 2 });
          if (++frames > 600) return resolve(null);
          if (frames % 60 === 0 && seq !== null) cur = hooks.callBefore(seq - 1) ?? cur;
          requestAnimationFrame(look);
        };
        look();
      });
    },
    findCall(fn, args) {
      const m = s.model();
      if (!m) return null;
      for (let row = 0; row < m.count; row++) {
        if (m.kind[row] === 1 && `${m.moduleOf(row)}.${m.functionOf(row)}` === fn && m.valueOf(row) === args) return m.seq[row];
      }
      return null;
    },
    drawTimed: () => s.view()?.drawTimed() ?? 0,
    zoomBy: (f) => s.view()?.zoomBy(f),
    panBy: (px) => s.view()?.panByPixels(px),
    marks() {
      const out: Record<string, number> = {};
      for (const e of performance.getEntriesByType("mark")) out[e.name] = e.startTime;
      return out;
    },
  };
  window.__elixirScopeTest = hooks;
  return () => {
    if (window.__elixirScopeTest === hooks) delete window.__elixirScopeTest;
  };
}
