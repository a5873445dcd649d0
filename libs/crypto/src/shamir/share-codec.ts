import { createHash } from 'node:crypto';
import { KEK_BYTES } from '../hierarchy/key-hierarchy';
import { ShareError } from './share-error';

/** The text every share starts with. */
export const SHARE_PREFIX = 'kwshare';
/** The share format this code writes and reads. */
export const SHARE_FORMAT_VERSION = 1;
/** Most shares one split can have (x coordinates are the non-zero bytes of GF(256)). */
export const MAX_SHARES = 255;
/** Bytes of Shamir data per share: one y byte per root key byte, then the x coordinate. */
export const SHARE_DATA_BYTES = KEK_BYTES + 1;

/**
 * One custodian's share of a root key, decoded. Everything but `data` is public: the check value
 * identifies the root key without revealing it, the set id tells two splits of one key apart.
 */
export interface RootKeyShare {
  /** Key check value of the root key the share was split from (16 hex characters). */
  readonly kcv: string;
  /** Random id of the split this share belongs to (8 hex characters). */
  readonly setId: string;
  /** How many shares of the set reconstruct the root key (M). */
  readonly threshold: number;
  /** How many shares the set has (N). */
  readonly total: number;
  /** The custodian's number, 1..N. */
  readonly index: number;
  /** The Shamir share: 32 y bytes then the x coordinate (the shamir-secret-sharing layout). Secret. */
  readonly data: Uint8Array;
}

const CHECKSUM_CHARS = 8;
const DATA_CHARS = Math.ceil((SHARE_DATA_BYTES * 8) / 6); // unpadded base64url
const FIELDS = new RegExp(
  `^${SHARE_PREFIX}-${SHARE_FORMAT_VERSION}-([0-9a-f]{16})-([0-9a-f]{8})-([1-9][0-9]{0,2})of([1-9][0-9]{0,2})-([1-9][0-9]{0,2})-([A-Za-z0-9_-]{${DATA_CHARS}})$`,
);

/** First 4 bytes of SHA-256 of the share text before it: catches typos, not forgeries (the key check value does that). */
const checksum = (body: string): string => createHash('sha256').update(body, 'utf8').digest('hex').slice(0, CHECKSUM_CHARS);

/**
 * Text form a custodian can copy, print or read aloud:
 * `kwshare-1-<kcv>-<set>-<M>of<N>-<index>-<data, base64url>-<checksum>`.
 */
export function encodeShare(share: RootKeyShare): string {
  checkShareFields(share);
  const data = Buffer.from(share.data.buffer, share.data.byteOffset, share.data.byteLength).toString('base64url');
  const body = `${SHARE_PREFIX}-${SHARE_FORMAT_VERSION}-${share.kcv}-${share.setId}-${share.threshold}of${share.total}-${share.index}-${data}`;
  return `${body}-${checksum(body)}`;
}

/**
 * Reads a share typed or pasted by a custodian (white space, line breaks included, is ignored).
 * Throws a ShareError that says precisely what is wrong; the message never quotes the share.
 */
export function decodeShare(input: string): RootKeyShare {
  const text = input.replace(/\s+/g, '');
  if (text.length === 0) throw new ShareError('format', 'the share is empty');
  if (!text.startsWith(`${SHARE_PREFIX}-`)) {
    throw new ShareError('format', `this is not a Keyward root key share: a share starts with "${SHARE_PREFIX}-"`);
  }
  const version = /^kwshare-([^-]*)-/.exec(text)?.[1] ?? '';
  if (version !== String(SHARE_FORMAT_VERSION)) {
    throw /^[1-9][0-9]*$/.test(version)
      ? new ShareError('version', `this share is in format version ${version}; this Keyward reads version ${SHARE_FORMAT_VERSION}`, {
          version: Number(version),
        })
      : new ShareError('format', `the share format version (after "${SHARE_PREFIX}-") is missing or mistyped`);
  }
  const dash = text.length - CHECKSUM_CHARS - 1;
  const claimed = text.slice(dash + 1);
  if (dash <= 0 || text[dash] !== '-' || !/^[0-9a-f]{8}$/.test(claimed)) {
    throw new ShareError(
      'format',
      `the share is incomplete: it must end with "-" and an ${CHECKSUM_CHARS}-character checksum (was it cut off?)`,
    );
  }
  const body = text.slice(0, dash);
  if (checksum(body) !== claimed) {
    throw new ShareError(
      'checksum',
      'the share checksum does not match: a character was mistyped, added or left out; compare it with the original character by character',
    );
  }
  const fields = FIELDS.exec(body);
  if (!fields) throw new ShareError('format', 'the share fields are malformed (check value, set, MofN, index or data)');
  const [, kcv = '', setId = '', m = '', n = '', i = '', encoded = ''] = fields;
  const bytes = Buffer.from(encoded, 'base64url');
  const share: RootKeyShare = {
    kcv,
    setId,
    threshold: Number(m),
    total: Number(n),
    index: Number(i),
    data: new Uint8Array(bytes),
  };
  bytes.fill(0);
  try {
    checkShareFields(share);
  } catch (err: unknown) {
    share.data.fill(0);
    throw err;
  }
  return share;
}

/** The public description of a share or set, for messages and progress: never its data. */
export function describeShare(share: Pick<RootKeyShare, 'kcv' | 'setId' | 'threshold' | 'total'>): string {
  return `root key ${share.kcv}, set ${share.setId}, ${share.threshold} of ${share.total}`;
}

function checkShareFields(share: RootKeyShare): void {
  const fail = (why: string): never => {
    throw new ShareError('format', `invalid share: ${why}`);
  };
  if (!/^[0-9a-f]{16}$/.test(share.kcv)) fail('the root key check value must be 16 lowercase hex characters');
  if (!/^[0-9a-f]{8}$/.test(share.setId)) fail('the set id must be 8 lowercase hex characters');
  if (!Number.isInteger(share.threshold) || share.threshold < 2) fail('the threshold must be at least 2');
  if (!Number.isInteger(share.total) || share.total > MAX_SHARES) fail(`a set has at most ${MAX_SHARES} shares`);
  if (share.threshold > share.total) fail(`the threshold (${share.threshold}) is larger than the number of shares (${share.total})`);
  if (!Number.isInteger(share.index) || share.index < 1 || share.index > share.total) {
    fail(`the share number (${share.index}) must be between 1 and ${share.total}`);
  }
  if (share.data.byteLength !== SHARE_DATA_BYTES) fail(`the share data must be ${SHARE_DATA_BYTES} bytes`);
  if (share.data[SHARE_DATA_BYTES - 1] === 0) fail('the share x coordinate is zero');
}
