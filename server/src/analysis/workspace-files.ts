/**
 * The `.ex` files of a workspace that make up the program: what `mix compile` would build,
 * not dependencies, build output or test support code.
 */
import { readdir } from "node:fs/promises";
import { join } from "node:path";

/** Directory names never searched, at any depth. */
const SKIPPED_DIRS = new Set(["deps", "_build", "node_modules", "cover", "doc"]);

/**
 * Absolute paths of the program's `.ex` files under `root`, sorted. Skips hidden directories,
 * `deps/`, `_build/`, and the `test/` directory of every Mix project (root or umbrella app),
 * where `test/support/*.ex` helpers live. Symbolic links are not followed.
 */
export async function programSourceFiles(root: string): Promise<string[]> {
  const out: string[] = [];
  await walk(root, out);
  return out.sort();
}

async function walk(dir: string, out: string[]): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true });
  const isMixProject = entries.some((e) => e.isFile() && e.name === "mix.exs");
  const subdirs: Promise<void>[] = [];
  for (const e of entries) {
    if (e.isDirectory()) {
      if (e.name.startsWith(".") || SKIPPED_DIRS.has(e.name)) continue;
      if (isMixProject && e.name === "test") continue;
      subdirs.push(walk(join(dir, e.name), out));
    } else if (e.isFile() && e.name.endsWith(".ex")) {
      out.push(join(dir, e.name));
    }
  }
  await Promise.all(subdirs);
}
