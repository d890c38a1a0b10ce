/**
 * What the index knows about one Elixir file. Plain data: no tree-sitter nodes, no LSP types.
 * Lines and characters are 0-based; characters count UTF-16 code units, as LSP's do.
 */

export interface Position {
  line: number;
  character: number;
}

export interface Range {
  start: Position;
  end: Position;
}

export type DefKind = "def" | "defp" | "defmacro" | "defmacrop";

/** One `def`/`defp`/... clause (or bodiless head). */
export interface Clause {
  /** The whole definition, `def` to `end` (or to the end of `do: ...`). */
  range: Range;
  /** The function name in the head. */
  nameRange: Range;
  arity: number;
  /** How many parameters have a `\\` default. */
  defaults: number;
  /** Variables the head binds, in source order, without duplicates, `_` and pinned (`^x`) ones. */
  params: string[];
  /** Source text of the `when` guard, or null. */
  guard: string | null;
  /** A head without a body, written to declare default arguments for the clauses that follow. */
  bodiless: boolean;
  /** `def f(x), do: x` rather than a `do ... end` block. */
  oneLine: boolean;
}

/** What a function's bodies do, found syntactically (calls in the clause bodies). */
export interface FunctionFacts {
  /** Calls itself (same name, local call, one of its arities). */
  recursive: boolean;
  /** `send`, `Process.send*`, `GenServer.call/cast/reply`, ... */
  sends: boolean;
  /** Has a `receive` block. */
  receives: boolean;
  /** `spawn*`, `Process.spawn`, `Task.async/start*`. */
  spawns: boolean;
  /** `raise`, `reraise`, `throw`, `exit`. */
  raises: boolean;
}

/** All clauses of one name/arity in a module, in source order. */
export interface FunctionDef {
  name: string;
  kind: DefKind;
  /** Arity of the full head. */
  arity: number;
  /** Every arity callers can use: `arity - defaults .. arity`. */
  arities: number[];
  /** `"true"`, or the behaviour named in `@impl Behaviour`, from the attribute before any clause. */
  impl: string | null;
  /** First clause start to last clause end (other definitions may sit in between). */
  range: Range;
  /** The name in the first clause. */
  nameRange: Range;
  clauses: Clause[];
  facts: FunctionFacts;
}

export interface UseDef {
  /** Module as written, e.g. "GenServer", "ExUnit.Case". */
  module: string;
  line: number;
}

export interface TestDef {
  /** The string given to `test`, as written (interpolations kept as source text). */
  name: string;
  /** Name of the enclosing `describe`, or null. */
  describe: string | null;
  range: Range;
}

export interface DescribeDef {
  name: string;
  range: Range;
}

export type ModuleKind = "module" | "protocol" | "impl";

export interface ModuleDef {
  /** Full name: nested `defmodule Inner` inside `Outer` is "Outer.Inner". */
  name: string;
  kind: ModuleKind;
  range: Range;
  nameRange: Range;
  uses: UseDef[];
  /** Modules named by `@behaviour`. */
  behaviours: string[];
  /** `defstruct` or `defexception` in the body. */
  struct: "struct" | "exception" | null;
  functions: FunctionDef[];
  describes: DescribeDef[];
  tests: TestDef[];
  /** Modules defined directly inside this one. */
  children: ModuleDef[];
}

export interface FileIndex {
  /** Top-level modules; nested ones are in `children`. */
  modules: ModuleDef[];
  /** True when tree-sitter had to recover from syntax errors; the index may be partial. */
  hasErrors: boolean;
}

/** Every module of a file, outer before inner, in source order. */
export function allModules(index: FileIndex): ModuleDef[] {
  const out: ModuleDef[] = [];
  const visit = (m: ModuleDef) => {
    out.push(m);
    m.children.forEach(visit);
  };
  index.modules.forEach(visit);
  return out;
}

export function containsLine(range: Range, line: number): boolean {
  return range.start.line <= line && line <= range.end.line;
}
