import type { Collection, Db } from 'mongodb';
import type { Role } from '@keyward/domain';

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

  async insert(doc: CredentialDocument): Promise<void> {
    await this.credentials.insertOne(doc, { writeConcern: { w: 'majority' } });
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

  async disableTenant(tenantId: string): Promise<void> {
    await this.credentials.updateMany({ tenantId }, { $set: { disabled: true } }, { writeConcern: { w: 'majority' } });
  }

  async countActive(tenantId: string, role: Role): Promise<number> {
    return this.credentials.countDocuments({ tenantId, role, disabled: false });
  }
}
