import { randomBytes } from 'node:crypto';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { newId } from '@keyward/auth';
import { KEY_TYPES, type KeywardCommand, type KeywardEvent, type KeyType } from '@keyward/domain';
import { CommandExecutor, type Executed } from '@keyward/event-log';
import { KeyMaterialService } from '@keyward/keys';
import { CreateKeyCommand, RotateKeyCommand, type Origin } from './commands';
import { contextOf } from './decision-context';
import { asProblem } from './domain-problem';

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
async function withNewVersion(
  executor: CommandExecutor,
  materials: KeyMaterialService,
  tenantId: string,
  keyId: string,
  keyType: KeyType,
  build: (kcv: string) => KeywardCommand,
  origin: Origin,
): Promise<Executed> {
  const material = randomBytes(KEY_TYPES[keyType].materialBytes);
  try {
    const kcv = await materials.checkValue(tenantId, keyId, keyType, material);
    return await asProblem(() =>
      executor.execute(tenantId, build(kcv), contextOf(origin), async (events) => {
        const version = newVersionOf(events, keyId);
        if (version !== undefined) await materials.storeNewMaterial({ tenantId, keyId, version: version.version }, material, version.kcv);
      }),
    );
  } finally {
    material.fill(0);
  }
}

@CommandHandler(CreateKeyCommand)
export class CreateKeyHandler implements ICommandHandler<CreateKeyCommand, Executed & { keyId: string }> {
  constructor(
    private readonly executor: CommandExecutor,
    private readonly materials: KeyMaterialService,
  ) {}

  async execute({ tenantId, request, origin }: CreateKeyCommand): Promise<Executed & { keyId: string }> {
    const keyId = newId('key');
    const executed = await withNewVersion(
      this.executor,
      this.materials,
      tenantId,
      keyId,
      request.keyType,
      (kcv) => ({ kind: 'key.create', keyId, kcv, ...request }),
      origin,
    );
    return { ...executed, keyId };
  }
}

@CommandHandler(RotateKeyCommand)
export class RotateKeyHandler implements ICommandHandler<RotateKeyCommand, Executed> {
  constructor(
    private readonly executor: CommandExecutor,
    private readonly materials: KeyMaterialService,
  ) {}

  execute({ tenantId, keyId, keyType, origin }: RotateKeyCommand): Promise<Executed> {
    return withNewVersion(this.executor, this.materials, tenantId, keyId, keyType, (kcv) => ({ kind: 'key.rotate', keyId, kcv }), origin);
  }
}
