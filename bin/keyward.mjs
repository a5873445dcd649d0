#!/usr/bin/env node
// keyward: the command line for operators, administrators and auditors. A small dispatcher: each
// command lives in bin/commands/<command>.mjs; `keyward backup ...` is handed to bin/keyward-backup.mjs.
// Runs from a clone after `npm run build` (it uses dist/) or as the package's `keyward` bin.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { EX_USAGE, UsageError } from './commands/lib/cli.mjs';

const COMMANDS = {
  tenants: 'Tenants: list, show, onboard, suspend, resume, offboard (provider-admin); the own tenant and its policy',
  keys: 'Keys: list, show, create and every lifecycle step (tenant-admin; reads also key-user and auditor)',
  principals: 'Principals of the tenant: list, create (answers an enrollment token), reissue its token, revoke',
  enroll: 'Enrollment: keygen, redeem a one-time token for your own API key, open a wrapped key',
  approvals: 'Dual-control requests: list, show, approve, reject',
  audit: 'Compliance: events, verify, state at an instant, export (JSON Lines, CSV, HTML), checkpoints, usage',
  replay: 'Re-run every event of the log through the projections into a scratch database; compare with the live views',
  root: 'Root key: split it into Shamir shares, unseal a sealed key-api, show the seal status',
  backup: 'Backups (bin/keyward-backup.mjs)',
};

const backupCli = new URL('./keyward-backup.mjs', import.meta.url).pathname;

const HELP = `Usage: keyward <command> [options]

Commands:
${Object.entries(COMMANDS)
  .filter(([name]) => name !== 'backup' || existsSync(backupCli))
  .map(([name, summary]) => `  ${name.padEnd(12)}${summary}`)
  .join('\n')}

Commands that talk to key-api take --url, --api-key and --ca (or KEYWARD_URL, KEYWARD_API_KEY,
KEYWARD_CA; --cert/--cert-key or KEYWARD_CERT/KEYWARD_CERT_KEY for mutual TLS) and --json for
scripts. Exit codes: 0 done, 1 error or refused, 2 a check found a problem (audit verify, replay),
64 usage error.

Run "keyward <command> --help" for the verbs of a command, "keyward <command> <verb> --help" for
the options of a verb.`;

/** Runs bin/keyward-backup.mjs with the arguments after "backup", passing its exit code on. */
function forwardToBackup(args) {
  if (!existsSync(backupCli)) throw new UsageError('the backup commands are not installed (bin/keyward-backup.mjs is missing)');
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [backupCli, ...args], { stdio: 'inherit' });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      process.exitCode = code ?? (signal ? 1 : 0);
      resolvePromise();
    });
  });
}

async function main(argv) {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') return console.log(HELP);
  if (command === 'backup') return forwardToBackup(rest);
  if (!Object.hasOwn(COMMANDS, command)) throw new UsageError(`unknown command "${command}"`);
  const module = await import(`./commands/${command}.mjs`);
  return module.run(rest);
}

main(process.argv.slice(2)).catch((err) => {
  if (err instanceof UsageError) {
    console.error(`keyward: ${err.message}\nRun "keyward --help" for usage.`);
    process.exitCode = EX_USAGE;
  } else {
    console.error(`keyward: ${err.message}`);
    process.exitCode = 1;
  }
});
