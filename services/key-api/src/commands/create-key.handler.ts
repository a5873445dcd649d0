import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { newId } from '@keyward/auth';
import { withFreshMaterial } from '@keyward/crypto';
import { KEY_TYPES } from '@keyward/domain';
import { CommandExecutor, type Executed } from '@keyward/event-log';
import { CreateKeyCommand, RotateKeyCommand } from './commands';
import { contextOf } from './decision-context';
import { asProblem } from './domain-problem';

/** Creates a key: fresh material from the CSPRNG; only its check value enters the log. */
@CommandHandler(CreateKeyCommand)
export class CreateKeyHandler implements ICommandHandler<CreateKeyCommand, Executed & { keyId: string }> {
  constructor(private readonly executor: CommandExecutor) {}

  async execute({ tenantId, request, origin }: CreateKeyCommand): Promise<Executed & { keyId: string }> {
    const keyId = newId('key');
    const { kcv } = await withFreshMaterial(KEY_TYPES[request.keyType].materialBytes, () => undefined);
    const executed = await asProblem(() =>
      this.executor.execute(tenantId, { kind: 'key.create', keyId, kcv, ...request }, contextOf(origin)),
    );
    return { ...executed, keyId };
  }
}

/** Rotates a key: a new version with fresh material. */
@CommandHandler(RotateKeyCommand)
export class RotateKeyHandler implements ICommandHandler<RotateKeyCommand, Executed> {
  constructor(private readonly executor: CommandExecutor) {}

  async execute({ tenantId, keyId, keyType, origin }: RotateKeyCommand): Promise<Executed> {
    const { kcv } = await withFreshMaterial(KEY_TYPES[keyType].materialBytes, () => undefined);
    return asProblem(() => this.executor.execute(tenantId, { kind: 'key.rotate', keyId, kcv }, contextOf(origin)));
  }
}
