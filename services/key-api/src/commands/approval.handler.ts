import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { ApiKeyAuthenticator, CredentialStore } from '@keyward/auth';
import type { ApprovalState, DirectCommand, KeywardEvent } from '@keyward/domain';
import { CommandExecutor } from '@keyward/event-log';
import type { Enrollment } from '../enrollment/enrollment.service';
import { EnrollmentService } from '../enrollment/enrollment.service';
import { DecideApprovalCommand, type Origin } from './commands';
import { contextOf } from './decision-context';

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

  async execute({ tenantId, approvalId, decision, reason, origin }: DecideApprovalCommand): Promise<ApprovalDecided> {
    const command =
      decision === 'approve'
        ? ({ kind: 'approval.approve', approvalId } as const)
        : ({ kind: 'approval.reject', approvalId, ...(reason === undefined ? {} : { reason }) } as const);
    const executed = await this.executor.execute(tenantId, command, contextOf(origin));
    const approval = executed.log.approvals.get(approvalId);
    if (!approval) throw new Error(`approval ${approvalId} vanished after its decision`);
    const issued = await this.afterExecution(tenantId, executed.events, origin);
    return { seq: executed.seq, approval, ...(issued ? { issued } : {}) };
  }

  /** Side effects of an executed principal command: the credential store follows the log. */
  private async afterExecution(tenantId: string, events: readonly KeywardEvent[], origin: Origin): Promise<ApprovalDecided['issued']> {
    let issued: ApprovalDecided['issued'];
    for (const event of events) {
      if (event.type === 'principal.created.v1') {
        const { principalId } = event.data;
        issued = { principalId, enrollment: (await this.enrollments.issue(tenantId, principalId, origin)).enrollment };
      } else if (event.type === 'principal.revoked.v1') {
        await this.credentials.disablePrincipal(tenantId, event.data.principalId);
        this.authenticator.forgetPrincipal(event.data.principalId);
      }
    }
    return issued;
  }
}
