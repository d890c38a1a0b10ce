/**
 * The index of one Elixir file: modules (nested ones with full names), their functions grouped
 * by name/arity with every clause, `use`, `@behaviour`, `@impl` callbacks and ExUnit tests.
 *
 * Only definitions written directly in a module body count: definitions inside `quote` (in a
 * `__using__` macro), `if` blocks or `unquote` heads are code generation we cannot see through.
 */
import { addBodyFacts, noFacts } from "./body-facts";
import type { Clause, DefKind, FileIndex, FunctionDef, ModuleDef, ModuleKind } from "./model";
import type { ModuleCache } from "./module-cache";
import type { Parser, SyntaxNode, Tree } from "./parser";
import { parseText } from "./parser";
import { patternVariables } from "./patterns";
import {
  callArguments,
  callName,
  callParts,
  type CallParts,
  keywordValue,
  moduleNameOf,
  named,
  operatorOf,
  rangeOf,
  stringContent,
} from "./syntax";

const DEF_KINDS: ReadonlySet<string> = new Set<DefKind>(["def", "defp", "defmacro", "defmacrop"]);
// A Map, not an object literal: `"constructor" in {}` is true, and Elixir code may call anything.
const MODULE_KINDS = new Map<string, ModuleKind>([
  ["defmodule", "module"],
  ["defprotocol", "protocol"],
  ["defimpl", "impl"],
]);

/** Parses and indexes `text`. */
export function indexSource(parser: Parser, text: string): FileIndex {
  const tree = parseText(parser, text);
  try {
    return indexTree(tree);
  } finally {
    tree.delete(); // Trees live in wasm memory; nothing else holds this one.
  }
}

/** Indexes an already parsed file (the language server keeps trees for incremental reparses). */
export function indexTree(tree: Tree, cache?: ModuleCache): FileIndex {
  const modules: ModuleDef[] = [];
  collectModules(named(tree.rootNode), null, modules, cache);
  cache?.endGeneration();
  return { modules, hasErrors: tree.rootNode.hasError };
}

/**
 * Module definitions among `nodes`. While the user types, tree-sitter often wraps the rest of a
 * module in an ERROR node and leaves `defmodule X` without its do-block; we take the ERROR
 * node that follows as the body, so the outline and the plan survive half-written code.
 */
function collectModules(nodes: SyntaxNode[], parent: string | null, out: ModuleDef[], cache?: ModuleCache): void {
  for (let i = 0; i < nodes.length; i++) {
    const node = nodes[i];
    const type = node.type;
    if (type === "ERROR") {
      collectModules(named(node), parent, out);
      continue;
    }
    if (type !== "call") continue;
    const parts = callParts(node);
    if (parts.target?.type !== "identifier" || !MODULE_KINDS.has(parts.target.text)) continue;
    const next = nodes[i + 1];
    const recovered = !parts.doBlock && next?.type === "ERROR" ? next : null;
    if (recovered) i++; // Consumed as the module's body.
    // Only whole, error-free modules are cached: their index depends on their text alone.
    const cacheable = cache && !recovered && !node.hasError;
    const text = cacheable ? node.text : "";
    const start = { line: node.startPosition.row, character: node.startPosition.column };
    const cached = cacheable ? cache.lookup(text, start) : null;
    const m = cached ?? moduleDefinition(node, parent, parts, recovered);
    if (!m) continue;
    if (cacheable && !cached) cache.store(text, start, m);
    out.push(m);
  }
}

/** A `defmodule`/`defprotocol`/`defimpl` call as a module, or null for anything else. */
function moduleDefinition(
  node: SyntaxNode,
  parent: string | null,
  parts?: CallParts,
  /** An ERROR node right after a `defmodule X` that has no do-block: its likely body. */
  recovered?: SyntaxNode | null,
): ModuleDef | null {
  if (node.type !== "call") return null;
  const { target, args, doBlock: written } = parts ?? callParts(node);
  const doBlock = written ?? recovered ?? null;
  const kind = target?.type === "identifier" ? MODULE_KINDS.get(target.text) : undefined;
  const nameNode = args?.firstNamedChild;
  if (!kind || !args || !nameNode) return null;
  const name = fullModuleName(kind, nameNode, args, parent);
  if (!name) return null;
  const builder = new ModuleBuilder({
    name,
    kind,
    range: recovered && !written ? { start: rangeOf(node).start, end: rangeOf(recovered).end } : rangeOf(node),
    nameRange: rangeOf(nameNode),
    uses: [],
    behaviours: [],
    struct: null,
    functions: [],
    describes: [],
    tests: [],
    children: [],
  });
  if (doBlock) builder.addBody(doBlock, null);
  return builder.finish();
}

function fullModuleName(kind: ModuleKind, nameNode: SyntaxNode, args: SyntaxNode, parent: string | null): string | null {
  // `__MODULE__.Inner` already includes the parent; a plain alias is nested under it.
  const written = moduleNameOf(nameNode, parent);
  if (!written) return null;
  const nested = parent && nameNode.type === "alias" ? `${parent}.${written}` : written;
  if (kind !== "impl") return nested;
  // `defimpl Proto, for: Type` defines `Proto.Type`; without `for:` the type is the parent.
  const forNode = keywordValue(args, "for");
  const target = forNode ? moduleNameOf(forNode, parent) : parent;
  return target ? `${written}.${target}` : written;
}

interface PendingFunction {
  def: FunctionDef;
  bodies: SyntaxNode[];
}

class ModuleBuilder {
  private readonly functions = new Map<string, PendingFunction>();
  /** `@impl` seen since the last definition; it belongs to the next one. */
  private pendingImpl: string | null = null;

  constructor(private readonly module: ModuleDef) {}

  addBody(block: SyntaxNode, describe: string | null): void {
    for (const node of named(block)) {
      const type = node.type; // Each `type` read is a call into wasm.
      if (type === "unary_operator") this.addAttribute(node);
      else if (type === "call") this.addCall(node, describe);
      // Definitions tree-sitter could not fit into the grammar still belong to this module.
      else if (type === "ERROR") this.addBody(node, describe);
    }
  }

  finish(): ModuleDef {
    for (const { def, bodies } of this.functions.values()) {
      for (const body of bodies) addBodyFacts(def.facts, body, def);
      this.module.functions.push(def);
    }
    return this.module;
  }

  private addAttribute(node: SyntaxNode): void {
    const call = node.childForFieldName("operand");
    if (operatorOf(node) !== "@" || !call || call.type !== "call") return;
    const value = callArguments(call)?.firstNamedChild;
    const attr = callName(call);
    if (attr === "impl" && value) this.pendingImpl = value.text === "false" ? null : value.text;
    else if (attr === "behaviour" && value) this.module.behaviours.push(moduleNameOf(value, this.module.name) ?? value.text);
  }

  private addCall(call: SyntaxNode, describe: string | null): void {
    const parts = callParts(call);
    if (parts.target?.type !== "identifier") return;
    const name = parts.target.text;
    if (DEF_KINDS.has(name)) return this.addDefinition(call, parts, name as DefKind);
    if (MODULE_KINDS.has(name)) {
      const child = moduleDefinition(call, this.module.name, parts);
      if (child) this.module.children.push(child);
      return;
    }
    if (name === "defstruct" || name === "defexception") {
      this.module.struct = name === "defstruct" ? "struct" : "exception";
      return;
    }
    const first = parts.args?.firstNamedChild;
    if (name === "use" && first) {
      this.module.uses.push({ module: moduleNameOf(first, this.module.name) ?? first.text, line: call.startPosition.row });
      return;
    }
    const title = first ? stringContent(first) : null;
    if (title === null) return;
    if (name === "test") this.module.tests.push({ name: title, describe, range: rangeOf(call) });
    else if (name === "describe" && describe === null) {
      this.module.describes.push({ name: title, range: rangeOf(call) });
      if (parts.doBlock) this.addBody(parts.doBlock, title);
    }
  }

  private addDefinition(call: SyntaxNode, parts: CallParts, kind: DefKind): void {
    const parsed = parseClause(call, parts);
    if (!parsed) return;
    const { clause, name, body } = parsed;
    const key = `${name}/${clause.arity}`;
    let entry = this.functions.get(key);
    if (!entry) {
      entry = {
        def: {
          name,
          kind,
          arity: clause.arity,
          arities: [],
          impl: this.pendingImpl,
          range: clause.range,
          nameRange: clause.nameRange,
          clauses: [],
          facts: noFacts(),
        },
        bodies: [],
      };
      this.functions.set(key, entry);
    }
    this.pendingImpl = null;
    const def = entry.def;
    def.clauses.push(clause);
    def.range = { start: def.range.start, end: clause.range.end };
    const defaults = Math.max(...def.clauses.map((c) => c.defaults));
    def.arities = Array.from({ length: defaults + 1 }, (_, i) => def.arity - defaults + i);
    if (body) entry.bodies.push(body);
  }
}

/** One `def` call: its head (name, parameters, guard) and its body node. */
function parseClause(call: SyntaxNode, { args, doBlock }: CallParts): { clause: Clause; name: string; body: SyntaxNode | null } | null {
  let head = args?.firstNamedChild;
  if (!args || !head) return null;
  let guard: string | null = null;
  if (head.type === "binary_operator" && operatorOf(head) === "when") {
    guard = head.childForFieldName("right")?.text ?? null;
    head = head.childForFieldName("left");
    if (!head) return null;
  }
  const signature = headSignature(head);
  if (!signature) return null;
  const params: string[] = [];
  let defaults = 0;
  for (const p of signature.params) {
    if (p.type === "binary_operator" && operatorOf(p) === "\\\\") defaults++;
    patternVariables(p, params);
  }
  const doKeyword = doBlock ? null : keywordValue(args, "do");
  const body = doBlock ?? doKeyword;
  const clause: Clause = {
    range: rangeOf(call),
    nameRange: rangeOf(signature.nameNode),
    arity: signature.params.length,
    defaults,
    params,
    guard,
    bodiless: body === null,
    oneLine: doKeyword !== null,
  };
  return { clause, name: signature.name, body };
}

/** `f(a, b)`, `f` (no parentheses), or an operator definition `a + b`. */
function headSignature(head: SyntaxNode): { name: string; nameNode: SyntaxNode; params: SyntaxNode[] } | null {
  switch (head.type) {
    case "call": {
      const { target, args } = callParts(head);
      // `def unquote(name)(x)` has a call as its target: the name is only known at compile time.
      if (!target || target.type !== "identifier") return null;
      return { name: target.text, nameNode: target, params: args ? named(args) : [] };
    }
    case "identifier":
      return { name: head.text, nameNode: head, params: [] };
    case "binary_operator":
    case "unary_operator": {
      const op = head.childForFieldName("operator");
      if (!op) return null;
      const params = [head.childForFieldName("left"), head.childForFieldName("operand"), head.childForFieldName("right")];
      return { name: op.type, nameNode: op, params: params.filter((p): p is SyntaxNode => p !== null) };
    }
    default:
      return null;
  }
}
