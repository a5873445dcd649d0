import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { ClientCertificate } from '../../support/service-process';

const run = promisify(execFile);
const repoRoot = join(__dirname, '..', '..', '..');

export interface IssuedCert extends ClientCertificate {
  readonly cert: string;
  readonly key: string;
  readonly fingerprint: string;
  readonly subject: string;
}

/**
 * Issues a client certificate with the shipped CLI (`npm run cert:issue`), from the development
 * CA under `dataDir`/tls (the one key-api trusts by default) or from another data folder's CA.
 */
export async function issueClientCert(opts: {
  dataDir: string;
  out: string;
  cn?: string;
  subject?: string;
  days?: number;
}): Promise<IssuedCert> {
  const args = [
    join(repoRoot, 'scripts', 'issue-client-cert.mjs'),
    ...(opts.cn === undefined ? [] : ['--cn', opts.cn]),
    ...(opts.subject === undefined ? [] : ['--subject', opts.subject]),
    '--out',
    opts.out,
    '--data-dir',
    opts.dataDir,
    '--json',
    ...(opts.days === undefined ? [] : ['--days', String(opts.days)]),
  ];
  const { stdout } = await run(process.execPath, args, { cwd: repoRoot, timeout: 30_000 });
  const summary = JSON.parse(stdout.trim()) as { cert: string; key: string; fingerprint: string; subject: string };
  return {
    cert: readFileSync(summary.cert, 'utf8'),
    key: readFileSync(summary.key, 'utf8'),
    fingerprint: summary.fingerprint,
    subject: summary.subject,
  };
}
