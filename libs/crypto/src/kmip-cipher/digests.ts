import { createHash, createHmac, getHashes } from 'node:crypto';

/** The hashes KMIP's Hash and MAC operations run, by Keyward name; SHA-3 only where Node's OpenSSL has it. */
export const DIGESTS = {
  'SHA-1': 'sha1',
  'SHA-224': 'sha224',
  'SHA-256': 'sha256',
  'SHA-384': 'sha384',
  'SHA-512': 'sha512',
  'SHA-512/224': 'sha512-224',
  'SHA-512/256': 'sha512-256',
  'SHA3-224': 'sha3-224',
  'SHA3-256': 'sha3-256',
  'SHA3-384': 'sha3-384',
  'SHA3-512': 'sha3-512',
} as const;
export type DigestName = keyof typeof DIGESTS;

const available = new Set(getHashes());

/** Whether this process's OpenSSL computes `digest`. */
export const digestAvailable = (digest: DigestName): boolean => available.has(DIGESTS[digest]);

export const hashOf = (digest: DigestName, data: Buffer): Buffer => createHash(DIGESTS[digest]).update(data).digest();

export const hmacOf = (digest: DigestName, key: Buffer, data: Buffer): Buffer => createHmac(DIGESTS[digest], key).update(data).digest();
