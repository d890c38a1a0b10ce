// Run by stop.test.ts as its own process: starts a recording of fake-server.mjs, prints the
// program's pids, then exits abruptly mid-recording, as a crashing CLI or extension host would.
import { join } from "node:path";
import { RecordingSession } from "../../extension/src/recorder/session";

const session = new RecordingSession({
  cwd: __dirname,
  command: `node ${join(__dirname, "fake-server.mjs")}`,
  modules: [],
  agentEbin: __dirname,
  skipCompile: true,
  onOutput: (text) => {
    if (!text.startsWith("pids ")) return;
    process.stdout.write(text);
    process.exit(0);
  },
});
void session.run();
