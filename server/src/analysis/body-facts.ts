/**
 * What a function body does, from the calls in it: recursion, messages, processes, raises.
 * Syntactic only (a local `send` helper counts as sending); good enough to explain a plan.
 *
 * Visiting every call node of a body from JavaScript costs more than parsing the file (each
 * node crosses the wasm boundary), so we search the body's text for the few names that matter
 * and ask the tree only about those hits: is this really a call to that name, or a word in a
 * string, a comment or an atom?
 */
import type { FunctionFacts } from "./model";
import type { SyntaxNode } from "./parser";
import { callArguments } from "./syntax";

type Fact = Exclude<keyof FunctionFacts, "recursive">;

const LOCAL: Record<string, Fact> = {
  send: "sends",
  receive: "receives",
  spawn: "spawns",
  spawn_link: "spawns",
  spawn_monitor: "spawns",
  raise: "raises",
  reraise: "raises",
  throw: "raises",
  exit: "raises",
};

const REMOTE: Record<string, Fact> = {
  "Process.send": "sends",
  "Process.send_after": "sends",
  "GenServer.call": "sends",
  "GenServer.cast": "sends",
  "GenServer.reply": "sends",
  "GenServer.multi_call": "sends",
  "GenServer.abcast": "sends",
  ":gen_server.call": "sends",
  ":gen_server.cast": "sends",
  ":erlang.send": "sends",
  "Process.spawn": "spawns",
  "Task.async": "spawns",
  "Task.start": "spawns",
  "Task.start_link": "spawns",
  "Task.async_stream": "spawns",
  "Task.Supervisor.async": "spawns",
  "Task.Supervisor.start_child": "spawns",
  ":erlang.spawn": "spawns",
  ":erlang.spawn_link": "spawns",
};

// Group 1: a local name; group 2: the function part of a remote call.
const CANDIDATES =
  /\b(receive|send|spawn(?:_link|_monitor)?|raise|reraise|throw|exit)\b|(?<![\w.:])(?:Process|GenServer|Task(?:\.Supervisor)?|:gen_server|:erlang)\.(\w+)\b/g;

const IDENTIFIER_CHAR = /[\w?!@:]/;

export function noFacts(): FunctionFacts {
  return { recursive: false, sends: false, receives: false, spawns: false, raises: false };
}

/** Adds what the calls inside `body` do to `facts` (so several clauses accumulate). */
export function addBodyFacts(facts: FunctionFacts, body: SyntaxNode, self: { name: string; arities: number[] }): void {
  const text = body.text;
  const base = body.startIndex;
  for (const m of text.matchAll(CANDIDATES)) {
    const word = m[1] ?? m[2];
    const at = base + m.index + m[0].length - word.length;
    const name = calledName(body, at, word.length);
    const fact = name === null ? undefined : m[1] ? LOCAL[name] : REMOTE[name];
    if (fact) facts[fact] = true;
  }
  if (!facts.recursive) facts.recursive = callsItself(body, text, self);
}

function callsItself(body: SyntaxNode, text: string, self: { name: string; arities: number[] }): boolean {
  const length = self.name.length;
  for (let i = text.indexOf(self.name); i >= 0; i = text.indexOf(self.name, i + 1)) {
    // Only whole words can be calls; checking that here saves a trip into wasm per substring.
    if (IDENTIFIER_CHAR.test(text[i - 1] ?? " ") || IDENTIFIER_CHAR.test(text[i + length] ?? " ")) continue;
    const at = body.startIndex + i;
    const name = calledName(body, at, self.name.length);
    if (name !== self.name && name !== `__MODULE__.${self.name}`) continue;
    const call = body.descendantForIndex(at, at + self.name.length)?.parent;
    const viaDot = call?.type === "dot" ? call.parent : call;
    if (viaDot && self.arities.includes(callArity(viaDot))) return true;
  }
  return false;
}

/**
 * If the identifier at [at, at+length) is the function of a call, the called name: "send" for
 * a local call, "GenServer.call" for a remote one. Otherwise (a variable, an atom, text in a
 * string or comment, a longer name such as `send!`) null.
 */
function calledName(body: SyntaxNode, at: number, length: number): string | null {
  const node = body.descendantForIndex(at, at + length);
  if (!node || node.type !== "identifier" || node.endIndex - node.startIndex !== length) return null;
  const parent = node.parent;
  if (!parent) return null;
  if (parent.type === "call" && parent.childForFieldName("target")?.id === node.id) return node.text;
  if (parent.type === "dot" && parent.childForFieldName("right")?.id === node.id) {
    const call = parent.parent;
    if (call?.type === "call" && call.childForFieldName("target")?.id === parent.id) return parent.text;
  }
  return null;
}

/** Arguments a call passes, counting the piped-in one in `x |> f(y)`. */
function callArity(call: SyntaxNode): number {
  const args = callArguments(call);
  const written = args ? args.namedChildCount : 0;
  const parent = call.parent;
  const piped =
    parent?.type === "binary_operator" &&
    parent.childForFieldName("operator")?.type === "|>" &&
    parent.childForFieldName("right")?.id === call.id;
  return written + (piped ? 1 : 0);
}
