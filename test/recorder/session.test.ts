import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tableFromIPC } from "apache-arrow";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RecordingSession, RecorderError } from "../../extension/src/recorder/session";
import { eventsStreamBytes, sampleEvents } from "./make-events";
import { decodeRecording, encodeRecording } from "../../extension/src/recorder/recording-file";

const fakeAgent = join(__dirname, "fake-agent.mjs");
const dir = mkdtempSync(join(tmpdir(), "es-session-"));
const eventsFile = join(dir, "events.arrow");
writeFileSync(eventsFile, eventsStreamBytes(sampleEvents()));

function session(mode: string, extra: Partial<ConstructorParameters<typeof RecordingSession>[0]> = {}) {
  return new RecordingSession({
    cwd: dir,
    command: `node ${fakeAgent}`,
    modules: [{ module: "Sample.Math", functions: null, reason: "test" }],
    agentEbin: dir,
    skipCompile: true,
    connectTimeoutMs: 20_000,
    env: { ...process.env, FAKE_AGENT_MODE: mode, FAKE_AGENT_EVENTS: eventsFile },
    ...extra,
  });
}

test("a good agent: plan sent, frames reassembled, events, stats and bye kept", async () => {
  const result = await session("good").run();
  assert.equal(result.ready?.instrumented[0].module, "Sample.Math");
  assert.equal(result.ring.events, 6, "two EVENTS frames of three events each");
  assert.deepEqual(result.stats, { events: 10, dropped: 2 });
  assert.equal(result.bye?.reason, "halt");
  assert.equal(result.header.node, "fake@host");
  assert.equal(result.header.dropped, 2);
  assert.deepEqual(result.warnings, []);
});

test("beyond the memory cap, batches spill to an Arrow stream in the storage and stay in the recording", async () => {
  const spill = join(dir, "spill-test.arrows");
  const result = await session("good", { ringCapBytes: 1, spillPath: spill }).run();
  assert.equal(result.ring.spilledEvents, 6, "both EVENTS frames spilled");
  assert.equal(result.ring.events, 0);
  assert.equal(result.ring.keptEvents, 6);
  assert.equal(tableFromIPC(readFileSync(spill)).numRows, 6, "the spill file is an Arrow IPC stream");
  const reopened = decodeRecording(encodeRecording(result.ring.all(), result.header));
  // (The stand-in agent sends the same three events twice: in seq order they interleave.)
  const expected = [...sampleEvents(), ...sampleEvents()].map((e) => e.seq).sort((a, b) => a - b);
  assert.deepEqual([...reopened.table.getChild("seq")!].map(Number), expected);
  result.ring.dispose();
});

test("a malformed batch is reported and the batches around it are kept", async () => {
  const result = await session("malformed-batch").run();
  assert.equal(result.ring.events, 6);
  assert.equal(result.warnings.length, 1);
  assert.match(result.warnings[0], /malformed Events frame/);
});

test("an agent that crashes mid-recording keeps what was received, says so, and the recording opens", async () => {
  const result = await session("crash").run();
  assert.ok(result.ring.events >= 3, `kept ${result.ring.events} events`);
  assert.equal(result.bye, undefined);
  assert.ok(
    result.warnings.some((w) => /node ended \(exit code 3\) without the agent's goodbye: what was received is kept/.test(w)),
    result.warnings.join("; "),
  );
  const reopened = decodeRecording(encodeRecording(result.ring.all(), result.header));
  assert.equal(reopened.table.numRows, result.ring.keptEvents);
});

test("a wrong secret is refused before anything else is read", async () => {
  await assert.rejects(session("wrong-secret").run(), (e: Error) => {
    assert.ok(e instanceof RecorderError);
    assert.match(e.message, /exited .* before the ElixirScope agent connected/);
    assert.match(e.message, /An agent connected with a wrong secret and was refused/);
    return true;
  });
});

test("an agent of another event schema is refused with an error naming both versions; the program is ended", async () => {
  const started = Date.now();
  const s = session("good", { env: { ...process.env, FAKE_AGENT_MODE: "good", FAKE_AGENT_EVENTS: eventsFile, FAKE_AGENT_SCHEMA: "1" } });
  await assert.rejects(s.run(), (e: Error) => {
    assert.ok(e instanceof RecorderError);
    assert.match(e.message, /fake@host .*speaks protocol 1, event schema 1; this ElixirScope reads protocol 1, schema 3\./);
    assert.match(e.message, /another ElixirScope version/);
    return true;
  });
  assert.ok(Date.now() - started < 15_000, "refused at once, not after the connect timeout");
});

test("events before HELLO are refused", async () => {
  const warnings: string[] = [];
  await assert.rejects(session("no-hello", { onLog: (l) => warnings.push(l.message) }).run(), RecorderError);
  assert.match(warnings.join("\n"), /first frame was Events, expected Hello/);
});

test("an oversized frame before authentication is a protocol error", async () => {
  const warnings: string[] = [];
  await assert.rejects(session("huge-hello", { onLog: (l) => warnings.push(l.message) }).run(), RecorderError);
  assert.match(warnings.join("\n"), /outside 1\.\.65536/);
});

test("an agent that never connects times out with a clear message", async () => {
  const s = new RecordingSession({
    cwd: dir,
    command: "node -e \"process.stdin.resume(); setInterval(() => {}, 1000)\"",
    modules: [],
    agentEbin: dir,
    skipCompile: true,
    connectTimeoutMs: 500,
  });
  await assert.rejects(s.run(), /did not connect within 0.5 s/);
});

test("a missing Elixir install is a clear error", async () => {
  const s = new RecordingSession({
    cwd: dir,
    command: "mix test",
    modules: [],
    agentEbin: dir,
    env: { ...process.env, PATH: dir },
  });
  await assert.rejects(s.run(), /Elixir not found on PATH.*elixirScope.elixirBinDir/);
});

test("a fixed port that is taken is a clear error naming the setting", async () => {
  const { createServer } = await import("node:net");
  const taken = createServer();
  await new Promise<void>((r) => taken.listen(0, "127.0.0.1", r));
  const port = (taken.address() as { port: number }).port;
  try {
    await assert.rejects(session("good", { port }).run(), (e: Error) => {
      assert.ok(e instanceof RecorderError);
      assert.match(e.message, new RegExp(`Port ${port} on 127.0.0.1 is already in use.*elixirScope.port`));
      return true;
    });
  } finally {
    taken.close();
  }
});

test("a fixed free port is used", async () => {
  const { createServer } = await import("node:net");
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, "127.0.0.1", r));
  const port = (probe.address() as { port: number }).port;
  await new Promise<void>((r) => probe.close(() => r()));
  const result = await session("good", { port }).run();
  assert.equal(result.ring.events, 6);
});
