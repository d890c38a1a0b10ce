// Builds everything into dist/: the extension host bundle, the language server, the CLI,
// the webview bundle, the tree-sitter wasm files and the BEAM agent's compiled beams.
// Usage: node scripts/build.mjs [part ...]   parts: extension server cli webview wasm agent extension-tests
import { build } from "esbuild";
import { cpSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const dist = join(root, "dist");
const dev = process.env.NODE_ENV !== "production";

const node = { bundle: true, platform: "node", target: "node20", format: "cjs", sourcemap: dev, logLevel: "warning" };

const parts = {
  extension: () =>
    build({ ...node, entryPoints: [join(root, "extension/src/extension.ts")], outfile: join(dist, "extension.js"), external: ["vscode"] }),
  server: () => build({ ...node, entryPoints: [join(root, "server/src/server.ts")], outfile: join(dist, "server.js") }),
  cli: () =>
    build({
      ...node,
      entryPoints: [join(root, "extension/src/cli.ts")],
      outfile: join(dist, "cli.js"),
      banner: { js: "#!/usr/bin/env node" },
      // playwright-core locates its own files at run time; it stays a runtime dependency.
      external: ["playwright-core"],
    }),
  webview: () =>
    build({
      entryPoints: [join(root, "webview/src/main.tsx")],
      outfile: join(dist, "webview.js"),
      bundle: true,
      platform: "browser",
      format: "iife",
      target: "chrome120",
      sourcemap: dev,
      minify: !dev,
      logLevel: "warning",
      define: { "process.env.NODE_ENV": JSON.stringify(dev ? "development" : "production") },
    }),
  wasm: () => {
    mkdirSync(dist, { recursive: true });
    cpSync(join(root, "node_modules/web-tree-sitter/web-tree-sitter.wasm"), join(dist, "web-tree-sitter.wasm"));
    cpSync(join(root, "node_modules/tree-sitter-elixir/tree-sitter-elixir.wasm"), join(dist, "tree-sitter-elixir.wasm"));
  },
  agent: () => {
    const agent = join(root, "beam_agent");
    execFileSync("mix", ["compile"], { cwd: agent, stdio: "inherit", env: { ...process.env, MIX_ENV: "prod" } });
    const out = join(dist, "agent/ebin");
    rmSync(out, { recursive: true, force: true });
    mkdirSync(dirname(out), { recursive: true });
    cpSync(join(agent, "_build/prod/lib/elixir_scope_agent/ebin"), out, { recursive: true });
  },
  // The extension-host tests (extension/test/suite/) for code-server and @vscode/test-cli: one
  // file per test so mocha can load them by glob, next to the runner (index.js) that loads them.
  "extension-tests": () => {
    const suite = join(root, "extension/test/suite");
    const out = join(root, "out/test/suite");
    rmSync(out, { recursive: true, force: true });
    return build({
      ...node,
      sourcemap: "inline",
      entryPoints: readdirSync(suite).filter((f) => f === "index.ts" || f.endsWith(".test.ts")).map((f) => join(suite, f)),
      outdir: out,
      external: ["vscode"],
    });
  },
};

const wanted = process.argv.slice(2);
const names = wanted.length ? wanted : Object.keys(parts);
for (const name of names) {
  if (!parts[name]) throw new Error(`unknown build part ${name}; known: ${Object.keys(parts).join(" ")}`);
  await parts[name]();
}
console.log(`built: ${names.join(" ")}`);
