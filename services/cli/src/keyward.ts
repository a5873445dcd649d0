// keyward: the command line for operators, administrators and auditors. One group per command
// (commands/), each talking to key-api, and `replay` (Kafka and MongoDB directly); `backup` runs the
// backup service's own command line.
import { defineGroup, lazyCommand, type Command } from '@keyward/cli-kit';
import { approvals } from './commands/approvals';
import { dataKey, decrypt, encrypt, mac, rewrap, verifyMac } from './commands/data-plane';
import { enroll } from './commands/enroll';
import { grants } from './commands/grants';
import { keys } from './commands/keys';
import { principals } from './commands/principals';
import { AUDIT_SUMMARY, REPLAY_SUMMARY, ROOT_SUMMARY } from './commands/summaries';
import { tenants } from './commands/tenants';
import { forwarded } from './doors';

const commands: Readonly<Record<string, Command>> = {
  tenants,
  keys,
  principals,
  grants,
  enroll,
  approvals,
  // Loaded when they run: they bring the event log's, Kafka's, MongoDB's and the key hierarchy's code.
  audit: lazyCommand(AUDIT_SUMMARY, async () => (await import('./commands/audit')).audit),
  replay: lazyCommand(REPLAY_SUMMARY, async () => (await import('./commands/replay')).replay),
  root: lazyCommand(ROOT_SUMMARY, async () => (await import('./commands/root')).root),
  encrypt,
  decrypt,
  'data-key': dataKey,
  rewrap,
  mac,
  'verify-mac': verifyMac,
  backup: forwarded('Backups: take, list, verify and restore snapshots', 'backup', 'cli/main'),
};

const help = (path: string): string => `Usage: ${path} <command> [options]

Commands:
${Object.entries(commands)
  .map(([name, command]) => `  ${name.padEnd(12)}${command.summary}`)
  .join('\n')}

Commands that talk to key-api take --url, --api-key and --ca (or KEYWARD_URL, KEYWARD_API_KEY,
KEYWARD_CA; --cert/--cert-key or KEYWARD_CERT/KEYWARD_CERT_KEY for mutual TLS) and --json for
scripts. encrypt, decrypt, rewrap and mac read --in or standard input and write --out or standard
output, bytes as they are (no base64 to handle). Exit codes: 0 done, 1 error or refused, 2 a check
found a problem (audit verify, replay, verify-mac), 64 usage error, 78 invalid configuration.

Run "${path} <command> --help" for the verbs of a command, "${path} <command> <verb> --help" for
the options of a verb.`;

export const keyward = defineGroup({ summary: 'The Keyward command line', commands, help });
