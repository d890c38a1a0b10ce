/** The outline of a file: modules, then their functions, describes and tests, nested modules. */
import { DocumentSymbol, SymbolKind } from "vscode-languageserver/node";
import type { FileIndex, FunctionDef, ModuleDef, TestDef } from "../analysis/model";

export function documentSymbols(index: FileIndex): DocumentSymbol[] {
  return index.modules.map(moduleSymbol);
}

function moduleSymbol(m: ModuleDef): DocumentSymbol {
  const describes = m.describes.map((d) =>
    DocumentSymbol.create(
      `describe "${d.name}"`,
      undefined,
      SymbolKind.Namespace,
      d.range,
      d.range,
      m.tests.filter((t) => t.describe === d.name).map(testSymbol),
    ),
  );
  const children = [
    ...m.functions.map(functionSymbol),
    ...describes,
    ...m.tests.filter((t) => t.describe === null).map(testSymbol),
    ...m.children.map(moduleSymbol),
  ].sort((a, b) => a.range.start.line - b.range.start.line || a.range.start.character - b.range.start.character);
  const detail = m.kind === "module" ? undefined : m.kind === "impl" ? "defimpl" : "defprotocol";
  return DocumentSymbol.create(m.name, detail, SymbolKind.Module, m.range, m.nameRange, children);
}

function functionSymbol(f: FunctionDef): DocumentSymbol {
  const arities = f.arities.length > 1 ? ` (also callable as ${f.arities.slice(0, -1).map((a) => `${f.name}/${a}`).join(", ")})` : "";
  const impl = f.impl === null ? "" : f.impl === "true" ? " @impl" : ` @impl ${f.impl}`;
  const clauses = f.clauses.length > 1 ? `, ${f.clauses.length} clauses` : "";
  return DocumentSymbol.create(`${f.name}/${f.arity}`, `${f.kind}${impl}${clauses}${arities}`, SymbolKind.Function, f.range, f.nameRange);
}

function testSymbol(t: TestDef): DocumentSymbol {
  return DocumentSymbol.create(`test "${t.name}"`, undefined, SymbolKind.Method, t.range, t.range);
}
