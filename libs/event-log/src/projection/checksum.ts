import { createHash } from 'node:crypto';
import { canonicalJson } from '../commit/canonical-json';
import type { ViewCollections } from './views';

/**
 * A digest of everything the views say about one tenant (tenant summary, keys, principals,
 * checkpoint), in a fixed order. Equal checksums mean byte-identical views.
 */
export async function tenantChecksum(views: ViewCollections, tenantId: string): Promise<string> {
  const [tenant, keys, principals, checkpoint] = await Promise.all([
    views.tenants.findOne({ _id: tenantId }),
    views.keys.find({ tenantId }).sort({ _id: 1 }).toArray(),
    views.principals.find({ tenantId }).sort({ _id: 1 }).toArray(),
    views.checkpoints.findOne({ _id: tenantId }),
  ]);
  return createHash('sha256').update(canonicalJson({ tenant, keys, principals, checkpoint })).digest('hex');
}

export async function allChecksums(views: ViewCollections): Promise<Record<string, string>> {
  const ids = (
    await views.checkpoints
      .find({}, { projection: { _id: 1 } })
      .sort({ _id: 1 })
      .toArray()
  ).map((c) => c._id);
  const out: Record<string, string> = {};
  for (const id of ids) out[id] = await tenantChecksum(views, id);
  return out;
}
