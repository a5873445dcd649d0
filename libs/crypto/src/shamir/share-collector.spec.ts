import { randomBytes } from 'node:crypto';
import { splitRootKey } from './root-key-shares';
import { decodeShare, encodeShare, type RootKeyShare } from './share-codec';
import { ShareCollector, type ShareSubmission } from './share-collector';
import { ShareError } from './share-error';

const TTL = 10 * 60_000;

async function sharesOf(key: Buffer, shares = 5, threshold = 3): Promise<RootKeyShare[]> {
  return (await splitRootKey(key, { shares, threshold })).shares.map(decodeShare);
}

async function refusal(collector: ShareCollector, share: RootKeyShare): Promise<ShareError> {
  try {
    await collector.submit(share);
  } catch (err: unknown) {
    if (err instanceof ShareError) return err;
    throw err;
  }
  throw new Error('accepted');
}

function keyOf(submission: ShareSubmission): Buffer {
  if (!submission.complete) throw new Error(`not complete: ${submission.progress.submitted}/${submission.progress.threshold}`);
  return submission.rootKey;
}

describe('ShareCollector (unsealing, one share at a time)', () => {
  const key = randomBytes(32);
  let shares: RootKeyShare[];
  beforeAll(async () => {
    shares = await sharesOf(key);
  });
  afterEach(() => jest.useRealTimers());

  it('reports progress and reconstructs the key at the threshold, then starts over', async () => {
    const collector = new ShareCollector(TTL);
    expect(collector.progress()).toBeNull();
    const first = await collector.submit(shares[4]!);
    expect(first).toMatchObject({
      complete: false,
      duplicate: false,
      progress: { submitted: 1, threshold: 3, shares: 5, rootKcv: shares[0]!.kcv, setId: shares[0]!.setId },
    });
    expect(Date.parse(first.progress.expiresAt) - Date.parse(first.progress.startedAt)).toBe(TTL);
    expect((await collector.submit(shares[1]!)).progress.submitted).toBe(2);
    expect(collector.progress()).toMatchObject({ submitted: 2, threshold: 3 });
    const done = await collector.submit(shares[2]!);
    expect(done).toMatchObject({ complete: true, progress: { submitted: 3, threshold: 3 } });
    expect(keyOf(done).equals(key)).toBe(true);
    expect(collector.progress()).toBeNull();
  });

  it('M−1 shares never complete, whichever they are', async () => {
    for (const [a, b] of [
      [0, 1],
      [2, 4],
      [3, 0],
    ] as const) {
      const collector = new ShareCollector(TTL);
      expect((await collector.submit(shares[a]!)).complete).toBe(false);
      const second = await collector.submit(shares[b]!);
      expect([second.complete, second.progress.submitted]).toEqual([false, 2]);
      collector.reset();
    }
  });

  it('counts a duplicate once (the same text submitted twice, or decoded twice)', async () => {
    const collector = new ShareCollector(TTL);
    await collector.submit(shares[0]!);
    const again = await collector.submit(decodeShare(encodeShare(shares[0]!)));
    expect(again).toMatchObject({ complete: false, duplicate: true, progress: { submitted: 1 } });
    await collector.submit(shares[1]!);
    expect((await collector.submit(shares[1]!)).progress.submitted).toBe(2);
    expect(keyOf(await collector.submit(shares[3]!)).equals(key)).toBe(true);
  });

  it('refuses a share of another root key or split, and keeps the progress', async () => {
    const collector = new ShareCollector(TTL);
    await collector.submit(shares[0]!);
    await collector.submit(shares[1]!);
    const otherKey = await sharesOf(randomBytes(32));
    const otherSplit = await sharesOf(key, 5, 2);
    expect((await refusal(collector, otherKey[2]!)).code).toBe('set-mismatch');
    expect((await refusal(collector, otherSplit[2]!)).message).toMatch(/another split of the same root key/);
    expect(collector.progress()).toMatchObject({ submitted: 2, rootKcv: shares[0]!.kcv });
    expect(keyOf(await collector.submit(shares[2]!)).equals(key)).toBe(true);
  });

  it('refuses a conflicting share (same number, other content)', async () => {
    const collector = new ShareCollector(TTL);
    await collector.submit(shares[0]!);
    const data = new Uint8Array(shares[0]!.data);
    data[3] = (data[3] ?? 0) ^ 0xff;
    const forged = decodeShare(encodeShare({ ...shares[0]!, data }));
    expect((await refusal(collector, forged)).code).toBe('conflict');
    expect(collector.progress()?.submitted).toBe(1);
  });

  it('a forged share is caught at the threshold: refused, and every held share is discarded', async () => {
    const collector = new ShareCollector(TTL);
    await collector.submit(shares[0]!);
    await collector.submit(shares[1]!);
    const data = new Uint8Array(shares[2]!.data);
    data[0] = (data[0] ?? 0) ^ 0x01;
    const err = await refusal(collector, decodeShare(encodeShare({ ...shares[2]!, data })));
    expect(err.code).toBe('inconsistent');
    expect(collector.progress()).toBeNull();
  });

  it('copies what it holds: the caller may zero its share right after submitting', async () => {
    const collector = new ShareCollector(TTL);
    for (const share of shares.slice(0, 2)) {
      const mine = decodeShare(encodeShare(share));
      await collector.submit(mine);
      mine.data.fill(0);
    }
    expect(keyOf(await collector.submit(shares[2]!)).equals(key)).toBe(true);
  });

  it('reset discards the held shares', async () => {
    const collector = new ShareCollector(TTL);
    await collector.submit(shares[0]!);
    await collector.submit(shares[1]!);
    expect(collector.reset()).toBe(2);
    expect(collector.progress()).toBeNull();
    expect(collector.reset()).toBe(0);
    // A new collection can use another set.
    const other = await sharesOf(randomBytes(32), 3, 2);
    expect((await collector.submit(other[0]!)).progress).toMatchObject({ submitted: 1, threshold: 2 });
  });

  it('discards the held shares when the time is up, and says so', async () => {
    jest.useFakeTimers();
    const expired = jest.fn();
    const collector = new ShareCollector(TTL, expired);
    await collector.submit(shares[0]!);
    await collector.submit(shares[1]!);
    jest.advanceTimersByTime(TTL - 1);
    expect(collector.progress()?.submitted).toBe(2);
    jest.advanceTimersByTime(1);
    expect(expired).toHaveBeenCalledWith(2);
    expect(collector.progress()).toBeNull();
    // The third share alone now makes no unseal.
    expect((await collector.submit(shares[2]!)).progress.submitted).toBe(1);
  });

  it('the timeout counts from the first share, not the last', async () => {
    jest.useFakeTimers();
    const collector = new ShareCollector(TTL);
    await collector.submit(shares[0]!);
    jest.advanceTimersByTime(TTL / 2);
    await collector.submit(shares[1]!);
    jest.advanceTimersByTime(TTL / 2);
    expect(collector.progress()).toBeNull();
  });

  it('expires lazily too, should the timer be late', async () => {
    jest.useFakeTimers({ doNotFake: ['setTimeout', 'clearTimeout'] });
    const expired = jest.fn();
    const collector = new ShareCollector(TTL, expired);
    await collector.submit(shares[0]!);
    jest.setSystemTime(Date.now() + TTL);
    expect(collector.progress()).toBeNull();
    expect(expired).toHaveBeenCalledWith(1);
    collector.reset();
  });

  it('concurrent submissions reaching the threshold: exactly one completes', async () => {
    const collector = new ShareCollector(TTL);
    await collector.submit(shares[0]!);
    await collector.submit(shares[1]!);
    const outcomes = await Promise.all([collector.submit(shares[2]!), collector.submit(shares[3]!)]);
    expect(outcomes.filter((o) => o.complete)).toHaveLength(1);
    expect(collector.progress()?.submitted).toBe(1);
    collector.reset();
  });
});
