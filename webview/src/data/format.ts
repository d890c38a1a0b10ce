/** Text formats shared by the views: durations, clock positions, counts, paths. Pure. */

const UNITS: [number, string][] = [
  [1e9, "s"],
  [1e6, "ms"],
  [1e3, "µs"],
  [1, "ns"],
];

/** A duration in ns as people read it: "840 ns", "12.5 µs", "1.25 ms", "3.02 s". */
export function formatDuration(ns: number): string {
  if (!Number.isFinite(ns)) return "–";
  const abs = Math.abs(ns);
  for (const [scale, unit] of UNITS) {
    if (abs >= scale || scale === 1) {
      const v = ns / scale;
      const digits = Math.abs(v) >= 100 || scale === 1 ? 0 : Math.abs(v) >= 10 ? 1 : 2;
      return `${v.toFixed(digits)} ${unit}`;
    }
  }
  return `${ns} ns`;
}

/**
 * A position on the time axis, with as many decimals as the tick `step` needs, in the unit of
 * the step ("1.250 ms", "12 µs").
 */
export function formatTick(ns: number, step: number): string {
  const [scale, unit] = UNITS.find(([s]) => step >= s) ?? UNITS[UNITS.length - 1];
  const decimals = Math.max(0, Math.min(3, Math.ceil(-Math.log10(step / scale) - 1e-9)));
  return `${(ns / scale).toFixed(decimals)} ${unit}`;
}

export function formatCount(n: number): string {
  return n.toLocaleString("en-US");
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${formatCount(n)} ${n === 1 ? one : many}`;
}

/** The last `keep` segments of a path: "lib/sample/ledger.ex". */
export function shortPath(file: string, keep = 3): string {
  const parts = file.split(/[\\/]/).filter(Boolean);
  return parts.length <= keep ? file : parts.slice(-keep).join("/");
}
