import * as assert from "node:assert/strict";
import * as vscode from "vscode";
import { extensionApi, workspaceFile } from "./helpers";

type AnySymbol = vscode.DocumentSymbol | vscode.SymbolInformation;

function names(symbols: AnySymbol[], prefix = ""): string[] {
  return symbols.flatMap((s) => {
    const name = `${prefix}${s.name}`;
    return [name, ...("children" in s ? names(s.children, `${name} › `) : [])];
  });
}

suite("language server", () => {
  test("returns document symbols for lib/sample/ledger.ex", async () => {
    await extensionApi();
    const doc = await vscode.workspace.openTextDocument(workspaceFile("lib/sample/ledger.ex"));
    assert.equal(doc.languageId, "elixir");
    const symbols = await vscode.commands.executeCommand<AnySymbol[]>("vscode.executeDocumentSymbolProvider", doc.uri);
    const all = names(symbols ?? []);
    for (const expected of ["Sample.Ledger", "Sample.Ledger › start_link/1", "Sample.Ledger › deposit/3", "Sample.Ledger › handle_call/3", "Sample.Ledger › apply_entry/2"]) {
      assert.ok(all.includes(expected), `missing symbol ${expected}; got: ${all.join(", ")}`);
    }
    const module = symbols.find((s) => s.name === "Sample.Ledger") as vscode.DocumentSymbol;
    assert.equal(module.kind, vscode.SymbolKind.Module);
    assert.equal(module.range.start.line, 0);
  });
});
