/**
 * Language-server benchmarks (see /shared/BENCH.md), one JSON line per metric:
 *  - lsp.index_mb_per_s: plan a generated ~4 MB workspace from disk (read, parse, index, plan),
 *    per CPU-second; baseline: tree-sitter's parse alone over the same text, same run.
 *  - lsp.edit_reanalysis_p95_ms: a one-line edit in a 3,000-line file, then the file's index
 *    again (tree.edit + incremental reparse + re-index); baseline: parse + index from scratch.
 * Run: node --import tsx bench/lsp/index.bench.ts
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { indexSource } from "../../server/src/analysis/elixir-index";
import { IncrementalDocument } from "../../server/src/analysis/incremental";
import { createElixirParser, parseText, type Parser } from "../../server/src/analysis/parser";
import { planWorkspace } from "../../server/src/analysis/plan";
import { corpus, moduleSource } from "./corpus";

const CORPUS_BYTES = 4_000_000;
const ROUNDS = 5;
const EDITS = 300;

function emit(name: string, value: number, unit: string, target: number, better: "higher" | "lower", baseline: string): void {
  console.log(JSON.stringify({ name, value: round(value), unit, target, better, baseline }));
}

function round(v: number): number {
  return Math.round(v * 100) / 100;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
}

async function indexThroughput(parser: Parser): Promise<void> {
  const files = corpus(CORPUS_BYTES);
  const megabytes = files.reduce((n, f) => n + Buffer.byteLength(f), 0) / 1e6;
  const root = mkdtempSync(join(tmpdir(), "es-bench-lsp-"));
  try {
    writeFileSync(join(root, "mix.exs"), "defmodule Corpus.MixProject do\n  use Mix.Project\n  def project, do: [app: :corpus]\nend\n");
    mkdirSync(join(root, "lib/corpus"), { recursive: true });
    files.forEach((text, i) => writeFileSync(join(root, "lib/corpus", `file_${i}.ex`), text));

    // Throughput is work per CPU-second of this process (user + system, which includes the
    // file reads in libuv's pool): "one core" in BENCH.md, and far steadier than wall time on
    // a machine other jobs share. Wall time is reported alongside.
    const cpu: number[] = [];
    const wall: number[] = [];
    let modules = 0;
    for (let r = 0; r <= ROUNDS; r++) {
      const c = process.cpuUsage();
      const t = performance.now();
      modules = (await planWorkspace(root)).modules.length;
      const used = process.cpuUsage(c);
      // Round 0 warms up (wasm tier-up, file cache) and is not counted.
      if (r > 0) {
        cpu.push(megabytes / ((used.user + used.system) / 1e6));
        wall.push(megabytes / ((performance.now() - t) / 1000));
      }
    }
    // Baseline in the same run: tree-sitter's parse alone against parse + index, file by file,
    // alternating, so that load from other processes falls on both alike.
    let parseMs = 0;
    let indexMs = 0;
    for (const text of files) {
      let t = performance.now();
      parseText(parser, text).delete();
      parseMs += performance.now() - t;
      t = performance.now();
      indexSource(parser, text);
      indexMs += performance.now() - t;
    }
    const parse = megabytes / (parseMs / 1000);
    emit(
      "lsp.index_mb_per_s",
      median(cpu),
      "MB/s",
      5,
      "higher",
      `planWorkspace (read, parse, index, plan) of ${files.length} files, ${megabytes.toFixed(1)} MB, ${modules} modules, per CPU-second, median of ${ROUNDS} ` +
        `(wall: ${median(wall).toFixed(2)} MB/s); tree-sitter parse alone: ${parse.toFixed(2)} MB/s wall, parse + index: ` +
        `${(megabytes / (indexMs / 1000)).toFixed(2)} MB/s wall (indexing adds ${((indexMs / parseMs - 1) * 100).toFixed(0)}% to parsing)`,
    );
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

function editReanalysis(parser: Parser): void {
  const parts: string[] = [];
  for (let i = 0; parts.join("").split("\n").length < 3000; i++) parts.push(moduleSource(i));
  const text = parts.join("\n").split("\n").slice(0, 3000).join("\n");
  const lines = text.split("\n");

  const fresh: number[] = [];
  for (let r = 0; r < 20; r++) {
    const t = performance.now();
    indexSource(parser, text);
    fresh.push(performance.now() - t);
  }

  const doc = new IncrementalDocument(parser, text);
  doc.index;
  const times: number[] = [];
  const cpuTimes: number[] = [];
  const timed = (edit: () => void) => {
    const c = process.cpuUsage();
    const t = performance.now();
    edit();
    void doc.index.modules.length; // The index is rebuilt lazily: ask for it, as a request would.
    times.push(performance.now() - t);
    const used = process.cpuUsage(c);
    cpuTimes.push((used.user + used.system) / 1000);
  };
  let seed = 7;
  // Typing and undoing: insert a character somewhere, then delete it again, so the file stays
  // the same size and mostly valid, as it is while someone edits.
  for (let k = 0; k < EDITS / 2; k++) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    const line = seed % lines.length;
    const character = Math.min(lines[line].length, 4 + (seed % 7));
    const at = { line, character };
    timed(() => doc.applyEdits([{ range: { start: at, end: at }, text: "x" }]));
    timed(() => doc.applyEdits([{ range: { start: at, end: { line, character: character + 1 } }, text: "" }]));
  }
  doc.dispose();
  emit(
    "lsp.edit_reanalysis_p95_ms",
    percentile(times, 95),
    "ms",
    20,
    "lower",
    `${lines.length}-line file, ${times.length} one-character edits (insert, then delete), edit + incremental reparse + index; ` +
      `p50 ${median(times).toFixed(2)} ms (CPU time p95 ${percentile(cpuTimes, 95).toFixed(2)} ms); ` +
      `parse + index from scratch: p50 ${median(fresh).toFixed(2)} ms`,
  );
}

async function main(): Promise<void> {
  const parser = await createElixirParser();
  await indexThroughput(parser);
  editReanalysis(parser);
  parser.delete();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
