import type { Keystore } from './keystore';

interface CommittedEvent {
  readonly type: string;
  readonly data: unknown;
}

/**
 * Crypto-shredding that a commit calls for: a destroyed key's material, an offboarded tenant's KEK
 * and material. Idempotent, so the writer and the projector may both run it.
 */
export async function shredCommitted(keystore: Keystore, tenantId: string, events: readonly CommittedEvent[]): Promise<number> {
  let shredded = 0;
  for (const event of events) {
    if (event.type === 'key.destroyed.v1') {
      const { keyId, versions } = event.data as { keyId: string; versions: readonly number[] };
      shredded += await keystore.shredKey(tenantId, keyId, versions);
    } else if (event.type === 'tenant.offboarded.v1') {
      shredded += await keystore.shredTenant(tenantId);
    }
  }
  return shredded;
}
