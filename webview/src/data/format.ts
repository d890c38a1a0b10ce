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
 * A position on the time axis, in the unit that suits the largest position shown
 * (`magnitude`) and with as many decimals as the tick `step` needs: "250 µs", "1.250 ms",
 * "2.5795 s".
 */
export function formatTick(ns: number, step: number, magnitude = Math.abs(ns)): string {
  const [scale, unit] = UNITS.find(([s]) => magnitude >= s) ?? UNITS[UNITS.length - 1];
  // Enough decimals to tell neighbouring ticks apart: those of the step itself.
  const q = step / scale;
  let decimals = 0;
  while (decimals < 6 && Math.abs(q * 10 ** decimals - Math.round(q * 10 ** decimals)) > 1e-6 * 10 ** decimals) decimals++;
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
