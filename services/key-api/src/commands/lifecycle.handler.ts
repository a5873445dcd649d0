import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { ApprovalState, DirectCommand } from '@keyward/domain';
import { CommandExecutor, type Executed } from '@keyward/event-log';
import { gated, pendingOf } from './approvals';
import { ExecuteLifecycleCommand } from './commands';
import { contextOf } from './decision-context';

export type LifecycleOutcome = Executed & { readonly pendingApproval?: ApprovalState<DirectCommand> };

/** Every lifecycle command that needs nothing besides the decision itself; sensitive ones may wait for approval. */
@CommandHandler(ExecuteLifecycleCommand)
export class LifecycleHandler implements ICommandHandler<ExecuteLifecycleCommand, LifecycleOutcome> {
  constructor(private readonly executor: CommandExecutor) {}

  async execute({ tenantId, command, origin }: ExecuteLifecycleCommand): Promise<LifecycleOutcome> {
    const wrapped = await gated(command, this.executor);
    const executed = await this.executor.execute(tenantId, wrapped, contextOf(origin));
    const pendingApproval = pendingOf(executed);
    return pendingApproval ? { ...executed, pendingApproval } : executed;
  }
}
