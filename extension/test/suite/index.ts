/**
 * The `extensionTestsPath` entry point (`run(): Promise<void>`) for the extension-host tests.
 * Mocha is not a dependency, so this is a small runner for the part of mocha's "tdd" interface
 * the tests use (suite, test, suiteSetup, suiteTeardown): the same `*.test.js` files also run
 * under mocha through `.vscode-test.mjs`.
 *
 * code-server gives the harness no exit code, so the result is also written as JSON to the file
 * named by ELIXIR_SCOPE_TEST_RESULT (written to a temporary name, then renamed: the harness
 * waits for the final name to appear).
 */
import { readdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";

type Fn = () => unknown;

interface Suite {
  name: string;
  setups: Fn[];
  teardowns: Fn[];
  tests: { name: string; fn: Fn }[];
}

export interface TestResult {
  suite: string;
  name: string;
  ok: boolean;
  ms: number;
  error?: string;
}

/** Per test and per hook; recording the sample app (mix compile + mix test) fits easily. */
const TIMEOUT_MS = Number(process.env.ELIXIR_SCOPE_TEST_TIMEOUT_MS ?? 180_000);

export async function run(): Promise<void> {
  const suites = collect(__dirname);
  const results: TestResult[] = [];
  for (const s of suites) results.push(...(await runSuite(s)));
  const failed = results.filter((r) => !r.ok);
  const out = process.env.ELIXIR_SCOPE_TEST_RESULT;
  if (out) {
    writeFileSync(`${out}.tmp`, JSON.stringify({ passed: results.length - failed.length, failed: failed.length, results }, null, 2));
    renameSync(`${out}.tmp`, out);
  }
  if (failed.length > 0) throw new Error(`${failed.length} of ${results.length} extension-host tests failed`);
}

/** Loads every `*.test.js` next to this file (sorted) with the tdd globals in place. */
function collect(dir: string): Suite[] {
  const suites: Suite[] = [];
  let current: Suite | undefined;
  const g = globalThis as Record<string, unknown>;
  const inSuite = (what: string): Suite => {
    if (!current) throw new Error(`${what} outside suite()`);
    return current;
  };
  g.suite = (name: string, fn: () => void) => {
    const outer = current;
    current = { name: outer ? `${outer.name} ${name}` : name, setups: [], teardowns: [], tests: [] };
    suites.push(current);
    try {
      fn();
    } finally {
      current = outer;
    }
  };
  g.test = (name: string, fn: Fn) => inSuite("test()").tests.push({ name, fn });
  g.suiteSetup = (fn: Fn) => inSuite("suiteSetup()").setups.push(fn);
  g.suiteTeardown = (fn: Fn) => inSuite("suiteTeardown()").teardowns.push(fn);
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".test.js")).sort()) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require(join(dir, file));
  }
  return suites;
}

async function runSuite(s: Suite): Promise<TestResult[]> {
  const results: TestResult[] = [];
  let setupError: string | undefined;
  for (const fn of s.setups) {
    setupError ??= await attempt(fn);
  }
  for (const t of s.tests) {
    const started = Date.now();
    // A failed suiteSetup fails every test of the suite (with its error), as mocha reports it.
    const error = setupError ? `suiteSetup failed: ${setupError}` : await attempt(t.fn);
    results.push({ suite: s.name, name: t.name, ok: !error, ms: Date.now() - started, ...(error ? { error } : {}) });
    console.log(`[elixir-scope tests] ${error ? "FAIL" : "ok"} ${s.name} › ${t.name}${error ? `\n${error}` : ""}`);
  }
  for (const fn of s.teardowns) {
    const error = await attempt(fn);
    if (error) results.push({ suite: s.name, name: "suiteTeardown", ok: false, ms: 0, error });
  }
  return results;
}

/** Runs one test or hook under the timeout; returns the error text, or undefined if it passed. */
async function attempt(fn: Fn): Promise<string | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${TIMEOUT_MS} ms`)), TIMEOUT_MS);
  });
  try {
    await Promise.race([Promise.resolve().then(fn), deadline]);
    return undefined;
  } catch (e) {
    return e instanceof Error ? (e.stack ?? e.message) : String(e);
  } finally {
    clearTimeout(timer);
  }
}
