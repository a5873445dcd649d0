import type { Collection, Db } from 'mongodb';
import type { DueDocument } from './due-dates';
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

/** One key of a tenant's index: what the list filters need, and the seq its view must have reached. */
export interface KeyIndexEntry {
  readonly keyId: string;
  readonly state: KeyLifecycleState;
  readonly alias: string | null;
  /** labelDigest of each `name=value` label (a filter re-checks the view itself). */
  readonly labels: readonly string[];
  readonly appliedSeq: number;
}
export interface PrincipalIndexEntry {
  readonly principalId: string;
  readonly appliedSeq: number;
}
/**
 * The version of what the projection makes of a log: raise it with every change that makes the same
 * commits fold into different view documents (a field added or renamed, an evolve rule changed, a
 * domain default such as DEFAULT_TENANT_POLICY changed), or the views of older tenants stay as the
 * older code wrote them, while the write side and a rebuild see the new ones. A projector rebuilds a
 * tenant whose index carries another version from its log when it loads it (and, at start, every
 * such tenant); `keyward replay` reports such tenants apart from real mismatches.
 * view-schema.spec.ts fails when the fold's output changes and this version does not.
 *
 * 1: indexes without a version (up to allowLegacyEncryption and key.assign-owner under dual control
 * in the default tenant policy). 2: the version field itself, with that policy.
 */
export const VIEW_SCHEMA_VERSION = 2;

/** True when the views of this index were written by another version of the projection than this one. */
export const olderViewSchema = (index: Pick<TenantIndex, 'schema'> | null): boolean => (index?.schema ?? 1) !== VIEW_SCHEMA_VERSION;

/**
 * A tenant's index, `_id` = tenantId: every key and principal view of the tenant, in id order, as of
 * `lastSeq`. Written after the view documents and before the checkpoint, so that listing is one
 * `_id` read plus `_id` reads of the page, and loading a tenant never queries by anything but `_id`.
 */
export interface TenantIndex {
  readonly _id: string;
  /**
   * The VIEW_SCHEMA_VERSION of the code that wrote the tenant's views (absent: written before there
   * was one, version 1). A projector trusts only views of its own version; others it rebuilds.
   */
  readonly schema?: number;
  readonly lastSeq: number;
  /** appliedSeq of the tenant view (null: no tenant view yet). */
  readonly tenantSeq: number | null;
  readonly keys: readonly KeyIndexEntry[];
  readonly principals: readonly PrincipalIndexEntry[];
}
/**
 * The claim on moving a tenant's views on from checkpoint `fromSeq`, `_id` = `<tenantId>@<fromSeq>`:
 * inserted (a unique `_id` decides between projectors, atomically on MongoDB and FerretDB alike)
 * before a projector writes the views of commits fromSeq+1..toSeq.
 */
export interface ProjectionClaim {
  readonly _id: string;
  readonly toSeq: number;
}

export const VIEW_COLLECTIONS = {
  keys: 'view_keys',
  principals: 'view_principals',
  tenants: 'view_tenants',
  checkpoints: 'view_checkpoints',
  indexes: 'view_indexes',
  claims: 'view_claims',
  due: 'view_due',
} as const;

export const claimId = (tenantId: string, fromSeq: number): string => `${tenantId}@${fromSeq}`;

export const viewId = (tenantId: string, id: string): string => `${tenantId}:${id}`;

export class ViewCollections {
  readonly keys: Collection<KeyView>;
  readonly principals: Collection<PrincipalView>;
  readonly tenants: Collection<TenantView>;
  readonly checkpoints: Collection<Checkpoint>;
  readonly indexes: Collection<TenantIndex>;
  readonly claims: Collection<ProjectionClaim>;
  /** Keys with a pending date (due-dates.ts). */
  readonly due: Collection<DueDocument>;

  constructor(readonly db: Db) {
    this.keys = db.collection<KeyView>(VIEW_COLLECTIONS.keys);
    this.principals = db.collection<PrincipalView>(VIEW_COLLECTIONS.principals);
    this.tenants = db.collection<TenantView>(VIEW_COLLECTIONS.tenants);
    this.checkpoints = db.collection<Checkpoint>(VIEW_COLLECTIONS.checkpoints);
    this.indexes = db.collection<TenantIndex>(VIEW_COLLECTIONS.indexes);
    this.claims = db.collection<ProjectionClaim>(VIEW_COLLECTIONS.claims);
    this.due = db.collection<DueDocument>(VIEW_COLLECTIONS.due);
  }

  /**
   * Reads and writes of the views are by `_id` only (lists go through the tenant index), apart
   * from a tenant without an index yet (views written before there was one) and the checksum's
   * per-tenant read: those are served by these indexes on MongoDB.
   */
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
