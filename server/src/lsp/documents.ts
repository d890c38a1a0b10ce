/** Open Elixir documents, each with a tree kept in step with the client's incremental edits. */
import { IncrementalDocument, type TextEdit } from "../analysis/incremental";
import type { Parser } from "../analysis/parser";
import type { TextDocumentContentChangeEvent } from "vscode-languageserver/node";

export class DocumentStore {
  private readonly open = new Map<string, { version: number; doc: IncrementalDocument }>();

  constructor(private readonly parser: Parser) {}

  get(uri: string): IncrementalDocument | undefined {
    return this.open.get(uri)?.doc;
  }

  didOpen(uri: string, version: number, text: string): void {
    this.open.get(uri)?.doc.dispose();
    this.open.set(uri, { version, doc: new IncrementalDocument(this.parser, text) });
  }

  didChange(uri: string, version: number, changes: TextDocumentContentChangeEvent[]): void {
    const entry = this.open.get(uri);
    // A change for a document we never saw open is a client bug; there is no text to edit.
    if (!entry) return;
    entry.version = version;
    // Runs of range edits go through one incremental reparse; a full-text change restarts.
    let pending: TextEdit[] = [];
    const flush = () => {
      if (pending.length) entry.doc.applyEdits(pending);
      pending = [];
    };
    for (const change of changes) {
      if ("range" in change && change.range) pending.push({ range: change.range, text: change.text });
      else {
        flush();
        entry.doc.replaceAll(change.text);
      }
    }
    flush();
  }

  didClose(uri: string): void {
    this.open.get(uri)?.doc.dispose();
    this.open.delete(uri);
  }

  dispose(): void {
    for (const uri of [...this.open.keys()]) this.didClose(uri);
  }
}
