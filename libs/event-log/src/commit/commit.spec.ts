import type { KeywardEvent } from '@keyward/domain';
import { canonicalJson } from './canonical-json';
import { GENESIS_HASH, sealCommit, type Commit } from './commit';
import { chainBreak, GENESIS_HEAD, isSealed, TenantChains, verifyChain } from './hash-chain';

const event = (keyId: string): KeywardEvent => ({
  type: 'key.activated.v1',
  data: { keyId, reason: 'requested' },
  actor: { principalId: 'prn_abcdefgh', role: 'tenant-admin' },
  correlationId: 'req-1',
  at: '2026-01-01T00:00:00.000Z',
});

function chain(n: number, tenantId = 'tnt_a'): Commit[] {
  const out: Commit[] = [];
  let prev = GENESIS_HASH;
  for (let seq = 1; seq <= n; seq++) {
    const c = sealCommit({
      tenantId,
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
    expect(() => canonicalJson({ n: Number.POSITIVE_INFINITY })).toThrow(TypeError);
    expect(() => canonicalJson({ f: () => 1 })).toThrow(TypeError);
    expect(() => canonicalJson(undefined)).toThrow(TypeError);
    expect(() => canonicalJson(1n)).toThrow(TypeError);
  });
  it('gives exactly what the straightforward definition gives, on random documents', () => {
    // The definition it replaced (sorted entries, joined), kept here as the reference: hashes of
    // stored commits depend on every byte.
    const reference = (value: unknown): string => {
      if (value === null || typeof value === 'number' || typeof value === 'boolean' || typeof value === 'string')
        return JSON.stringify(value);
      if (Array.isArray(value)) return `[${value.map((v: unknown) => (v === undefined ? 'null' : reference(v))).join(',')}]`;
      const entries = Object.entries(value as Record<string, unknown>)
        .filter(([, v]) => v !== undefined)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${reference(v)}`).join(',')}}`;
    };
    let seed = 42; // mulberry32: the same documents on every run
    const random = (): number => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const strings = ['', 'a', 'B', 'é', '\u00e9', 'z\u0000', '"q"', '\\', '\n', '日本', '😀', 'ab', 'a b', '10', '2', '__proto_', 'Z'];
    const pick = (): string => strings[Math.floor(random() * strings.length)]! + (random() < 0.3 ? pick() : '');
    const make = (depth: number): unknown => {
      const r = random();
      if (depth > 3 || r < 0.3) {
        const leaf = random();
        if (leaf < 0.2) return null;
        if (leaf < 0.4) return random() < 0.5;
        if (leaf < 0.7) return [0, -0, 1.5, -3e-7, 1e21, 2 ** 53, 123456789][Math.floor(random() * 7)];
        return pick();
      }
      if (r < 0.6) return Array.from({ length: Math.floor(random() * 5) }, () => (random() < 0.1 ? undefined : make(depth + 1)));
      const out: Record<string, unknown> = {};
      // Mostly a few members (sorted by insertion), now and then more than 16 (the built-in sort).
      for (let i = Math.floor(random() * (random() < 0.1 ? 40 : 6)); i > 0; i--) out[pick()] = random() < 0.1 ? undefined : make(depth + 1);
      return out;
    };
    for (let i = 0; i < 2_000; i++) {
      const doc = make(0);
      expect(canonicalJson(doc)).toBe(reference(doc));
    }
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

describe('chainBreak: the rule of the hash chain', () => {
  const [first, second] = chain(2) as [Commit, Commit];

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
    const a = chain(3);
    const b = chain(2, 'tnt_b');
    const chains = new TenantChains();
    for (const c of [a[0], b[0], a[1], b[1], a[2]] as Commit[]) expect(chains.accept(c)).toBeUndefined();
    expect(chains.size).toBe(2);
    expect(chains.head('tnt_a')).toEqual({ seq: 3, hash: a[2]!.hash });
    expect(chains.head('tnt_c')).toBe(GENESIS_HEAD);
    expect(new Map(chains.entries()).get('tnt_b')).toEqual({ seq: 2, hash: b[1]!.hash });
  });

  it('accept leaves the head where it was on a break; advance moves it anyway', () => {
    const a = chain(3);
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
