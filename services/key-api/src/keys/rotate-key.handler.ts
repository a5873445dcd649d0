import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { KeyType } from '@keyward/domain';
import { CommandExecutor, type Executed } from '@keyward/event-log';
import { KeyMaterialService } from '../crypto/key-material.service';
import type { Origin } from '../platform/caller';
import { withNewVersion } from './new-key-version';

export class RotateKeyCommand {
  constructor(
    readonly tenantId: string,
    readonly keyId: string,
    readonly keyType: KeyType,
    readonly origin: Origin,
  ) {}
}

/** Adds a version with fresh material to a key (see withNewVersion). */
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
