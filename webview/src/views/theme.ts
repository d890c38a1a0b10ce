/**
 * Colours for the canvas, read from the page's CSS variables (which follow the VS Code theme,
 * with fallbacks for the standalone page; see styles.ts) and re-read when VS Code switches
 * theme (it changes the body's class).
 */
export interface Theme {
  dark: boolean;
  background: string;
  foreground: string;
  muted: string;
  border: string;
  laneAlt: string;
  grid: string;
  accent: string;
  error: string;
  errorText: string;
  cursor: string;
  barText: string;
  overview: string;
  font: string;
  mono: string;
  /** Bar fills by module; never red, which means "raised". */
  palette: string[];
}

const DARK_PALETTE = ["#6b9be0", "#55b8a0", "#a58ad8", "#d9a25a", "#72b563", "#d886b4", "#63b6d2", "#bfae5c", "#8f98e6", "#cf9270"];
const LIGHT_PALETTE = ["#9dbdf0", "#8fd6c2", "#c8b5ee", "#f0c791", "#a6d898", "#f0b3d4", "#9ad4e8", "#e0d48f", "#bcc2f5", "#eab99e"];

export function readTheme(probe: HTMLElement): Theme {
  const read = (name: string): string => {
    probe.style.color = `var(${name})`;
    return getComputedStyle(probe).color;
  };
  const background = read("--es-bg");
  const dark = luminance(background) < 0.4;
  const style = getComputedStyle(probe);
  return {
    dark,
    background,
    foreground: read("--es-fg"),
    muted: read("--es-muted"),
    border: read("--es-border"),
    laneAlt: read("--es-lane-alt"),
    grid: read("--es-grid"),
    accent: read("--es-accent"),
    error: read("--es-error-bar"),
    errorText: "#ffffff",
    cursor: read("--es-cursor"),
    barText: dark ? "#15171c" : "#1b1d22",
    overview: read("--es-overview"),
    font: style.getPropertyValue("--es-font").trim() || "sans-serif",
    mono: style.getPropertyValue("--es-mono").trim() || "monospace",
    palette: dark ? DARK_PALETTE : LIGHT_PALETTE,
  };
}

/** Relative luminance of an `rgb(...)`/`rgba(...)` colour, 0..1. */
export function luminance(color: string): number {
  const m = /rgba?\(\s*([\d.]+)[,\s]+([\d.]+)[,\s]+([\d.]+)/.exec(color);
  if (!m) return 0;
  const [r, g, b] = [m[1], m[2], m[3]].map((v) => {
    const c = Number(v) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

/** Same colour, `amount` (−1..1) towards black or white, as [r, g, b]. */
export function shade(hex: string, amount: number): [number, number, number] {
  const n = parseInt(hex.slice(1), 16);
  const target = amount < 0 ? 0 : 255;
  const a = Math.abs(amount);
  const mix = (c: number) => Math.round(c + (target - c) * a);
  return [mix((n >> 16) & 255), mix((n >> 8) & 255), mix(n & 255)];
}
