import { randomBytes } from 'node:crypto';
import { combine, split } from 'shamir-secret-sharing';
import { KEK_BYTES } from '../hierarchy/key-hierarchy';
import { keyCheckValue } from '../material/key-check-value';
import { describeShare, encodeShare, MAX_SHARES, SHARE_DATA_BYTES, type RootKeyShare } from './share-codec';
import { ShareError } from './share-error';

/** A root key split for custodians: the shares, and what identifies them publicly. */
export interface SplitRootKey {
  /** Check value of the root key (identifies it; reveals nothing). */
  readonly kcv: string;
  readonly setId: string;
  readonly threshold: number;
  /** One text share per custodian, share i at index i - 1. Secret. */
  readonly shares: readonly string[];
}

/** Checks a (shares, threshold) choice; throws a RangeError saying what is wrong. */
export function checkSplitOptions(shares: number, threshold: number): void {
  if (!Number.isInteger(shares) || shares < 2 || shares > MAX_SHARES) {
    throw new RangeError(`the number of shares must be a whole number from 2 to ${MAX_SHARES}`);
  }
  if (!Number.isInteger(threshold) || threshold < 2) {
    throw new RangeError('the threshold must be a whole number of at least 2 (with 1, every share would be the root key itself)');
  }
  if (threshold > shares) throw new RangeError(`the threshold (${threshold}) cannot be larger than the number of shares (${shares})`);
}

/**
 * Splits a root key into `shares` Shamir shares over GF(256), any `threshold` of which
 * reconstruct it (shamir-secret-sharing, audited by Cure53 and Zellic). The key is not modified.
 */
export async function splitRootKey(
  rootKey: Buffer,
  options: { readonly shares: number; readonly threshold: number },
): Promise<SplitRootKey> {
  if (rootKey.length !== KEK_BYTES) throw new RangeError(`a root key is ${KEK_BYTES} bytes`);
  checkSplitOptions(options.shares, options.threshold);
  const secret = new Uint8Array(rootKey); // the library wants a plain Uint8Array, not a Buffer
  let raw: Uint8Array[] = [];
  try {
    raw = await split(secret, options.shares, options.threshold);
  } finally {
    secret.fill(0);
  }
  const set = { kcv: keyCheckValue(rootKey), setId: randomBytes(4).toString('hex'), threshold: options.threshold, total: options.shares };
  try {
    return {
      kcv: set.kcv,
      setId: set.setId,
      threshold: set.threshold,
      shares: raw.map((data, i) => encodeShare({ ...set, index: i + 1, data })),
    };
  } finally {
    for (const data of raw) data.fill(0);
  }
}

/** Throws a set-mismatch ShareError unless `share` belongs to the same split as `first`. */
export function checkSameSet(first: RootKeyShare, share: RootKeyShare): void {
  if (first.kcv === share.kcv && first.setId === share.setId && first.threshold === share.threshold && first.total === share.total) return;
  const reason =
    first.kcv === share.kcv
      ? 'another split of the same root key (shares of two splits never combine)'
      : 'another root key than the shares submitted so far';
  throw new ShareError('set-mismatch', `this share (${describeShare(share)}) belongs to ${reason} (${describeShare(first)})`, {
    expected: publicSet(first),
    received: publicSet(share),
  });
}

/** Throws a conflict ShareError when `share` and `other` claim the same place but differ; true when they are the same share. */
export function sameShare(other: RootKeyShare, share: RootKeyShare): boolean {
  const sameIndex = other.index === share.index;
  const sameX = other.data[SHARE_DATA_BYTES - 1] === share.data[SHARE_DATA_BYTES - 1];
  if (!sameIndex && !sameX) return false;
  if (sameIndex && sameX && view(other.data).equals(view(share.data))) return true;
  throw new ShareError(
    'conflict',
    sameIndex
      ? `share ${share.index} of this set was already given with different content: one of the two is altered`
      : `shares ${other.index} and ${share.index} of this set have the same x coordinate: one of them is altered`,
    { index: share.index },
  );
}

/**
 * Reconstructs the root key from shares of one set (duplicates count once) and checks it
 * against the check value the shares carry, so an altered share is refused instead of producing
 * a wrong key. The caller owns the shares and should zero their data afterwards.
 */
export async function combineRootKeyShares(shares: readonly RootKeyShare[]): Promise<Buffer> {
  const [first] = shares;
  if (first === undefined) throw new ShareError('insufficient', 'no share was given');
  const distinct: RootKeyShare[] = [];
  for (const share of shares) {
    checkSameSet(first, share);
    if (!distinct.some((other) => sameShare(other, share))) distinct.push(share);
  }
  if (distinct.length < first.threshold) {
    throw new ShareError('insufficient', `${first.threshold} different shares are needed, ${distinct.length} were given`, {
      submitted: distinct.length,
      threshold: first.threshold,
    });
  }
  const copies = distinct.map((share) => new Uint8Array(share.data));
  let secret: Uint8Array;
  try {
    secret = await combine(copies);
  } finally {
    for (const copy of copies) copy.fill(0);
  }
  const key = Buffer.from(secret.buffer, secret.byteOffset, secret.byteLength);
  if (key.length !== KEK_BYTES || keyCheckValue(key) !== first.kcv) {
    key.fill(0);
    throw new ShareError(
      'inconsistent',
      `the shares do not reconstruct the root key they were split from (check value ${first.kcv}): at least one of them was altered`,
      { kcv: first.kcv },
    );
  }
  return key;
}

/** A Buffer over the same memory (no copy of secret bytes left behind). */
const view = (data: Uint8Array): Buffer => Buffer.from(data.buffer, data.byteOffset, data.byteLength);

function publicSet(share: RootKeyShare): Record<string, unknown> {
  return { rootKcv: share.kcv, setId: share.setId, threshold: share.threshold, shares: share.total };
}
