import type { Keystore } from './keystore';

/** Keystore entries to crypto-shred, as the domain's rule table (effectsOf) says a commit calls for. */
export type ShredOrder =
  { readonly shred: 'versions'; readonly keyId: string; readonly versions: readonly number[] } | { readonly shred: 'tenant' };

/** The check value of a committed key version, from the tenant's log (undefined: not known here). */
export type KcvOf = (keyId: string, version: number) => string | undefined;

/**
 * Crypto-shredding that a commit calls for: a destroyed key's material, an offboarded tenant's KEK
 * and material. Idempotent, so the writer and the projector may both run it. With `kcvOf` (the
 * writer has the tenant's log) a destroyed key's material is deleted by `_id`; without it, or when
 * a version's check value is unknown, by a query on the key.
 */
export async function shredCommitted(keystore: Keystore, tenantId: string, orders: readonly ShredOrder[], kcvOf?: KcvOf): Promise<number> {
  let shredded = 0;
  for (const order of orders) {
    if (order.shred === 'versions') {
      const { keyId, versions } = order;
      const known = versions.map((version) => ({ version, kcv: kcvOf?.(keyId, version) }));
      const byId = known.filter((v): v is { version: number; kcv: string } => v.kcv !== undefined);
      shredded +=
        byId.length === versions.length
          ? await keystore.shredVersions(tenantId, keyId, byId)
          : await keystore.shredKey(tenantId, keyId, versions);
    } else {
      shredded += await keystore.shredTenant(tenantId);
    }
  }
  return shredded;
}
