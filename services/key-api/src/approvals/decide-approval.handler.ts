import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { ApiKeyAuthenticator, CredentialStore } from '@keyward/auth';
import { commitEffects, type ApprovalState, type DirectCommand, type KeywardEvent } from '@keyward/domain';
import { CommandExecutor } from '@keyward/event-log';
import type { Enrollment } from '../enrollment/enrollment.service';
import { EnrollmentService } from '../enrollment/enrollment.service';
import type { Caller } from '../platform/caller';
import { contextOf } from '../platform/decision-context';

export class DecideApprovalCommand {
  constructor(
    readonly tenantId: string,
    readonly approvalId: string,
    readonly decision: 'approve' | 'reject',
    readonly reason: string | undefined,
    readonly caller: Caller,
  ) {}
}

export interface ApprovalDecided {
  readonly seq: number;
  readonly approval: ApprovalState<DirectCommand>;
  /**
   * When the approval created a principal: its enrollment token, answered once to the approver who
   * completed the quorum (never its API key: only the new principal receives that, by redeeming the token).
   */
  readonly issued?: { readonly principalId: string; readonly enrollment: Enrollment };
}

/** Approves or rejects a pending request; at quorum the request's command executes in the same commit. */
@CommandHandler(DecideApprovalCommand)
export class DecideApprovalHandler implements ICommandHandler<DecideApprovalCommand, ApprovalDecided> {
  constructor(
    private readonly executor: CommandExecutor,
    private readonly credentials: CredentialStore,
    private readonly authenticator: ApiKeyAuthenticator,
    private readonly enrollments: EnrollmentService,
  ) {}

  async execute({ tenantId, approvalId, decision, reason, caller }: DecideApprovalCommand): Promise<ApprovalDecided> {
    const command =
      decision === 'approve'
        ? ({ kind: 'approval.approve', approvalId } as const)
        : ({ kind: 'approval.reject', approvalId, ...(reason === undefined ? {} : { reason }) } as const);
    const executed = await this.executor.execute(tenantId, command, contextOf(caller));
    const approval = executed.log.approvals.get(approvalId);
    if (!approval) throw new Error(`approval ${approvalId} vanished after its decision`);
    const issued = await this.afterExecution(tenantId, executed.events, caller);
    return { seq: executed.seq, approval, ...(issued ? { issued } : {}) };
  }

  /** Side effects of an executed principal command: the credential store follows the log. */
  private async afterExecution(tenantId: string, events: readonly KeywardEvent[], caller: Caller): Promise<ApprovalDecided['issued']> {
    let issued: ApprovalDecided['issued'];
    for (const event of events) {
      if (event.type === 'principal.created.v1') {
        const { principalId } = event.data;
        issued = { principalId, enrollment: (await this.enrollments.issue(tenantId, principalId, caller)).enrollment };
      }
    }
    const effects = commitEffects(events);
    for (const principalId of effects.disablePrincipals) await this.credentials.disablePrincipal(tenantId, principalId);
    for (const principalId of effects.forgetPrincipals) this.authenticator.forgetPrincipal(principalId);
    return issued;
  }
}
