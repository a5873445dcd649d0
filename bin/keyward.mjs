#!/usr/bin/env node
// keyward: the command line for operators, administrators and auditors. Its code is TypeScript,
// compiled to dist/ by `npm run build`: services/cli; `keyward backup …` is the backup service's own
// command line, run in this process (a caller that samples or stops this process reaches the
// command itself).
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';

const doors = { backup: 'services/backup/src/cli/main.js' };
const door = Object.hasOwn(doors, process.argv[2] ?? '') ? doors[process.argv[2]] : 'services/cli/src/main.js';
const entry = new URL(`../dist/${door}`, import.meta.url).pathname;
if (!existsSync(entry)) {
  process.stderr.write(`keyward: ${entry} is missing: run "npm run build" in the Keyward folder first\n`);
  process.exit(1);
}
createRequire(import.meta.url)(entry);
