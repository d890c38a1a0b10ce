// A stand-in for a program that runs until it is stopped (a server, `mix run --no-halt`), with
// an agent that connects like the BEAM agent does, and a child process of its own (so tests can
// check that the whole process group goes). It prints `pids <own> <child>` once connected.
// FAKE_SERVER_MODE: "bye" (STOP → STATS, BYE, hang up; keep running), "mute" (ignore STOP),
// "stubborn" (as "bye", but ignore SIGTERM).
import { connect } from "node:net";
import { spawn } from "node:child_process";

const mode = process.env.FAKE_SERVER_MODE ?? "bye";
if (mode === "stubborn") process.on("SIGTERM", () => {});
const child = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { stdio: "ignore" });
setInterval(() => {}, 1000);

function frame(type, payload = "") {
  const body = Buffer.from(payload);
  const head = Buffer.alloc(5);
  head.writeUInt32BE(body.length + 1, 0);
  head.writeUInt8(type, 4);
  return Buffer.concat([head, body]);
}

const socket = connect(Number(process.env.ELIXIR_SCOPE_PORT), "127.0.0.1", () => {
  const hello = { secret: process.env.ELIXIR_SCOPE_SECRET, protocol: 1, schema: Number(process.env.FAKE_AGENT_SCHEMA ?? 3), agent_version: "fake", node: "server@host", otp_release: "25", elixir_version: "1.14.0", os_pid: String(process.pid) };
  socket.write(frame(1, JSON.stringify(hello)));
});
let got = Buffer.alloc(0);
socket.on("data", (d) => {
  got = Buffer.concat([got, d]);
  while (got.length >= 5 && got.length >= 4 + got.readUInt32BE(0)) {
    const type = got.readUInt8(4);
    got = got.subarray(4 + got.readUInt32BE(0));
    if (type === 2) {
      socket.write(frame(3, JSON.stringify({ instrumented: [], skipped: [] })));
      process.stdout.write(`pids ${process.pid} ${child.pid}\n`);
    }
    if (type === 8 && mode !== "mute") {
      socket.write(frame(6, JSON.stringify({ events: 0, dropped: 0 })));
      socket.end(frame(7, JSON.stringify({ reason: "stopped by the recorder" })));
    }
  }
});
socket.on("error", () => {});
