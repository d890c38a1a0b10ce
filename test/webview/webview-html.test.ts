/** The webview page (extension/src/webview-html.ts): its CSP and what it puts in the page. */
import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import { makeNonce, webviewCsp, webviewHtml } from "../../extension/src/webview-html";

const base = { scriptUri: "https://file+.vscode-resource.vscode-cdn.net/ext/dist/webview.js", cspSource: "https://*.vscode-cdn.net", nonce: "abc123==" };

describe("webviewHtml", () => {
  it("allows only nonce'd scripts and styles and the webview's own resources", () => {
    const csp = webviewCsp(base);
    const directives = Object.fromEntries(csp.split("; ").map((d) => [d.split(" ")[0], d.split(" ").slice(1).join(" ")]));
    assert.deepEqual(directives, {
      "default-src": "'none'",
      "img-src": "https://*.vscode-cdn.net data: blob:",
      "font-src": "https://*.vscode-cdn.net",
      "style-src": "https://*.vscode-cdn.net 'nonce-abc123=='",
      "script-src": "'nonce-abc123=='",
      "connect-src": "https://*.vscode-cdn.net",
      "base-uri": "'none'",
      "form-action": "'none'",
    });
    assert.doesNotMatch(csp, /unsafe/);
    assert.match(webviewCsp({ ...base, allowWasm: true }), /script-src 'nonce-abc123==' 'wasm-unsafe-eval'; worker-src blob:/);
  });

  it("puts the CSP, the nonce'd script and the root element in the page", () => {
    const html = webviewHtml(base);
    assert.match(html, /<meta http-equiv="Content-Security-Policy" content="default-src &#39;none&#39;;/);
    assert.match(html, /<script nonce="abc123==" src="https:\/\/file\+\.vscode-resource\.vscode-cdn\.net\/ext\/dist\/webview\.js"><\/script>/);
    assert.match(html, /<div id="root" data-state="waiting"><\/div>/);
    assert.doesNotMatch(html, /<link/);
    assert.match(webviewHtml({ ...base, styleUri: "https://x/y.css" }), /<link rel="stylesheet" href="https:\/\/x\/y\.css">/);
  });

  it("escapes what it is given", () => {
    const html = webviewHtml({ ...base, recordingUrl: `https://h/r.arrow?a=1&b="><script>`, title: `<b>"x"</b>` });
    assert.match(html, /data-recording-url="https:\/\/h\/r\.arrow\?a=1&amp;b=&quot;&gt;&lt;script&gt;"/);
    assert.match(html, /data-title="&lt;b&gt;&quot;x&quot;&lt;\/b&gt;"/);
    assert.match(html, /<title>&lt;b&gt;"x"&lt;\/b&gt;<\/title>/);
    assert.throws(() => webviewHtml({ ...base, nonce: `x" onload="y` }), /nonce/);
  });

  it("makes fresh base64 nonces of 128 bits", () => {
    const nonces = new Set(Array.from({ length: 100 }, makeNonce));
    assert.equal(nonces.size, 100);
    for (const n of nonces) assert.equal(Buffer.from(n, "base64").length, 16);
  });
});
