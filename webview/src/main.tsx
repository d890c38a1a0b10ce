/** Entry point of dist/webview.js (an IIFE loaded by the page from extension/src/webview-html.ts). */
import { createRoot } from "react-dom/client";
import { createHost } from "./host";
import { CSS } from "./styles";
import { App } from "./views/app";

// The CSP allows only styles carrying the page's nonce; this script was loaded with it.
const nonce = (document.currentScript as HTMLScriptElement | null)?.nonce ?? "";
const style = document.createElement("style");
style.nonce = nonce;
style.textContent = CSS;
document.head.appendChild(style);

const root = document.getElementById("root");
if (!root) throw new Error("ElixirScope webview: the page has no #root element");
createRoot(root).render(<App host={createHost(root)} root={root} />);
