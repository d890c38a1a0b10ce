/** Text formats of the webview (webview/src/data/format.ts). */
import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import { formatDuration, formatTick, plural, shortPath } from "../../webview/src/data/format";

describe("formats", () => {
  it("durations", () => {
    const check = (ns: number, expected: string) => assert.equal(formatDuration(ns), expected, String(ns));
    check(0, "0 ns");
    check(840, "840 ns");
    check(12_500, "12.5 µs");
    check(1_250_000, "1.25 ms");
    check(152_000, "152 µs");
    check(3_020_000_000, "3.02 s");
    check(NaN, "–");
  });

  it("axis ticks: unit of the largest position, decimals of the step", () => {
    const check = (ns: number, step: number, magnitude: number, expected: string) => assert.equal(formatTick(ns, step, magnitude), expected);
    check(0, 100_000, 650_000, "0 µs");
    check(250_000, 50_000, 650_000, "250 µs");
    check(1_250_000, 250_000, 2_000_000, "1.25 ms");
    check(2_579_500_000, 500_000, 2_581_000_000, "2.5795 s");
    check(2_000_000_000, 1_000_000_000, 5_000_000_000, "2 s");
    check(500, 100, 900, "500 ns");
  });

  it("counts and paths", () => {
    assert.equal(plural(1, "call"), "1 call");
    assert.equal(plural(12345, "event"), "12,345 events");
    assert.equal(shortPath("/home/dev/app/lib/sample/ledger.ex"), "lib/sample/ledger.ex");
    assert.equal(shortPath("ledger.ex"), "ledger.ex");
    assert.equal(shortPath("C:\\\\work\\\\app\\\\lib\\\\x.ex", 2), "lib/x.ex");
  });
});
