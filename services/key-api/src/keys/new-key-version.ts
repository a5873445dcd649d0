import { randomBytes } from 'node:crypto';
import { KEY_TYPES, type KeywardCommand, type KeywardEvent, type KeyType } from '@keyward/domain';
import type { CommandExecutor, Executed } from '@keyward/event-log';
import type { KeyMaterialService } from '../crypto/key-material.service';
import { asProblem } from '../commands/domain-problem';
import type { Caller } from '../platform/caller';
import { contextOf } from '../platform/decision-context';

/** The key version a create or rotate commit introduces. */
function newVersionOf(events: readonly KeywardEvent[], keyId: string): { version: number; kcv: string } | undefined {
  for (const event of events) {
    if ((event.type === 'key.created.v1' || event.type === 'key.rotated.v1') && event.data.keyId === keyId) return event.data.version;
  }
  return undefined;
}

/**
 * Runs a command that introduces a key version: fresh material from the CSPRNG, wrapped under the
 * tenant KEK and stored in the keystore before the commit (so a committed version always has
 * material); only its check value enters the log (tenant-keyed for SECRET keys: see
 * KeyMaterialService.checkValue). The plaintext is zeroed whatever happens.
 */
export async function withNewVersion(
  executor: CommandExecutor,
  materials: KeyMaterialService,
  tenantId: string,
  keyId: string,
  keyType: KeyType,
  build: (kcv: string) => KeywardCommand,
  caller: Caller,
): Promise<Executed> {
  const material = randomBytes(KEY_TYPES[keyType].materialBytes);
  try {
    const kcv = await materials.checkValue(tenantId, keyId, keyType, material);
    return await asProblem(() =>
      executor.execute(tenantId, build(kcv), contextOf(caller), async (events) => {
        const version = newVersionOf(events, keyId);
        if (version !== undefined) await materials.storeNewMaterial({ tenantId, keyId, version: version.version }, material, version.kcv);
      }),
    );
  } finally {
    material.fill(0);
  }
}
