// Enforces the architecture's import boundaries (see ARCHITECTURE.md):
//  - only extension/ imports `vscode` (and vscode-languageclient);
//  - webview/ uses no Node APIs (no node: modules, require, process, Buffer, __dirname);
//  - protocol/ imports nothing (not even other packages);
//  - server/ never imports from extension/ or webview/.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";

const root = process.env.BOUNDARY_ROOT ?? new URL("..", import.meta.url).pathname;
const NODE_BUILTINS = /^(node:|fs$|path$|os$|child_process$|net$|http$|https$|crypto$|worker_threads$|stream$|url$|util$|events$)/;

function* files(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) yield* files(p);
    else if (/\.(ts|tsx|mts|js|mjs)$/.test(name)) yield p;
  }
}

function imports(text) {
  const out = [];
  // Only real import statements (at the start of a line) and require()/import() calls count.
  const re = /^\s*(?:import|export)\s[^'"]*?from\s*["']([^"']+)["']|^\s*import\s*["']([^"']+)["']|(?:^|[^.\w])import\s*\(\s*["']([^"']+)["']\s*\)|(?:^|[^.\w])require\(\s*["']([^"']+)["']\s*\)/gm;
  for (const m of text.matchAll(re)) out.push(m[1] ?? m[2] ?? m[3] ?? m[4]);
  return out;
}

const problems = [];
const rules = {
  server: (spec, file) => {
    if (spec === "vscode" || spec.startsWith("vscode-languageclient")) return "server/ must not import vscode or the language client";
    if (/(^|\/)(extension|webview)\//.test(spec)) return "server/ must not import extension/ or webview/";
  },
  webview: (spec) => {
    if (spec === "vscode" || spec.startsWith("vscode-")) return "webview/ must not import vscode packages";
    if (NODE_BUILTINS.test(spec)) return `webview/ must not use Node API "${spec}"`;
    if (/(^|\/)(extension|server)\//.test(spec)) return "webview/ must not import extension/ or server/";
  },
  protocol: (spec) => {
    if (!spec.startsWith("./")) return `protocol/ must import nothing outside itself (found "${spec}")`;
  },
};

for (const [dir, rule] of Object.entries(rules)) {
  for (const file of files(join(root, dir, "src"))) {
    const text = readFileSync(file, "utf8");
    for (const spec of imports(text)) {
      const why = rule(spec, file);
      if (why) problems.push(`${relative(root, file)}: ${why}`);
    }
    if (dir === "webview" && /\b(require\(|__dirname|__filename|Buffer\.|process\.(?!env\.NODE_ENV))/.test(text)) {
      problems.push(`${relative(root, file)}: webview/ must not use Node globals (require, __dirname, Buffer, process)`);
    }
  }
}
// No file outside extension/ may import vscode (tests of the extension host live in extension/test).
for (const dir of ["server", "webview", "protocol", "bench", "test"]) {
  let list = [];
  try {
    list = [...files(join(root, dir))].filter((f) => !f.includes("node_modules") && !f.includes("/fixtures/"));
  } catch {
    continue;
  }
  for (const file of list) {
    if (imports(readFileSync(file, "utf8")).includes("vscode")) problems.push(`${relative(root, file)}: only extension/ may import vscode`);
  }
}

if (problems.length) {
  console.error(`Boundary check failed:\n  ${problems.join("\n  ")}`);
  process.exit(1);
}
console.log("boundaries ok: vscode only in extension/, no Node APIs in webview/, protocol/ self-contained");
