/**
 * Loads tree-sitter-elixir into web-tree-sitter, once per process.
 *
 * Two wasm files are needed: `web-tree-sitter.wasm` (the runtime) and `tree-sitter-elixir.wasm`
 * (the grammar, the one shipped inside the `tree-sitter-elixir` package). In the bundled server,
 * the CLI and the extension they sit next to the bundle in `dist/`; when running from source
 * (tests, benchmarks) they come from `node_modules`. `WasmOptions.wasmDir` picks a directory
 * explicitly; without it we look next to this code first, then in `node_modules`.
 */
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
// The ESM build of web-tree-sitter calls `createRequire(import.meta.url)`, which breaks once
// esbuild bundles it into our CommonJS `dist/server.js` (import.meta is empty there). A
// `require` call makes esbuild pick the package's "require" export, its CommonJS build.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const TreeSitter: typeof import("web-tree-sitter") = require("web-tree-sitter");

export type Parser = import("web-tree-sitter").Parser;
export type Tree = import("web-tree-sitter").Tree;
export type SyntaxNode = import("web-tree-sitter").Node;
export type Point = import("web-tree-sitter").Point;
export const Edit = TreeSitter.Edit;

export const RUNTIME_WASM = "web-tree-sitter.wasm";
export const ELIXIR_WASM = "tree-sitter-elixir.wasm";

export interface WasmOptions {
  /** Directory holding both `web-tree-sitter.wasm` and `tree-sitter-elixir.wasm`. */
  wasmDir?: string;
}

export interface WasmPaths {
  runtime: string;
  grammar: string;
}

export class WasmNotFoundError extends Error {}

let loaded: Promise<import("web-tree-sitter").Language> | undefined;

/** Where the two wasm files are, or a clear error saying where we looked. */
export function locateWasm(options: WasmOptions = {}): WasmPaths {
  const candidates: WasmPaths[] = options.wasmDir
    ? [inDir(options.wasmDir)]
    : [inDir(__dirname), fromNodeModules()].filter((c): c is WasmPaths => c !== undefined);
  for (const c of candidates) {
    if (existsSync(c.runtime) && existsSync(c.grammar)) return c;
  }
  const looked = candidates.map((c) => dirname(c.grammar)).join(", ");
  throw new WasmNotFoundError(
    `The Elixir parser's wasm files (${RUNTIME_WASM}, ${ELIXIR_WASM}) were not found in ${looked || "any known place"}: ` +
      `rebuild with \`node scripts/build.mjs server wasm\` or reinstall the extension.`,
  );
}

function inDir(dir: string): WasmPaths {
  return { runtime: join(dir, RUNTIME_WASM), grammar: join(dir, ELIXIR_WASM) };
}

function fromNodeModules(): WasmPaths | undefined {
  try {
    return {
      runtime: require.resolve("web-tree-sitter/web-tree-sitter.wasm"),
      grammar: join(dirname(require.resolve("tree-sitter-elixir/package.json")), ELIXIR_WASM),
    };
  } catch {
    return undefined; // Bundled without node_modules: only wasmDir/__dirname can work.
  }
}

/**
 * The Elixir language, loaded once. web-tree-sitter's runtime is a process-wide singleton, so
 * after the first successful load later `options` are ignored.
 */
export function loadElixir(options: WasmOptions = {}): Promise<import("web-tree-sitter").Language> {
  if (loaded) return loaded;
  const paths = locateWasm(options);
  const language = TreeSitter.Parser.init({ locateFile: () => paths.runtime }).then(() =>
    TreeSitter.Language.load(paths.grammar),
  );
  loaded = language;
  // A failed load must not stick: let the next caller try again (e.g. after a rebuild).
  language.catch(() => {
    if (loaded === language) loaded = undefined;
  });
  return language;
}

/** A new parser for Elixir. Parsers are cheap; one per document store or workspace scan. */
export async function createElixirParser(options: WasmOptions = {}): Promise<Parser> {
  const language = await loadElixir(options);
  const parser = new TreeSitter.Parser();
  parser.setLanguage(language);
  return parser;
}

/** Parses `text`, reusing `oldTree` (already `edit`ed) for an incremental reparse. */
export function parseText(parser: Parser, text: string, oldTree?: Tree | null): Tree {
  const tree = parser.parse(text, oldTree ?? null);
  // parse() only returns null when cancelled or without a language; neither happens here.
  if (!tree) throw new Error("tree-sitter returned no tree (no language set on the parser)");
  return tree;
}
