/** Shared by the language-server tests: one parser per test process, compact views of an index. */
import { join } from "node:path";
import { indexSource } from "../../server/src/analysis/elixir-index";
import { allModules, type FileIndex, type FunctionDef } from "../../server/src/analysis/model";
import { createElixirParser, type Parser } from "../../server/src/analysis/parser";

export const repoRoot = join(__dirname, "../..");
export const sampleApp = join(repoRoot, "test/fixtures/sample_app");

let parser: Promise<Parser> | undefined;

/** The Elixir parser, with its wasm files from node_modules (no build needed). */
export function testParser(): Promise<Parser> {
  parser ??= createElixirParser();
  return parser;
}

export async function index(source: string): Promise<FileIndex> {
  return indexSource(await testParser(), source);
}

/** "def open/2 [1,2] 12-14 (ledger, account)" plus " when ..." and " @impl true" when present. */
export function describeFunction(f: FunctionDef): string {
  const lines = `${f.range.start.line}-${f.range.end.line}`;
  const params = f.clauses.map((c) => `(${c.params.join(", ")})${c.guard ? ` when ${c.guard}` : ""}`).join(" | ");
  const impl = f.impl ? ` @impl ${f.impl}` : "";
  return `${f.kind} ${f.name}/${f.arity} [${f.arities.join(",")}] ${lines} ${params}${impl}`;
}

/** Every function of every module, as `Module: description`. */
export function functionsOf(index: FileIndex): string[] {
  return allModules(index).flatMap((m) => m.functions.map((f) => `${m.name}: ${describeFunction(f)}`));
}
