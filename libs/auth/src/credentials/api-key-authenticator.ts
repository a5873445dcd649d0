import { parseApiKey, secretMatches } from '../api-key/api-key';
import type { CertificateBinding } from '../certificates/client-certificate';
import type { AuthenticatedPrincipal } from '../principal';
import { credentialMacMatches } from './credential-mac';
import type { CredentialDocument, CredentialStore } from './credential-store';

/** The credential MAC key, or undefined while it is not at hand (sealed). */
type MacKey = Buffer | undefined;

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
  /** Credential integrity (see useIntegrity); unset: documents are taken as stored (tests of this class only). */
  private integrity: { macKey: () => MacKey | Promise<MacKey>; refused: (doc: CredentialDocument) => void } | undefined;

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
    const verified = await this.verified(doc);
    if (verified === false) return undefined;
    return {
      principal: {
        principalId: doc.principalId,
        tenantId: doc.tenantId,
        role: doc.role,
        credentialId: doc._id,
        ...(verified === undefined ? { credentialUnverified: true as const } : {}),
      },
      certificate: doc.certificate ?? undefined,
    };
  }

  /**
   * Refuse credential documents whose MAC does not verify under `macKey()` (constant time), and
   * report each refusal. While `macKey()` answers undefined (sealed) a document cannot be checked:
   * it authenticates marked `credentialUnverified`, which only the unseal routes accept.
   */
  useIntegrity(macKey: () => MacKey | Promise<MacKey>, refused: (doc: CredentialDocument) => void): this {
    this.integrity = { macKey, refused };
    return this;
  }

  /** true: the MAC verifies (or no integrity is configured); false: it does not; undefined: no key to check with. */
  private async verified(doc: CredentialDocument): Promise<boolean | undefined> {
    if (!this.integrity) return true;
    const provided = this.integrity.macKey();
    const key = provided instanceof Promise ? await provided : provided;
    if (key === undefined) return undefined;
    if (credentialMacMatches(key, doc)) return true;
    this.integrity.refused(doc);
    return false;
  }

  forgetPrincipal(principalId: string): void {
    for (const [id, entry] of this.cache) if (entry.doc.principalId === principalId) this.cache.delete(id);
  }
}
