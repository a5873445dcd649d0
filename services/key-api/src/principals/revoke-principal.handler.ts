import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { ApiKeyAuthenticator, CredentialStore } from '@keyward/auth';
import { effectsOf, needsApproval, type DirectCommand } from '@keyward/domain';
import { CommandExecutor } from '@keyward/event-log';
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
    if (principal && principal.revokedAt === null && !needsApproval(revoke, log)) {
      // Disable first (what the revocation will mean): a crash before the event leaves the key unusable, never usable-but-revoked.
      const effects = effectsOf({ type: 'principal.revoked.v1', data: { principalId } });
      for (const id of effects.disablePrincipals) await this.credentials.disablePrincipal(tenantId, id);
      for (const id of effects.forgetPrincipals) this.authenticator.forgetPrincipal(id);
    }
    const command = await gated(revoke, this.executor);
    const executed = await this.executor.execute(tenantId, command, contextOf(caller));
    const pendingApproval = pendingOf(executed);
    return pendingApproval ? { seq: executed.seq, pendingApproval } : { seq: executed.seq };
  }
}
