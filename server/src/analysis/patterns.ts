/** Which variables a pattern (a function head's parameter) binds. */
import type { SyntaxNode } from "./parser";
import { named, operatorOf } from "./syntax";

/**
 * Variables bound by `pattern`, in source order, appended to `out` (duplicates skipped).
 * `^x` binds nothing (it matches an existing `x`); `@attr` is a module attribute; in
 * `a \\ default` only `a` is the parameter; in `<<a::size(8)>>` only `a` (the right side of
 * `::` is a type spec); calls bind nothing.
 */
export function patternVariables(pattern: SyntaxNode, out: string[] = []): string[] {
  switch (pattern.type) {
    case "identifier": {
      const name = pattern.text;
      if (isVariableName(name) && !out.includes(name)) out.push(name);
      return out;
    }
    case "unary_operator":
      return out; // `^x`, `@attr`, `-1`, `not x`: nothing new bound.
    case "call":
    case "string":
    case "charlist":
    case "sigil":
    case "atom":
    case "alias":
    case "keyword":
      return out;
    case "binary_operator": {
      const op = operatorOf(pattern);
      const left = pattern.childForFieldName("left");
      const right = pattern.childForFieldName("right");
      if (left) patternVariables(left, out);
      if (right && op !== "\\\\" && op !== "::") patternVariables(right, out);
      return out;
    }
    case "pair": {
      // In `key: value` only the value is a pattern.
      const value = pattern.childForFieldName("value");
      if (value) patternVariables(value, out);
      return out;
    }
    default:
      for (const child of named(pattern)) patternVariables(child, out);
      return out;
  }
}

/** `_` and `__MODULE__`-style pseudo-variables are not bindings anyone can look up. */
function isVariableName(name: string): boolean {
  if (name === "_") return false;
  if (name.startsWith("__") && name.endsWith("__")) return false;
  return true;
}
