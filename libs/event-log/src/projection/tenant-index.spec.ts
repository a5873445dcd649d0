import type { KeyLifecycleState } from '@keyward/domain';
import { entryMatches, labelDigest, pageAfter, tenantIndexOf, viewMatches, viewsAgreeWithIndex } from './tenant-index';
import { VIEW_SCHEMA_VERSION, type KeyView, type PrincipalView, type TenantView } from './views';

const key = (keyId: string, state: KeyLifecycleState, alias: string | null, labels: Record<string, string>, appliedSeq: number) =>
  ({ _id: `t:${keyId}`, tenantId: 't', keyId, state, alias, labels, appliedSeq }) as unknown as KeyView;
const principal = (principalId: string, appliedSeq: number) =>
  ({ _id: `t:${principalId}`, tenantId: 't', principalId, appliedSeq }) as PrincipalView;

describe('tenant index', () => {
  const keys = [
    key('key_c', 'Active', 'payments', { team: 'a', env: 'prod' }, 7),
    key('key_a', 'PreActive', null, {}, 2),
    key('key_b', 'Active', null, { team: 'b' }, 5),
  ];
  const index = tenantIndexOf('t', 9, { appliedSeq: 8 } as TenantView, keys, [principal('prn_b', 3), principal('prn_a', 1)]);

  it('lists keys and principals in id order with what the filters need, the same whatever the order they come in', () => {
    expect(index).toEqual({
      _id: 't',
      schema: VIEW_SCHEMA_VERSION,
      lastSeq: 9,
      tenantSeq: 8,
      keys: [
        { keyId: 'key_a', state: 'PreActive', alias: null, labels: [], appliedSeq: 2 },
        { keyId: 'key_b', state: 'Active', alias: null, labels: [labelDigest('team', 'b')], appliedSeq: 5 },
        {
          keyId: 'key_c',
          state: 'Active',
          alias: 'payments',
          labels: [labelDigest('env', 'prod'), labelDigest('team', 'a')].sort(),
          appliedSeq: 7,
        },
      ],
      principals: [
        { principalId: 'prn_a', appliedSeq: 1 },
        { principalId: 'prn_b', appliedSeq: 3 },
      ],
    });
    expect(
      tenantIndexOf('t', 9, { appliedSeq: 8 } as TenantView, [...keys].reverse(), [principal('prn_a', 1), principal('prn_b', 3)]),
    ).toEqual(index);
    expect(tenantIndexOf('t', 0, undefined, [], []).tenantSeq).toBeNull();
  });

  it('label digests are short, and differ with the name, the value and where one ends', () => {
    expect(labelDigest('team', 'a')).toMatch(/^[0-9a-f]{12}$/);
    expect(new Set([labelDigest('team', 'a'), labelDigest('team', 'b'), labelDigest('teama', ''), labelDigest('tea', 'ma')]).size).toBe(4);
  });

  it('filters entries by state, alias and label, and checks views the same way', () => {
    const ids = (filter: Parameters<typeof entryMatches>[1]) => index.keys.filter((e) => entryMatches(e, filter)).map((e) => e.keyId);
    expect(ids({})).toEqual(['key_a', 'key_b', 'key_c']);
    expect(ids({ state: 'Active' })).toEqual(['key_b', 'key_c']);
    expect(ids({ alias: 'payments' })).toEqual(['key_c']);
    expect(ids({ label: { name: 'team', value: 'a' } })).toEqual(['key_c']);
    expect(ids({ state: 'PreActive', label: { name: 'team', value: 'a' } })).toEqual([]);
    expect(keys.filter((k) => viewMatches(k, { state: 'Active', label: { name: 'team', value: 'b' } })).map((k) => k.keyId)).toEqual([
      'key_b',
    ]);
    expect(viewMatches(keys[0]!, { alias: 'other' })).toBe(false);
    // The type is checked on the views only (the index does not carry it).
    expect(viewMatches(keys[0]!, { keyType: keys[0]!.keyType })).toBe(true);
    expect(viewMatches(keys[0]!, { keyType: 'RSA-4096' })).toBe(keys[0]!.keyType === 'RSA-4096');
  });

  it('pages after a cursor (exclusive), says whether more follow, and skips what the filter drops', () => {
    const entries = ['a', 'b', 'c', 'd', 'e'];
    const id = (s: string) => s;
    expect(pageAfter(entries, id, undefined, 2)).toEqual({ ids: ['a', 'b'], more: true });
    expect(pageAfter(entries, id, 'b', 2)).toEqual({ ids: ['c', 'd'], more: true });
    expect(pageAfter(entries, id, 'd', 2)).toEqual({ ids: ['e'], more: false });
    expect(pageAfter(entries, id, 'bb', 2)).toEqual({ ids: ['c', 'd'], more: true });
    expect(pageAfter(entries, id, 'e', 2)).toEqual({ ids: [], more: false });
    expect(pageAfter(entries, id, undefined, 5)).toEqual({ ids: entries, more: false });
    expect(pageAfter(entries, id, 'a', 2, (s) => s !== 'c')).toEqual({ ids: ['b', 'd'], more: true });
    expect(pageAfter(entries, id, 'b', 2, (s) => s === 'c')).toEqual({ ids: ['c'], more: false });
  });

  it('views agree with the index when each is at or past its entry; one behind, or missing, does not', () => {
    const byKey = new Map<string, { appliedSeq: number }>(keys.map((k) => [k.keyId, k]));
    const byPrincipal = new Map([
      ['prn_a', { appliedSeq: 1 }],
      ['prn_b', { appliedSeq: 4 }],
    ]);
    expect(viewsAgreeWithIndex(index, { appliedSeq: 8 }, byKey, byPrincipal)).toBe(true);
    expect(viewsAgreeWithIndex(index, { appliedSeq: 10 }, byKey, byPrincipal)).toBe(true);
    expect(viewsAgreeWithIndex(index, { appliedSeq: 7 }, byKey, byPrincipal)).toBe(false);
    expect(viewsAgreeWithIndex(index, null, byKey, byPrincipal)).toBe(false);
    expect(viewsAgreeWithIndex(index, { appliedSeq: 8 }, new Map([...byKey, ['key_b', { appliedSeq: 4 }]]), byPrincipal)).toBe(false);
    expect(viewsAgreeWithIndex(index, { appliedSeq: 8 }, new Map([...byKey].filter(([k]) => k !== 'key_a')), byPrincipal)).toBe(false);
    expect(viewsAgreeWithIndex(index, { appliedSeq: 8 }, byKey, new Map([['prn_b', { appliedSeq: 3 }]]))).toBe(false);
  });
});
