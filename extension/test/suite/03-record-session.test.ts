import * as assert from "node:assert/strict";
import { extensionApi, recordSession, workspaceFile, workspaceFolder } from "./helpers";

suite("Record Session", () => {
  test("records the sample app's tests (elixirScope.command from the workspace settings)", async () => {
    const api = await extensionApi();
    const recording = await recordSession();
    assert.equal(api.controller.current, recording, "the new recording is the current one");
    assert.equal(recording.header.command, "mix test --seed 0");
    assert.equal(recording.folder?.uri.fsPath, workspaceFolder().uri.fsPath);
    assert.ok(recording.bytes.byteLength > 0);
  });

  test("events arrived: calls of the sample app's modules, by source line", async () => {
    const recording = (await extensionApi()).controller.current;
    assert.ok(recording, "no recording (the previous test failed)");
    assert.ok(recording.header.events > 0, "header counts no events");
    assert.equal(recording.index.events, recording.header.events, "the index saw every event");
    const files = recording.index.files();
    for (const f of ["lib/sample/math.ex", "lib/sample/ledger.ex", "lib/sample/pipeline.ex"]) {
      assert.ok(files.includes(workspaceFile(f).fsPath), `no events in ${f}; files: ${files.join(", ")}`);
    }
    const mathLines = recording.index.callsByLine.get(workspaceFile("lib/sample/math.ex").fsPath)!;
    // factorial(5) enters `def factorial(n) when n > 0` (line 6) five times and `factorial(0)` once.
    assert.equal(mathLines.get(6), 5, `calls by line in math.ex: ${JSON.stringify([...mathLines])}`);
    assert.equal(mathLines.get(5), 1);
  });
});
