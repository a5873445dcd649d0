import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { ApprovalState, DirectCommand } from '@keyward/domain';
import { CommandExecutor, type Executed } from '@keyward/event-log';
import { gated, pendingOf } from './approval-gate';
import type { Caller } from '../platform/caller';
import { contextOf } from '../platform/decision-context';

export class ExecuteLifecycleCommand {
  constructor(
    readonly tenantId: string,
    readonly command: Exclude<
      DirectCommand,
      { kind: 'key.create' | 'key.rotate' | 'principal.create' | 'principal.revoke' | 'tenant.onboard' }
    >,
    readonly caller: Caller,
  ) {}
}

export type LifecycleOutcome = Executed & { readonly pendingApproval?: ApprovalState<DirectCommand> };

/** Every lifecycle command that needs nothing besides the decision itself; sensitive ones may wait for approval. */
@CommandHandler(ExecuteLifecycleCommand)
export class LifecycleHandler implements ICommandHandler<ExecuteLifecycleCommand, LifecycleOutcome> {
  constructor(private readonly executor: CommandExecutor) {}

  async execute({ tenantId, command, caller }: ExecuteLifecycleCommand): Promise<LifecycleOutcome> {
    const wrapped = await gated(command, this.executor);
    const executed = await this.executor.execute(tenantId, wrapped, contextOf(caller));
    const pendingApproval = pendingOf(executed);
    return pendingApproval ? { ...executed, pendingApproval } : executed;
  }
}
