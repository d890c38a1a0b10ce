/** Starts the ElixirScope language server (dist/server.js) over node IPC. */
import * as vscode from "vscode";
import { LanguageClient, TransportKind, type LanguageClientOptions, type ServerOptions } from "vscode-languageclient/node";

export async function startLanguageClient(context: vscode.ExtensionContext): Promise<LanguageClient> {
  const module = context.asAbsolutePath("dist/server.js");
  const serverOptions: ServerOptions = {
    run: { module, transport: TransportKind.ipc },
    debug: { module, transport: TransportKind.ipc, options: { execArgv: ["--nolazy", "--inspect=6019"] } },
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [{ scheme: "file", language: "elixir" }],

    synchronize: { fileEvents: vscode.workspace.createFileSystemWatcher("**/*.{ex,exs}") },
  };
  const client = new LanguageClient("elixirScope", "ElixirScope Language Server", serverOptions, clientOptions);
  context.subscriptions.push(client);
  await client.start();
  return client;
}
