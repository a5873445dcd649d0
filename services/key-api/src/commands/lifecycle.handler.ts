import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { CommandExecutor, type Executed } from '@keyward/event-log';
import { ExecuteLifecycleCommand } from './commands';
import { contextOf } from './decision-context';
import { asProblem } from './domain-problem';

/** Every lifecycle command that needs nothing besides the decision itself. */
@CommandHandler(ExecuteLifecycleCommand)
export class LifecycleHandler implements ICommandHandler<ExecuteLifecycleCommand, Executed> {
  constructor(private readonly executor: CommandExecutor) {}

  execute({ tenantId, command, origin }: ExecuteLifecycleCommand): Promise<Executed> {
    return asProblem(() => this.executor.execute(tenantId, command, contextOf(origin)));
  }
}
