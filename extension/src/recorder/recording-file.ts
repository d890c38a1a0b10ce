/**
 * Saved recordings: an Arrow IPC file whose schema metadata `elixir_scope` holds the JSON
 * RecordingHeader (protocol/src/events.ts). Read by the extension, the webview and the CLI.
 */
import { RecordBatch, Schema, Table, tableFromIPC, tableToIPC } from "apache-arrow";
import { HEADER_METADATA_KEY, SCHEMA_VERSION, type RecordingHeader } from "../../../protocol/src/events";

export function encodeRecording(batches: readonly RecordBatch[], header: RecordingHeader): Uint8Array {
  if (batches.length === 0) throw new Error("a recording needs at least one batch of events");
  const base = batches[0].schema;
  const metadata = new Map(base.metadata);
  metadata.set(HEADER_METADATA_KEY, JSON.stringify(header));
  const schema = new Schema(base.fields, metadata);
  const table = new Table(schema, batches.map((b) => new RecordBatch(schema, b.data)));
  return tableToIPC(table, "file");
}

export interface LoadedRecording {
  header: RecordingHeader | undefined;
  table: Table;
}

export function decodeRecording(bytes: Uint8Array): LoadedRecording {
  let table: Table;
  try {
    table = tableFromIPC(bytes);
  } catch (e) {
    throw new Error(`not an ElixirScope recording (Arrow IPC could not be read: ${(e as Error).message})`);
  }
  const raw = table.schema.metadata.get(HEADER_METADATA_KEY);
  const header = raw ? (JSON.parse(raw) as RecordingHeader) : undefined;
  if (header && header.schemaVersion > SCHEMA_VERSION) {
    throw new Error(
      `recording uses event schema ${header.schemaVersion}; this ElixirScope reads up to ${SCHEMA_VERSION}: update the extension`,
    );
  }
  return { header, table };
}
