import type { Collection, Db } from 'mongodb';
import type { Role } from '@keyward/domain';
import { issueApiKey } from '../api-key/api-key';

/** The mutable record behind an API key; deleting or disabling it revokes the key at once. */
export interface CredentialDocument {
  readonly _id: string;
  readonly tenantId: string;
  readonly principalId: string;
  readonly role: Role;
  readonly secretHash: string;
  readonly createdAt: string;
  readonly disabled: boolean;
}

export class CredentialStore {
  readonly credentials: Collection<CredentialDocument>;

  constructor(db: Db) {
    this.credentials = db.collection<CredentialDocument>('credentials');
  }

  async ensureIndexes(): Promise<void> {
    await this.credentials.createIndex({ tenantId: 1, principalId: 1 }, { name: 'tenant_principal' }, undefined);
  }

  /** Issues a new API key for a principal; answers the key, which is stored only as a hash. */
  async issue(tenantId: string, principalId: string, role: Role): Promise<string> {
    const issued = issueApiKey();
    await this.credentials.insertOne(
      {
        _id: issued.credentialId,
        tenantId,
        principalId,
        role,
        secretHash: issued.secretHash,
        createdAt: new Date().toISOString(),
        disabled: false,
      },
      { writeConcern: { w: 'majority' } },
    );
    return issued.apiKey;
  }

  async find(credentialId: string): Promise<CredentialDocument | null> {
    return this.credentials.findOne({ _id: credentialId });
  }

  /** Disables every credential of a principal; returns how many. */
  async disablePrincipal(tenantId: string, principalId: string): Promise<number> {
    const result = await this.credentials.updateMany(
      { tenantId, principalId },
      { $set: { disabled: true } },
      { writeConcern: { w: 'majority' } },
    );
    return result.modifiedCount;
  }
}
