/**
 * Incremental reparsing must give exactly what a fresh parse gives. Seeded random edits
 * (insertions, deletions, replacements, multi-line and non-ASCII text) over the sample app's
 * files, checking the text and the whole index after every edit.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { indexSource } from "../../server/src/analysis/elixir-index";
import { IncrementalDocument, type TextEdit } from "../../server/src/analysis/incremental";
import type { Position } from "../../server/src/analysis/model";
import { sampleApp, testParser } from "./helpers";

const SNIPPETS = ["x", "\n", "  def added(a), do: a\n", "end\n", "é😀", "do\n", "# comment\n", '"', "defmodule Z do\n", ""];

function rng(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    return s / 0x80000000;
  };
}

function positionAt(text: string, offset: number): Position {
  const before = text.slice(0, offset);
  const line = before.split("\n").length - 1;
  return { line, character: offset - (before.lastIndexOf("\n") + 1) };
}

function randomEdit(text: string, random: () => number): { edit: TextEdit; after: string } {
  const start = Math.floor(random() * (text.length + 1));
  const length = random() < 0.5 ? 0 : Math.floor(random() * Math.min(40, text.length - start));
  const insert = SNIPPETS[Math.floor(random() * SNIPPETS.length)];
  const edit = { range: { start: positionAt(text, start), end: positionAt(text, start + length) }, text: insert };
  return { edit, after: text.slice(0, start) + insert + text.slice(start + length) };
}

const files = readdirSync(join(sampleApp, "lib/sample")).map((f) => join(sampleApp, "lib/sample", f));

for (const [i, file] of files.entries()) {
  test(`incremental reparse equals a fresh parse after random edits: ${file.split("/").pop()}`, async () => {
    const parser = await testParser();
    const random = rng(1234 + i);
    let expected = readFileSync(file, "utf8");
    const doc = new IncrementalDocument(parser, expected);
    try {
      for (let step = 0; step < 60; step++) {
        // Sometimes several edits arrive in one didChange, each against the previous result.
        const batch: TextEdit[] = [];
        for (let k = 0, n = random() < 0.2 ? 3 : 1; k < n; k++) {
          const { edit, after } = randomEdit(expected, random);
          batch.push(edit);
          expected = after;
        }
        doc.applyEdits(batch);
        assert.equal(doc.text, expected, `text after step ${step}`);
        assert.deepEqual(doc.index, indexSource(parser, expected), `index after step ${step}`);
      }
    } finally {
      doc.dispose();
    }
  });
}

test("a one-line edit updates the function it touches and nothing else", async () => {
  const parser = await testParser();
  const doc = new IncrementalDocument(parser, "defmodule M do\n  def a(x), do: x\n  def b(y), do: y\nend\n");
  const before = doc.index.modules[0].functions.map((f) => `${f.name}/${f.arity}`);
  doc.applyEdits([{ range: { start: { line: 1, character: 8 }, end: { line: 1, character: 9 } }, text: "x, z" }]);
  const after = doc.index.modules[0].functions.map((f) => `${f.name}/${f.arity}`);
  assert.deepEqual(before, ["a/1", "b/1"]);
  assert.deepEqual(after, ["a/2", "b/1"]);
  doc.dispose();
});

test("positions past the end of a line or the file are clamped, as LSP asks", async () => {
  const parser = await testParser();
  const doc = new IncrementalDocument(parser, "defmodule M do\nend\n");
  doc.applyEdits([{ range: { start: { line: 0, character: 99 }, end: { line: 0, character: 99 } }, text: "\n  def f, do: 1" }]);
  doc.applyEdits([{ range: { start: { line: 99, character: 0 }, end: { line: 99, character: 0 } }, text: "# end" }]);
  assert.equal(doc.text, "defmodule M do\n  def f, do: 1\nend\n# end");
  assert.deepEqual(doc.index, indexSource(parser, doc.text));
  doc.dispose();
});

test("a file of many modules: edits re-index the touched module and reuse the others, same result", async () => {
  const parser = await testParser();
  const random = rng(99);
  let expected = files.map((f) => readFileSync(f, "utf8")).join("\n");
  const doc = new IncrementalDocument(parser, expected);
  try {
    for (let step = 0; step < 80; step++) {
      const { edit, after } = randomEdit(expected, random);
      expected = after;
      doc.applyEdits([edit]);
      assert.deepEqual(doc.index, indexSource(parser, expected), `index after step ${step}`);
    }
  } finally {
    doc.dispose();
  }
});

test("inserting lines above a module moves its cached positions", async () => {
  const parser = await testParser();
  const text = "defmodule A do\n  def a(x), do: x\nend\n\ndefmodule B do\n  use GenServer\n  def b(y), do: y\nend\n";
  const doc = new IncrementalDocument(parser, text);
  void doc.index;
  doc.applyEdits([{ range: { start: { line: 1, character: 0 }, end: { line: 1, character: 0 } }, text: "  # one\n  # two\n" }]);
  const b = doc.index.modules[1];
  assert.equal(b.range.start.line, 6);
  assert.equal(b.uses[0].line, 7);
  assert.equal(b.functions[0].clauses[0].range.start.line, 8);
  assert.deepEqual(doc.index, indexSource(parser, doc.text));
  doc.dispose();
});
