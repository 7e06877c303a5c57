#!/usr/bin/env node
// The `tributary` command: the compiled CLI when built (`npm run build`), else the TypeScript
// sources through tsx, so a fresh checkout works without a build step.
const { existsSync } = require('node:fs');
const path = require('node:path');

const compiled = path.join(__dirname, '..', 'dist', 'cli', 'main.js');
if (existsSync(compiled)) {
  require(compiled);
} else {
  require('tsx/cjs');
  require(path.join(__dirname, '..', 'src', 'cli', 'main.ts'));
}
