/**
 * The event schema tested from both ends: the BEAM agent's hand-written Arrow encoder writes an
 * EVENTS payload for known events (beam_agent/test_fixtures/emit_events.exs), apache-arrow reads
 * it, and every column's name, type and values must match protocol/src/events.ts `COLUMNS` and
 * what the agent meant to write.
 */
import { before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { tableFromIPC, Type, type Table } from "apache-arrow";
import { COLUMNS, EventKind, type ColumnType } from "../protocol/src/events";

let table: Table;
let expected: { columns: string[]; rows: (string | number)[][] };

before(() => {
  const dir = mkdtempSync(join(tmpdir(), "es-agent-arrow-"));
  const arrow = join(dir, "events.arrow");
  const json = join(dir, "expected.json");
  execFileSync("mix", ["run", "test_fixtures/emit_events.exs", arrow, json], {
    cwd: join(__dirname, "../beam_agent"),
    stdio: ["ignore", "inherit", "inherit"],
    env: { ...process.env, MIX_ENV: "dev" },
  });
  table = tableFromIPC(readFileSync(arrow));
  expected = JSON.parse(readFileSync(json, "utf8"));
});

const typeOf: Record<ColumnType, { typeId: Type; bitWidth?: number }> = {
  int64: { typeId: Type.Int, bitWidth: 64 },
  int32: { typeId: Type.Int, bitWidth: 32 },
  int8: { typeId: Type.Int, bitWidth: 8 },
  utf8: { typeId: Type.Utf8 },
};

test("the schema is COLUMNS: names, order, types, non-nullable", () => {
  assert.deepEqual(
    table.schema.fields.map((f) => f.name),
    COLUMNS.map((c) => c.name),
  );
  assert.deepEqual(expected.columns, COLUMNS.map((c) => c.name));
  COLUMNS.forEach((c, i) => {
    const field = table.schema.fields[i];
    const want = typeOf[c.type];
    assert.equal(field.type.typeId, want.typeId, `${c.name} type`);
    if (want.bitWidth) {
      assert.equal((field.type as { bitWidth: number }).bitWidth, want.bitWidth, `${c.name} width`);
      assert.equal((field.type as { isSigned: boolean }).isSigned, true, `${c.name} signed`);
    }
    assert.equal(field.nullable, false, `${c.name} nullable`);
  });
});

test("several record batches, all rows present", () => {
  assert.ok(table.batches.length > 1, "the payload was written in batches of 3 rows");
  assert.equal(table.numRows, expected.rows.length);
});

test("every cell reads back as the agent wrote it", () => {
  COLUMNS.forEach((c, j) => {
    const column = table.getChild(c.name)!;
    for (let i = 0; i < table.numRows; i++) {
      const got = column.get(i);
      const want = expected.rows[i][j];
      if (c.type === "int64") assert.equal(got, BigInt(want), `${c.name}[${i}]`);
      else if (c.type === "utf8") assert.equal(got, want, `${c.name}[${i}]`);
      else assert.equal(got, Number(want), `${c.name}[${i}]`);
    }
  });
});

test("known events: rebased ids and times, Elixir-formatted text, visible truncation", () => {
  const row = (i: number) => table.get(i)!.toJSON() as Record<string, unknown>;
  assert.deepEqual(row(0), {
    // Row seqs are capture order × 64, leaving room for a CALL's BINDING rows right after it.
    seq: 64n,
    ts: 10n,
    kind: EventKind.Call,
    pid: "#PID<0.123.0>",
    module: "Sample.Ledger",
    function: "deposit",
    arity: 3,
    call_id: 64n,
    parent_id: 0n,
    file: "/work/app/lib/sample/ledger.ex",
    line: 17,
    name: "",
    value: '[#PID<0.123.0>, "alice", 100]',
  });
  assert.equal(row(1).kind, EventKind.Binding);
  assert.equal(row(1).name, "ledger");
  assert.equal(row(1).seq, 65n);
  assert.equal(row(1).call_id, 64n);
  assert.equal(row(1).value, "#PID<0.123.0>");
  assert.equal(row(2).name, "amount");
  assert.equal(row(2).seq, 66n);
  assert.equal(row(2).value, "100");
  assert.equal(row(3).module, ":lists");
  assert.equal(row(3).parent_id, 64n);
  assert.equal(row(3).value, "[[1, 2, 3, 4, 5, ...]]…");
  assert.equal(row(4).value, "%{deep: %{deeper: %{deepest: …");
  assert.equal(row(5).kind, EventKind.Exception);
  assert.equal(row(5).value, "** (RuntimeError) boom");
  assert.equal(row(6).seq, 9_007_199_254_740_993n * 64n);
  // Aliases are ASCII in Elixir, so inspect prints this module as a quoted atom.
  assert.equal(row(6).module, ':"Elixir.Sample.Ünïcode"');
  assert.equal(row(6).function, "résumé");
  assert.equal(row(6).line, 2_147_483_647);
  assert.equal(row(6).value, '["é…", :"quoted atom"]');
  assert.equal(row(7).value, `"${"x".repeat(28)}…`);
  assert.equal((row(7).value as string).length, 30);
});
