import type { KeywardEvent } from '@keyward/domain';
import { canonicalJson } from './canonical-json';
import { GENESIS_HASH, sealCommit, verifyChain, type Commit } from './commit';

const event = (keyId: string): KeywardEvent => ({
  type: 'key.activated.v1',
  data: { keyId, reason: 'requested' },
  actor: { principalId: 'prn_abcdefgh', role: 'tenant-admin' },
  correlationId: 'req-1',
  at: '2026-01-01T00:00:00.000Z',
});

function chain(n: number): Commit[] {
  const out: Commit[] = [];
  let prev = GENESIS_HASH;
  for (let seq = 1; seq <= n; seq++) {
    const c = sealCommit({
      tenantId: 'tnt_a',
      seq,
      commandId: `c${seq}`,
      events: [event(`key_${seq}aaaaaaaa`)],
      committedAt: '2026-01-01T00:00:00.000Z',
      prevHash: prev,
    });
    out.push(c);
    prev = c.hash;
  }
  return out;
}

describe('canonicalJson', () => {
  it('sorts keys, drops undefined members and has no whitespace', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, 'x'], c: null, e: undefined } })).toBe('{"a":{"c":null,"d":[1,"x"]},"b":1}');
  });
  it('refuses non-JSON values', () => {
    expect(() => canonicalJson({ n: Number.NaN })).toThrow(TypeError);
  });
});

describe('hash chain', () => {
  it('verifies an intact chain', () => {
    expect(verifyChain(chain(5))).toBeUndefined();
  });
  it('pinpoints an altered event', () => {
    const commits = chain(5);
    const tampered = { ...commits[2]!, events: [event('key_evilaaaaaaa')] };
    expect(verifyChain([commits[0]!, commits[1]!, tampered, commits[3]!, commits[4]!])).toEqual({ seq: 3, problem: 'hash-mismatch' });
  });
  it('pinpoints a removed commit', () => {
    const commits = chain(5);
    expect(verifyChain([commits[0]!, commits[1]!, commits[3]!, commits[4]!])).toEqual({ seq: 4, problem: 'gap', expected: 3 });
  });
  it('pinpoints a re-sealed commit that no longer links to its predecessor', () => {
    const commits = chain(3);
    const resealed = sealCommit({ ...commits[1]!, prevHash: GENESIS_HASH });
    expect(verifyChain([commits[0]!, resealed, commits[2]!])).toEqual({ seq: 2, problem: 'broken-link' });
  });
});
