/**
 * An Elixir document whose tree follows edits incrementally: each edit is applied to the tree
 * (`tree.edit`) and the reparse reuses every unchanged subtree, so a one-line change in a large
 * file costs milliseconds, not a full parse. Pure: text edits in, index out.
 */
import { indexTree } from "./elixir-index";
import type { FileIndex, Position, Range } from "./model";
import { ModuleCache } from "./module-cache";
import { Edit, parseText, type Parser, type Point, type Tree } from "./parser";

/** Replace `range` (positions in UTF-16 code units, as LSP sends them) with `text`. */
export interface TextEdit {
  range: Range;
  text: string;
}

export class IncrementalDocument {
  private tree: Tree;
  private lineStarts: number[];
  private cachedIndex: FileIndex | null = null;
  private readonly modules = new ModuleCache();

  constructor(
    private readonly parser: Parser,
    private content: string,
  ) {
    this.tree = parseText(parser, content);
    this.lineStarts = lineStarts(content);
  }

  get text(): string {
    return this.content;
  }

  /** The index of the current text, computed on first use after a change. */
  get index(): FileIndex {
    this.cachedIndex ??= indexTree(this.tree, this.modules);
    return this.cachedIndex;
  }

  /** Applies edits in order (each against the text the previous one produced), then reparses. */
  applyEdits(edits: TextEdit[]): void {
    for (const edit of edits) this.applyOne(edit);
    const old = this.tree;
    this.tree = parseText(this.parser, this.content, old);
    old.delete();
    this.cachedIndex = null;
  }

  /** Replaces the whole text (a full-document change); parses from scratch. */
  replaceAll(text: string): void {
    this.content = text;
    this.lineStarts = lineStarts(text);
    const old = this.tree;
    this.tree = parseText(this.parser, text);
    old.delete();
    this.cachedIndex = null;
  }

  dispose(): void {
    this.tree.delete();
  }

  private applyOne({ range, text }: TextEdit): void {
    const startIndex = this.offsetAt(range.start);
    const oldEndIndex = Math.max(startIndex, this.offsetAt(range.end));
    const startPosition = this.pointAt(startIndex);
    const oldEndPosition = this.pointAt(oldEndIndex);
    this.content = this.content.slice(0, startIndex) + text + this.content.slice(oldEndIndex);
    this.lineStarts = lineStarts(this.content);
    const newEndIndex = startIndex + text.length;
    this.tree.edit(
      new Edit({ startIndex, oldEndIndex, newEndIndex, startPosition, oldEndPosition, newEndPosition: this.pointAt(newEndIndex) }),
    );
  }

  /** Offset of an LSP position, clamped to the text as LSP asks servers to do. */
  private offsetAt({ line, character }: Position): number {
    if (line >= this.lineStarts.length) return this.content.length;
    if (line < 0) return 0;
    const start = this.lineStarts[line];
    let end = line + 1 < this.lineStarts.length ? this.lineStarts[line + 1] - 1 : this.content.length;
    if (end > start && this.content[end - 1] === "\r") end--; // "\r\n": the line ends before "\r".
    return Math.min(start + Math.max(0, character), end);
  }

  /** tree-sitter point of an offset (rows split at "\n"; columns in UTF-16 units, like offsets). */
  private pointAt(offset: number): Point {
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.lineStarts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { row: lo, column: offset - this.lineStarts[lo] };
  }
}

/** Offsets where each line starts. Only "\n" ends a line, as in tree-sitter's rows. */
function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf("\n"); i >= 0; i = text.indexOf("\n", i + 1)) starts.push(i + 1);
  return starts;
}
