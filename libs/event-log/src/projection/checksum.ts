import { createHash } from 'node:crypto';
import type { Document } from 'mongodb';
import { canonicalJson } from '../commit/canonical-json';
import type { ViewCollections } from './views';

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
  return createHash('sha256').update(canonicalJson({ tenant, keys, principals, checkpoint, index })).digest('hex');
}

const byId = (a: Document, b: Document): number => (a._id < b._id ? -1 : a._id > b._id ? 1 : 0);

/** One tenant's checksum (reads every view of the tenant: a verification, not a request path). */
export async function tenantChecksum(views: ViewCollections, tenantId: string): Promise<string> {
  const [tenant, keys, principals, checkpoint, index] = await Promise.all([
    views.tenants.findOne({ _id: tenantId }),
    views.keys.find({ tenantId }).toArray(),
    views.principals.find({ tenantId }).toArray(),
    views.checkpoints.findOne({ _id: tenantId }),
    views.indexes.findOne({ _id: tenantId }),
  ]);
  return checksumOf({ tenant, keys: keys.sort(byId), principals: principals.sort(byId), checkpoint, index });
}

/**
 * Every tenant's checksum (tenants with a checkpoint), the same as tenantChecksum's, from one read
 * of each collection rather than queries per tenant (which would cost the whole collection each on
 * the embedded store).
 */
export async function allChecksums(views: ViewCollections): Promise<Record<string, string>> {
  const [checkpoints, tenants, keys, principals, indexes] = await Promise.all([
    views.checkpoints.find({}).toArray(),
    views.tenants.find({}).toArray(),
    views.keys.find({}).toArray(),
    views.principals.find({}).toArray(),
    views.indexes.find({}).toArray(),
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
  const tenantOf = new Map<string, Document>(tenants.map((t) => [t._id, t]));
  const indexOf = new Map<string, Document>(indexes.map((i) => [i._id, i]));
  const out: Record<string, string> = {};
  for (const checkpoint of checkpoints.sort(byId)) {
    const id = checkpoint._id;
    out[id] = checksumOf({
      tenant: tenantOf.get(id) ?? null,
      keys: keysOf.get(id) ?? [],
      principals: principalsOf.get(id) ?? [],
      checkpoint,
      index: indexOf.get(id) ?? null,
    });
  }
  return out;
}
