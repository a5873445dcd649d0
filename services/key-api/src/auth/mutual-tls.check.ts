import { Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { presentedCertificate, releaseRefusal } from '@keyward/auth';
import { ProblemError } from '@keyward/platform';
import { CertificateBindings } from './certificate-bindings';
import type { Caller } from '../platform/caller';

const DETAIL = {
  'no-certificate': 'this operation needs a verified client certificate (mutual TLS)',
  'not-bound': 'this operation needs a principal bound to its client certificate (PUT /v1/principals/{id}/certificate)',
  'other-certificate': 'the client certificate presented is not the one this principal is bound to',
} as const;

/**
 * For operations that release key material: the request must come over mutual TLS with a verified
 * client certificate, from a principal bound (in its tenant's log, read from the store now, not
 * from a cache) to exactly that certificate.
 */
@Injectable()
export class MutualTlsCheck {
  constructor(private readonly certificates: CertificateBindings) {}

  async require(request: FastifyRequest, caller: Caller): Promise<void> {
    const presented = presentedCertificate(request.raw.socket);
    const { tenantId, principalId } = caller.principal;
    const refusal = releaseRefusal(presented && (await this.certificates.bindingOf(tenantId, principalId, true)), presented);
    if (refusal !== undefined) throw new ProblemError(403, 'mtls-required', 'Mutual TLS required', DETAIL[refusal]);
  }
}
