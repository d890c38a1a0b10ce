/**
 * agent.ship_events_per_s: events/s from the agent's store (filled by the real hot path while
 * the collector is paused) through the real collector (drain in capture order, value
 * formatting, hand-written Arrow IPC) over loopback into the real RecordingSession (framing,
 * Arrow decode, ring buffer). Timed from the moment the program says the store is filled (a
 * line on its stdout, just before it resumes the collector) to the last EVENTS frame. (Timing
 * from the first EVENTS frame counted the fill too: the agent's own samples may come in a frame
 * before the collector is paused.) Baseline, same run: the
 * very same EVENTS frames replayed over a loopback socket into the same decode path (the
 * reader's ceiling), so the ratio says how much of the time is the agent's.
 *
 * A/B runs of two agent builds: AGENT_EBIN=<dir of .beam files> (default: dist/agent/ebin) and
 * RUNS=<n> (default 3), e.g. alternating two copies of dist/agent/ebin with RUNS=1.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { tableFromIPC } from "apache-arrow";
import { RecordingSession } from "../../extension/src/recorder/session";
import { encodeFrame, FrameDecoder } from "../../extension/src/recorder/frames";
import { FrameType } from "../../protocol/src/wire";
import { distDir } from "../../test/e2e/helpers";

const EVENTS = 400_000;
/** What ship_fill.exs prints once the store holds every event, before it resumes the collector. */
const FILLED = "ship_fill: store filled";
const RUNS = Math.max(1, Math.floor(Number(process.env.RUNS)) || 3);

// The recorded node's page faults (from /usr/bin/time where there is one): on small VMs a first
// touch of a page costs ~10-15 µs, which is much of the agent's time per event.
const timeDir = mkdtempSync(join(tmpdir(), "es-ship-"));
const timeFile = join(timeDir, "time.txt");
const timed = existsSync("/usr/bin/time") ? `/usr/bin/time -o ${timeFile} -f %R ` : "";

function faults(): number | undefined {
  if (!timed || !existsSync(timeFile)) return undefined;
  const n = Number(readFileSync(timeFile, "utf8").trim().split("\n").pop());
  return Number.isFinite(n) ? n : undefined;
}

async function shipped(): Promise<{ perS: number; frames: Uint8Array[]; events: number; faults?: number }> {
  const frames: Uint8Array[] = [];
  let t0 = 0;
  let last = 0;
  let output = "";
  const session = new RecordingSession({
    cwd: __dirname,
    command: `${timed}elixir ${join(__dirname, "ship_fill.exs")}`,
    modules: [],
    agentEbin: process.env.AGENT_EBIN ?? join(distDir, "agent/ebin"),
    skipCompile: true,
    ringCapBytes: 4 * 1024 * 1024 * 1024,
    env: { ...process.env, SHIP_EVENTS: String(EVENTS) },
    onOutput: (text) => {
      output += text;
      if (t0 === 0 && output.includes(FILLED)) t0 = performance.now();
    },
    onEvents: (payload) => {
      frames.push(payload);
      if (t0 > 0) last = performance.now();
    },
  });
  const r = await session.run();
  if (t0 === 0 || last === 0) throw new Error(t0 === 0 ? `the program never said "${FILLED}": ${output}` : `no EVENTS frame came after "${FILLED}"`);
  const seconds = (last - t0) / 1000;
  // Besides the filled events, the agent's own samples (memory, schedulers) may ride along.
  if (r.ring.keptEvents < EVENTS) throw new Error(`expected ${EVENTS} events, got ${r.ring.keptEvents} (${r.warnings.join("; ")})`);
  return { perS: r.ring.keptEvents / seconds, frames, events: r.ring.keptEvents, faults: faults() };
}

/** The same EVENTS frames over loopback into FrameDecoder + tableFromIPC. */
async function replayed(frames: Uint8Array[]): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  const done = new Promise<number>((resolve) => {
    server.on("connection", (socket) => {
      const decoder = new FrameDecoder();
      let rows = 0;
      const t0 = performance.now();
      socket.on("data", (chunk) => {
        for (const f of decoder.push(chunk)) for (const b of tableFromIPC(f.payload).batches) rows += b.numRows;
      });
      socket.on("close", () => resolve(rows / ((performance.now() - t0) / 1000)));
    });
  });
  const client = connect(port, "127.0.0.1");
  for (const f of frames) client.write(encodeFrame(FrameType.Events, f));
  client.end();
  const rate = await done;
  server.close();
  return rate;
}

async function main(): Promise<void> {
  const runs = [];
  for (let i = 0; i < RUNS; i++) runs.push(await shipped());
  const best = runs.sort((a, b) => b.perS - a.perS)[0];
  const ceiling = await replayed(best.frames);
  rmSync(timeDir, { recursive: true, force: true });
  const pf = best.faults === undefined ? "" : `; the recorded node took ${best.faults} page faults (filling the store included)`;
  console.log(
    JSON.stringify({
      name: "agent.ship_events_per_s",
      value: Math.round(best.perS),
      unit: "events/s",
      target: 1_000_000,
      better: "higher",
      baseline: `${EVENTS} events (GenServer-call-sized args and results, 2 processes), best of ${RUNS}; the same frames replayed into the same TypeScript reader: ${(ceiling / 1e6).toFixed(2)}M events/s, so the agent side takes ${((1 - best.perS / ceiling) * 100).toFixed(0)}% of the time${pf}`,
    }),
  );
}

void main();
