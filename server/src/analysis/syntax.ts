/** Small helpers over tree-sitter-elixir nodes, so the index reads like the grammar. */
import type { Range } from "./model";
import type { SyntaxNode } from "./parser";

export function rangeOf(node: SyntaxNode): Range {
  const s = node.startPosition;
  const e = node.endPosition;
  return { start: { line: s.row, character: s.column }, end: { line: e.row, character: e.column } };
}

/** The identifier a call is made to (`def` in `def f(x)`), or null for `a.b()` and `f.()`. */
export function callName(call: SyntaxNode): string | null {
  const target = call.childForFieldName("target");
  return target && target.type === "identifier" ? target.text : null;
}

export interface CallParts {
  /** `def` in `def f(x)`; a `dot` node in `a.b()`. */
  target: SyntaxNode | null;
  /** Null for `receive do ... end`, which has none. */
  args: SyntaxNode | null;
  doBlock: SyntaxNode | null;
}

/**
 * A call's target, arguments and do-block from one pass over its children: each child fetched
 * from web-tree-sitter costs a trip into wasm, and the index asks for these three a lot.
 */
export function callParts(call: SyntaxNode): CallParts {
  // The grammar puts the target first, then optional arguments and do-block; with syntax
  // errors, ERROR nodes can sit in between, so the rest are told apart by type.
  const [target = null, ...rest] = call.namedChildren;
  const parts: CallParts = { target, args: null, doBlock: null };
  for (const child of rest) {
    const type = child?.type;
    if (type === "arguments") parts.args = child;
    else if (type === "do_block") parts.doBlock = child;
  }
  return parts;
}

/** The `arguments` child of a call, or null (`receive do ... end` has none). */
export function callArguments(call: SyntaxNode): SyntaxNode | null {
  for (const child of call.namedChildren) {
    if (child?.type === "arguments") return child;
  }
  return null;
}

export function callDoBlock(call: SyntaxNode): SyntaxNode | null {
  for (const child of call.namedChildren) {
    if (child?.type === "do_block") return child;
  }
  return null;
}

/** Named children without the nulls web-tree-sitter's typings allow for. */
export function named(node: SyntaxNode): SyntaxNode[] {
  return node.namedChildren.filter((c): c is SyntaxNode => c !== null);
}

export function operatorOf(node: SyntaxNode): string | null {
  return node.childForFieldName("operator")?.type ?? null;
}

/** The value of `key:` in a trailing keyword list (`do:` in `def f(x), do: x`), or null. */
export function keywordValue(args: SyntaxNode, key: string): SyntaxNode | null {
  const last = args.lastNamedChild;
  if (!last || last.type !== "keywords") return null;
  for (const pair of named(last)) {
    const k = pair.childForFieldName("key");
    // A keyword node's text includes the colon and trailing space ("do: ").
    if (k && k.text.replace(/:\s*$/, "") === key) return pair.childForFieldName("value");
  }
  return null;
}

/** Text of a plain string literal without its quotes; interpolations stay as source text. */
export function stringContent(node: SyntaxNode): string | null {
  if (node.type !== "string") return null;
  const text = node.text;
  if (text.startsWith('"""')) return text.slice(3, -3).trim();
  return text.slice(1, -1);
}

/** An `alias` node ("Sample.Ledger"), `__MODULE__.Inner`, or an atom module name. */
export function moduleNameOf(node: SyntaxNode, current: string | null): string | null {
  const type = node.type;
  if (type === "alias" || type === "atom") return node.text;
  if (type === "identifier" && node.text === "__MODULE__") return current;
  if (type === "dot") {
    const left = node.childForFieldName("left");
    const right = node.childForFieldName("right");
    if (!left || !right) return null;
    const prefix = moduleNameOf(left, current);
    return prefix && right.type === "alias" ? `${prefix}.${right.text}` : null;
  }
  return null;
}
