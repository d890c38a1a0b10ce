export * from "./events";
export * from "./wire";
export * from "./lsp";
export * from "./webview";
