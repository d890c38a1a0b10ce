/** Shared by the end-to-end tests: a fresh copy of the sample app and rows out of Arrow. */
import { cpSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { RecordBatch, Table } from "apache-arrow";
import { COLUMNS, HEADER_METADATA_KEY, type EventRow } from "../../protocol/src/events";
import { ValueColumn } from "../../extension/src/recorder/columns";
import { DEFAULT_VALUE_BOUNDS, parseValueBounds, type ValueBounds } from "../../protocol/src/values";

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

/** Every event as a plain row, values printed (with the recording's bounds, or `bounds`). */
export function rows(source: Table | readonly RecordBatch[], bounds?: ValueBounds): Row[] {
  const batches = "batches" in source ? source.batches : source;
  const header = "batches" in source ? source.schema.metadata.get(HEADER_METADATA_KEY) : undefined;
  const printWith = bounds ?? parseValueBounds(header ? JSON.parse(header).values : undefined) ?? DEFAULT_VALUE_BOUNDS;
  const out: Row[] = [];
  for (const b of batches) {
    const cols = COLUMNS.map((c) => b.getChild(c.name)!);
    const values = new ValueColumn(b.getChild("value")!, printWith);
    for (let i = 0; i < b.numRows; i++) {
      const r: Record<string, unknown> = {};
      COLUMNS.forEach((c, j) => {
        const v = c.name === "value" ? values.get(i) : cols[j].get(i);
        r[c.name] = typeof v === "bigint" ? Number(v) : v;
      });
      out.push(r as unknown as Row);
    }
  }
  return out;
}
