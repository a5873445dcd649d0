#!/usr/bin/env node
// keyward: the command line for operators, administrators and auditors. Its code is services/cli
// (TypeScript); this runs the compiled entry, so `npm run build` first.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';

const entry = new URL('../dist/services/cli/src/main.js', import.meta.url).pathname;
if (!existsSync(entry)) {
  process.stderr.write(`keyward: ${entry} is missing: run "npm run build" in the Keyward folder first\n`);
  process.exit(1);
}
createRequire(import.meta.url)(entry);
