/** Helpers of the agent benchmarks. */
import { spawnSync } from "node:child_process";
import { planWorkspace } from "../../server/src/analysis/plan";
import { distDir, freshFixture } from "../../test/e2e/helpers";

/** The middle value (the upper one of an even count). */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** A fresh copy of test/fixtures/NAME, compiled for MIX_ENV=test, with its recording plan. */
export async function compiledFixture(name: string): Promise<{ app: string; env: NodeJS.ProcessEnv; modules: Awaited<ReturnType<typeof planWorkspace>>["modules"] }> {
  const app = freshFixture(name);
  const env = { ...process.env, MIX_ENV: "test" };
  const compiled = spawnSync("mix", ["compile"], { cwd: app, env, encoding: "utf8" });
  if (compiled.status !== 0) throw new Error(`mix compile failed: ${compiled.stderr}`);
  const { modules } = await planWorkspace(app, { wasmDir: distDir });
  return { app, env, modules };
}
