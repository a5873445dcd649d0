import { randomBytes } from 'node:crypto';
import { combine } from 'shamir-secret-sharing';
import { keyCheckValue } from '../material/key-check-value';
import { checkSplitOptions, combineRootKeyShares, splitRootKey } from './root-key-shares';
import { decodeShare, encodeShare, SHARE_DATA_BYTES, type RootKeyShare } from './share-codec';
import { ShareError } from './share-error';

/** Every k-element subset of items (in order). */
function subsets<T>(items: readonly T[], k: number): T[][] {
  if (k === 0) return [[]];
  if (items.length < k) return [];
  const [head, ...rest] = items as [T, ...T[]];
  return [...subsets(rest, k - 1).map((s) => [head, ...s]), ...subsets(rest, k)];
}

async function refusal(shares: readonly RootKeyShare[]): Promise<ShareError> {
  try {
    (await combineRootKeyShares(shares)).fill(0);
  } catch (err: unknown) {
    if (err instanceof ShareError) return err;
    throw err;
  }
  throw new Error('combined');
}

/** A copy of a share whose data was changed at one byte, re-encoded with a correct checksum (a forgery, not a typo). */
function tampered(share: RootKeyShare, at = 5): RootKeyShare {
  const data = new Uint8Array(share.data);
  data[at] = (data[at] ?? 0) ^ 0x01;
  return decodeShare(encodeShare({ ...share, data }));
}

describe('splitting a root key into Shamir shares and combining them', () => {
  const key = randomBytes(32);
  const kcv = keyCheckValue(key);

  it.each([
    [2, 2],
    [2, 3],
    [3, 5],
    [5, 5],
    [4, 7],
    [2, 10],
  ])('%i of %i: every subset of the threshold size reconstructs the key, in any order', async (threshold, total) => {
    const split = await splitRootKey(key, { shares: total, threshold });
    expect(split).toMatchObject({ kcv, threshold, setId: expect.stringMatching(/^[0-9a-f]{8}$/) as unknown });
    expect(split.shares).toHaveLength(total);
    const shares = split.shares.map(decodeShare);
    expect(shares.map((s) => s.index)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    for (const subset of subsets(shares, threshold)) {
      expect((await combineRootKeyShares(subset)).equals(key)).toBe(true);
      expect((await combineRootKeyShares([...subset].reverse())).equals(key)).toBe(true);
    }
  });

  it('many shares, high threshold (10 of 16), a random subset', async () => {
    const shares = (await splitRootKey(key, { shares: 16, threshold: 10 })).shares.map(decodeShare);
    const picked = [...shares].sort(() => Math.random() - 0.5).slice(0, 10);
    expect((await combineRootKeyShares(picked)).equals(key)).toBe(true);
  });

  it('more than the threshold also works', async () => {
    const shares = (await splitRootKey(key, { shares: 5, threshold: 3 })).shares.map(decodeShare);
    expect((await combineRootKeyShares(shares)).equals(key)).toBe(true);
  });

  it('leaves the key untouched, and two splits of one key give different shares and sets', async () => {
    const copy = Buffer.from(key);
    const a = await splitRootKey(key, { shares: 3, threshold: 2 });
    const b = await splitRootKey(key, { shares: 3, threshold: 2 });
    expect(key.equals(copy)).toBe(true);
    expect(a.setId).not.toBe(b.setId);
    expect(a.shares.filter((s) => b.shares.includes(s))).toEqual([]);
    expect(a.kcv).toBe(b.kcv);
  });

  describe('fewer than the threshold reveal nothing usable', () => {
    it.each([
      [2, 3],
      [3, 5],
      [5, 8],
    ])('%i of %i: one share too few is refused', async (threshold, total) => {
      const shares = (await splitRootKey(key, { shares: total, threshold })).shares.map(decodeShare);
      for (const subset of subsets(shares, threshold - 1)) {
        const err = await refusal(subset);
        expect([err.code, err.message]).toEqual(['insufficient', `${threshold} different shares are needed, ${threshold - 1} were given`]);
      }
    });

    it('interpolating one share too few (bypassing the count check) gives a key that is not the root key and fails its check value', async () => {
      const shares = (await splitRootKey(key, { shares: 5, threshold: 3 })).shares.map(decodeShare);
      for (const pair of subsets(shares, 2)) {
        const guess = Buffer.from(await combine(pair.map((s) => new Uint8Array(s.data))));
        expect(guess.equals(key)).toBe(false);
        expect(keyCheckValue(guess)).not.toBe(kcv);
      }
    });

    it('M−1 shares are as consistent with any other key as with the real one (each byte of the result is uniform)', async () => {
      // With 2 of a 3-of-5 set, the interpolated "key" varies from split to split: it is noise, not the key.
      const guesses = new Set<string>();
      for (let i = 0; i < 20; i++) {
        const shares = (await splitRootKey(key, { shares: 5, threshold: 3 })).shares.map(decodeShare);
        guesses.add(Buffer.from(await combine([shares[0]!.data, shares[1]!.data].map((d) => new Uint8Array(d)))).toString('hex'));
      }
      expect(guesses.size).toBe(20);
      expect(guesses.has(key.toString('hex'))).toBe(false);
    });
  });

  it('duplicates count once', async () => {
    const [s1, s2, s3] = (await splitRootKey(key, { shares: 5, threshold: 3 })).shares.map(decodeShare) as [
      RootKeyShare,
      RootKeyShare,
      RootKeyShare,
    ];
    const err = await refusal([s1, s1, s2, decodeShare(encodeShare(s2))]);
    expect([err.code, err.details]).toEqual(['insufficient', { submitted: 2, threshold: 3 }]);
    expect((await combineRootKeyShares([s1, s1, s2, s3])).equals(key)).toBe(true);
  });

  it('a tampered share (valid checksum, altered data) is refused by the check value, not turned into a wrong key', async () => {
    const shares = (await splitRootKey(key, { shares: 5, threshold: 3 })).shares.map(decodeShare);
    for (const at of [0, 15, 31]) {
      const err = await refusal([shares[0]!, tampered(shares[1]!, at), shares[2]!]);
      expect([err.code, err.message]).toEqual(['inconsistent', expect.stringMatching(new RegExp(`check value ${kcv}.*altered`))]);
    }
  });

  it('a moved x coordinate is refused: inconsistent, or a conflict when it lands on another share', async () => {
    const shares = (await splitRootKey(key, { shares: 5, threshold: 3 })).shares.map(decodeShare);
    const xs = shares.map((s) => s.data[SHARE_DATA_BYTES - 1]!);
    const withX = (share: RootKeyShare, x: number): RootKeyShare => {
      const data = new Uint8Array(share.data);
      data[SHARE_DATA_BYTES - 1] = x;
      return decodeShare(encodeShare({ ...share, data }));
    };
    const unused = Array.from({ length: 255 }, (_, i) => i + 1).find((x) => !xs.includes(x))!;
    expect((await refusal([shares[0]!, withX(shares[1]!, unused), shares[2]!])).code).toBe('inconsistent');
    const err = await refusal([shares[0]!, withX(shares[1]!, xs[0]!), shares[2]!]);
    expect([err.code, err.message]).toEqual(['conflict', 'shares 1 and 2 of this set have the same x coordinate: one of them is altered']);
  });

  it('two different shares with the same number are a conflict', async () => {
    const shares = (await splitRootKey(key, { shares: 5, threshold: 3 })).shares.map(decodeShare);
    const err = await refusal([shares[0]!, shares[1]!, tampered(shares[1]!)]);
    expect([err.code, err.message]).toEqual([
      'conflict',
      'share 2 of this set was already given with different content: one of the two is altered',
    ]);
  });

  it('shares of another root key, or of another split of the same key, are refused before combining', async () => {
    const ours = (await splitRootKey(key, { shares: 5, threshold: 3 })).shares.map(decodeShare);
    const otherKey = (await splitRootKey(randomBytes(32), { shares: 5, threshold: 3 })).shares.map(decodeShare);
    const otherSplit = (await splitRootKey(key, { shares: 5, threshold: 3 })).shares.map(decodeShare);
    const otherThreshold = (await splitRootKey(key, { shares: 5, threshold: 2 })).shares.map(decodeShare);
    let err = await refusal([ours[0]!, ours[1]!, otherKey[2]!]);
    expect([err.code, err.message]).toEqual([
      'set-mismatch',
      expect.stringMatching(/belongs to another root key than the shares submitted so far/),
    ]);
    expect(err.details).toEqual({
      expected: { rootKcv: kcv, setId: ours[0]!.setId, threshold: 3, shares: 5 },
      received: { rootKcv: otherKey[2]!.kcv, setId: otherKey[2]!.setId, threshold: 3, shares: 5 },
    });
    expect(otherKey[2]!.kcv).not.toBe(kcv);
    err = await refusal([ours[0]!, ours[1]!, otherSplit[2]!]);
    expect([err.code, err.message]).toEqual(['set-mismatch', expect.stringMatching(/another split of the same root key/)]);
    err = await refusal([ours[0]!, otherThreshold[1]!, ours[2]!]);
    expect(err.code).toBe('set-mismatch');
  });

  it('no shares at all', async () => {
    expect((await refusal([])).code).toBe('insufficient');
  });

  describe('split options', () => {
    it.each<[number, number, RegExp]>([
      [5, 1, /at least 2 \(with 1, every share would be the root key itself\)/],
      [3, 4, /threshold \(4\) cannot be larger than the number of shares \(3\)/],
      [1, 1, /number of shares must be a whole number from 2 to 255/],
      [256, 3, /from 2 to 255/],
      [5.5, 3, /whole number/],
      [5, Number.NaN, /threshold must be a whole number/],
    ])('%d shares, threshold %d is refused', (shares, threshold, message) => {
      expect(() => checkSplitOptions(shares, threshold)).toThrow(message);
    });

    it('refuses a key that is not 32 bytes', async () => {
      await expect(splitRootKey(randomBytes(16), { shares: 3, threshold: 2 })).rejects.toThrow(/32 bytes/);
    });

    it('allows 255 shares', async () => {
      const split = await splitRootKey(key, { shares: 255, threshold: 2 });
      expect(new Set(split.shares.map((s) => decodeShare(s).data[SHARE_DATA_BYTES - 1])).size).toBe(255);
      expect((await combineRootKeyShares([decodeShare(split.shares[254]!), decodeShare(split.shares[0]!)])).equals(key)).toBe(true);
    });
  });
});
