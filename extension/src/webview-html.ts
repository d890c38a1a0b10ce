/**
 * The timeline webview's HTML page, shared by the VS Code panel (TimelinePanel) and the
 * headless renderer (extension/src/headless/render.ts). No `vscode` import: the caller passes
 * the script URI (`asWebviewUri` in VS Code) and the CSP source.
 */

export interface WebviewHtmlOptions {
  /** URI of dist/webview.js as the page may load it. */
  scriptUri: string;
  /** Optional extra stylesheet; the bundle injects its own styles with the nonce. */
  styleUri?: string;
  /** `webview.cspSource` in VS Code; the page's own origin when served headless. */
  cspSource: string;
  /** From `makeNonce()`, fresh for every page. */
  nonce: string;
  /**
   * Standalone pages only (headless render, tests): the webview fetches the recording from
   * this URL itself instead of waiting for a `{t: "recording"}` message from a VS Code host.
   */
  recordingUrl?: string;
  /** Title shown while no recording header names one. */
  title?: string;
  /** Adds `'wasm-unsafe-eval'` and blob: workers, which DuckDB-wasm needs; nothing else does. */
  allowWasm?: boolean;
}

/** The Content-Security-Policy of the page; exported so tests can check it. */
export function webviewCsp(o: Pick<WebviewHtmlOptions, "cspSource" | "nonce" | "allowWasm">): string {
  const nonce = `'nonce-${o.nonce}'`;
  return [
    `default-src 'none'`,
    `img-src ${o.cspSource} data: blob:`,
    `font-src ${o.cspSource}`,
    `style-src ${o.cspSource} ${nonce}`,
    `script-src ${nonce}${o.allowWasm ? ` 'wasm-unsafe-eval'` : ""}`,
    ...(o.allowWasm ? [`worker-src blob:`] : []),
    `connect-src ${o.cspSource}`,
    `base-uri 'none'`,
    `form-action 'none'`,
  ].join("; ");
}

export function webviewHtml(o: WebviewHtmlOptions): string {
  if (!/^[A-Za-z0-9+/_-]+=*$/.test(o.nonce)) throw new Error("webviewHtml: the nonce must be base64 (use makeNonce())");
  const attr = escapeAttribute;
  const data = [
    o.recordingUrl ? ` data-recording-url="${attr(o.recordingUrl)}"` : "",
    o.title ? ` data-title="${attr(o.title)}"` : "",
  ].join("");
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${attr(webviewCsp(o))}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>${escapeText(o.title ?? "ElixirScope Timeline")}</title>
<style nonce="${o.nonce}">html,body{margin:0;padding:0;height:100%;overflow:hidden;background:var(--vscode-editor-background,#1f1f1f);color:var(--vscode-editor-foreground,#cccccc)}#root{height:100%}</style>
${o.styleUri ? `<link rel="stylesheet" href="${attr(o.styleUri)}">\n` : ""}</head>
<body>
<div id="root" data-state="waiting"${data}></div>
<script nonce="${o.nonce}" src="${attr(o.scriptUri)}"></script>
</body>
</html>
`;
}

/** 128 random bits, base64: a fresh CSP nonce for one page. */
export function makeNonce(): string {
  const bytes = new Uint8Array(16);
  globalThis.crypto.getRandomValues(bytes);
  return btoa(String.fromCharCode(...bytes));
}

function escapeAttribute(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/'/g, "&#39;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function escapeText(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}
