import type { KeywardEvent } from '@keyward/domain';
import { GENESIS_HASH, sealCommit, type Commit } from '../commit/commit';
import { checksumOf } from './checksum';
import { tenantIndexOf } from './tenant-index';
import { TenantProjection } from './tenant-projection';
import { olderViewSchema, VIEW_SCHEMA_VERSION } from './views';

/**
 * What the projection makes of one fixed log, per VIEW_SCHEMA_VERSION. When this fails, the same
 * commits now fold into other view documents (a field, an evolve rule or a domain default such as
 * DEFAULT_TENANT_POLICY changed): raise VIEW_SCHEMA_VERSION in views.ts (so that projectors rebuild
 * the tenants an older version wrote, and `keyward replay` tells them apart) and record the new
 * digest here. Issue 15: the default tenant policy gained allowLegacyEncryption and
 * key.assign-owner under dual control with no such version, and the views of 1,011 of 1,024
 * tenants of a store kept the older policy while a rebuild (and the write side) had the new one.
 */
const DIGEST_OF_VERSION: Readonly<Record<number, string>> = {
  2: '6fb3c97c4ea5c87d7cd4d6efaf04e20b3e8d65fbf5a71c9a5b33a1c45d6b5d73',
};

const actor = { principalId: 'prn_admin0001', role: 'tenant-admin' } as const;
let minute = 0;
const ev = (type: string, data: object): KeywardEvent =>
  ({ type, data, actor, correlationId: `r${minute}`, at: new Date(Date.UTC(2030, 0, 1, 0, minute++)).toISOString() }) as KeywardEvent;

const KEY = 'key_schema0001';
const OTHER = 'key_schema0002';
const created = (keyId: string, keyType: string) =>
  ev('key.created.v1', {
    keyId,
    keyType,
    description: 'd',
    labels: { team: 'a' },
    exportable: false,
    version: { version: 1, kcv: `${keyId}.1` },
  });

function log(): Commit[] {
  minute = 0;
  const bodies: KeywardEvent[][] = [
    [ev('tenant.onboarded.v1', { tenantId: 'tnt_schema01', name: 'Schema' })],
    [ev('principal.created.v1', { principalId: 'prn_user0001', name: 'user', role: 'key-user' })],
    [created(KEY, 'AES-256-GCM'), ev('key.activated.v1', { keyId: KEY, reason: 'requested' })],
    [ev('key.rotated.v1', { keyId: KEY, version: { version: 2, kcv: `${KEY}.2` } })],
    [
      ev('key.alias-set.v1', { keyId: KEY, alias: 'primary' }),
      ev('key.labels-changed.v1', { keyId: KEY, set: { env: 'prod' }, removed: ['team'] }),
    ],
    [ev('key.description-set.v1', { keyId: KEY, description: 'described' })],
    [created(OTHER, 'HMAC-SHA256'), ev('key.activated.v1', { keyId: OTHER, reason: 'requested' })],
    [ev('key.deactivated.v1', { keyId: OTHER, reason: 'requested' })],
    [ev('principal.revoked.v1', { principalId: 'prn_user0001' })],
    [ev('tenant.suspended.v1', { tenantId: 'tnt_schema01' })],
    [ev('tenant.resumed.v1', { tenantId: 'tnt_schema01' })],
  ];
  let prev = GENESIS_HASH;
  return bodies.map((events, i) => {
    const c = sealCommit({ tenantId: 'tnt_schema01', seq: i + 1, commandId: `c${i}`, events, committedAt: events[0]!.at, prevHash: prev });
    prev = c.hash;
    return c;
  });
}

/** The digest of every view document the fixed log folds into, as a rebuild would store them. */
function digestOfFold(): string {
  const p = new TenantProjection('tnt_schema01');
  for (const c of log()) p.apply(c);
  const stored = JSON.parse(
    JSON.stringify({
      tenant: p.tenant ?? null,
      keys: [...p.keys.values()],
      principals: [...p.principals.values()],
      checkpoint: { _id: p.tenantId, lastSeq: p.lastSeq, lastHash: p.lastHash },
      index: tenantIndexOf(p.tenantId, p.lastSeq, p.tenant, p.keys.values(), p.principals.values()),
    }),
  ) as Parameters<typeof checksumOf>[0];
  return checksumOf(stored);
}

describe('view schema version', () => {
  it('the fixed log folds into the documents recorded for this VIEW_SCHEMA_VERSION (raise it when they change)', () => {
    expect({ version: VIEW_SCHEMA_VERSION, digest: digestOfFold() }).toEqual({
      version: VIEW_SCHEMA_VERSION,
      digest: DIGEST_OF_VERSION[VIEW_SCHEMA_VERSION],
    });
  });

  it('the fold covers the tenant policy, the keys and the principals', () => {
    const p = new TenantProjection('tnt_schema01');
    for (const c of log()) p.apply(c);
    expect(p.tenant).toMatchObject({ status: 'Active', keyCount: 2, principalCount: 0 });
    expect(p.tenant?.policy).toBeDefined();
    expect(p.keys.get(`tnt_schema01:${KEY}`)).toMatchObject({ alias: 'primary', labels: { env: 'prod' }, description: 'described' });
  });

  it('an index written without a version, or with another one, is from an older schema; this one is not', () => {
    expect(olderViewSchema(null)).toBe(true);
    expect(olderViewSchema({})).toBe(true);
    expect(olderViewSchema({ schema: VIEW_SCHEMA_VERSION - 1 })).toBe(true);
    expect(olderViewSchema({ schema: VIEW_SCHEMA_VERSION })).toBe(false);
    expect(olderViewSchema(tenantIndexOf('t', 1, undefined, [], []))).toBe(false);
  });
});
