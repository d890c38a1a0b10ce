/**
 * The bundled language server (`dist/server.js`), started as VS Code would start it, spoken to
 * over JSON-RPC: stdio for most of the tests, node IPC (what the extension uses) for one.
 * The bundle and its two wasm files are copied alone into a temporary folder first, so the test
 * proves the bundle runs without node_modules.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync, fork, execFileSync, type ChildProcess } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import {
  createMessageConnection,
  DidChangeTextDocumentNotification,
  DidOpenTextDocumentNotification,
  DocumentSymbolRequest,
  ExitNotification,
  InitializedNotification,
  InitializeRequest,
  IPCMessageReader,
  IPCMessageWriter,
  ShutdownRequest,
  StreamMessageReader,
  StreamMessageWriter,
  SymbolKind,
  type DocumentSymbol,
  type MessageConnection,
} from "vscode-languageserver/node";
import {
  GET_ENCLOSING_FUNCTION,
  GET_INSTRUMENTATION_PLAN,
  type EnclosingFunction,
  type PlanResult,
} from "../../protocol/src/lsp";
import { repoRoot, sampleApp } from "./helpers";

let serverDir: string;
let server: ChildProcess;
let rpc: MessageConnection;
let stderr = "";

const ledgerPath = join(sampleApp, "lib/sample/ledger.ex");
const ledgerUri = pathToFileURL(ledgerPath).href;
const ledgerText = readFileSync(ledgerPath, "utf8");

before(async () => {
  execFileSync(process.execPath, [join(repoRoot, "scripts/build.mjs"), "server", "wasm"], { cwd: repoRoot, stdio: "pipe" });
  serverDir = mkdtempSync(join(tmpdir(), "es-lsp-"));
  for (const f of ["server.js", "web-tree-sitter.wasm", "tree-sitter-elixir.wasm"]) {
    copyFileSync(join(repoRoot, "dist", f), join(serverDir, f));
  }
  server = spawn(process.execPath, [join(serverDir, "server.js"), "--stdio"], { stdio: ["pipe", "pipe", "pipe"] });
  server.stderr!.on("data", (d) => (stderr += d));
  rpc = createMessageConnection(new StreamMessageReader(server.stdout!), new StreamMessageWriter(server.stdin!));
  rpc.listen();
  const init = await rpc.sendRequest(InitializeRequest.type, {
    processId: process.pid,
    rootUri: pathToFileURL(sampleApp).href,
    capabilities: { textDocument: { documentSymbol: { hierarchicalDocumentSymbolSupport: true } } },
    workspaceFolders: [{ uri: pathToFileURL(sampleApp).href, name: "sample_app" }],
  });
  assert.equal(init.serverInfo?.name, "elixir-scope-server");
  assert.deepEqual(init.capabilities.textDocumentSync, { openClose: true, change: 2 });
  await rpc.sendNotification(InitializedNotification.type, {});
  await rpc.sendNotification(DidOpenTextDocumentNotification.type, {
    textDocument: { uri: ledgerUri, languageId: "elixir", version: 1, text: ledgerText },
  });
});

after(async () => {
  rpc?.dispose();
  server?.kill();
  if (serverDir) rmSync(serverDir, { recursive: true, force: true });
});

const KIND_NAMES = new Map<number, string>(Object.entries(SymbolKind).map(([name, kind]) => [kind as number, name]));

/** "name kind start-end @selection" for each symbol, children indented. */
function outline(symbols: DocumentSymbol[], depth = 0): string[] {
  return symbols.flatMap((s) => [
    `${"  ".repeat(depth)}${s.name} ${KIND_NAMES.get(s.kind)} ${s.range.start.line}-${s.range.end.line} @${s.selectionRange.start.line}:${s.selectionRange.start.character}`,
    ...outline(s.children ?? [], depth + 1),
  ]);
}

async function symbols(uri: string): Promise<DocumentSymbol[]> {
  return (await rpc.sendRequest(DocumentSymbolRequest.type, { textDocument: { uri } })) as DocumentSymbol[];
}

test("document symbols of an open file: module, then its functions with ranges and name positions", async () => {
  assert.deepEqual(outline(await symbols(ledgerUri)), [
    "Sample.Ledger Module 0-92 @0:10",
    "  start_link/1 Function 8-10 @8:6",
    "  open/2 Function 12-14 @12:6",
    "  deposit/3 Function 16-18 @16:6",
    "  withdraw/3 Function 20-22 @20:6",
    "  balance/2 Function 24-26 @24:6",
    "  withdraw!/3 Function 29-37 @29:6",
    "  init/1 Function 40-42 @40:6",
    "  handle_call/3 Function 45-83 @45:6",
    "  apply_entry/2 Function 85-91 @85:7",
  ]);
  const handleCall = (await symbols(ledgerUri))[0].children!.find((s) => s.name === "handle_call/3")!;
  assert.equal(handleCall.detail, "def @impl, 4 clauses");
  const open = (await symbols(ledgerUri))[0].children!.find((s) => s.name === "open/2")!;
  assert.equal(open.detail, "def (also callable as open/1)");
});

test("incremental edits re-parse: a new clause and a renamed function show up at once", async () => {
  const uri = pathToFileURL(join(sampleApp, "lib/sample/math.ex")).href;
  const text = readFileSync(join(sampleApp, "lib/sample/math.ex"), "utf8");
  await rpc.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri, languageId: "elixir", version: 1, text } });
  await rpc.sendNotification(DidChangeTextDocumentNotification.type, {
    textDocument: { uri, version: 2 },
    contentChanges: [
      // "def divide(a, b) do" on line 18 becomes "def quotient(a, b) do".
      { range: { start: { line: 18, character: 6 }, end: { line: 18, character: 12 } }, text: "quotient" },
      // A new function after `defmodule Sample.Math do`.
      { range: { start: { line: 1, character: 0 }, end: { line: 1, character: 0 } }, text: "  def square(x), do: x * x\n" },
    ],
  });
  const names = (await symbols(uri))[0].children!.map((s) => `${s.name} ${s.range.start.line}`);
  assert.deepEqual(names, ["square/1 1", "factorial/1 5", "fib/1 9", "sum/1 13", "sum/2 15", "quotient/2 19"]);
});

test("a full-text change replaces the document", async () => {
  const uri = "untitled:Scratch-1";
  await rpc.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri, languageId: "elixir", version: 1, text: "" } });
  assert.deepEqual(await symbols(uri), []);
  await rpc.sendNotification(DidChangeTextDocumentNotification.type, {
    textDocument: { uri, version: 2 },
    contentChanges: [{ text: 'defmodule ScratchTest do\n  use ExUnit.Case\n  describe "x" do\n    test "y" do\n    end\n  end\nend\n' }],
  });
  assert.deepEqual(outline(await symbols(uri)), [
    "ScratchTest Module 0-6 @0:10",
    '  describe "x" Namespace 2-5 @2:2',
    '    test "y" Method 3-4 @3:4',
  ]);
});

test("symbols of a document that is not open: null", async () => {
  assert.equal(await rpc.sendRequest(DocumentSymbolRequest.type, { textDocument: { uri: "file:///not/open.ex" } }), null);
});

test("elixirScope/getInstrumentationPlan scans the folder it is given", async () => {
  const plan = await rpc.sendRequest<PlanResult>(GET_INSTRUMENTATION_PLAN, { root: sampleApp });
  assert.deepEqual(
    plan.modules.map((m) => m.module),
    ["Sample.Application", "Sample.InsufficientFundsError", "Sample.Ledger", "Sample.Math", "Sample.Pipeline"],
  );
  assert.ok(plan.modules.every((m) => m.functions === null && m.reason.length > 0));
  assert.match(plan.modules.find((m) => m.module === "Sample.Ledger")!.reason, /^GenServer: callbacks init\/1, handle_call\/3/);
});

test("elixirScope/getInstrumentationPlan errors are sentences a user can act on", async () => {
  await assert.rejects(rpc.sendRequest(GET_INSTRUMENTATION_PLAN, { root: "/no/such/folder" }), {
    message: "Workspace folder /no/such/folder does not exist: open the folder that holds your mix.exs.",
  });
  await assert.rejects(rpc.sendRequest(GET_INSTRUMENTATION_PLAN, {}), {
    message: "elixirScope/getInstrumentationPlan needs params.root, the workspace folder's path.",
  });
});

test("elixirScope/getEnclosingFunction: open documents, files on disk, and outside any function", async () => {
  const inOpen = await rpc.sendRequest<EnclosingFunction | null>(GET_ENCLOSING_FUNCTION, { uri: ledgerUri, line: 13 });
  assert.deepEqual(inOpen, { module: "Sample.Ledger", name: "open", arity: 2, startLine: 12, endLine: 14, params: ["ledger", "account"] });
  const onDisk = pathToFileURL(join(sampleApp, "lib/sample/pipeline.ex")).href;
  const worker = await rpc.sendRequest<EnclosingFunction | null>(GET_ENCLOSING_FUNCTION, { uri: onDisk, line: 33 });
  assert.deepEqual(worker, { module: "Sample.Pipeline", name: "worker", arity: 0, startLine: 29, endLine: 38, params: [] });
  assert.equal(await rpc.sendRequest(GET_ENCLOSING_FUNCTION, { uri: ledgerUri, line: 0 }), null);
  assert.equal(await rpc.sendRequest(GET_ENCLOSING_FUNCTION, { uri: "file:///no/such/file.ex", line: 3 }), null);
});

test("over node IPC, as the VS Code client starts it (TransportKind.ipc)", async () => {
  const child = fork(join(serverDir, "server.js"), ["--node-ipc"], { stdio: ["ignore", "ignore", "pipe", "ipc"] });
  const ipc = createMessageConnection(new IPCMessageReader(child), new IPCMessageWriter(child));
  ipc.listen();
  try {
    const init = await ipc.sendRequest(InitializeRequest.type, { processId: process.pid, rootUri: null, capabilities: {} });
    assert.equal(init.serverInfo?.name, "elixir-scope-server");
    await ipc.sendNotification(DidOpenTextDocumentNotification.type, {
      textDocument: { uri: ledgerUri, languageId: "elixir", version: 1, text: ledgerText },
    });
    const result = (await ipc.sendRequest(DocumentSymbolRequest.type, { textDocument: { uri: ledgerUri } })) as DocumentSymbol[];
    assert.equal(result[0].name, "Sample.Ledger");
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    await ipc.sendRequest(ShutdownRequest.type);
    await ipc.sendNotification(ExitNotification.type);
    assert.equal(await exited, 0);
  } finally {
    ipc.dispose();
    child.kill();
  }
});

test("started without a transport it says how to start it, and exits", () => {
  const run = spawnSync(process.execPath, [join(serverDir, "server.js")], { encoding: "utf8" });
  assert.equal(run.status, 2);
  assert.match(run.stderr, /say how to talk to the client: --stdio, --node-ipc, --socket=PORT or --pipe=NAME/);
});

test("without its wasm files, initialize fails with the file names and the next step", async () => {
  const child = spawn(process.execPath, [join(serverDir, "server.js"), "--stdio", "--wasm-dir=/nowhere"], { stdio: "pipe" });
  const conn = createMessageConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
  conn.listen();
  try {
    await assert.rejects(conn.sendRequest(InitializeRequest.type, { processId: null, rootUri: null, capabilities: {} }), (e: Error) => {
      assert.match(e.message, /web-tree-sitter\.wasm, tree-sitter-elixir\.wasm\) were not found in \/nowhere: rebuild with/);
      return true;
    });
  } finally {
    conn.dispose();
    child.kill();
  }
});

test("the stdio server shuts down cleanly and wrote nothing alarming to stderr", async () => {
  const exited = new Promise<number | null>((resolve) => server.on("exit", (code) => resolve(code)));
  await rpc.sendRequest(ShutdownRequest.type);
  await rpc.sendNotification(ExitNotification.type);
  assert.equal(await exited, 0);
  assert.equal(stderr, "");
});
