import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { KeywardCommand } from '@keyward/domain';
import { CommandExecutor, type Executed } from '@keyward/event-log';

const SYSTEM_ACTOR = { principalId: 'system:scheduler', role: 'tenant-admin' } as const;

/** A lifecycle change the server promised for a date (see LifecycleScheduler), applied by the system as of `now`. */
export class ApplyDueChangeCommand {
  constructor(
    readonly tenantId: string,
    readonly command: Extract<KeywardCommand, { kind: 'key.destroy' | 'key.deactivate' | 'key.activate' }>,
    readonly now: Date,
    readonly correlationId: string,
  ) {}
}

/** Decides the change against the log like any command; a refusal is the DomainError itself (the scheduler reads it). */
@CommandHandler(ApplyDueChangeCommand)
export class ApplyDueChangeHandler implements ICommandHandler<ApplyDueChangeCommand, Executed> {
  constructor(private readonly executor: CommandExecutor) {}

  execute({ tenantId, command, now, correlationId }: ApplyDueChangeCommand): Promise<Executed> {
    return this.executor.execute(tenantId, command, { now, actor: SYSTEM_ACTOR, correlationId });
  }
}
