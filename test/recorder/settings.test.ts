import { test } from "node:test";
import assert from "node:assert/strict";
import { filterModules, readSettings, SettingsError } from "../../extension/src/settings";

const from = (o: Record<string, unknown>) => (key: string) => o[key];

test("defaults when nothing is set", () => {
  const s = readSettings(from({}));
  assert.equal(s.command, "mix test");
  assert.equal(s.memoryCapMB, 512);
  assert.equal(s.agentBufferMB, 64);
  assert.deepEqual(s.values, { max_chars: 400, max_items: 25, max_depth: 6, max_bytes: 512 });
  assert.deepEqual([s.includeModules, s.excludeModules], [[], []]);
  assert.equal(s.sampling, "adaptive");
  assert.equal(s.port, 0);
  assert.equal(s.attachRememberCookie, false);
  assert.equal(readSettings(from({ "attach.rememberCookie": true })).attachRememberCookie, true);
  assert.equal(readSettings(from({ sampling: "off" })).sampling, "off");
});

const bad: [Record<string, unknown>, RegExp][] = [
  [{ command: "   " }, /elixirScope\.command must not be empty/],
  [{ connectTimeoutSeconds: "soon" }, /elixirScope\.connectTimeoutSeconds must be a number/],
  [{ memoryCapMB: 1 }, /elixirScope\.memoryCapMB must be between 16 and 65536, not 1/],
  [{ "values.maxBinaryBytes": 10 }, /elixirScope\.values\.maxBinaryBytes must be between 64 and 1048576, not 10/],
  [{ agentBufferMB: 4 }, /elixirScope\.agentBufferMB must be between 8 and 16384, not 4/],
  [{ "values.maxDepth": 0 }, /elixirScope\.values\.maxDepth must be between 1 and 100/],
  [{ port: 70000 }, /elixirScope\.port must be between 0 and 65535/],
  [{ port: 80.5 }, /elixirScope\.port must be a whole number/],
  [{ "attach.rememberCookie": "yes" }, /elixirScope\.attach\.rememberCookie must be true or false, not "yes"/],
  [{ sampling: "sometimes" }, /elixirScope\.sampling must be one of "adaptive", "off", not "sometimes"/],
  [{ excludeModules: "MyApp.Repo" }, /elixirScope\.excludeModules must be a list/],
  [{ includeModules: ["MyApp; rm -rf"] }, /elixirScope\.includeModules must be a list of module names or patterns/],
];
for (const [settings, message] of bad) {
  test(`a clear error for ${JSON.stringify(settings)}`, () => {
    assert.throws(() => readSettings(from(settings)), (e: Error) => e instanceof SettingsError && message.test(e.message) && /fix it in Settings/.test(e.message));
  });
}

test("include and exclude patterns narrow the plan", () => {
  const plan = ["Sample.Ledger", "Sample.Math", "Sample.Pipeline", "Other.Thing"].map((module) => ({ module, functions: null, reason: "" }));
  const names = (include: string[], exclude: string[]) => filterModules(plan, { includeModules: include, excludeModules: exclude }).map((m) => m.module);
  assert.deepEqual(names([], []), ["Sample.Ledger", "Sample.Math", "Sample.Pipeline", "Other.Thing"]);
  assert.deepEqual(names(["Sample.*"], ["Sample.Pipeline"]), ["Sample.Ledger", "Sample.Math"]);
  assert.deepEqual(names([], ["*.Math", "Other.*"]), ["Sample.Ledger", "Sample.Pipeline"]);
});
