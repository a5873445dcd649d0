import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { issueClientCertificate } from '@keyward/crypto';
import type { KeywardStack } from '../support/keyward-stack';

/**
 * A new principal of `role` with a client certificate naming it (CN=<principal>, O=<tenant>, from the
 * stack's development CA) whose fingerprint is bound to it (KMIP authenticates only by the bound
 * certificate); answers the certificate and key files, written to a temporary folder.
 */
export async function boundCertificate(stack: KeywardStack, adminKey: string, tenantId: string, role: string): Promise<[string, string]> {
  const { principalId } = await stack.principalWithId(adminKey, role);
  const issued = await issueClientCertificate({
    subject: `CN=${principalId}, O=${tenantId}`,
    days: 1,
    ca: { dir: join(stack.dataDir, 'tls') },
  });
  const bound = await stack.call(adminKey, 'PUT', `/v1/principals/${principalId}/certificate`, { fingerprint: issued.fingerprint });
  if (bound.status !== 200) throw new Error(`binding ${principalId}: ${bound.status} ${bound.body}`);
  const dir = mkdtempSync(join(tmpdir(), 'kw-kmip-cert-'));
  const files: [string, string] = [join(dir, `${role}.crt`), join(dir, `${role}.key`)];
  writeFileSync(files[0], issued.certPem);
  writeFileSync(files[1], issued.keyPem, { mode: 0o600 });
  return files;
}
