/**
 * A worker thread of the FormatPool (format-pool.ts): turns one EVENTS payload (an Arrow IPC
 * stream whose `value` column holds terms) into the IPC stream the recording keeps (text
 * values, see value-text.ts). Printing terms is most of what ingesting costs; here it runs
 * beside the extension host's event loop instead of on it.
 */
import { parentPort } from "node:worker_threads";
import { formatPayload, type FormatRequest, type FormatReply } from "./format-pool";

parentPort?.on("message", (req: FormatRequest) => {
  let reply: FormatReply;
  try {
    const ipc = formatPayload(new Uint8Array(req.payload), req.bounds);
    reply = { id: req.id, ipc };
  } catch (e) {
    reply = { id: req.id, error: (e as Error).message };
  }
  parentPort!.postMessage(reply, reply.ipc ? [reply.ipc.buffer as ArrayBuffer] : []);
});
