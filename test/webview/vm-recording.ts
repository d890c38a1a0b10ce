/**
 * A small recording with process events, GenServer state rows and metric samples (event kinds
 * 6–17), for the tests of their readers and of how the webview shows them.
 */
import { RecordingScript } from "./recording-builder";

export const CLIENT = "#PID<0.100.0>";
export const SERVER = "#PID<0.200.0>";
export const FILE = "/app/lib/counter.ex";

/** A client starts a counter GenServer, casts to it, and the server crashes later; with samples. */
export function counterScript() {
  const s = new RecordingScript();
  s.sample("", "memory", 30_000_000);
  s.enter(CLIENT, "App.run/0", "[]", "/app/lib/app.ex", 3);
  const spawnSeq = s.spawn(CLIENT, SERVER, "Counter.init/1", "[0]");
  const init = s.enter(SERVER, "Counter.init/1", "[0]", FILE, 8);
  s.exit(SERVER, "{:ok, %{n: 0}}");
  s.state(SERVER, "after", "%{n: 0}", init);
  const sendSeq = s.send(CLIENT, SERVER, "{:\"$gen_cast\", {:add, 1}}");
  s.sample(CLIENT, "mailbox", 0);
  s.exit(CLIENT, ":ok");
  const recvSeq = s.receive(SERVER, "{:\"$gen_cast\", {:add, 1}}", { seq: sendSeq, from: CLIENT });
  const cast = s.enter(SERVER, "Counter.handle_cast/2", "[{:add, 1}, %{n: 0}]", FILE, 12);
  s.state(SERVER, "before", "%{n: 0}");
  s.bind(SERVER, "n", "1", 12);
  s.exit(SERVER, "{:noreply, %{n: 1}}");
  s.state(SERVER, "after", "%{n: 1}", cast);
  s.sample("", "memory", 31_000_000);
  const untraced = s.receive(SERVER, ":tick");
  const exitSeq = s.exitProcess(SERVER, ":boom");
  return { s, spawnSeq, sendSeq, recvSeq, untraced, exitSeq };
}

