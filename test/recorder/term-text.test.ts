/**
 * term-text.ts against the real thing: a BEAM (test/recorder/term-text-cases.exs) writes terms
 * as term_to_binary bytes together with ElixirScope.Agent.Value.format/2's text for several
 * option sets, and every one must come out of formatTerm byte for byte the same.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { formatTerm, TermTextError, type TermTextOptions } from "../../protocol/src/term-text";
import { distDir } from "../e2e/helpers";

interface Case {
  label: string;
  etf: Uint8Array;
  texts: string[];
}

let generated: { opts: TermTextOptions[]; cases: Case[] } | undefined;

function generateCases(): { opts: TermTextOptions[]; cases: Case[] } {
  generated ??= runCasesScript();
  return generated;
}

function runCasesScript(): { opts: TermTextOptions[]; cases: Case[] } {
  const ebin = join(distDir, "agent/ebin");
  assert.ok(existsSync(join(ebin, "Elixir.ElixirScope.Agent.Value.beam")), `no agent in ${ebin}: run node scripts/build.mjs agent`);
  const dir = mkdtempSync(join(tmpdir(), "es-term-text-"));
  try {
    const file = join(dir, "cases.bin");
    const r = spawnSync("elixir", ["-pa", ebin, join(__dirname, "term-text-cases.exs"), file], { encoding: "utf8" });
    assert.equal(r.status, 0, `term-text-cases.exs failed: ${r.error ?? ""}${r.stderr}`);
    return parseCases(readFileSync(file));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function parseCases(buf: Buffer): { opts: TermTextOptions[]; cases: Case[] } {
  assert.equal(buf.toString("latin1", 0, 4), "TTC1");
  const optCount = buf[4];
  let p = 5;
  const opts: TermTextOptions[] = [];
  for (let i = 0; i < optCount; i++, p += 12) {
    opts.push({ maxChars: buf.readUInt32BE(p), maxItems: buf.readUInt32BE(p + 4), maxDepth: buf.readUInt32BE(p + 8) });
  }
  const sized = (): Buffer => {
    const n = buf.readUInt32BE(p);
    const b = buf.subarray(p + 4, p + 4 + n);
    p += 4 + n;
    return b;
  };
  const cases: Case[] = [];
  while (p < buf.length) {
    const label = sized().toString("utf8");
    const etf = new Uint8Array(sized());
    const texts = opts.map(() => sized().toString("utf8"));
    cases.push({ label, etf, texts });
  }
  return { opts, cases };
}

const show = (s: string) => JSON.stringify(s);

test("formatTerm prints every generated term exactly as Value.format/2 does on the BEAM", (t) => {
  const { opts, cases } = generateCases();
  assert.ok(cases.length > 40000, `only ${cases.length} cases`);
  const failures: string[] = [];
  let failed = 0;
  for (const c of cases) {
    // The first option set a term fails with, so that the report shows different terms.
    const i = opts.findIndex((o, j) => attempt(c.etf, o) !== c.texts[j]);
    if (i < 0) continue;
    if (++failed <= 12) {
      const o = opts[i];
      failures.push(
        `${c.label}\n  opts ${JSON.stringify(o)}\n  expected ${show(c.texts[i])}\n  actual   ${show(attempt(c.etf, o))}` +
          `\n  bytes    ${Array.from(c.etf.subarray(0, 48)).join(",")}`,
      );
    }
  }
  t.diagnostic(`${cases.length} terms × ${opts.length} option sets`);
  assert.equal(failed, 0, `${failed} of ${cases.length} terms print differently; the first:\n${failures.join("\n")}`);
});

function attempt(etf: Uint8Array, o: TermTextOptions): string {
  try {
    return formatTerm(etf, o);
  } catch (e) {
    return `<threw ${(e as Error).message}>`;
  }
}

test("formatTerm reads a term in the middle of a larger buffer", () => {
  const term = [131, 104, 2, 119, 2, 111, 107, 97, 7]; // {:ok, 7}
  const buf = new Uint8Array([1, 2, 3, ...term, 9, 9]);
  assert.equal(formatTerm(buf, { maxChars: 400, maxItems: 25, maxDepth: 6 }, 3, term.length), "{:ok, 7}");
});

const opts: TermTextOptions = { maxChars: 400, maxItems: 25, maxDepth: 6 };
const throws: [string, number[], RegExp][] = [
  ["an empty buffer", [], /not an external term/],
  ["a missing version byte", [104, 0], /first byte is 104, expected 131/],
  ["a compressed term", [131, 80, 0, 0, 0, 9, 120, 156], /compressed term/],
  ["a fun", [131, 112, 0, 0, 0, 80], /fun/],
  ["a bitstring", [131, 77, 0, 0, 0, 1, 3, 32], /bitstring/],
  ["a struct", [131, 116, 0, 0, 0, 1, 119, 10, ...Buffer.from("__struct__"), 119, 3, 70, 111, 111], /struct/],
  ["an unknown tag", [131, 200], /unknown external term tag 200/],
  ["a truncated integer", [131, 98, 0, 0], /ends early/],
  ["a truncated binary", [131, 109, 0, 0, 0, 9, 97], /runs past the end/],
  ["a list claiming 4 billion elements", [131, 108, 255, 255, 255, 255, 97, 1, 106], /ends early|past the end/],
  ["a map claiming more pairs than bytes", [131, 116, 0, 1, 0, 0, 97, 1, 97, 2], /ends early|past the end/],
  ["a tuple claiming more elements than bytes", [131, 105, 255, 255, 255, 255, 106], /ends early|past the end/],
  ["stray bytes after the term", [131, 97, 1, 97], /stray bytes/],
  ["an atom that is not UTF-8", [131, 119, 2, 0xc3, 0x28], /not valid UTF-8/],
  ["a pid whose node is not an atom", [131, 88, 97, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0], /node name is not an atom/],
  ["an infinite float", [131, 70, 0x7f, 0xf0, 0, 0, 0, 0, 0, 0], /not finite/],
  ["a big integer past the end", [131, 111, 0, 0, 1, 0, 0, 1], /past the end/],
  ["a list element past the end", [131, 108, 0, 0, 0, 2, 97, 1], /ends early/],
];

for (const [name, bytes, message] of throws) {
  test(`formatTerm throws a TermTextError on ${name}`, () => {
    assert.throws(() => formatTerm(new Uint8Array(bytes), opts), (e: unknown) => e instanceof TermTextError && message.test(e.message));
  });
}

test("formatTerm throws on a term cut short at every length, and never hangs", () => {
  // [{:deposit, "alice", 17}, %{"a" => [1.5, 2 ** 70]}, 'ab' | :t], as term_to_binary writes it
  // prettier-ignore
  const full = [
    131, 108, 0, 0, 0, 3, 104, 3, 119, 7, ...Buffer.from("deposit"), 109, 0, 0, 0, 5, ...Buffer.from("alice"), 97, 17,
    116, 0, 0, 0, 1, 109, 0, 0, 0, 1, 97, 108, 0, 0, 0, 2, 70, 63, 248, 0, 0, 0, 0, 0, 0,
    110, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 64, 106, 107, 0, 2, 97, 98, 119, 1, 116,
  ];
  assert.equal(formatTerm(new Uint8Array(full), opts), '[{:deposit, "alice", 17}, %{"a" => [1.5, 1180591620717411303424]}, \'ab\' | :t]');
  for (let n = 0; n < full.length; n++) {
    assert.throws(() => formatTerm(new Uint8Array(full.slice(0, n)), opts), TermTextError, `cut at ${n}`);
  }
});

test("formatTerm on corrupted bytes returns a text or throws a TermTextError, nothing else", () => {
  const { cases } = generateCases();
  let seed = 12345;
  const random = (n: number) => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) % n);
  let threw = 0, printed = 0;
  for (let k = 0; k < 20000; k++) {
    const etf = cases[random(cases.length)].etf.slice();
    for (let flips = 1 + random(3); flips > 0; flips--) etf[1 + random(etf.length - 1)] = random(256);
    try {
      assert.equal(typeof formatTerm(etf, opts), "string");
      printed++;
    } catch (e) {
      if (!(e instanceof TermTextError)) throw new Error(`${String(e)} on ${Array.from(etf).join(",")}`);
      threw++;
    }
  }
  assert.ok(threw > 1000 && printed > 1000, `threw ${threw}, printed ${printed}`);
});
