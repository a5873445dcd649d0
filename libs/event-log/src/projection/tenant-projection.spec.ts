import type { KeywardEvent } from '@keyward/domain';
import { GENESIS_HASH, sealCommit, type Commit } from '../commit/commit';
import { TenantProjection } from './tenant-projection';

const actor = { principalId: 'prn_abcdefgh', role: 'tenant-admin' } as const;
const at = '2026-01-01T00:00:00.000Z';
const ev = (type: string, data: object): KeywardEvent => ({ type, data, actor, correlationId: 'r', at }) as KeywardEvent;

function commits(): Commit[] {
  const bodies: KeywardEvent[][] = [
    [ev('tenant.onboarded.v1', { tenantId: 'tnt_a', name: 'A' })],
    [
      ev('key.created.v1', {
        keyId: 'key_1aaaaaaaa',
        keyType: 'AES-256-GCM',
        description: '',
        labels: {},
        exportable: false,
        version: { version: 1, kcv: 'k1' },
      }),
      ev('key.activated.v1', { keyId: 'key_1aaaaaaaa', reason: 'requested' }),
    ],
    [ev('key.rotated.v1', { keyId: 'key_1aaaaaaaa', version: { version: 2, kcv: 'k2' } })],
    [ev('key.deactivated.v1', { keyId: 'key_1aaaaaaaa', reason: 'requested' })],
  ];
  let prev = GENESIS_HASH;
  return bodies.map((events, i) => {
    const c = sealCommit({ tenantId: 'tnt_a', seq: i + 1, commandId: `c${i}`, events, committedAt: at, prevHash: prev });
    prev = c.hash;
    return c;
  });
}

const snapshot = (p: TenantProjection) => JSON.parse(JSON.stringify({ tenant: p.tenant, keys: [...p.keys.values()] })) as unknown;

describe('TenantProjection', () => {
  it('folds every event of a commit, including several events on one key', () => {
    const p = new TenantProjection('tnt_a');
    for (const c of commits().slice(0, 2)) p.apply(c);
    expect(p.keys.get('tnt_a:key_1aaaaaaaa')).toMatchObject({ state: 'Active', appliedSeq: 2 });
    expect(p.tenant).toMatchObject({ keyCount: 1, keysByState: { Active: 1, PreActive: 0 }, appliedSeq: 2 });
  });

  it('after a crash that stored documents but not the checkpoint, re-applying converges to the same views', () => {
    const all = commits();
    const reference = new TenantProjection('tnt_a');
    for (const c of all) reference.apply(c);

    // Documents were written up to seq 4, the checkpoint still says 2.
    const crashed = new TenantProjection('tnt_a');
    const stored = JSON.parse(JSON.stringify({ tenant: reference.tenant, keys: [...reference.keys.values()] })) as {
      tenant: NonNullable<TenantProjection['tenant']>;
      keys: Parameters<TenantProjection['load']>[2];
    };
    crashed.load({ lastSeq: 2, lastHash: all[1]!.hash }, stored.tenant, stored.keys, []);
    for (const c of all.slice(2)) crashed.apply(c);
    expect(snapshot(crashed)).toEqual(snapshot(reference));
    expect(crashed.lastSeq).toBe(4);
  });

  it('a partial crash (key written, tenant summary not) still converges', () => {
    const all = commits();
    const reference = new TenantProjection('tnt_a');
    for (const c of all) reference.apply(c);
    const atTwo = new TenantProjection('tnt_a');
    for (const c of all.slice(0, 2)) atTwo.apply(c);
    const crashed = new TenantProjection('tnt_a');
    const keys = JSON.parse(JSON.stringify([...reference.keys.values()])) as Parameters<TenantProjection['load']>[2];
    crashed.load(
      { lastSeq: 2, lastHash: all[1]!.hash },
      JSON.parse(JSON.stringify(atTwo.tenant)) as NonNullable<TenantProjection['tenant']>,
      keys,
      [],
    );
    for (const c of all.slice(2)) crashed.apply(c);
    expect(snapshot(crashed)).toEqual(snapshot(reference));
  });
});

describe('TenantProjection: certificate bindings', () => {
  it('shows the principal’s current binding in its view, from the bound and unbound events', () => {
    const fingerprint = 'ab'.repeat(32);
    const bodies: KeywardEvent[][] = [
      [ev('tenant.onboarded.v1', { tenantId: 'tnt_a', name: 'A' })],
      [ev('principal.created.v1', { principalId: 'prn_user00001', name: 'user', role: 'key-user' })],
      [ev('principal.certificate-bound.v1', { principalId: 'prn_user00001', fingerprint })],
      [ev('principal.certificate-unbound.v1', { principalId: 'prn_user00001' })],
    ];
    let prev = GENESIS_HASH;
    const p = new TenantProjection('tnt_a');
    bodies.forEach((events, i) => {
      const c = sealCommit({ tenantId: 'tnt_a', seq: i + 1, commandId: `c${i}`, events, committedAt: at, prevHash: prev });
      prev = c.hash;
      p.apply(c);
      if (i === 2) {
        expect(p.principals.get('tnt_a:prn_user00001')).toMatchObject({
          certificate: { fingerprint, boundAt: at, boundBy: actor.principalId },
          appliedSeq: 3,
        });
      }
    });
    expect(p.principals.get('tnt_a:prn_user00001')).toMatchObject({ certificate: null, revokedAt: null, appliedSeq: 4 });
  });
});
