#!/usr/bin/env node
// keyward backup: take, list, verify and restore snapshots; also `keyward backup …`. Its code is
// services/backup/src/cli (TypeScript); this runs the compiled entry, so `npm run build` first.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';

const entry = new URL('../dist/services/backup/src/cli/main.js', import.meta.url).pathname;
if (!existsSync(entry)) {
  process.stderr.write(`keyward backup: ${entry} is missing: run "npm run build" in the Keyward folder first\n`);
  process.exit(1);
}
createRequire(import.meta.url)(entry);
