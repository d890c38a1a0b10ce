/**
 * The language server's handlers on a connection: document sync, document symbols, and the
 * custom `elixirScope/*` requests of `protocol/src/lsp.ts`. Converts between LSP and the pure
 * analysis in `../analysis`; holds no analysis logic itself.
 */
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import {
  ErrorCodes,
  ResponseError,
  TextDocumentSyncKind,
  type Connection,
  type InitializeResult,
} from "vscode-languageserver/node";
import {
  GET_ENCLOSING_FUNCTION,
  GET_INSTRUMENTATION_PLAN,
  type EnclosingFunction,
  type GetEnclosingFunctionParams,
  type GetInstrumentationPlanParams,
} from "../../../protocol/src/lsp";
import { indexSource } from "../analysis/elixir-index";
import { enclosingFunction } from "../analysis/enclosing";
import type { FileIndex } from "../analysis/model";
import { createElixirParser, WasmNotFoundError, type Parser, type WasmOptions } from "../analysis/parser";
import { FileIndexCache, PlanError, planWorkspace, type WorkspacePlan } from "../analysis/plan";
import { DocumentStore } from "./documents";
import { documentSymbols } from "./symbols";
import { testLenses } from "./test-lenses";

export const SERVER_NAME = "elixir-scope-server";

export function startLanguageServer(connection: Connection, options: WasmOptions): void {
  let parser: Parser | undefined;
  let documents: DocumentStore | undefined;
  /** Per workspace folder: file indexes reused while files are unchanged on disk. */
  const planCaches = new Map<string, FileIndexCache>();
  const ready = () => {
    // The client may not send anything but initialize before it has our answer.
    if (!parser || !documents) throw new ResponseError(ErrorCodes.ServerNotInitialized, "The ElixirScope language server is not initialized yet.");
    return { parser, documents };
  };

  connection.onInitialize(async (): Promise<InitializeResult> => {
    try {
      parser = await createElixirParser(options);
    } catch (e) {
      throw new ResponseError(ErrorCodes.InternalError, errorMessage(e));
    }
    documents = new DocumentStore(parser);
    return {
      capabilities: {
        textDocumentSync: { openClose: true, change: TextDocumentSyncKind.Incremental },
        documentSymbolProvider: { label: "ElixirScope" },
        codeLensProvider: { resolveProvider: false },
      },
      serverInfo: { name: SERVER_NAME },
    };
  });

  connection.onDidOpenTextDocument(({ textDocument: d }) => ready().documents.didOpen(d.uri, d.version, d.text));
  connection.onDidChangeTextDocument(({ textDocument: d, contentChanges }) => ready().documents.didChange(d.uri, d.version, contentChanges));
  connection.onDidCloseTextDocument(({ textDocument: d }) => ready().documents.didClose(d.uri));
  // Plans are read from disk on every request, so file events need no bookkeeping yet.
  connection.onDidChangeWatchedFiles(() => undefined);

  connection.onDocumentSymbol(({ textDocument }) => {
    const doc = ready().documents.get(textDocument.uri);
    return doc ? documentSymbols(doc.index) : null;
  });

  connection.onCodeLens(({ textDocument }) => {
    const doc = ready().documents.get(textDocument.uri);
    return doc ? testLenses(textDocument.uri, doc.index) : null;
  });

  connection.onRequest(GET_INSTRUMENTATION_PLAN, async (params: GetInstrumentationPlanParams): Promise<WorkspacePlan> => {
    if (typeof params?.root !== "string" || params.root === "") {
      throw new ResponseError(ErrorCodes.InvalidParams, `${GET_INSTRUMENTATION_PLAN} needs params.root, the workspace folder's path.`);
    }
    try {
      let cache = planCaches.get(params.root);
      if (!cache) planCaches.set(params.root, (cache = new FileIndexCache()));
      return await planWorkspace(params.root, { ...options, cache });
    } catch (e) {
      if (e instanceof PlanError || e instanceof WasmNotFoundError) throw new ResponseError(ErrorCodes.InvalidParams, e.message);
      throw new ResponseError(ErrorCodes.InternalError, `Planning ${params.root} failed: ${errorMessage(e)}`);
    }
  });

  connection.onRequest(GET_ENCLOSING_FUNCTION, async (params: GetEnclosingFunctionParams): Promise<EnclosingFunction | null> => {
    if (typeof params?.uri !== "string" || typeof params.line !== "number") {
      throw new ResponseError(ErrorCodes.InvalidParams, `${GET_ENCLOSING_FUNCTION} needs params.uri (a document URI) and params.line (0-based).`);
    }
    const index = await indexFor(params.uri, ready());
    return index ? enclosingFunction(index, params.line) : null;
  });

  connection.onShutdown(() => documents?.dispose());
}

/** The open document's index, or the file read from disk; null for files we cannot read. */
async function indexFor(uri: string, { parser, documents }: { parser: Parser; documents: DocumentStore }): Promise<FileIndex | null> {
  const open = documents.get(uri);
  if (open) return open.index;
  if (!uri.startsWith("file:")) return null;
  const text = await readFile(fileURLToPath(uri), "utf8").catch(() => null);
  return text === null ? null : indexSource(parser, text);
}

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
