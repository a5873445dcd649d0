import { Logger } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { newId } from '@keyward/auth';
import { Keystore } from '@keyward/crypto';
import { DomainError, type EnrollmentKey, type GrantMode } from '@keyward/domain';
import { CommandExecutor } from '@keyward/event-log';
import { KeyMaterialService } from '@keyward/keys';
import type { Enrollment } from '../enrollment/enrollment.service';
import { EnrollmentService } from '../enrollment/enrollment.service';
import type { Caller } from '../platform/caller';
import { contextOf } from '../platform/decision-context';

export class OnboardTenantCommand {
  constructor(
    readonly name: string,
    readonly firstAdminName: string,
    readonly caller: Caller,
    /** The first admin's public key: its API key is then wrapped under it at enrollment. */
    readonly adminEnrollmentKey?: EnrollmentKey,
    /** Whether key-users need grants (the domain's default, required, when absent). */
    readonly grants?: GrantMode,
  ) {}
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

  async execute({ name, firstAdminName, caller, adminEnrollmentKey, grants }: OnboardTenantCommand): Promise<OnboardedTenant> {
    const tenantId = newId('tnt');
    const principalId = newId('prn');
    // The tenant's own key-encrypting key exists before the tenant does (503 while sealed).
    await this.materials.ensureTenantKek(tenantId);
    const firstAdmin = { principalId, name: firstAdminName, ...(adminEnrollmentKey ? { enrollmentKey: adminEnrollmentKey } : {}) };
    const executed = await this.executor
      .execute(tenantId, { kind: 'tenant.onboard', tenantId, name, firstAdmin, ...(grants ? { grants } : {}) }, contextOf(caller))
      .catch(async (err: unknown) => {
        // Refused (bad name): the new KEK belongs to no tenant; leave no orphan behind.
        if (err instanceof DomainError) await this.keystore.shredTenant(tenantId).catch(() => undefined);
        throw err;
      });
    const issued = await this.enrollments.issue(tenantId, principalId, caller);
    this.logger.log(`onboarded tenant ${tenantId}`);
    return {
      seq: issued.seq,
      tenantId,
      name: executed.log.tenant?.name ?? name,
      admin: { principalId, name: firstAdminName, enrollment: issued.enrollment },
    };
  }
}
