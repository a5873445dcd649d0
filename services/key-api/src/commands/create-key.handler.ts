import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { newId } from '@keyward/auth';
import type { KeywardCommand, KeyType } from '@keyward/domain';
import { CommandExecutor, type Executed } from '@keyward/event-log';
import { commitNewKeyVersion, KeyMaterialService } from '@keyward/keys';
import { CreateKeyCommand, RotateKeyCommand, type Origin } from './commands';
import { contextOf } from './decision-context';

/** Runs a command that introduces a key version, with fresh material (see commitNewKeyVersion). */
function withNewVersion(
  executor: CommandExecutor,
  materials: KeyMaterialService,
  tenantId: string,
  keyId: string,
  keyType: KeyType,
  build: (kcv: string) => KeywardCommand,
  origin: Origin,
): Promise<Executed> {
  return commitNewKeyVersion(executor, materials, { tenantId, keyId, keyType, command: build, context: contextOf(origin) });
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
