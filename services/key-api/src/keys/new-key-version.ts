import type { KeywardCommand, KeyType } from '@keyward/domain';
import type { CommandExecutor, Executed } from '@keyward/event-log';
import { commitNewKeyVersion, type KeyMaterialService } from '@keyward/keys';
import type { Caller } from '../platform/caller';
import { contextOf } from '../platform/decision-context';

/** Runs a command that introduces a key version, with fresh material (see commitNewKeyVersion). */
export function withNewVersion(
  executor: CommandExecutor,
  materials: KeyMaterialService,
  tenantId: string,
  keyId: string,
  keyType: KeyType,
  build: (kcv: string) => KeywardCommand,
  caller: Caller,
): Promise<Executed> {
  return commitNewKeyVersion(executor, materials, { tenantId, keyId, keyType, command: build, context: contextOf(caller) });
}
