import type { Collection, Db } from 'mongodb';
import type { Role } from '@keyward/domain';
import { issueApiKey } from '../api-key/api-key';
import { credentialMac, type MacFields } from './credential-mac';

/**
 * The mutable record behind an API key; deleting or disabling it revokes the key at once. (A
 * principal's certificate binding lives in its tenant's log, not here.)
 */
export interface CredentialDocument extends MacFields {
  readonly disabled: boolean;
  /** HMAC under a key derived from the root key (credential-mac.ts); absent: refused once unsealed. */
  readonly mac?: string;
}

export class CredentialStore {
  readonly credentials: Collection<CredentialDocument>;
  /** Told of every credential id this process stores (authenticators forget they did not know it). */
  private readonly issuedListeners: ((credentialId: string) => void)[] = [];

  constructor(db: Db) {
    this.credentials = db.collection<CredentialDocument>('credentials');
  }

  async ensureIndexes(): Promise<void> {
    await this.credentials.createIndex({ tenantId: 1, principalId: 1 }, { name: 'tenant_principal' }, undefined);
  }

  /**
   * Issues a new API key for a principal; answers the key, which is stored only as a hash. The
   * document is bound by a MAC under `macKey` (null only while sealed: such a key can unseal, no more).
   */
  async issue(tenantId: string, principalId: string, role: Role, macKey: Buffer | null): Promise<string> {
    const issued = issueApiKey();
    const fields = {
      _id: issued.credentialId,
      tenantId,
      principalId,
      role,
      secretHash: issued.secretHash,
      createdAt: new Date().toISOString(),
    };
    await this.credentials.insertOne(
      { ...fields, disabled: false, ...(macKey ? { mac: credentialMac(macKey, fields) } : {}) },
      { writeConcern: { w: 'majority' } },
    );
    this.announceIssued(issued.credentialId);
    return issued.apiKey;
  }

  /** Calls `listener` with the id of each credential this process issues from now on. */
  onIssued(listener: (credentialId: string) => void): void {
    this.issuedListeners.push(listener);
  }

  /** Every path that stores a new credential calls this once the document is written. */
  private announceIssued(credentialId: string): void {
    for (const listener of this.issuedListeners) listener(credentialId);
  }

  /** Binds one enabled credential by a MAC (the key that unsealed with the root key: its holder has proven it). */
  async addMac(credentialId: string, macKey: Buffer): Promise<boolean> {
    const doc = await this.credentials.findOne({ _id: credentialId, disabled: false });
    if (!doc) return false;
    await this.credentials.updateOne({ _id: credentialId, disabled: false }, { $set: { mac: credentialMac(macKey, doc) } });
    return true;
  }

  async find(credentialId: string): Promise<CredentialDocument | null> {
    return this.credentials.findOne({ _id: credentialId });
  }

  /** Disables every credential of a principal; returns how many. */
  async disablePrincipal(tenantId: string, principalId: string): Promise<number> {
    const result = await this.credentials.updateMany(
      { tenantId, principalId },
      // Without its MAC a disabled credential cannot be re-enabled by a database write alone.
      { $set: { disabled: true }, $unset: { mac: '' } },
      { writeConcern: { w: 'majority' } },
    );
    return result.modifiedCount;
  }
}
