import type { KeywardEvent } from '@keyward/domain';
import { GENESIS_HASH, sealCommit, type Commit } from './commit';
import { chainBreak, GENESIS_HEAD, isSealed, TenantChains } from './hash-chain';

const event = (keyId: string): KeywardEvent => ({
  type: 'key.activated.v1',
  data: { keyId, reason: 'requested' },
  actor: { principalId: 'prn_abcdefgh', role: 'tenant-admin' },
  correlationId: 'req-1',
  at: '2026-01-01T00:00:00.000Z',
});

function chain(tenantId: string, n: number): Commit[] {
  const out: Commit[] = [];
  let prevHash = GENESIS_HASH;
  for (let seq = 1; seq <= n; seq++) {
    const c = sealCommit({
      tenantId,
      seq,
      commandId: `c${seq}`,
      events: [event(`key_${seq}aaaaaaaa`)],
      committedAt: '2026-01-01T00:00:00.000Z',
      prevHash,
    });
    out.push(c);
    prevHash = c.hash;
  }
  return out;
}

describe('chainBreak: the rule of the hash chain', () => {
  const [first, second] = chain('tnt_a', 2) as [Commit, Commit];

  it('accepts the next commit, from the genesis head on', () => {
    expect(GENESIS_HEAD).toEqual({ seq: 0, hash: GENESIS_HASH });
    expect(chainBreak(GENESIS_HEAD, first)).toBeUndefined();
    expect(chainBreak({ seq: 1, hash: first.hash }, second)).toBeUndefined();
  });

  it('names a gap, an altered commit and a broken link, in that order', () => {
    expect(chainBreak(GENESIS_HEAD, second)).toBe('gap');
    const altered = { ...second, events: [event('key_evilaaaaaaa')] };
    expect(isSealed(altered)).toBe(false);
    expect(chainBreak({ seq: 1, hash: first.hash }, altered)).toBe('hash-mismatch');
    // Altered and pointing elsewhere: it no longer hashes to its hash, which is what is said.
    expect(chainBreak({ seq: 1, hash: first.hash }, { ...altered, prevHash: GENESIS_HASH })).toBe('hash-mismatch');
    const resealed = sealCommit({ ...second, prevHash: GENESIS_HASH });
    expect(isSealed(resealed)).toBe(true);
    expect(chainBreak({ seq: 1, hash: first.hash }, resealed)).toBe('broken-link');
  });
});

describe('TenantChains', () => {
  it('follows interleaved tenants, each from the genesis head', () => {
    const a = chain('tnt_a', 3);
    const b = chain('tnt_b', 2);
    const chains = new TenantChains();
    for (const c of [a[0], b[0], a[1], b[1], a[2]] as Commit[]) expect(chains.accept(c)).toBeUndefined();
    expect(chains.size).toBe(2);
    expect(chains.head('tnt_a')).toEqual({ seq: 3, hash: a[2]!.hash });
    expect(chains.head('tnt_c')).toBe(GENESIS_HEAD);
    expect(new Map(chains.entries()).get('tnt_b')).toEqual({ seq: 2, hash: b[1]!.hash });
  });

  it('accept leaves the head where it was on a break; advance moves it anyway', () => {
    const a = chain('tnt_a', 3);
    const chains = new TenantChains();
    expect(chains.accept(a[0]!)).toBeUndefined();
    expect(chains.accept(a[2]!)).toBe('gap');
    expect(chains.head('tnt_a').seq).toBe(1);
    expect(chains.check(a[1]!)).toBeUndefined();
    chains.advance(a[2]!);
    expect(chains.head('tnt_a')).toEqual({ seq: 3, hash: a[2]!.hash });
    expect(chains.check(a[1]!)).toBe('gap');
  });
});
