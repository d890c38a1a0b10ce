import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { RecordingSession } from "../../extension/src/recorder/session";
import { planWorkspace } from "../../server/src/analysis/plan";
import { distDir, freshFixture } from "../../test/e2e/helpers";
async function main() {
  const app = freshFixture("inventory_app");
  const env = { ...process.env, MIX_ENV: "test" };
  spawnSync("mix", ["compile"], { cwd: app, env });
  const { modules } = await planWorkspace(app, { wasmDir: distDir });
  for (let i = 0; i < 3; i++) {
    let t = performance.now(); spawnSync("mix", ["test", "--seed", "0"], { cwd: app, env }); const plain = performance.now() - t;
    t = performance.now();
    const marks: string[] = []; let first = 0; let frames = 0;
    const r = await new RecordingSession({ cwd: app, command: "mix test --seed 0", modules, agentEbin: join(distDir, "agent/ebin"), skipCompile: true, env,
      onPhase: (p) => marks.push(`${p}@${(performance.now() - t).toFixed(0)}`),
      onOutput: (o: string) => { if (String(o).includes('Finished in')) marks.push(`finished@${(performance.now() - t).toFixed(0)}`); }, onEvents: () => { frames++; if (!first) first = performance.now() - t; },
    } as any).run();
    console.log(`plain ${plain.toFixed(0)} recorded ${(performance.now() - t).toFixed(0)} first-events@${first.toFixed(0)} frames ${frames} ${marks.join(" ")} events ${r.ring.keptEvents}`);
  }
}
void main();
