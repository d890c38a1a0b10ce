/** Which function clause a line belongs to (hover history, "record this function"). */
import type { EnclosingFunction } from "../../../protocol/src/lsp";
import { allModules, containsLine, type FileIndex, type ModuleDef } from "./model";

/**
 * The clause containing 0-based `line`, in the innermost module around it, or null when the
 * line is outside every function. `startLine`/`endLine` span that clause from `def` to `end`;
 * `params` are the variables its head binds.
 */
export function enclosingFunction(index: FileIndex, line: number): EnclosingFunction | null {
  const module = innermostModule(index, line);
  if (!module) return null;
  for (const fn of module.functions) {
    if (!containsLine(fn.range, line)) continue;
    for (const clause of fn.clauses) {
      if (!containsLine(clause.range, line)) continue;
      return {
        module: module.name,
        name: fn.name,
        arity: fn.arity,
        startLine: clause.range.start.line,
        endLine: clause.range.end.line,
        params: clause.params,
      };
    }
  }
  return null;
}

function innermostModule(index: FileIndex, line: number): ModuleDef | null {
  let found: ModuleDef | null = null;
  // allModules lists outer before inner, so the last match is the innermost.
  for (const m of allModules(index)) if (containsLine(m.range, line)) found = m;
  return found;
}
