import { randomBytes } from 'node:crypto';
import {
  isAsymmetricKeyType,
  KEY_TYPES,
  type DecisionContext,
  type KeyType,
  type KeywardCommand,
  type KeywardEvent,
} from '@keyward/domain';
import { generatePrivateKey } from '@keyward/crypto';
import type { CommandExecutor, Executed } from '@keyward/event-log';
import type { KeyMaterialService } from './key-material.service';

/** What runs the command: the CommandExecutor, or a door's view of it (KMIP's per-message reads). */
export type CommandRunner = Pick<CommandExecutor, 'execute'>;

/** What the use case needs of the material service. */
export type MaterialStore = Pick<KeyMaterialService, 'checkValue' | 'storeNewMaterial'>;

/** A command that introduces a key version (key.create or key.rotate), and the material it gets. */
export interface NewKeyVersion {
  readonly tenantId: string;
  readonly keyId: string;
  readonly keyType: KeyType;
  /** The command, given the check value of the version's material. */
  readonly command: (kcv: string) => KeywardCommand;
  readonly context: DecisionContext;
  /** Caller-supplied material (an import); fresh CSPRNG material when absent. Zeroed whatever happens. */
  readonly material?: Buffer;
}

/** New material of a key type: a generated private key (PKCS#8 DER) for asymmetric types, CSPRNG bytes otherwise. */
const freshMaterial = (keyType: KeyType): Promise<Buffer> =>
  isAsymmetricKeyType(keyType) ? generatePrivateKey(keyType) : Promise.resolve(randomBytes(KEY_TYPES[keyType].materialBytes));

/** The key version a create or rotate commit introduces. */
function newVersionOf(events: readonly KeywardEvent[], keyId: string): { version: number; kcv: string } | undefined {
  for (const event of events) {
    if ((event.type === 'key.created.v1' || event.type === 'key.rotated.v1') && event.data.keyId === keyId) return event.data.version;
  }
  return undefined;
}

/**
 * Creates or rotates a key with its material, for every door (REST create/rotate, KMIP Create and
 * Register): the material is wrapped under the tenant KEK and stored in the keystore before the
 * commit that introduces it (so a committed version always has material); only its check value
 * enters the log (tenant-keyed for SECRET keys, the public key's digest for asymmetric ones: see
 * KeyMaterialService.checkValue). The plaintext
 * is zeroed whatever happens.
 */
export async function commitNewKeyVersion(executor: CommandRunner, materials: MaterialStore, request: NewKeyVersion): Promise<Executed> {
  const { tenantId, keyId, keyType } = request;
  const material = request.material ?? (await freshMaterial(keyType));
  try {
    const kcv = await materials.checkValue(tenantId, keyId, keyType, material);
    return await executor.execute(tenantId, request.command(kcv), request.context, async (events) => {
      const version = newVersionOf(events, keyId);
      if (version !== undefined) await materials.storeNewMaterial({ tenantId, keyId, version: version.version }, material, version.kcv);
    });
  } finally {
    material.fill(0);
  }
}
