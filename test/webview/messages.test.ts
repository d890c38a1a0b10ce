/** Host ↔ webview messages are validated before use (protocol/src/webview.ts). */
import { strict as assert } from "node:assert";
import { test } from "node:test";
import { parseFromWebview, parseToWebview } from "../../protocol/src/webview";

const bytes = Uint8Array.of(1, 2, 3);

test("a recording message keeps valid value bounds and drops invalid ones", () => {
  const values = { max_chars: 100, max_items: 5, max_depth: 3 };
  assert.deepEqual(parseToWebview({ t: "recording", bytes, title: "t", values }), { t: "recording", bytes, title: "t", values });
  assert.deepEqual(parseToWebview({ t: "recording", bytes, title: "t", values: { max_chars: -1 } }), { t: "recording", bytes, title: "t" });
  assert.deepEqual(parseToWebview({ t: "recording", bytes, title: "t" }), { t: "recording", bytes, title: "t" });
});

test("malformed messages are refused", () => {
  assert.equal(parseToWebview({ t: "recording", bytes: [1, 2], title: "t" }), undefined);
  assert.equal(parseToWebview({ t: "append" }), undefined);
  assert.equal(parseToWebview({ t: "calls", module: "M", function: "f", arity: 1.5 }), undefined);
  assert.equal(parseToWebview(null), undefined);
  assert.equal(parseFromWebview({ t: "reveal", file: "f" }), undefined);
  assert.deepEqual(parseFromWebview({ t: "cursor", seq: 3 }), { t: "cursor", seq: 3 });
});
