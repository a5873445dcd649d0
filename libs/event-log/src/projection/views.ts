import type { Collection, Db } from 'mongodb';
import type { KeyLifecycleState, KeyState, PrincipalCertificate, PrincipalState, TenantPolicy, TenantStatus } from '@keyward/domain';

/** Every view document records the seq of the last commit that changed it. */
interface Applied {
  readonly tenantId: string;
  readonly appliedSeq: number;
}

export type KeyView = KeyState & Applied & { readonly _id: string };
export type PrincipalView = PrincipalState &
  Applied & {
    readonly _id: string;
    /** The client certificate the principal is bound to (null once unbound; absent if never bound). */
    readonly certificate?: PrincipalCertificate | null;
  };
export interface TenantView extends Applied {
  readonly _id: string;
  readonly name: string;
  readonly status: TenantStatus;
  readonly policy: TenantPolicy;
  readonly onboardedAt: string;
  readonly updatedAt: string;
  readonly keyCount: number;
  readonly keysByState: Readonly<Record<KeyLifecycleState, number>>;
  readonly principalCount: number;
}
export interface Checkpoint {
  readonly _id: string;
  readonly lastSeq: number;
  readonly lastHash: string;
}

export const VIEW_COLLECTIONS = {
  keys: 'view_keys',
  principals: 'view_principals',
  tenants: 'view_tenants',
  checkpoints: 'view_checkpoints',
} as const;

export const viewId = (tenantId: string, id: string): string => `${tenantId}:${id}`;

export class ViewCollections {
  readonly keys: Collection<KeyView>;
  readonly principals: Collection<PrincipalView>;
  readonly tenants: Collection<TenantView>;
  readonly checkpoints: Collection<Checkpoint>;

  constructor(readonly db: Db) {
    this.keys = db.collection<KeyView>(VIEW_COLLECTIONS.keys);
    this.principals = db.collection<PrincipalView>(VIEW_COLLECTIONS.principals);
    this.tenants = db.collection<TenantView>(VIEW_COLLECTIONS.tenants);
    this.checkpoints = db.collection<Checkpoint>(VIEW_COLLECTIONS.checkpoints);
  }

  async ensureIndexes(): Promise<void> {
    await this.keys.createIndex({ tenantId: 1, keyId: 1 }, { name: 'tenant_key' }, undefined);
    await this.keys.createIndex({ tenantId: 1, state: 1, keyId: 1 }, { name: 'tenant_state' }, undefined);
    await this.keys.createIndex({ tenantId: 1, alias: 1 }, { name: 'tenant_alias' }, undefined);
    await this.principals.createIndex({ tenantId: 1, principalId: 1 }, { name: 'tenant_principal' }, undefined);
  }

  /** Drops every view and checkpoint (for a rebuild). */
  async drop(): Promise<void> {
    for (const name of Object.values(VIEW_COLLECTIONS)) {
      await this.db.dropCollection(name).catch(() => false);
    }
  }
}
