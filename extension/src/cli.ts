/**
 * `elixir-scope` command line: the same recording pipeline as the extension, headless.
 *   elixir-scope record [--cwd DIR] [--out rec.arrow] [--timeout SECONDS] [-- COMMAND...]
 *   elixir-scope record --attach NODE [--cookie COOKIE|FILE] [--cwd DIR] [--out rec.arrow]
 * Ctrl-C stops the recording (Stop Recording) and writes it; a second Ctrl-C abandons it.
 *   elixir-scope render rec.arrow --png out.png [--width 1600] [--height 900]
 *   elixir-scope summary rec.arrow
 */
import { readFileSync, writeFileSync } from "node:fs";
import { resolve, join } from "node:path";
import { tmpdir } from "node:os";
import { parseArgs } from "node:util";
import { RecorderError, RecordingSession } from "./recorder/session";
import { decodeRecording, encodeRecording } from "./recorder/recording-file";
import { summarize, formatSummary } from "./recorder/summary";
import { planWorkspace } from "../../server/src/analysis/plan";
import { renderRecording } from "./headless/render";
import { attachLauncher } from "./recorder/attach";

const USAGE = `usage:
  elixir-scope record [--cwd DIR] [--out rec.arrow] [--timeout SECONDS] [-- COMMAND...]   (default command: mix test)
  elixir-scope record --attach NODE [--cookie COOKIE|FILE] [--cwd DIR] [--out rec.arrow]   (records a running node until Ctrl-C)
  elixir-scope render REC.arrow --png OUT.png [--width 1600] [--height 900]
  elixir-scope summary REC.arrow`;

async function record(argv: string[]): Promise<number> {
  const dash = argv.indexOf("--");
  const own = dash >= 0 ? argv.slice(0, dash) : argv;
  const command = dash >= 0 ? argv.slice(dash + 1).join(" ") : "mix test";
  const { values } = parseArgs({
    args: own,
    options: {
      cwd: { type: "string" },
      out: { type: "string" },
      timeout: { type: "string" },
      quiet: { type: "boolean" },
      attach: { type: "string" },
      cookie: { type: "string" },
    },
  });
  const agentEbin = join(__dirname, "agent", "ebin");
  const attach = values.attach !== undefined ? { node: values.attach, cookie: values.cookie ?? "" } : undefined;
  const cwd = resolve(values.cwd ?? ".");
  const out = resolve(values.out ?? "recording.arrow");
  const { modules } = await planWorkspace(cwd, { wasmDir: __dirname });
  if (modules.length === 0) throw new RecorderError(`No Elixir modules found under ${cwd}/lib: is this a Mix project?`);
  const session = new RecordingSession({
    cwd,
    command: attach ? `attach ${attach.node}` : command,
    modules,
    agentEbin,
    launcher: attach ? attachLauncher(attach, agentEbin) : undefined,
    skipCompile: attach !== undefined,
    spillPath: join(tmpdir(), `elixir-scope-spill-${process.pid}.arrows`),
    connectTimeoutMs: Number(values.timeout ?? 120) * 1000,
    onOutput: (text, stream) => {
      if (!values.quiet) (stream === "stdout" ? process.stdout : process.stderr).write(text);
    },
    onLog: (log) => process.stderr.write(`[agent ${log.level}] ${log.message}\n`),
    onPhase: (phase) => process.stderr.write(`elixir-scope: ${phase}…\n`),
  });
  // Ctrl-C: Stop Recording (the agent flushes, the program is terminated, the recording is
  // written); a second one abandons it (the program is killed).
  const onSigint = () => {
    if (stopping) {
      session.dispose();
      return;
    }
    stopping = true;
    process.stderr.write("elixir-scope: stopping (Ctrl-C again to abandon the recording)…\n");
    session.stop();
  };
  let stopping = false;
  process.on("SIGINT", onSigint);
  process.once("SIGTERM", () => session.dispose());
  const result = await session.run().finally(() => process.off("SIGINT", onSigint));
  for (const w of result.warnings) process.stderr.write(`elixir-scope: warning: ${w}\n`);
  if (result.ring.spillError) process.stderr.write(`elixir-scope: warning: ${result.ring.spillError}; those events were dropped\n`);
  if (result.ring.keptEvents === 0) throw new RecorderError(`The agent connected but recorded no events; nothing written.`);
  writeFileSync(out, encodeRecording(result.ring.all(), result.header));
  result.ring.dispose();
  const summary = summarize(decodeRecording(readFileSync(out)).table);
  process.stdout.write(`\n${formatSummary(summary)}\nrecording: ${out}\nprogram exit code: ${result.exitCode}\n`);
  return 0;
}

async function render(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { png: { type: "string" }, width: { type: "string" }, height: { type: "string" } },
  });
  if (positionals.length !== 1 || !values.png) throw new RecorderError(USAGE);
  const file = resolve(positionals[0]);
  const outPng = resolve(values.png);
  const result = await renderRecording({
    recording: readFileSync(file),
    distDir: __dirname,
    outPng,
    width: values.width ? Number(values.width) : undefined,
    height: values.height ? Number(values.height) : undefined,
  });
  process.stdout.write(`rendered ${result.events} events in ${result.lanes} process lanes\npng: ${outPng}\n`);
  return 0;
}

function summary(argv: string[]): number {
  if (argv.length !== 1) throw new RecorderError(USAGE);
  const { table, header } = decodeRecording(readFileSync(resolve(argv[0])));
  process.stdout.write(`${header ? `${header.app}: ${header.command} (${header.startedAt})\n` : ""}${formatSummary(summarize(table))}\n`);
  return 0;
}

async function main(argv: string[]): Promise<number> {
  const [verb, ...rest] = argv;
  switch (verb) {
    case "record":
      return record(rest);
    case "render":
      return render(rest);
    case "summary":
      return summary(rest);
    default:
      process.stderr.write(`${USAGE}\n`);
      return verb === "--help" || verb === "-h" ? 0 : 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`elixir-scope: ${e instanceof RecorderError ? e.message : (e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  },
);
