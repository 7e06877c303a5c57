#!/usr/bin/env node
// The `tributary` command: the compiled CLI when built (`npm run build`), else the TypeScript
// sources through tsx, so a fresh checkout works without a build step.
const { existsSync } = require('node:fs');
const path = require('node:path');

const compiled = path.join(__dirname, '..', 'dist', 'cli', 'main.js');
let cli;
if (existsSync(compiled)) {
  cli = require(compiled);
} else {
  require('tsx/cjs');
  cli = require(path.join(__dirname, '..', 'src', 'cli', 'main.ts'));
}
// main.ts runs itself only when it is the entry point; required from here, it is started here.
cli.runCli(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
