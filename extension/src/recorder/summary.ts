/** Counts over a recording, for the CLI and tests. Pure: Arrow table in, numbers out. */
import type { Table } from "apache-arrow";
import { EventKind } from "../../../protocol/src/events";

export interface RecordingSummary {
  events: number;
  processes: number;
  calls: number;
  exceptions: number;
  bindings: number;
  /** Most-called functions, "Module.fun/arity" → calls. */
  topFunctions: [string, number][];
}

export function summarize(table: Table): RecordingSummary {
  const kind = table.getChild("kind")!;
  const pid = table.getChild("pid")!;
  const mod = table.getChild("module")!;
  const fun = table.getChild("function")!;
  const arity = table.getChild("arity")!;
  const pids = new Set<string>();
  const perFunction = new Map<string, number>();
  let calls = 0;
  let exceptions = 0;
  let bindings = 0;
  for (let i = 0; i < table.numRows; i++) {
    pids.add(pid.get(i) as string);
    const k = kind.get(i) as number;
    if (k === EventKind.Call) {
      calls++;
      const key = `${mod.get(i)}.${fun.get(i)}/${arity.get(i)}`;
      perFunction.set(key, (perFunction.get(key) ?? 0) + 1);
    } else if (k === EventKind.Exception) exceptions++;
    else if (k === EventKind.Binding) bindings++;
  }
  const topFunctions = [...perFunction].sort((a, b) => b[1] - a[1]).slice(0, 10);
  return { events: table.numRows, processes: pids.size, calls, exceptions, bindings, topFunctions };
}

export function formatSummary(s: RecordingSummary): string {
  const lines = [
    `${s.events} events: ${s.calls} calls, ${s.exceptions} exceptions, ${s.bindings} bindings in ${s.processes} processes`,
    "most called:",
    ...s.topFunctions.map(([f, n]) => `  ${String(n).padStart(6)}  ${f}`),
  ];
  return lines.join("\n");
}
