import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { ApiKeyAuthenticator, CredentialStore } from '@keyward/auth';
import { quorumFor, sensitiveOperation, type DirectCommand } from '@keyward/domain';
import { CommandExecutor } from '@keyward/event-log';
import { asProblem } from '../commands/domain-problem';
import { gated, pendingOf } from '../dual-control/approval-gate';
import type { Caller } from '../platform/caller';
import { contextOf } from '../platform/decision-context';
import type { PendingAnswer } from './create-principal.handler';

export class RevokePrincipalCommand {
  constructor(
    readonly tenantId: string,
    readonly principalId: string,
    readonly caller: Caller,
  ) {}
}

@CommandHandler(RevokePrincipalCommand)
export class RevokePrincipalHandler implements ICommandHandler<RevokePrincipalCommand, { seq: number }> {
  constructor(
    private readonly executor: CommandExecutor,
    private readonly credentials: CredentialStore,
    private readonly authenticator: ApiKeyAuthenticator,
  ) {}

  async execute({ tenantId, principalId, caller }: RevokePrincipalCommand): Promise<{ seq: number } | PendingAnswer> {
    const log = await this.executor.current(tenantId);
    const principal = log.principals.get(principalId);
    const revoke: DirectCommand = { kind: 'principal.revoke', principalId };
    const dualControlled = sensitiveOperation(revoke, log) !== undefined && quorumFor('principal.manage-admin', log) > 1;
    if (principal && principal.revokedAt === null && !dualControlled) {
      // Disable first: a crash before the event leaves the key unusable, never usable-but-revoked.
      await this.credentials.disablePrincipal(tenantId, principalId);
      this.authenticator.forgetPrincipal(principalId);
    }
    const command = await gated(revoke, this.executor);
    const executed = await asProblem(() => this.executor.execute(tenantId, command, contextOf(caller)));
    const pendingApproval = pendingOf(executed);
    return pendingApproval ? { seq: executed.seq, pendingApproval } : { seq: executed.seq };
  }
}
