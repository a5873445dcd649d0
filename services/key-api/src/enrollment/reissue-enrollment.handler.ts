import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { CommandExecutor } from '@keyward/event-log';
import { ProblemError } from '@keyward/platform';
import type { Caller } from '../platform/caller';
import { parseEnrollmentPublicKey } from './enrollment-key';
import { EnrollmentService, type EnrollmentIssue } from './enrollment.service';

/**
 * A new enrollment token for a principal that never enrolled. `tenantId` names another tenant's log
 * (provider-admins, for that tenant's tenant-admins); other callers reissue in their own tenant.
 */
export class ReissueEnrollmentCommand {
  constructor(
    readonly principalId: string,
    readonly tenantId: string | undefined,
    readonly caller: Caller,
    /** PEM public key the API key is to be wrapped under at enrollment (checked after the principal). */
    readonly publicKey?: string,
  ) {}
}

export type ReissuedEnrollment = EnrollmentIssue & { principalId: string };

@CommandHandler(ReissueEnrollmentCommand)
export class ReissueEnrollmentHandler implements ICommandHandler<ReissueEnrollmentCommand, ReissuedEnrollment> {
  constructor(
    private readonly enrollments: EnrollmentService,
    private readonly executor: CommandExecutor,
  ) {}

  async execute({ principalId: id, tenantId, caller, publicKey }: ReissueEnrollmentCommand): Promise<ReissuedEnrollment> {
    const logId = tenantId !== undefined && caller.principal.role === 'provider-admin' ? tenantId : caller.principal.tenantId;
    if (logId !== caller.principal.tenantId) {
      const target = (await this.executor.current(logId)).principals.get(id);
      if (target?.role !== 'tenant-admin') {
        throw new ProblemError(404, 'not-found', 'Not found', `no tenant-admin ${id} in tenant ${logId}`);
      }
    }
    const key = publicKey === undefined ? undefined : parseEnrollmentPublicKey(publicKey);
    return { principalId: id, ...(await this.enrollments.issue(logId, id, caller, key)) };
  }
}
