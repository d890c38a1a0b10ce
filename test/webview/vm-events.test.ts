/**
 * Process events (spawn, send, receive, exit…), GenServer state rows and metric samples (event
 * kinds 6–17) in the readers of a recording: the webview's model and the extension's recording
 * index. They must not count as calls, must not disturb call pairing or stacking, and stepping
 * and scrubbing skip samples.
 */
import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import { EventKind } from "../../protocol/src/events";
import { CallFlag, RecordingModel } from "../../webview/src/data/model";
import { RecordingIndex } from "../../extension/src/recorder/recording-index";
import { eventTable, recordingBytes } from "./recording-builder";
import { CLIENT, counterScript, FILE, SERVER } from "./vm-recording";

describe("process events and samples in the webview model", () => {
  for (const batchSize of [3, 10_000]) {
    const { s, spawnSeq, sendSeq, recvSeq, untraced, exitSeq } = counterScript();
    const model = RecordingModel.fromIPC(recordingBytes(s.rows, { batchSize }));
    const row = (seq: number) => model.rowOfSeq(seq);
    const label = `(batches of ${batchSize})`;

    it(`counts only Call rows as calls and gives samples no lane ${label}`, () => {
      assert.deepEqual(model.summary(), {
        events: s.rows.length,
        processes: 2,
        calls: s.rows.filter((r) => r.kind === EventKind.Call).length,
        exceptions: 0,
        bindings: 1,
        dropped: 0,
      });
      assert.deepEqual(
        model.lanes.map((l) => l.pid),
        [CLIENT, SERVER],
      );
      assert.equal(model.sampleRows.length, 3);
      const samples = [...model.sampleRows.toArray()];
      assert.deepEqual(
        samples.map((r) => [model.pidOf(r), model.nameOf(r), model.valueOf(r)]),
        [
          ["", "memory", "30000000"],
          [CLIENT, "mailbox", "0"],
          ["", "memory", "31000000"],
        ],
      );
      assert.ok(samples.every((r) => model.pid[r] === -1 && model.callOf[r] === -1));
    });

    it(`keeps call pairing and stacking: process events belong to no call ${label}`, () => {
      const c = (fn: string) => {
        for (let k = 0; k < model.callCount; k++) if (model.functionOf(model.callRow[k]) === fn) return k;
        throw new Error(fn);
      };
      for (const fn of ["run", "init", "handle_cast"]) {
        const k = c(fn);
        assert.equal(model.callFlags[k], CallFlag.Returned, fn);
        assert.equal(model.kind[model.callEndRow[k]], EventKind.Return, fn);
        assert.equal(model.callDepth[k], 0, fn);
      }
      assert.deepEqual(model.bindingsOf(c("handle_cast")).map((r) => model.nameOf(r)), ["n"]);
      for (const seq of [spawnSeq, sendSeq, recvSeq, untraced, exitSeq]) {
        assert.equal(model.callOf[row(seq)], -1);
      }
      assert.deepEqual(
        [...model.processEventRows.toArray()].map((r) => model.seq[r]),
        [spawnSeq, sendSeq, recvSeq, untraced, exitSeq],
      );
      assert.equal(model.pidOf(row(exitSeq)), SERVER);
      assert.equal(model.lanes[1].events, s.rows.filter((r) => r.pid === SERVER).length);
    });

    it(`finds the recorded call a process event was made in ${label}`, () => {
      const run = model.enclosingCall(row(spawnSeq));
      assert.ok(run >= 0);
      assert.equal(model.functionOf(model.callRow[run]), "run");
      assert.equal(model.enclosingCall(row(sendSeq)), run);
      // The server's receives and its exit happen between callbacks: in no recorded call.
      for (const seq of [recvSeq, untraced, exitSeq]) assert.equal(model.enclosingCall(row(seq)), -1);
      assert.equal(model.enclosingCall(model.sampleRows.at(0)), -1);
      assert.equal(model.enclosingCall(-1), -1);
    });

    it(`pairs each receive with its send ${label}`, () => {
      assert.equal(model.receiveOf(row(sendSeq)), row(recvSeq));
      assert.equal(model.sendOf(row(recvSeq)), row(sendSeq));
      assert.equal(model.sendOf(row(untraced)), -1);
      assert.equal(model.receiveOf(row(spawnSeq)), -1);
    });

    it(`finds a GenServer callback's state before and after ${label}`, () => {
      const init = model.callOf[model.stateRows.at(0)];
      assert.equal(model.functionOf(model.callRow[init]), "init");
      assert.deepEqual(model.statesOf(init).map((r) => (r < 0 ? null : model.valueOf(r))), [null, "%{n: 0}"]);
      const cast = model.callOf[model.stateRows.at(1)];
      assert.deepEqual(
        model.statesOf(cast).map((r) => model.valueOf(r)),
        ["%{n: 0}", "%{n: 1}"],
      );
      assert.deepEqual(model.statesOf(model.callOf[model.rowOfSeq(spawnSeq)] ?? -1), [-1, -1]);
    });

    it(`describes process events for the status line ${label}`, () => {
      assert.equal(model.describe(row(spawnSeq)), `spawned ${SERVER} running Counter.init/1`);
      assert.equal(model.describe(row(recvSeq)), `received from ${CLIENT}: {:"$gen_cast", {:add, 1}}`);
      assert.equal(model.describe(row(exitSeq)), "exited: :boom");
      assert.equal(model.describe(model.sampleRows.at(1)), `${CLIENT} mailbox = 0`);
    });

    it(`steps and scrubs past samples ${label}`, () => {
      const sampleRow = model.sampleRows.at(1);
      assert.equal(model.stepRow(sampleRow - 1, 1), sampleRow + 1);
      assert.equal(model.stepRow(sampleRow + 1, -1), sampleRow - 1);
      assert.equal(model.eventRowNear(sampleRow), sampleRow - 1);
      // The first row is a sample: nothing before it, the next event after it.
      assert.equal(model.eventRowNear(0), 1);
      assert.equal(model.stepRow(5, -1000), 1);
    });
  }
});

describe("process events and samples in the extension's recording index", () => {
  const { s, sendSeq, recvSeq } = counterScript();
  const index = RecordingIndex.fromTable(eventTable(s.rows, { batchSize: 4 }));

  it("counts calls and durations as before", () => {
    const stats = index.functionStats(FILE);
    assert.deepEqual(
      stats.map((f) => [f.function, f.calls, f.durations.length]),
      [
        ["init", 1, 1],
        ["handle_cast", 1, 1],
      ],
    );
    assert.deepEqual([...(index.callsByLine.get(FILE) ?? new Map())], [
      [8, 1],
      [12, 1],
    ]);
    assert.equal(index.history(FILE, "n").length, 1);
  });

  it("steps from call event to call event of the process, over process events", () => {
    const recv = index.eventAt(recvSeq)!;
    assert.equal(recv.kind, EventKind.Receive);
    const next = index.step(recv, 1)!;
    assert.equal(next.kind, EventKind.Call);
    assert.equal(next.function, "handle_cast");
    const back = index.step(next, -1)!;
    assert.equal(back.kind, EventKind.Return);
    assert.equal(back.function, "init");
    const send = index.eventAt(sendSeq)!;
    assert.equal(index.step(send, 1)!.kind, EventKind.Return);
  });

  it("a cursor on a sample lands on the event before it", () => {
    const sample = s.rows.find((r) => r.kind === EventKind.Sample && r.pid === CLIENT)!;
    const at = index.eventAt(sample.seq)!;
    assert.equal(at.seq, sample.seq - 1);
    assert.equal(at.kind, EventKind.Send);
    assert.equal(index.eventAt(1), undefined, "only a sample before the first event");
  });
});
