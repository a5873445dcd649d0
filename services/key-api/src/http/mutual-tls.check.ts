import { TLSSocket } from 'node:tls';
import { Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { CredentialStore } from '@keyward/auth';
import { ProblemError } from '@keyward/platform';
import type { Origin } from '../commands/commands';

/**
 * For operations that release key material: the request must come over mutual TLS with a verified
 * client certificate, from a principal bound to that certificate.
 */
@Injectable()
export class MutualTlsCheck {
  constructor(private readonly credentials: CredentialStore) {}

  async require(request: FastifyRequest, origin: Origin): Promise<void> {
    const socket = request.raw.socket;
    const certificate = socket instanceof TLSSocket && socket.authorized ? socket.getPeerCertificate() : undefined;
    if (!certificate?.fingerprint256) {
      throw new ProblemError(
        403,
        'mtls-required',
        'Mutual TLS required',
        'this operation needs a verified client certificate (mutual TLS)',
      );
    }
    const doc = await this.credentials.find(origin.principal.credentialId);
    if (!doc?.certificate) {
      throw new ProblemError(
        403,
        'mtls-required',
        'Mutual TLS required',
        'this operation needs a principal bound to its client certificate (PUT /v1/principals/{id}/certificate)',
      );
    }
  }
}
