import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { newId } from '@keyward/auth';
import type { KeyCommand, KeyType } from '@keyward/domain';
import { CommandExecutor, type Executed } from '@keyward/event-log';
import { KeyMaterialService } from '@keyward/keys';
import type { Caller } from '../platform/caller';
import { withNewVersion } from './new-key-version';

export type CreateKeyRequest = Omit<Extract<KeyCommand, { kind: 'key.create' }>, 'kind' | 'keyId' | 'kcv'>;

export class CreateKeyCommand {
  constructor(
    readonly tenantId: string,
    readonly request: CreateKeyRequest & { readonly keyType: KeyType },
    readonly caller: Caller,
  ) {}
}

/** Creates a key with its first version's material (see withNewVersion). */
@CommandHandler(CreateKeyCommand)
export class CreateKeyHandler implements ICommandHandler<CreateKeyCommand, Executed & { keyId: string }> {
  constructor(
    private readonly executor: CommandExecutor,
    private readonly materials: KeyMaterialService,
  ) {}

  async execute({ tenantId, request, caller }: CreateKeyCommand): Promise<Executed & { keyId: string }> {
    const keyId = newId('key');
    const executed = await withNewVersion(
      this.executor,
      this.materials,
      tenantId,
      keyId,
      request.keyType,
      (kcv) => ({ kind: 'key.create', keyId, kcv, ...request }),
      caller,
    );
    return { ...executed, keyId };
  }
}
