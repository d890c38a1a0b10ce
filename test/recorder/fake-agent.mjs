// A stand-in agent process for protocol tests of the recorder: it connects like the BEAM agent
// does and then misbehaves in the way FAKE_AGENT_MODE asks. Real socket, real Arrow bytes.
import { connect } from "node:net";
import { readFileSync } from "node:fs";

const port = Number(process.env.ELIXIR_SCOPE_PORT);
const mode = process.env.FAKE_AGENT_MODE ?? "good";
const secret = mode === "wrong-secret" ? "not-the-secret" : process.env.ELIXIR_SCOPE_SECRET;
const events = readFileSync(process.env.FAKE_AGENT_EVENTS);

function frame(type, payload) {
  const body = typeof payload === "string" ? Buffer.from(payload) : payload;
  const head = Buffer.alloc(5);
  head.writeUInt32BE(body.length + 1, 0);
  head.writeUInt8(type, 4);
  return Buffer.concat([head, body]);
}

const socket = connect(port, "127.0.0.1", () => {
  if (mode === "no-hello") {
    socket.write(frame(4, events));
    return;
  }
  if (mode === "huge-hello") {
    const head = Buffer.alloc(5);
    head.writeUInt32BE(2 ** 31, 0);
    socket.write(head);
    return;
  }
  socket.write(frame(1, JSON.stringify({ secret, protocol: 1, schema: Number(process.env.FAKE_AGENT_SCHEMA ?? 3), agent_version: "fake", node: "fake@host", otp_release: "25", elixir_version: "1.14.0", os_pid: String(process.pid) })));
});
let got = Buffer.alloc(0);
let planned = false;
socket.on("data", (d) => {
  if (planned) return;
  got = Buffer.concat([got, d]);
  if (got.length < 5 || got.length < 4 + got.readUInt32BE(0)) return;
  // The plan arrived: echo its module count in READY, then send events and the end.
  planned = true;
  const plan = JSON.parse(got.subarray(5, 4 + got.readUInt32BE(0)).toString());
  socket.write(frame(3, JSON.stringify({ instrumented: plan.modules.map((m) => ({ module: m.module, functions: 1 })), skipped: [] })));
  const repeat = Number(process.env.FAKE_AGENT_REPEAT ?? 1);
  const eventsFrame = frame(4, events);
  let written = 0;
  // Respect back-pressure so a long run measures the reader, not the writer's buffer growth.
  const pump = () => {
    while (written < repeat) {
      written++;
      if (!socket.write(eventsFrame)) return void socket.once("drain", pump);
    }
    finish();
  };
  pump();
});

function finish() {
  if (mode === "malformed-batch") socket.write(frame(4, Buffer.from("definitely not arrow")));
  // Split one frame across two writes to exercise reassembly.
  const second = frame(4, events);
  socket.write(second.subarray(0, 7));
  socket.write(second.subarray(7));
  if (mode === "crash") process.exit(3);
  socket.write(frame(6, JSON.stringify({ events: 10, dropped: 2 })));
  socket.end(frame(7, JSON.stringify({ reason: "halt" })));
}
socket.on("close", () => process.exit(0));
socket.on("error", () => process.exit(0));
