import { parseApiKey, secretMatches } from '../api-key/api-key';
import type { AuthenticatedPrincipal } from '../principal';
import { credentialMacMatches } from './credential-mac';
import type { CredentialDocument, CredentialStore } from './credential-store';

/** The credential MAC key, or undefined while it is not at hand (sealed). */
type MacKey = Buffer | undefined;

interface Cached {
  readonly doc: CredentialDocument;
  readonly until: number;
}

/** Unknown key ids remembered, so that a flood of made-up ids does not cost a store read each. */
export interface UnknownKeyCacheOptions {
  /** How long an unknown id is answered without a read (0: not remembered). */
  readonly ttlMs: number;
  readonly maxEntries: number;
  /** Told of each read of the credential store, and of each answer the negative cache gave instead. */
  readonly onStoreRead?: () => void;
  readonly onUnknownHit?: () => void;
}

/**
 * Resolves a bearer API key to its principal: one indexed read on a miss, none on a hit.
 * Hits are kept briefly (`ttlMs`); revocation also drops the entry in this process at once.
 * Key ids the store does not know are remembered briefly too (bounded); a key this process
 * issues is forgotten from that list at once, so it authenticates here straight away.
 */
export class ApiKeyAuthenticator {
  private readonly cache = new Map<string, Cached>();
  private readonly unknown = new Map<string, number>();
  /** Keys issued by this process so far: a lookup that overlapped an issue does not remember its miss. */
  private issued = 0;
  /** Credential integrity (see useIntegrity); unset: documents are taken as stored (tests of this class only). */
  private integrity: { macKey: () => MacKey | Promise<MacKey>; refused: (doc: CredentialDocument) => void } | undefined;

  constructor(
    private readonly store: CredentialStore,
    private readonly ttlMs = 5_000,
    private readonly maxEntries = 10_000,
    private readonly unknownKeys: UnknownKeyCacheOptions = { ttlMs: 5_000, maxEntries: 100_000 },
  ) {
    store.onIssued((credentialId) => {
      this.issued++;
      this.unknown.delete(credentialId);
    });
  }

  async authenticate(apiKey: string): Promise<AuthenticatedPrincipal | undefined> {
    const parsed = parseApiKey(apiKey);
    if (!parsed) return undefined;
    const doc = await this.credential(parsed.credentialId);
    if (!doc || !secretMatches(parsed.secret, doc.secretHash)) return undefined;
    return this.principalOf(doc);
  }

  /**
   * The principal behind a credential that authenticated before (a console session holds its id,
   * never its secret): undefined once the credential is disabled, deleted or its MAC no longer
   * verifies, by the same cache and checks as `authenticate`.
   */
  async reauthenticate(credentialId: string): Promise<AuthenticatedPrincipal | undefined> {
    const doc = await this.credential(credentialId);
    return doc ? this.principalOf(doc) : undefined;
  }

  /** The enabled credential document of an id: from the cache, else one store read (unknown ids remembered briefly). */
  private async credential(credentialId: string): Promise<CredentialDocument | undefined> {
    const now = Date.now();
    let entry = this.cache.get(credentialId);
    if (!entry || entry.until <= now) {
      if (this.knownUnknown(credentialId, now)) return undefined;
      this.unknownKeys.onStoreRead?.();
      const issuedBefore = this.issued;
      const doc = await this.store.find(credentialId);
      if (!doc) {
        this.cache.delete(credentialId);
        if (this.issued === issuedBefore) this.rememberUnknown(credentialId, now);
        return undefined;
      }
      entry = { doc, until: now + this.ttlMs };
      if (this.cache.size >= this.maxEntries) this.cache.clear();
      this.cache.set(credentialId, entry);
    }
    return entry.doc.disabled ? undefined : entry.doc;
  }

  private async principalOf(doc: CredentialDocument): Promise<AuthenticatedPrincipal | undefined> {
    const verified = await this.verified(doc);
    if (verified === false) return undefined;
    return {
      principalId: doc.principalId,
      tenantId: doc.tenantId,
      role: doc.role,
      credentialId: doc._id,
      ...(verified === undefined ? { credentialUnverified: true as const } : {}),
    };
  }

  /** True (and counted) when `credentialId` was looked up and not found less than the TTL ago. */
  private knownUnknown(credentialId: string, now: number): boolean {
    const until = this.unknown.get(credentialId);
    if (until === undefined) return false;
    if (until <= now) {
      this.unknown.delete(credentialId);
      return false;
    }
    this.unknownKeys.onUnknownHit?.();
    return true;
  }

  /** Bounded: beyond `maxEntries`, the oldest entries go first (they expire first too). */
  private rememberUnknown(credentialId: string, now: number): void {
    if (this.unknownKeys.ttlMs <= 0) return;
    this.unknown.delete(credentialId);
    while (this.unknown.size >= this.unknownKeys.maxEntries) {
      const oldest = this.unknown.keys().next().value;
      if (oldest === undefined) break;
      this.unknown.delete(oldest);
    }
    this.unknown.set(credentialId, now + this.unknownKeys.ttlMs);
  }

  /** How many unknown key ids are remembered (for tests and metrics). */
  get unknownSize(): number {
    return this.unknown.size;
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
