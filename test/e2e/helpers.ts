/** Shared by the end-to-end tests: a fresh copy of the sample app and rows out of Arrow. */
import { cpSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { RecordBatch, Table } from "apache-arrow";
import { COLUMNS, type EventRow } from "../../protocol/src/events";

export const repoRoot = join(__dirname, "../..");
export const distDir = join(repoRoot, "dist");

/** Copies test/fixtures/sample_app to a temporary folder (without _build) and returns it. */
export function freshSampleApp(): string {
  return freshFixture("sample_app");
}

/** Copies test/fixtures/NAME to a temporary folder (without _build) and returns it. */
export function freshFixture(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), "es-e2e-"));
  const app = join(dir, name);
  cpSync(join(repoRoot, "test/fixtures", name), app, {
    recursive: true,
    filter: (src) => !/[/\\](_build|deps)([/\\]|$)/.test(src),
  });
  return app;
}

export type Row = EventRow;

export function rows(source: Table | readonly RecordBatch[]): Row[] {
  const batches = "batches" in source ? source.batches : source;
  const out: Row[] = [];
  for (const b of batches) {
    const cols = COLUMNS.map((c) => b.getChild(c.name)!);
    for (let i = 0; i < b.numRows; i++) {
      const r: Record<string, unknown> = {};
      COLUMNS.forEach((c, j) => {
        const v = cols[j].get(i);
        r[c.name] = typeof v === "bigint" ? Number(v) : v;
      });
      out.push(r as unknown as Row);
    }
  }
  return out;
}
