/**
 * One recording: compiles the project, listens on 127.0.0.1, runs the user's command with the
 * BEAM agent loaded (no change to their mix.exs), authenticates the agent by the per-session
 * secret, sends it the plan and collects its Arrow batches into the ring buffer.
 * Used by the extension host and the CLI alike; imports nothing from `vscode`.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes, timingSafeEqual } from "node:crypto";
import { createServer, type Server, type Socket } from "node:net";
import { basename, join } from "node:path";
import { tableFromIPC, type RecordBatch } from "apache-arrow";
import { SCHEMA_VERSION, type RecordingHeader } from "../../../protocol/src/events";
import {
  ENV,
  FrameType,
  MAX_FRAME_BYTES,
  MAX_HELLO_BYTES,
  PROTOCOL_VERSION,
  EVENTS_SCHEMA_VERSION,
  type Bye,
  type Hello,
  type InstrumentationPlan,
  type Log,
  type ModulePlan,
  type Ready,
  type Stats,
} from "../../../protocol/src/wire";
import { encodeFrame, FrameDecoder, frameName, ProtocolError, type Frame } from "./frames";
import { RingBuffer } from "./ring-buffer";
import { withBinaryValues } from "./columns";
import { boundsOf, DEFAULT_VALUE_BOUNDS, type ValueBounds } from "../../../protocol/src/values";
import { agentErlOptions, mixEnvFor, runCompile } from "./launch";
import { RecorderError } from "./errors";

export { RecorderError };

export interface RecordOptions {
  /** Project folder (where mix.exs is). */
  cwd: string;
  /** Shell command to record, e.g. "mix test". */
  command: string;
  modules: ModulePlan[];
  /** Directory holding the agent's compiled .beam files. */
  agentEbin: string;
  connectTimeoutMs?: number;
  ringCapBytes?: number;
  /** Where batches beyond the cap spill (nothing is lost); without it they are dropped and counted. */
  spillPath?: string;
  values?: InstrumentationPlan["values"];
  /**
   * Starts the program instead of a child process (the extension runs `iex -S mix` in a
   * terminal); resolves when it exits. The recording also ends when the agent disconnects.
   */
  launcher?: (spec: LaunchSpec) => Promise<ProgramExit>;
  /**
   * Stop Recording waits this long for the agent's BYE, and a terminated program this long
   * before SIGKILL (default STOP_GRACE_MS).
   */
  stopGraceMs?: number;
  /** Port to listen on for the agent (127.0.0.1); 0 or absent: any free port. */
  port?: number;
  /** Overload protection in the agent (default "adaptive"). */
  sampling?: InstrumentationPlan["sampling"];
  /** The agent's memory for events not yet sent, MB (PLAN `buffer_mb`; default: the agent's, 64). */
  agentBufferMb?: number;
  /** Extra environment for the recorded program. */
  env?: NodeJS.ProcessEnv;
  /** Skip `mix compile` before the run (the caller compiled already). */
  skipCompile?: boolean;
  onOutput?(text: string, stream: "stdout" | "stderr"): void;
  onLog?(log: Log): void;
  onReady?(ready: Ready): void;
  onBatch?(batch: RecordBatch): void;
  /** Each EVENTS payload as received: a complete Arrow IPC stream (for live views). */
  onEvents?(payload: Uint8Array): void;
  onStats?(stats: Stats): void;
  /** Phase changes, for progress UI. */
  onPhase?(phase: "compiling" | "starting" | "recording" | "finishing"): void;
}

export interface RecordResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  hello?: Hello;
  ready?: Ready;
  bye?: Bye;
  stats: Stats;
  ring: RingBuffer;
  header: RecordingHeader;
  /** Problems met that did not stop the recording (bad frames, rejected connections). */
  warnings: string[];
}

/**
 * How long Stop Recording waits for the agent's BYE before it terminates the program, and then
 * for the program to end before it is killed.
 */
export const STOP_GRACE_MS = 10_000;

/** Longest stretch of frame handling in one task of the extension host (ms). */
const FRAME_SLICE_MS = 12;

export class RecordingSession {
  readonly secret = randomBytes(24).toString("hex");
  private server?: Server;
  private child?: ChildProcess;
  private agent?: Socket;
  private readonly ring: RingBuffer;
  private readonly warnings: string[] = [];
  private hello?: Hello;
  /** Frames received and not handled yet (see `pump`). */
  private readonly pending: Frame[] = [];
  private pumping = false;
  private paused = false;
  private framesHandled: () => void = () => {};
  /** How the values' terms print: the bounds of the plan the agent was last sent. */
  private valueBounds: ValueBounds = DEFAULT_VALUE_BOUNDS;
  private ready?: Ready;
  private bye?: Bye;
  private stats: Stats = { events: 0, dropped: 0 };
  private readonly startedAt = new Date();
  private stopRequested = false;
  /** Last line a launcher's program printed (quoted when it ends before the agent connects). */
  private lastOutputLine = "";
  /** Resolves when the authenticated agent's connection closes. */
  private markAgentGone: () => void = () => {};
  private readonly agentGone = new Promise<void>((resolve) => (this.markAgentGone = resolve));
  /** Settles when an agent with the right secret but another protocol or schema is refused. */
  private markRefused!: (why: string) => void;
  private readonly refused = new Promise<string>((resolve) => (this.markRefused = resolve));

  constructor(private readonly opts: RecordOptions) {
    this.ring = new RingBuffer(opts.ringCapBytes ?? 512 * 1024 * 1024, opts.spillPath);
  }

  /**
   * Runs the whole recording; resolves when the program exited and the agent said goodbye.
   * Whatever way it ends, the listener is closed and a launched program does not outlive it.
   */
  async run(): Promise<RecordResult> {
    try {
      return await this.record();
    } catch (e) {
      this.kill();
      this.close();
      throw e;
    } finally {
      process.off("exit", this.killOnExit);
    }
  }

  private async record(): Promise<RecordResult> {
    const { opts } = this;
    const mixEnv = mixEnvFor(opts.command, opts.env ?? process.env);
    if (!opts.skipCompile) {
      opts.onPhase?.("compiling");
      await runCompile(opts.cwd, mixEnv, opts.env, opts.onOutput);
    }
    if (this.stopRequested) throw new RecorderError("Recording stopped before the program started; nothing was recorded.");
    opts.onPhase?.("starting");
    const port = await this.listen();
    const plan: InstrumentationPlan = {
      modules: opts.modules,
      lib_dir: join(opts.cwd, "_build", mixEnv, "lib"),
      values: opts.values ?? DEFAULT_VALUE_BOUNDS,
      sampling: opts.sampling ?? "adaptive",
      ...(opts.agentBufferMb ? { buffer_mb: opts.agentBufferMb } : {}),
    };
    this.valueBounds = boundsOf(plan.values);
    const connected = this.acceptAgent(plan);
    const exited = this.spawnProgram(port, mixEnv);
    const timeoutMs = opts.connectTimeoutMs ?? 120_000;
    const outcome = await Promise.race([
      connected.then(() => "connected" as const),
      exited.then(() => "exited" as const),
      timeout(timeoutMs).then(() => "timeout" as const),
      this.refused.then(() => "refused" as const),
    ]);
    if (outcome === "refused") {
      // Running on unrecorded is not what was asked for: end the program, report why.
      this.terminate();
      await exited;
      this.close();
      throw new RecorderError(await this.refused);
    }
    if (outcome === "timeout") {
      throw new RecorderError(
        `The agent did not connect within ${timeoutMs / 1000} s. Check that "${opts.command}" starts an Elixir node ` +
          `(see the program's output), or raise elixirScope.connectTimeoutSeconds.`,
      );
    }
    opts.onPhase?.("recording");
    // Stop Recording: once the agent has flushed and hung up, a program that would run on
    // (a server, `mix run --no-halt`) is terminated (a launcher's program is the launcher's).
    void this.agentGone.then(() => {
      if (this.stopRequested) this.terminate();
    });
    const { code, signal } = await exited;
    opts.onPhase?.("finishing");
    if (this.agent) await socketClosed(this.agent);
    await this.allFramesHandled();
    this.close();
    if (!this.hello && this.stopRequested) {
      throw new RecorderError("Recording stopped before the agent connected; nothing was recorded.");
    }
    if (!this.hello) {
      const refused = this.warnings.some((w) => w.includes("wrong secret"))
        ? "An agent connected with a wrong secret and was refused: it was not started by this recording " +
          "(is another program using elixirScope.port?). "
        : "";
      throw new RecorderError(
        `"${opts.command}" exited (code ${code ?? signal}) before the ElixirScope agent connected; nothing was recorded. ` +
          refused +
          (this.lastOutputLine ? `It said: ${this.lastOutputLine}` : `See the program's output for the reason.`),
      );
    }
    if (!this.bye) {
      this.warnings.push(
        `the node ended (${signal ? `signal ${signal}` : `exit code ${code}`}) without the agent's goodbye: what was ` +
          `received is kept, events it had not sent yet are lost`,
      );
    }
    return {
      exitCode: code,
      signal,
      hello: this.hello,
      ready: this.ready,
      bye: this.bye,
      stats: this.stats,
      ring: this.ring,
      header: this.header(),
      warnings: this.warnings,
    };
  }

  /**
   * Stop Recording: asks the agent to stop (it restores the original code, flushes and says
   * BYE); once it has hung up, a launched program is terminated. An agent that does not hang
   * up within STOP_GRACE_MS is not waited for. Before the agent connected: the program is
   * terminated (or the agent is told to stop as soon as it connects).
   */
  stop(): void {
    if (this.stopRequested) return;
    this.stopRequested = true;
    if (this.agent && !this.agent.destroyed) {
      this.agent.write(encodeFrame(FrameType.Stop));
      const graceMs = this.opts.stopGraceMs ?? STOP_GRACE_MS;
      const force = setTimeout(() => {
        this.warnings.push(`the agent did not finish within ${graceMs / 1000} s of Stop Recording; the program was terminated`);
        this.terminate();
        // An attached node: closing the connection makes its agent restore the code and go.
        if (!this.child) this.agent?.destroy();
      }, graceMs);
      force.unref();
      void this.agentGone.then(() => clearTimeout(force));
    } else {
      this.terminate();
    }
  }

  /**
   * Ends the session at once because its owner goes away (the extension is deactivated, the
   * CLI exits): the launched program is killed, the listener closed, and the agent's connection
   * closed (an attached node's agent then restores the original code and is removed). `run()`
   * still settles with what was received.
   */
  dispose(): void {
    this.stopRequested = true;
    this.kill();
    this.agent?.destroy();
    this.close();
  }

  /** SIGTERM to the launched program's process group, SIGKILL if it is still there after the grace. */
  private terminate(): void {
    const child = this.child;
    if (!child?.pid || child.exitCode !== null || child.signalCode !== null) return;
    const signal = (sig: NodeJS.Signals) => {
      try {
        process.kill(-child.pid!, sig);
      } catch {
        child.kill(sig);
      }
    };
    signal("SIGTERM");
    const force = setTimeout(() => signal("SIGKILL"), this.opts.stopGraceMs ?? STOP_GRACE_MS);
    force.unref();
    child.once("close", () => clearTimeout(force));
  }

  /**
   * Changes what is recorded while the program runs: the agent restores modules no longer
   * planned, instruments new ones, switches sampling, and answers READY (`onReady`). False
   * when no agent is connected.
   */
  changePlan(plan: InstrumentationPlan): boolean {
    if (!this.agent || this.agent.destroyed) return false;
    if (plan.values) this.valueBounds = boundsOf(plan.values);
    this.agent.write(encodeFrame(FrameType.Plan, JSON.stringify(plan)));
    return true;
  }

  private readonly killOnExit = () => this.kill();

  /** Kills the recorded program (SIGKILL to its process group). */
  kill(): void {
    const pid = this.child?.pid;
    if (pid && this.child?.exitCode === null) {
      try {
        process.kill(-pid, "SIGKILL");
      } catch {
        this.child?.kill("SIGKILL");
      }
    }
  }

  get events(): number {
    return this.ring.keptEvents;
  }

  get dropped(): number {
    return this.stats.dropped;
  }

  /** Calls the agent did not record because it was sampling their function (see Stats). */
  get sampled(): number {
    return this.stats.sampled ?? 0;
  }

  private header(): RecordingHeader {
    return {
      schemaVersion: SCHEMA_VERSION,
      app: basename(this.opts.cwd),
      command: this.opts.command,
      startedAt: this.startedAt.toISOString(),
      node: this.hello?.node ?? "",
      dropped: this.stats.dropped + this.ring.evictedEvents,
      events: this.ring.keptEvents,
      sampled: this.stats.sampled ?? 0,
      sampledFunctions: this.stats.sampled_functions ?? [],
      values: this.valueBounds,
    };
  }

  private listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      const server = createServer();
      this.server = server;
      const port = this.opts.port ?? 0;
      server.once("error", (e: NodeJS.ErrnoException) =>
        reject(
          new RecorderError(
            e.code === "EADDRINUSE"
              ? `Port ${port} on 127.0.0.1 is already in use, so the agent cannot connect back: set elixirScope.port to a free port, or to 0 to let ElixirScope pick one.`
              : `Could not listen on 127.0.0.1 for the agent: ${e.message}`,
          ),
        ),
      );
      server.listen(port, "127.0.0.1", () => {
        const addr = server.address();
        if (addr && typeof addr === "object") resolve(addr.port);
        else reject(new RecorderError("Could not read the listening port"));
      });
    });
  }

  private close(): void {
    this.server?.close();
  }

  /** Resolves once an agent presented the right secret and was sent the plan. */
  private acceptAgent(plan: InstrumentationPlan): Promise<void> {
    return new Promise((resolve) => {
      this.server!.on("connection", (socket) => {
        socket.setNoDelay(true);
        const decoder = new FrameDecoder(MAX_HELLO_BYTES);
        let authed = false;
        socket.on("error", (e) => this.warnings.push(`agent socket: ${e.message}`));
        socket.on("data", (chunk) => {
          let frames: Frame[];
          try {
            frames = decoder.push(chunk);
          } catch (e) {
            this.reject(socket, e instanceof ProtocolError ? e.message : String(e));
            return;
          }
          for (const frame of frames) {
            if (!authed) {
              if (!this.authenticate(socket, frame)) return;
              authed = true;
              // After the secret is checked, frames may be as large as the protocol allows.
              decoder.maxFrameBytes = MAX_FRAME_BYTES;
              this.agent = socket;
              socket.once("close", () => this.markAgentGone());
              socket.write(encodeFrame(FrameType.Plan, JSON.stringify(plan)));
              // Stopped while it was connecting: it stops as soon as it is recording.
              if (this.stopRequested) socket.write(encodeFrame(FrameType.Stop));
              resolve();
              continue;
            }
            this.pending.push(frame);
          }
          this.pump(socket);
        });
      });
    });
  }

  /**
   * Handles the frames received, in the order they came, at most `FRAME_SLICE_MS` per task of
   * the extension host, so that a burst of EVENTS does not stall it. While frames wait, the
   * socket is paused, which holds the agent back through TCP.
   */
  private pump(socket: Socket): void {
    if (this.pumping) return;
    const start = performance.now();
    while (this.pending.length > 0) {
      this.onFrame(this.pending.shift()!);
      if (this.pending.length > 0 && performance.now() - start > FRAME_SLICE_MS) {
        this.pumping = true;
        this.hold(socket, true);
        setImmediate(() => {
          this.pumping = false;
          this.pump(socket);
        });
        return;
      }
    }
    this.hold(socket, false);
    this.framesHandled();
  }

  private hold(socket: Socket, pause: boolean): void {
    if (pause === this.paused) return;
    this.paused = pause;
    if (pause) socket.pause();
    else socket.resume();
  }

  /** Resolves when every frame received so far has been handled. */
  private allFramesHandled(): Promise<void> {
    if (this.pending.length === 0 && !this.pumping) return Promise.resolve();
    return new Promise((resolve) => {
      const previous = this.framesHandled;
      this.framesHandled = () => {
        this.framesHandled = previous;
        previous();
        resolve();
      };
    });
  }

  private authenticate(socket: Socket, frame: Frame): boolean {
    if (frame.type !== FrameType.Hello) {
      this.reject(socket, `first frame was ${frameName(frame.type)}, expected Hello`);
      return false;
    }
    let hello: Hello;
    try {
      hello = JSON.parse(Buffer.from(frame.payload).toString("utf8")) as Hello;
    } catch {
      this.reject(socket, "Hello was not valid JSON");
      return false;
    }
    const given = Buffer.from(String(hello.secret ?? ""));
    const expected = Buffer.from(this.secret);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      this.reject(socket, "an agent connected with a wrong secret; connection closed");
      return false;
    }
    if (this.agent) {
      this.reject(socket, "a second node connected with this session's secret; only the first one is recorded");
      return false;
    }
    if (hello.protocol !== PROTOCOL_VERSION || hello.schema !== EVENTS_SCHEMA_VERSION) {
      const why =
        `The ElixirScope agent in ${hello.node ?? "the node"} (version ${hello.agent_version ?? "?"}) speaks protocol ` +
        `${hello.protocol}, event schema ${hello.schema ?? 1}; this ElixirScope reads protocol ${PROTOCOL_VERSION}, schema ` +
        `${EVENTS_SCHEMA_VERSION}. The node loaded an agent from another ElixirScope version: rebuild the project with this ` +
        `version's agent (the :elixir_scope compiler dependency) or remove the old one from its code path.`;
      this.reject(socket, why);
      this.markRefused(why);
      return false;
    }
    this.hello = hello;
    return true;
  }

  private reject(socket: Socket, why: string): void {
    this.warnings.push(why);
    this.opts.onLog?.({ level: "warning", message: why });
    socket.destroy();
  }

  private onFrame(frame: Frame): void {
    const text = () => Buffer.from(frame.payload).toString("utf8");
    try {
      switch (frame.type) {
        case FrameType.Events: {
          // Values are kept as they came, terms or text (protocol/src/values.ts): readers
          // print a term when they show it. A malformed payload is reported below.
          const batches = tableFromIPC(frame.payload).batches.map(withBinaryValues);
          for (const batch of batches) {
            this.ring.push(batch, frame.payload.byteLength / batches.length);
            this.opts.onBatch?.(batch);
          }
          this.opts.onEvents?.(frame.payload);
          break;
        }
        case FrameType.Ready:
          this.ready = JSON.parse(text()) as Ready;
          this.opts.onReady?.(this.ready);
          break;
        case FrameType.Log:
          this.opts.onLog?.(JSON.parse(text()) as Log);
          break;
        case FrameType.Stats:
          this.stats = JSON.parse(text()) as Stats;
          this.opts.onStats?.(this.stats);
          break;
        case FrameType.Bye:
          this.bye = JSON.parse(text()) as Bye;
          break;
        default:
          this.warnings.push(`ignored a ${frameName(frame.type)} frame from the agent`);
      }
    } catch (e) {
      // A malformed frame is reported and skipped; the frames around it are kept.
      const why = `malformed ${frameName(frame.type)} frame from the agent skipped: ${(e as Error).message}`;
      this.warnings.push(why);
      this.opts.onLog?.({ level: "error", message: why });
    }
  }

  private spawnProgram(port: number, mixEnv: string): Promise<ProgramExit> {
    const { opts } = this;
    const base = opts.env ?? process.env;
    const env: NodeJS.ProcessEnv = {
      ...base,
      MIX_ENV: mixEnv,
      [ENV.port]: String(port),
      [ENV.secret]: this.secret,
      ELIXIR_ERL_OPTIONS: agentErlOptions(opts.agentEbin, base.ELIXIR_ERL_OPTIONS),
    };
    if (opts.launcher) {
      // Launched elsewhere (an interactive terminal, an attach helper): the launcher says when
      // it is over.
      const output = (text: string) => {
        const last = text.trim().split("\n").pop();
        if (last) this.lastOutputLine = last;
        opts.onOutput?.(text, "stdout");
      };
      // A launcher's failure once the agent is connected does not lose what was recorded.
      return opts.launcher({ command: opts.command, cwd: opts.cwd, env, output, agentGone: this.agentGone }).catch((e: unknown) => {
        if (!this.hello) throw e;
        this.warnings.push((e as Error).message);
        return { code: 1, signal: null };
      });
    }
    return new Promise((resolve, reject) => {
      // Its own process group, so that Stop Recording ends everything the command started.
      const child = spawn(opts.command, { cwd: opts.cwd, env, shell: true, detached: true, stdio: ["ignore", "pipe", "pipe"] });
      this.child = child;
      // If the extension host or the CLI exits while it runs, the program goes too.
      process.once("exit", this.killOnExit);
      child.once("close", () => process.off("exit", this.killOnExit));
      child.stdout!.on("data", (d: Buffer) => opts.onOutput?.(d.toString("utf8"), "stdout"));
      child.stderr!.on("data", (d: Buffer) => opts.onOutput?.(d.toString("utf8"), "stderr"));
      child.once("error", (e) => reject(new RecorderError(`Could not start "${opts.command}": ${e.message}`)));
      child.once("close", (code, signal) => resolve({ code, signal }));
    });
  }
}

export interface ProgramExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** What a launcher gets: the command, its folder and its full environment (agent included). */
export interface LaunchSpec {
  command: string;
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Where the launched program's output goes (the session keeps its last line for errors). */
  output: (text: string) => void;
  /** Resolves when the agent's connection closes (a terminal may outlive its program). */
  agentGone: Promise<void>;
}

function timeout(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

function socketClosed(socket: Socket): Promise<void> {
  if (socket.destroyed || socket.closed) return Promise.resolve();
  return new Promise((resolve) => socket.once("close", () => resolve()));
}
