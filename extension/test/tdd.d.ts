// The mocha "tdd" interface, as far as these tests use it. Inside code-server the runner in
// suite/index.ts defines these globals; under @vscode/test-cli mocha does (ui: "tdd").
declare function suite(name: string, fn: () => void): void;
declare function test(name: string, fn: () => unknown): void;
declare function suiteSetup(fn: () => unknown): void;
declare function suiteTeardown(fn: () => unknown): void;
