/**
 * The instrumentation plan: which modules of the workspace to record, and why.
 *
 * Walking-skeleton policy: every module of the program (not protocols, not modules without
 * functions) is recorded whole (`functions: null`); the reason names what the module is and
 * does, so the user can see why it is in the plan.
 */
import { readFile, stat } from "node:fs/promises";
import { relative } from "node:path";
import type { ModulePlan } from "../../../protocol/src/wire";
import type { PlanResult } from "../../../protocol/src/lsp";
import { indexSource } from "./elixir-index";
import { allModules, type FileIndex, type FunctionDef, type ModuleDef } from "./model";
import { createElixirParser, type Parser, type WasmOptions } from "./parser";
import { programSourceFiles } from "./workspace-files";

export interface SkippedModule {
  module: string;
  /** Path relative to the workspace root. */
  file: string;
  reason: string;
}

export interface WorkspacePlan extends PlanResult {
  /** Modules found but left out, with why. */
  skipped: SkippedModule[];
  /** Number of `.ex` files analysed. */
  files: number;
  /** Files tree-sitter could only partly parse (relative paths); their index may be incomplete. */
  filesWithErrors: string[];
}

/** A problem with the request itself (e.g. the folder does not exist), worded for the user. */
export class PlanError extends Error {}

export interface IndexedFile {
  /** Path relative to the workspace root. */
  file: string;
  index: FileIndex;
}

export interface PlanOptions extends WasmOptions {
  /** Keeps file indexes between plans of the same folder; unchanged files are not parsed again. */
  cache?: FileIndexCache;
}

/**
 * Indexes of files by path, valid while the file's size and modification time stay the same.
 * The language server keeps one per workspace folder, so planning again (every recording)
 * only parses what changed on disk.
 */
export class FileIndexCache {
  private entries = new Map<string, { mtimeMs: number; size: number; index: FileIndex }>();

  get(path: string, mtimeMs: number, size: number): FileIndex | undefined {
    const e = this.entries.get(path);
    return e && e.mtimeMs === mtimeMs && e.size === size ? e.index : undefined;
  }

  set(path: string, mtimeMs: number, size: number, index: FileIndex): void {
    this.entries.set(path, { mtimeMs, size, index });
  }

  /** Forgets files that are no longer part of the workspace. */
  retainOnly(paths: string[]): void {
    const keep = new Set(paths);
    for (const path of this.entries.keys()) if (!keep.has(path)) this.entries.delete(path);
  }
}

/** Reads, parses and plans every program `.ex` file under `root`. */
export async function planWorkspace(root: string, options: PlanOptions = {}): Promise<WorkspacePlan> {
  await checkFolder(root);
  const parser = await createElixirParser(options);
  const indexed: IndexedFile[] = [];
  try {
    const paths = await programSourceFiles(root);
    for (const path of paths) indexed.push({ file: relative(root, path), index: await indexFile(parser, path, options.cache) });
    options.cache?.retainOnly(paths);
  } finally {
    parser.delete();
  }
  return planIndexedFiles(indexed);
}

async function indexFile(parser: Parser, path: string, cache?: FileIndexCache): Promise<FileIndex> {
  if (!cache) return indexSource(parser, await readFile(path, "utf8"));
  const { mtimeMs, size } = await stat(path);
  const cached = cache.get(path, mtimeMs, size);
  if (cached) return cached;
  const index = indexSource(parser, await readFile(path, "utf8"));
  cache.set(path, mtimeMs, size, index);
  return index;
}

async function checkFolder(root: string): Promise<void> {
  const info = await stat(root).catch(() => null);
  if (!info) throw new PlanError(`Workspace folder ${root} does not exist: open the folder that holds your mix.exs.`);
  if (!info.isDirectory()) throw new PlanError(`${root} is a file, not a folder: open the folder that holds your mix.exs.`);
}

/** The plan for already indexed files (pure; the server can pass open documents' indexes). */
export function planIndexedFiles(files: IndexedFile[]): WorkspacePlan {
  const plan: WorkspacePlan = { modules: [], skipped: [], files: files.length, filesWithErrors: [] };
  const seen = new Map<string, string>();
  for (const { file, index } of files) {
    if (index.hasErrors) plan.filesWithErrors.push(file);
    for (const m of allModules(index)) {
      const skip = skipReason(m) ?? (seen.has(m.name) ? `also defined in ${seen.get(m.name)}; the first definition is planned` : null);
      if (skip) {
        plan.skipped.push({ module: m.name, file, reason: skip });
        continue;
      }
      seen.set(m.name, file);
      plan.modules.push(modulePlan(m));
    }
  }
  return plan;
}

export function modulePlan(m: ModuleDef): ModulePlan {
  return { module: m.name, functions: null, reason: moduleReason(m) };
}

function skipReason(m: ModuleDef): string | null {
  if (m.kind === "protocol") return "protocol: consolidated at build time; its implementations are planned instead";
  if (m.functions.length === 0) return "defines no functions";
  if (m.functions.every((f) => f.kind === "defmacro" || f.kind === "defmacrop")) return "defines only macros, which run at compile time";
  return null;
}

/** Known callbacks of behaviours people `use`, for modules that leave out `@impl`. */
const BEHAVIOUR_CALLBACKS = new Map<string, string[]>([
  ["GenServer", ["init/1", "handle_call/3", "handle_cast/2", "handle_info/2", "handle_continue/2", "terminate/2", "code_change/3", "format_status/1", "format_status/2"]],
  ["Supervisor", ["init/1"]],
  ["Application", ["start/2", "stop/1", "prep_stop/1", "config_change/3"]],
  ["Agent", []],
  ["Task", []],
]);

const MAX_LISTED = 4;

/** One line: what the module is, its callbacks, its functions and what they do. */
export function moduleReason(m: ModuleDef): string {
  const parts = [identity(m), functionCounts(m.functions), ...behaviourFacts(m.functions)];
  return parts.filter((p) => p !== "").join("; ");
}

function identity(m: ModuleDef): string {
  const behaviour = m.uses.map((u) => u.module).find((u) => BEHAVIOUR_CALLBACKS.has(u)) ?? m.uses[0]?.module ?? m.behaviours[0];
  const known = behaviour ? BEHAVIOUR_CALLBACKS.get(behaviour) ?? [] : [];
  const callbacks = m.functions.filter((f) => f.impl !== null || known.includes(`${f.name}/${f.arity}`));
  const label =
    m.kind === "impl" ? `protocol implementation` : m.struct === "exception" ? "exception" : behaviour ?? (m.struct === "struct" ? "struct" : "");
  if (callbacks.length === 0) return label;
  return `${label || "behaviour"}: callbacks ${list(callbacks)}`;
}

function functionCounts(fns: FunctionDef[]): string {
  const pub = fns.filter((f) => f.kind === "def" || f.kind === "defmacro").length;
  const priv = fns.length - pub;
  const counts = [pub ? plural(pub, "public function") : "", priv ? `${priv} private` : ""].filter(Boolean);
  return counts.join(", ");
}

function behaviourFacts(fns: FunctionDef[]): string[] {
  const with_ = (fact: keyof FunctionDef["facts"]) => fns.filter((f) => f.facts[fact]);
  const facts: [keyof FunctionDef["facts"], string][] = [
    ["recursive", "recursive"],
    ["spawns", "spawns processes"],
    ["sends", "sends messages"],
    ["receives", "receives messages"],
    ["raises", "raises"],
  ];
  return facts.flatMap(([fact, words]) => {
    const found = with_(fact);
    return found.length ? [`${words}: ${list(found)}`] : [];
  });
}

function list(fns: FunctionDef[]): string {
  const names = fns.map((f) => `${f.name}/${f.arity}`);
  return names.length > MAX_LISTED ? `${names.slice(0, MAX_LISTED).join(", ")} and ${names.length - MAX_LISTED} more` : names.join(", ");
}

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}
