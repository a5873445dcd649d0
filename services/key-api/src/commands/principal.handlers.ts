import { Logger } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { ApiKeyAuthenticator, CredentialStore, newId } from '@keyward/auth';
import { DomainError, quorumFor, sensitiveOperation, type DirectCommand, type Role } from '@keyward/domain';
import type { Enrollment } from '../enrollment/enrollment.service';
import { EnrollmentService } from '../enrollment/enrollment.service';
import { Keystore } from '@keyward/crypto';
import { CommandExecutor } from '@keyward/event-log';
import { KeyMaterialService } from '@keyward/keys';
import { gated, pendingOf, type PendingApproval } from './approvals';
import { CreatePrincipalCommand, OnboardTenantCommand, RevokePrincipalCommand } from './commands';
import { contextOf } from './decision-context';

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

  async execute({ tenantId, name, role, origin, enrollmentKey }: CreatePrincipalCommand): Promise<IssuedPrincipal | PendingAnswer> {
    const principalId = newId('prn');
    const command = await gated(
      { kind: 'principal.create', principalId, name, role, ...(enrollmentKey ? { enrollmentKey } : {}) },
      this.executor,
    );
    const executed = await this.executor.execute(tenantId, command, contextOf(origin));
    const pendingApproval = pendingOf(executed);
    // A new administrator under dual control: the approver who completes the quorum receives its enrollment token.
    if (pendingApproval) return { seq: executed.seq, pendingApproval };
    // No API key exists until the new principal redeems the token itself.
    const issued = await this.enrollments.issue(tenantId, principalId, origin);
    return { seq: issued.seq, principalId, name, role, enrollment: issued.enrollment };
  }
}

export interface PendingAnswer extends PendingApproval {
  readonly seq: number;
}

@CommandHandler(RevokePrincipalCommand)
export class RevokePrincipalHandler implements ICommandHandler<RevokePrincipalCommand, { seq: number }> {
  constructor(
    private readonly executor: CommandExecutor,
    private readonly credentials: CredentialStore,
    private readonly authenticator: ApiKeyAuthenticator,
  ) {}

  async execute({ tenantId, principalId, origin }: RevokePrincipalCommand): Promise<{ seq: number } | PendingAnswer> {
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
    const executed = await this.executor.execute(tenantId, command, contextOf(origin));
    const pendingApproval = pendingOf(executed);
    return pendingApproval ? { seq: executed.seq, pendingApproval } : { seq: executed.seq };
  }
}

export interface OnboardedTenant {
  readonly seq: number;
  readonly tenantId: string;
  readonly name: string;
  /** The first tenant-admin enrolls itself with this token: the provider never sees its API key. */
  readonly admin: { readonly principalId: string; readonly name: string; readonly enrollment: Enrollment };
}

@CommandHandler(OnboardTenantCommand)
export class OnboardTenantHandler implements ICommandHandler<OnboardTenantCommand, OnboardedTenant> {
  private readonly logger = new Logger('onboarding');

  constructor(
    private readonly executor: CommandExecutor,
    private readonly enrollments: EnrollmentService,
    private readonly materials: KeyMaterialService,
    private readonly keystore: Keystore,
  ) {}

  async execute({ name, firstAdminName, origin, adminEnrollmentKey }: OnboardTenantCommand): Promise<OnboardedTenant> {
    const tenantId = newId('tnt');
    const principalId = newId('prn');
    // The tenant's own key-encrypting key exists before the tenant does (503 while sealed).
    await this.materials.ensureTenantKek(tenantId);
    const firstAdmin = { principalId, name: firstAdminName, ...(adminEnrollmentKey ? { enrollmentKey: adminEnrollmentKey } : {}) };
    const executed = await this.executor
      .execute(tenantId, { kind: 'tenant.onboard', tenantId, name, firstAdmin }, contextOf(origin))
      .catch(async (err: unknown) => {
        // Refused (bad name): the new KEK belongs to no tenant; leave no orphan behind.
        if (err instanceof DomainError) await this.keystore.shredTenant(tenantId).catch(() => undefined);
        throw err;
      });
    const issued = await this.enrollments.issue(tenantId, principalId, origin);
    this.logger.log(`onboarded tenant ${tenantId}`);
    return {
      seq: issued.seq,
      tenantId,
      name: executed.log.tenant?.name ?? name,
      admin: { principalId, name: firstAdminName, enrollment: issued.enrollment },
    };
  }
}
