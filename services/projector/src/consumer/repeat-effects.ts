import type { CredentialStore } from '@keyward/auth';
import { shredCommitted, type Keystore } from '@keyward/crypto';
import { commitEffects } from '@keyward/domain';
import type { Commit } from '@keyward/event-log';

/** What repeating a commit's store effects changed: non-zero means the writer had left them undone. */
export interface Repeated {
  readonly shredded: number;
  readonly disabled: number;
}

/**
 * Repeats the writer's store effects of a stored commit (the domain's effectsOf): crypto-shredding
 * and disabling revoked principals' API keys. Both are idempotent, so a crash between a commit and
 * the writer's deletes (or disables) still ends with them done. Only for commits the store backs.
 */
export async function repeatStoreEffects(
  commit: Commit,
  keystore: Keystore,
  credentials: Pick<CredentialStore, 'disablePrincipal'>,
): Promise<Repeated> {
  const effects = commitEffects(commit.events);
  const shredded = await shredCommitted(keystore, commit.tenantId, effects.shred);
  let disabled = 0;
  for (const principalId of effects.disablePrincipals) disabled += await credentials.disablePrincipal(commit.tenantId, principalId);
  return { shredded, disabled };
}
