import { Injectable, Logger } from '@nestjs/common';
import type { PrincipalCertificate } from '@keyward/domain';
import { CommandExecutor } from '@keyward/event-log';
import { ProblemError } from '@keyward/platform';
import { KeyStateSource } from '@keyward/keys';

/**
 * The client certificate each principal is bound to, as its tenant's log says: read by
 * authentication (api-key.strategy.ts) and by the operations that release key material
 * (mutual-tls.check.ts). Bindings are made by principals/bind-certificate.handler.ts.
 */
@Injectable()
export class CertificateBindings {
  private readonly logger = new Logger('certificate-binding');

  constructor(
    private readonly executor: CommandExecutor,
    private readonly states: KeyStateSource,
  ) {}

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
