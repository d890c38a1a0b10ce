/**
 * The webview's stylesheet. Colours come from VS Code's theme variables, with fallbacks
 * (VS Code's "Dark Modern") for the standalone page. Injected as a <style> with the page's
 * CSP nonce, because the CSP allows no inline styles without it.
 */
export const CSS = `
:root {
  --es-bg: var(--vscode-editor-background, #1f1f1f);
  --es-fg: var(--vscode-editor-foreground, #cccccc);
  --es-strong: var(--vscode-foreground, #e4e4e4);
  --es-muted: var(--vscode-descriptionForeground, #9d9d9d);
  --es-border: var(--vscode-panel-border, #2b2b2b);
  --es-side-bg: var(--vscode-sideBar-background, #181818);
  --es-header-bg: var(--vscode-editorGroupHeader-tabsBackground, #181818);
  --es-code-bg: var(--vscode-textCodeBlock-background, #252526);
  --es-accent: var(--vscode-focusBorder, #0078d4);
  --es-link: var(--vscode-textLink-foreground, #4daafc);
  --es-error: var(--vscode-errorForeground, #f85149);
  --es-error-bar: var(--vscode-charts-red, #e5534b);
  --es-warning: var(--vscode-editorWarning-foreground, #cca700);
  --es-cursor: var(--vscode-charts-yellow, #e8c547);
  --es-badge-bg: var(--vscode-badge-background, #616161);
  --es-badge-fg: var(--vscode-badge-foreground, #f8f8f8);
  --es-hover-bg: var(--vscode-list-hoverBackground, #2a2d2e);
  --es-selection-bg: var(--vscode-list-activeSelectionBackground, #04395e);
  --es-lane-alt: color-mix(in srgb, var(--es-fg) 3.5%, transparent);
  --es-grid: color-mix(in srgb, var(--es-fg) 7%, transparent);
  --es-overview: color-mix(in srgb, var(--es-fg) 35%, transparent);
  --es-font: var(--vscode-font-family, system-ui, -apple-system, "Segoe UI", "Liberation Sans", sans-serif);
  --es-mono: var(--vscode-editor-font-family, "DejaVu Sans Mono", "Liberation Mono", Menlo, Consolas, monospace);
  --es-font-size: var(--vscode-font-size, 13px);
  --es-syn-string: var(--vscode-debugTokenExpression-string, #ce9178);
  --es-syn-number: var(--vscode-debugTokenExpression-number, #b5cea8);
  --es-syn-atom: var(--vscode-debugTokenExpression-boolean, #4fc1ff);
  --es-syn-module: var(--vscode-symbolIcon-classForeground, #4ec9b0);
  --es-syn-key: var(--vscode-debugTokenExpression-name, #9cdcfe);
}
body.vscode-light {
  --es-lane-alt: color-mix(in srgb, var(--es-fg) 4%, transparent);
  --es-grid: color-mix(in srgb, var(--es-fg) 9%, transparent);
  --es-syn-string: var(--vscode-debugTokenExpression-string, #a31515);
  --es-syn-number: var(--vscode-debugTokenExpression-number, #098658);
  --es-syn-atom: var(--vscode-debugTokenExpression-boolean, #0000ff);
  --es-syn-module: var(--vscode-symbolIcon-classForeground, #267f99);
  --es-syn-key: var(--vscode-debugTokenExpression-name, #001080);
}
* { box-sizing: border-box; }
body { font-family: var(--es-font); font-size: var(--es-font-size); color: var(--es-fg); background: var(--es-bg); }
.es-app { display: flex; flex-direction: column; height: 100%; min-height: 0; }
.es-probe { position: absolute; width: 0; height: 0; overflow: hidden; visibility: hidden; }

.es-header { display: flex; align-items: center; gap: 16px; padding: 0 14px; height: 42px; flex: none;
  background: var(--es-header-bg); border-bottom: 1px solid var(--es-border); }
.es-logo { width: 18px; height: 18px; border-radius: 5px; flex: none;
  background: linear-gradient(135deg, #8e5bd6 0%, #5b3fb0 55%, #e8c547 56%, #e8c547 100%); }
.es-title { display: flex; flex-direction: column; min-width: 0; line-height: 1.25; }
.es-title-main { font-weight: 600; color: var(--es-strong); white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.es-title-sub { font-size: 11px; color: var(--es-muted); white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.es-stats { display: flex; gap: 6px; margin-left: auto; flex: none; }
.es-stat { display: inline-flex; align-items: baseline; gap: 5px; padding: 3px 9px; border-radius: 11px; font-size: 11.5px;
  color: var(--es-muted); background: color-mix(in srgb, var(--es-fg) 7%, transparent); white-space: nowrap; }
.es-stat b { color: var(--es-strong); font-weight: 600; font-variant-numeric: tabular-nums; }
.es-stat.es-bad { color: color-mix(in srgb, var(--es-error) 85%, var(--es-fg)); background: color-mix(in srgb, var(--es-error) 16%, transparent); }
.es-stat.es-bad b { color: var(--es-error); }
.es-stat.es-warn b { color: var(--es-warning); }
.es-stat.es-loading { color: var(--es-link); background: color-mix(in srgb, var(--es-link) 14%, transparent); }

.es-body { display: flex; flex: 1; min-height: 0; }
.es-main { display: flex; flex-direction: column; flex: 1; min-width: 0; }
.es-timeline { position: relative; display: flex; flex: 1; min-height: 0; }
.es-gutter { position: relative; width: 172px; flex: none; overflow: hidden; background: var(--es-side-bg);
  border-right: 1px solid var(--es-border); }
.es-gutter-head { position: absolute; left: 0; right: 0; top: 0; display: flex; align-items: flex-end; justify-content: space-between;
  padding: 0 10px 6px 12px; font-size: 10.5px; letter-spacing: 0.06em; text-transform: uppercase; color: var(--es-muted);
  border-bottom: 1px solid var(--es-border); background: var(--es-side-bg); z-index: 1; }
.es-gutter-lanes { position: absolute; left: 0; right: 0; bottom: 0; overflow: hidden; }
.es-lane { position: absolute; left: 0; right: 0; padding: 7px 10px 0 12px; border-bottom: 1px solid var(--es-border); overflow: hidden; }
.es-lane-label { display: block; font-family: var(--es-mono); font-size: 12px; color: var(--es-strong); white-space: nowrap; }
.es-lane-meta { display: block; margin-top: 2px; font-size: 11px; color: var(--es-muted); white-space: nowrap; }
.es-lane-meta .es-exc { color: var(--es-error); }
.es-lane.es-has-selection { box-shadow: inset 2px 0 0 var(--es-accent); }
.es-canvas-wrap { position: relative; flex: 1; min-width: 0; }
.es-canvas-wrap canvas { position: absolute; inset: 0; width: 100%; height: 100%; display: block; outline: none; touch-action: none; }
.es-tooltip { position: absolute; pointer-events: none; z-index: 2; max-width: 420px; padding: 6px 9px; border-radius: 4px;
  background: var(--vscode-editorHoverWidget-background, #252526); color: var(--es-fg);
  border: 1px solid var(--vscode-editorHoverWidget-border, #454545); box-shadow: 0 2px 8px rgba(0,0,0,0.36); font-size: 12px; }
.es-tooltip-title { font-family: var(--es-mono); color: var(--es-strong); }
.es-tooltip-meta { color: var(--es-muted); margin-top: 2px; }
.es-empty { position: absolute; inset: 0; display: flex; align-items: center; justify-content: center; flex-direction: column; gap: 6px;
  color: var(--es-muted); text-align: center; padding: 24px; }
.es-empty strong { color: var(--es-strong); font-weight: 600; }
.es-error-box { color: var(--es-error); max-width: 560px; }

.es-statusbar { display: flex; gap: 18px; align-items: center; height: 24px; flex: none; padding: 0 12px; font-size: 11.5px;
  color: var(--es-muted); border-top: 1px solid var(--es-border); background: var(--es-header-bg); white-space: nowrap; overflow: hidden; }
.es-statusbar b { color: var(--es-fg); font-weight: 500; font-variant-numeric: tabular-nums; }
.es-cursor-dot { display: inline-block; width: 8px; height: 8px; border-radius: 2px; background: var(--es-cursor); margin-right: 6px; }
.es-hint { margin-left: auto; opacity: 0.8; }

.es-side { width: 380px; flex: none; display: flex; flex-direction: column; min-height: 0; background: var(--es-side-bg); border-left: 1px solid var(--es-border); }
.es-details { flex: 1; min-height: 0; overflow: auto; background: var(--es-side-bg); }
.es-calls { flex: none; max-height: 45%; display: flex; flex-direction: column; border-bottom: 1px solid var(--es-border); }
.es-calls-head { display: flex; flex-wrap: wrap; align-items: baseline; gap: 4px; padding: 10px 16px 8px; }
.es-calls-tools { margin-left: auto; display: flex; gap: 10px; font-size: 11.5px; }
.es-calls-tools .es-on { text-decoration: underline; }
.es-calls-rows { list-style: none; margin: 0; padding: 0 0 6px; overflow: auto; font-family: var(--es-mono); font-size: 12px; }
.es-calls-rows li.es-selected { background: color-mix(in srgb, var(--es-link) 16%, transparent); }
.es-calls-empty { padding: 0 16px 10px; }
.es-call-row { display: grid; grid-template-columns: 1fr auto; gap: 0 10px; width: 100%; padding: 3px 16px; background: none; border: 0;
  color: inherit; font: inherit; text-align: left; cursor: pointer; }
.es-call-row:hover { background: color-mix(in srgb, var(--es-fg) 7%, transparent); }
.es-call-args { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.es-call-out { grid-column: 1; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; color: var(--es-muted); }
.es-call-time { grid-column: 2; grid-row: 1 / span 2; align-self: center; color: var(--es-muted); font-variant-numeric: tabular-nums; }
.es-details-empty { padding: 18px 16px; color: var(--es-muted); line-height: 1.5; }
.es-details-head { padding: 14px 16px 12px; border-bottom: 1px solid var(--es-border); }
.es-fn { font-family: var(--es-mono); font-size: 13.5px; color: var(--es-strong); word-break: break-all; }
.es-fn .es-mod { color: var(--es-syn-module); }
.es-outcome { display: inline-block; margin-left: 8px; padding: 1px 7px; border-radius: 9px; font-family: var(--es-font); font-size: 10.5px;
  vertical-align: 2px; text-transform: uppercase; letter-spacing: 0.04em; }
.es-outcome.es-ok { background: color-mix(in srgb, #3fb950 18%, transparent); color: #56d364; }
.es-outcome.es-raised { background: color-mix(in srgb, var(--es-error) 20%, transparent); color: var(--es-error); }
.es-outcome.es-open { background: color-mix(in srgb, var(--es-fg) 12%, transparent); color: var(--es-muted); }
.es-facts { display: grid; grid-template-columns: auto 1fr; gap: 3px 12px; margin-top: 10px; font-size: 12px; }
.es-facts dt { color: var(--es-muted); }
.es-facts dd { margin: 0; color: var(--es-fg); font-variant-numeric: tabular-nums; min-width: 0; overflow-wrap: anywhere; }
.es-link { color: var(--es-link); cursor: pointer; background: none; border: 0; padding: 0; font: inherit; text-align: left; }
.es-link:hover { text-decoration: underline; }
.es-section { padding: 10px 16px 4px; }
.es-section h3 { margin: 0 0 6px; font-size: 10.5px; font-weight: 600; letter-spacing: 0.06em; text-transform: uppercase; color: var(--es-muted); }
.es-value { margin: 0 0 8px; padding: 7px 9px; border-radius: 4px; background: var(--es-code-bg); font-family: var(--es-mono); font-size: 12px;
  line-height: 1.45; white-space: pre-wrap; word-break: break-word; max-height: 220px; overflow: auto; color: var(--es-fg); }
.es-value.es-exception { border-left: 3px solid var(--es-error); color: var(--es-error); }
.es-bindings { margin: 0 0 8px; padding: 0; list-style: none; font-family: var(--es-mono); font-size: 12px; }
.es-bindings li { display: grid; grid-template-columns: auto 1fr auto; gap: 8px; padding: 4px 0; border-bottom: 1px solid color-mix(in srgb, var(--es-border) 70%, transparent); }
.es-bindings .es-var { color: var(--es-syn-key); }
.es-bindings .es-line { color: var(--es-muted); font-family: var(--es-font); font-size: 11px; }
.es-bindings .es-bval { min-width: 0; overflow-wrap: anywhere; }
.es-stack { margin: 0 0 10px; padding: 0; list-style: none; font-family: var(--es-mono); font-size: 12px; }
.es-stack li { padding: 2px 0; }
.es-muted { color: var(--es-muted); }
.es-tok-string { color: var(--es-syn-string); }
.es-tok-number { color: var(--es-syn-number); }
.es-tok-atom { color: var(--es-syn-atom); }
.es-tok-module { color: var(--es-syn-module); }
.es-tok-key { color: var(--es-syn-key); }
.es-tok-punct { color: var(--es-muted); }

@media (max-width: 860px) {
  .es-body { flex-direction: column; }
  .es-side { width: auto; height: 42%; border-left: 0; border-top: 1px solid var(--es-border); }
  .es-stats .es-stat:nth-child(n+4) { display: none; }
}
`;
