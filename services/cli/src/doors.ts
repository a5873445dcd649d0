import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from '@keyward/cli-kit';

/**
 * A command that belongs to another door and runs in its own process, from that door's compiled
 * entry (a service never imports another service's files): `keyward backup …` runs the backup
 * service's command line, `keyward replay` the projector's. Its output, input and exit code pass
 * through. (bin/keyward.mjs starts those entries itself, in its own process; this serves a run
 * of this program's entry without it.)
 */
export function forwarded(summary: string, service: string, entry: string): Command {
  // Compiled, this file is dist/services/cli/src/doors.js; the other doors sit beside it.
  const path = join(__dirname, '..', '..', service, 'src', `${entry}.js`);
  return {
    summary,
    invoke: (inv, args) => {
      if (!existsSync(path)) throw new Error(`${path} is missing: run "npm run build" in the Keyward folder first`);
      return new Promise<void>((resolve, reject) => {
        const child = spawn(process.execPath, [path, ...args], { stdio: 'inherit' });
        child.on('error', reject);
        child.on('exit', (code, signal) => {
          inv.exitCode = code ?? (signal === null ? 0 : 1);
          resolve();
        });
      });
    },
  };
}
