import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { KeyType } from '@keyward/domain';
import { CommandExecutor, type Executed } from '@keyward/event-log';
import { KeyMaterialService } from '@keyward/keys';
import type { Caller } from '../platform/caller';
import { withNewVersion } from './new-key-version';

export class RotateKeyCommand {
  constructor(
    readonly tenantId: string,
    readonly keyId: string,
    readonly keyType: KeyType,
    readonly caller: Caller,
  ) {}
}

/** Adds a version with fresh material to a key (see withNewVersion). */
@CommandHandler(RotateKeyCommand)
export class RotateKeyHandler implements ICommandHandler<RotateKeyCommand, Executed> {
  constructor(
    private readonly executor: CommandExecutor,
    private readonly materials: KeyMaterialService,
  ) {}

  execute({ tenantId, keyId, keyType, caller }: RotateKeyCommand): Promise<Executed> {
    return withNewVersion(this.executor, this.materials, tenantId, keyId, keyType, (kcv) => ({ kind: 'key.rotate', keyId, kcv }), caller);
  }
}
