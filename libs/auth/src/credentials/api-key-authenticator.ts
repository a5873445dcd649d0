import { parseApiKey, secretMatches } from '../api-key/api-key';
import type { CertificateBinding } from '../certificates/client-certificate';
import type { AuthenticatedPrincipal } from '../principal';
import type { CredentialDocument, CredentialStore } from './credential-store';

interface Cached {
  readonly doc: CredentialDocument;
  readonly until: number;
}

/**
 * Resolves a bearer API key to its principal: one indexed read on a miss, none on a hit.
 * Hits are kept briefly (`ttlMs`); revocation also drops the entry in this process at once.
 */
export class ApiKeyAuthenticator {
  private readonly cache = new Map<string, Cached>();

  constructor(
    private readonly store: CredentialStore,
    private readonly ttlMs = 5_000,
    private readonly maxEntries = 10_000,
  ) {}

  async authenticate(apiKey: string): Promise<AuthenticatedPrincipal | undefined> {
    return (await this.authenticateCredential(apiKey))?.principal;
  }

  /** Like `authenticate`, with the client certificate the credential is bound to, if any. */
  async authenticateCredential(
    apiKey: string,
  ): Promise<{ principal: AuthenticatedPrincipal; certificate: CertificateBinding | undefined } | undefined> {
    const parsed = parseApiKey(apiKey);
    if (!parsed) return undefined;
    const now = Date.now();
    let entry = this.cache.get(parsed.credentialId);
    if (!entry || entry.until < now) {
      const doc = await this.store.find(parsed.credentialId);
      if (!doc) {
        this.cache.delete(parsed.credentialId);
        return undefined;
      }
      entry = { doc, until: now + this.ttlMs };
      if (this.cache.size >= this.maxEntries) this.cache.clear();
      this.cache.set(parsed.credentialId, entry);
    }
    const { doc } = entry;
    if (doc.disabled || !secretMatches(parsed.secret, doc.secretHash)) return undefined;
    return {
      principal: { principalId: doc.principalId, tenantId: doc.tenantId, role: doc.role, credentialId: doc._id },
      certificate: doc.certificate ?? undefined,
    };
  }

  forgetPrincipal(principalId: string): void {
    for (const [id, entry] of this.cache) if (entry.doc.principalId === principalId) this.cache.delete(id);
  }
}
