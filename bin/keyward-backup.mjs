#!/usr/bin/env node
// keyward backup: take, list, verify and restore snapshots (issue 7). Standalone, and the target of
// `keyward backup …`. Runs from a clone after `npm run build`: the commands live in dist/services/backup.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const cli = new URL('../dist/services/backup/src/cli/backup-cli.js', import.meta.url).pathname;

if (!existsSync(cli)) {
  process.stderr.write('keyward backup: dist/ is missing or stale; run "npm run build" first\n');
  process.exit(1);
}

const { runBackupCli } = require(cli);
// `keyward backup now` arrives here as `now`; `node bin/keyward-backup.mjs backup now` works too.
const args = process.argv.slice(2);
const code = await runBackupCli(args[0] === 'backup' ? args.slice(1) : args);
process.exit(code);
