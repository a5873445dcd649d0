import { Logger } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { CertificateBinding } from '@keyward/auth';
import type { ApprovalState, DirectCommand } from '@keyward/domain';
import { CommandExecutor } from '@keyward/event-log';
import { gated, pendingOf } from '../dual-control/approval-gate';
import type { Caller } from '../platform/caller';
import { contextOf } from '../platform/decision-context';

/** Binds a principal of the caller's tenant to a client certificate (`wanted`), or removes its binding (null). */
export class BindCertificateCommand {
  constructor(
    readonly principalId: string,
    readonly wanted: { readonly fingerprint?: string; readonly subject?: string } | null,
    readonly caller: Caller,
  ) {}
}

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
 * approval). Authentication reads the binding from the same log (auth/certificate-bindings.ts): at
 * once on this instance, within the stream's delay (at most CRYPTO_STATE_TTL_MS) on the others.
 */
@CommandHandler(BindCertificateCommand)
export class BindCertificateHandler implements ICommandHandler<BindCertificateCommand, CertificateBindingAnswer | PendingBindingAnswer> {
  private readonly logger = new Logger('certificate-binding');

  constructor(private readonly executor: CommandExecutor) {}

  async execute({ principalId, wanted, caller }: BindCertificateCommand): Promise<CertificateBindingAnswer | PendingBindingAnswer> {
    const tenantId = caller.principal.tenantId;
    const command: DirectCommand = wanted
      ? {
          kind: 'principal.bind-certificate',
          principalId,
          ...(wanted.fingerprint === undefined ? {} : { fingerprint: wanted.fingerprint }),
          ...(wanted.subject === undefined ? {} : { subject: wanted.subject }),
        }
      : { kind: 'principal.unbind-certificate', principalId };
    const executed = await this.executor.execute(tenantId, await gated(command, this.executor), contextOf(caller));
    const pendingApproval = pendingOf(executed);
    if (pendingApproval) return { seq: executed.seq, pendingApproval };
    const binding = executed.log.certificates.get(principalId);
    this.logger.log(
      {
        tenant: tenantId,
        principal: principalId,
        by: caller.principal.principalId,
        requestId: caller.requestId,
        fingerprint: binding?.fingerprint,
        subject: binding?.subject,
      },
      binding ? 'principal bound to a client certificate' : 'principal unbound from its client certificate',
    );
    return { seq: executed.seq, principalId, certificate: binding ?? null };
  }
}
