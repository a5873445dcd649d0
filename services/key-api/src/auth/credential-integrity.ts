import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { ApiKeyAuthenticator } from '@keyward/auth';
import { RootKeyService } from '@keyward/keys';

/**
 * Credential documents are bound by a MAC under a key derived from the root key; the
 * authenticator refuses any whose MAC does not verify, and this says so loudly (a forged or
 * altered document in MongoDB). While sealed there is no key to check with: such credentials
 * authenticate only for the unseal routes (@SealedOk), and every other route answers 503 sealed.
 * The credential that completes an unseal gets its MAC then (its holder has just proven the
 * root key); documents without a MAC are otherwise refused (no silent upgrade).
 */
@Injectable()
export class CredentialIntegrity implements OnModuleInit {
  private readonly logger = new Logger('security');

  constructor(
    private readonly authenticator: ApiKeyAuthenticator,
    private readonly root: RootKeyService,
  ) {}

  onModuleInit(): void {
    this.authenticator.useIntegrity(
      () => this.root.credentialMacKey(),
      (doc) =>
        this.logger.warn(
          `SECURITY: refused credential ${doc._id} (principal ${doc.principalId}, tenant ${doc.tenantId}, role ${doc.role}): ` +
            `${doc.mac === undefined ? 'it has no MAC' : 'its MAC does not verify'}; the credentials collection may have been written to directly`,
        ),
    );
  }
}
