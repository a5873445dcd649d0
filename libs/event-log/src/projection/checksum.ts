import type { Document } from 'mongodb';
import { canonicalDigest } from '../commit/canonical-json';
import { olderViewSchema, type ViewCollections } from './views';

/** What a tenant's views say, as stored (documents of a collection in `_id` order). */
export interface TenantViewDocuments {
  readonly tenant: Document | null;
  readonly keys: readonly Document[];
  readonly principals: readonly Document[];
  readonly checkpoint: Document | null;
  readonly index: Document | null;
}

/**
 * A digest of everything the views say about one tenant (tenant summary, keys, principals,
 * checkpoint, tenant index), in a fixed order. Equal checksums mean byte-identical views. (The
 * claims are not part of it: where a projector's steps ended depends on its batches, not on the log.)
 */
export function checksumOf(docs: TenantViewDocuments): string {
  const { tenant, keys, principals, checkpoint, index } = docs;
  return canonicalDigest({ tenant, keys, principals, checkpoint, index });
}

/** One tenant's checksum (reads every view of the tenant: a verification, not a request path). */
export async function tenantChecksum(views: ViewCollections, tenantId: string): Promise<string> {
  const sums = await checksums(views, tenantId);
  return sums[tenantId] as string;
}

/**
 * Every tenant's checksum (tenants with a checkpoint), the same as tenantChecksum's, from one read
 * of each collection rather than queries per tenant (which would cost the whole collection each on
 * the embedded store).
 */
export function allChecksums(views: ViewCollections): Promise<Record<string, string>> {
  return checksums(views);
}

/** Tenants whose checksums differ between two sets (one of them lacking the tenant included), sorted. */
export function differingTenants(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): string[] {
  return [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((t) => a[t] !== b[t]).sort();
}

/**
 * Tenants whose views an older version of the projection wrote (their index carries another
 * VIEW_SCHEMA_VERSION), sorted: the live projector rebuilds them when it loads them, so a
 * difference from a rebuild is expected there, not a fault.
 */
export async function olderSchemaTenants(views: ViewCollections): Promise<string[]> {
  const indexes = await views.indexes.find({}, { projection: { _id: 1, schema: 1 } }).toArray();
  return indexes
    .filter((i) => olderViewSchema(i))
    .map((i) => i._id)
    .sort();
}

const byId = (a: Document, b: Document): number => (a._id < b._id ? -1 : a._id > b._id ? 1 : 0);

/**
 * The checksums of one tenant (whether it has a checkpoint or not), or of every tenant with a
 * checkpoint, from one read of each collection.
 */
async function checksums(views: ViewCollections, tenantId?: string): Promise<Record<string, string>> {
  const own = tenantId === undefined ? {} : { tenantId };
  const itself = tenantId === undefined ? {} : { _id: tenantId };
  const [checkpoints, tenants, keys, principals, indexes] = await Promise.all([
    views.checkpoints.find(itself).toArray(),
    views.tenants.find(itself).toArray(),
    views.keys.find(own).toArray(),
    views.principals.find(own).toArray(),
    views.indexes.find(itself).toArray(),
  ]);
  const group = (docs: Document[]): Map<string, Document[]> => {
    const out = new Map<string, Document[]>();
    for (const doc of docs.sort(byId)) {
      const list = out.get(doc.tenantId as string);
      if (list) list.push(doc);
      else out.set(doc.tenantId as string, [doc]);
    }
    return out;
  };
  const keysOf = group(keys);
  const principalsOf = group(principals);
  const byTenant = (docs: Document[]): Map<string, Document> => new Map<string, Document>(docs.map((d) => [d._id, d]));
  const tenantOf = byTenant(tenants);
  const checkpointOf = byTenant(checkpoints);
  const indexOf = byTenant(indexes);
  const out: Record<string, string> = {};
  for (const id of tenantId === undefined ? checkpoints.sort(byId).map((c) => c._id) : [tenantId]) {
    out[id] = checksumOf({
      tenant: tenantOf.get(id) ?? null,
      keys: keysOf.get(id) ?? [],
      principals: principalsOf.get(id) ?? [],
      checkpoint: checkpointOf.get(id) ?? null,
      index: indexOf.get(id) ?? null,
    });
  }
  return out;
}
