import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { newId } from '@keyward/auth';
import type { EnrollmentKey, Role, TenantRole } from '@keyward/domain';
import { CommandExecutor } from '@keyward/event-log';
import { gated, pendingOf, type PendingApproval } from '../dual-control/approval-gate';
import type { Enrollment } from '../enrollment/enrollment.service';
import { EnrollmentService } from '../enrollment/enrollment.service';
import type { Caller } from '../platform/caller';
import { contextOf } from '../platform/decision-context';

export class CreatePrincipalCommand {
  constructor(
    readonly tenantId: string,
    readonly name: string,
    readonly role: TenantRole | 'provider-admin',
    readonly caller: Caller,
    readonly enrollmentKey?: EnrollmentKey,
  ) {}
}

export interface IssuedPrincipal {
  readonly seq: number;
  readonly principalId: string;
  readonly name: string;
  readonly role: Role;
  /** Not a credential: the new principal redeems it itself for its API key (nobody else ever sees that key). */
  readonly enrollment: Enrollment;
}

@CommandHandler(CreatePrincipalCommand)
export class CreatePrincipalHandler implements ICommandHandler<CreatePrincipalCommand, IssuedPrincipal | PendingAnswer> {
  constructor(
    private readonly executor: CommandExecutor,
    private readonly enrollments: EnrollmentService,
  ) {}

  async execute({ tenantId, name, role, caller, enrollmentKey }: CreatePrincipalCommand): Promise<IssuedPrincipal | PendingAnswer> {
    const principalId = newId('prn');
    const command = await gated(
      { kind: 'principal.create', principalId, name, role, ...(enrollmentKey ? { enrollmentKey } : {}) },
      this.executor,
    );
    const executed = await this.executor.execute(tenantId, command, contextOf(caller));
    const pendingApproval = pendingOf(executed);
    // A new administrator under dual control: the approver who completes the quorum receives its enrollment token.
    if (pendingApproval) return { seq: executed.seq, pendingApproval };
    // No API key exists until the new principal redeems the token itself.
    const issued = await this.enrollments.issue(tenantId, principalId, caller);
    return { seq: issued.seq, principalId, name, role, enrollment: issued.enrollment };
  }
}

export interface PendingAnswer extends PendingApproval {
  readonly seq: number;
}
