import { Injectable, Logger } from '@nestjs/common';
import type { CertificateBinding } from '@keyward/auth';
import type { ApprovalState, DirectCommand, PrincipalCertificate } from '@keyward/domain';
import { CommandExecutor } from '@keyward/event-log';
import { ProblemError } from '@keyward/platform';
import { gated, pendingOf } from '../commands/approvals';
import type { Origin } from '../commands/commands';
import { contextOf } from '../commands/decision-context';
import { KeyStateSource } from '@keyward/keys';

export interface CertificateBindingAnswer {
  readonly seq: number;
  readonly principalId: string;
  readonly certificate: CertificateBinding | null;
}

export interface PendingBindingAnswer {
  readonly seq: number;
  readonly pendingApproval: ApprovalState<DirectCommand>;
}

/**
 * Binds a principal's API keys to a client certificate, as `principal.certificate-bound.v1` /
 * `principal.certificate-unbound.v1` events of the tenant's log: an administrator's binding is
 * `principal.manage-admin` under the tenant's dual-control policy (the answer is then a pending
 * approval). Authentication reads the binding from the same log: at once on this instance, within
 * the stream's delay (at most CRYPTO_STATE_TTL_MS) on the others.
 */
@Injectable()
export class CertificateBindings {
  private readonly logger = new Logger('certificate-binding');

  constructor(
    private readonly executor: CommandExecutor,
    private readonly states: KeyStateSource,
  ) {}

  async bind(
    principalId: string,
    wanted: { fingerprint?: string; subject?: string } | null,
    origin: Origin,
  ): Promise<CertificateBindingAnswer | PendingBindingAnswer> {
    const tenantId = origin.principal.tenantId;
    const command: DirectCommand = wanted
      ? {
          kind: 'principal.bind-certificate',
          principalId,
          ...(wanted.fingerprint === undefined ? {} : { fingerprint: wanted.fingerprint }),
          ...(wanted.subject === undefined ? {} : { subject: wanted.subject }),
        }
      : { kind: 'principal.unbind-certificate', principalId };
    const executed = await this.executor.execute(tenantId, await gated(command, this.executor), contextOf(origin));
    const pendingApproval = pendingOf(executed);
    if (pendingApproval) return { seq: executed.seq, pendingApproval };
    const binding = executed.log.certificates.get(principalId);
    this.logger.log(
      {
        tenant: tenantId,
        principal: principalId,
        by: origin.principal.principalId,
        requestId: origin.requestId,
        fingerprint: binding?.fingerprint,
        subject: binding?.subject,
      },
      binding ? 'principal bound to a client certificate' : 'principal unbound from its client certificate',
    );
    return { seq: executed.seq, principalId, certificate: binding ?? null };
  }

  /**
   * The certificate a principal is bound to, from its tenant's log (undefined: none): this
   * process's copy kept fresh by the event stream, or with `fresh` as the store says now (one read;
   * for releasing key material). A log that cannot be read refuses the request (503): a binding is
   * never skipped because it could not be read.
   */
  async bindingOf(tenantId: string, principalId: string, fresh = false): Promise<PrincipalCertificate | undefined> {
    try {
      const log = fresh ? await this.executor.current(tenantId) : await this.states.log(tenantId);
      return log.certificates.get(principalId);
    } catch (err: unknown) {
      this.logger.error(`cannot read the certificate binding of ${principalId}: ${err instanceof Error ? err.message : String(err)}`);
      throw new ProblemError(
        503,
        'unavailable',
        'Service unavailable',
        'authentication is unavailable; retry shortly',
        {},
        { 'Retry-After': '5' },
      );
    }
  }
}
