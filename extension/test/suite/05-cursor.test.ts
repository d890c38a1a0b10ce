import * as assert from "node:assert/strict";
import * as vscode from "vscode";
import type { Recording } from "../../src/recording-controller";
import { currentRecording, extensionApi, workspaceFile } from "./helpers";

suite("editor follows the scrub cursor", () => {
  let recording: Recording;
  suiteSetup(async () => {
    recording = await currentRecording();
  });

  /** seq of the CALL of factorial with this argument list. */
  function callSeq(args: string): number {
    const math = workspaceFile("lib/sample/math.ex").fsPath;
    const n = recording.index.history(math, "n", { module: "Sample.Math", function: "factorial" }).find((b) => `[${b.value}]` === args);
    assert.ok(n, `no recorded factorial${args}`);
    // The call precedes its bindings: one step back from the binding is the CALL event.
    const call = recording.index.step(recording.index.eventAt(n.seq)!, -1)!;
    assert.equal(call.kind, 1);
    assert.equal(call.callId, n.callId);
    return call.seq;
  }

  test("moving the cursor to factorial(3) highlights its line and shows n = 3 inline", async () => {
    const api = await extensionApi();
    const editor = await vscode.window.showTextDocument(workspaceFile("lib/sample/math.ex"));
    const at = api.controller.moveCursor(callSeq("[3]"));
    assert.equal(at?.function, "factorial");
    const shown = api.cursor.shown.get(editor.document.uri.fsPath);
    assert.ok(shown, "no inline values in math.ex");
    assert.equal(shown.get(at!.line), "n = 3");
  });

  test("inline values are those bound by the cursor: a body binding appears once it has happened", async () => {
    const api = await extensionApi();
    const ledger = workspaceFile("lib/sample/ledger.ex").fsPath;
    await vscode.window.showTextDocument(workspaceFile("lib/sample/ledger.ex"));
    // handle_call({:deposit, …}): head variables at the call, then `acct` (case clause) and
    // `updated` (a match) in its body.
    const updated = recording.index
      .history(ledger, "updated", { module: "Sample.Ledger", function: "handle_call" })
      .find((b) => recording.index.bindingsOfCall(b.callId).some((x) => x.name === "acct"))!;
    assert.ok(updated, "no recorded `updated` binding in a deposit");
    const bindings = recording.index.bindingsOfCall(updated.callId);
    const head = bindings[0];
    const call = recording.index.step(recording.index.eventAt(head.seq)!, -1)!;
    assert.equal(call.kind, 1);
    api.controller.moveCursor(call.seq);
    const atCall = api.cursor.shown.get(ledger)!;
    assert.match(atCall.get(call.line) ?? "", /account = ".*", amount = \d+/);
    assert.equal(atCall.get(updated.line), undefined, "updated is not bound yet at the call");
    const acct = bindings.find((b) => b.name === "acct")!;
    assert.equal(atCall.get(acct.line), undefined, "acct is not bound yet at the call");
    api.controller.moveCursor(acct.seq);
    assert.equal(api.cursor.shown.get(ledger)!.get(acct.line), `acct = ${acct.value}`);
    assert.equal(api.cursor.shown.get(ledger)!.get(updated.line), undefined);
    api.controller.moveCursor(updated.seq);
    assert.equal(api.cursor.shown.get(ledger)!.get(updated.line), `updated = ${updated.value}`);
  });

  test("Step Forward / Step Back move through the same process's events", async () => {
    const api = await extensionApi();
    const start = api.controller.moveCursor(callSeq("[2]"))!;
    const next = await vscode.commands.executeCommand<{ seq: number; pid: string; callId: number } | undefined>("elixirScope.stepForward");
    assert.ok(next && next.seq > start.seq, "stepped forward");
    assert.equal(next.pid, start.pid);
    const back = await vscode.commands.executeCommand<{ seq: number } | undefined>("elixirScope.stepBack");
    assert.equal(back?.seq, start.seq);
    assert.equal(api.controller.cursor?.seq, start.seq);
  });
});
