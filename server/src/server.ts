/**
 * Entry point of the ElixirScope language server (bundled to `dist/server.js`).
 *
 *   node dist/server.js --stdio | --node-ipc | --socket=PORT | --pipe=NAME  [--wasm-dir=DIR]
 *
 * VS Code's client starts it with `--node-ipc` (TransportKind.ipc). The tree-sitter wasm files
 * are looked up next to this file unless `--wasm-dir` says otherwise.
 */
import { createConnection, ProposedFeatures } from "vscode-languageserver/node";
import { startLanguageServer } from "./lsp/language-server";

const TRANSPORTS = ["--stdio", "--node-ipc", "--socket=", "--pipe="];

function main(argv: string[]): void {
  if (!argv.some((a) => TRANSPORTS.some((t) => a === t || (t.endsWith("=") && a.startsWith(t))))) {
    process.stderr.write(
      "elixir-scope language server: say how to talk to the client: --stdio, --node-ipc, --socket=PORT or --pipe=NAME " +
        "(VS Code passes one of these itself; this message means the server was started by hand).\n",
    );
    process.exit(2);
  }
  const wasmDir = argv.find((a) => a.startsWith("--wasm-dir="))?.slice("--wasm-dir=".length);
  const connection = createConnection(ProposedFeatures.all);
  startLanguageServer(connection, { wasmDir });
  connection.listen();
}

main(process.argv.slice(2));
