import { randomBytes } from 'node:crypto';
import type { BlockEncryptStream } from '@keyward/crypto';

/** An Encrypt fed in parts: whose it is, on which key, and the OpenSSL context that holds the key. */
interface OpenStream {
  readonly tenantId: string;
  readonly principalId: string;
  readonly keyId: string;
  readonly cipher: BlockEncryptStream;
  readonly expires: number;
}

/** At most this many streams are open in a process; each lives this long after its last part. */
export const MAX_STREAMS = 1024;
export const STREAM_TTL_MS = 5 * 60_000;

/**
 * The open multi-part Encrypts of this process, by Correlation Value (16 random bytes). A stream is
 * found again only by the principal and tenant that opened it, on the same key; the oldest is dropped
 * when the table is full, and expired ones whenever one is opened.
 */
export class CipherStreams {
  private readonly streams = new Map<string, OpenStream>();

  open(owner: { tenantId: string; principalId: string; keyId: string }, cipher: BlockEncryptStream, now = Date.now()): Buffer {
    for (const [id, s] of this.streams) if (s.expires <= now) this.streams.delete(id);
    if (this.streams.size >= MAX_STREAMS) {
      const oldest = this.streams.keys().next();
      if (!oldest.done) this.streams.delete(oldest.value);
    }
    const id = randomBytes(16);
    this.streams.set(id.toString('hex'), { ...owner, cipher, expires: now + STREAM_TTL_MS });
    return id;
  }

  /** The stream of a Correlation Value, if this owner opened it and it has not expired; `last` closes it. */
  take(
    id: Buffer,
    owner: { tenantId: string; principalId: string; keyId: string },
    last: boolean,
    now = Date.now(),
  ): BlockEncryptStream | undefined {
    const key = id.toString('hex');
    const found = this.streams.get(key);
    if (found === undefined || found.expires <= now) return undefined;
    if (found.tenantId !== owner.tenantId || found.principalId !== owner.principalId || found.keyId !== owner.keyId) return undefined;
    this.streams.delete(key);
    if (!last) this.streams.set(key, { ...found, expires: now + STREAM_TTL_MS });
    return found.cipher;
  }
}

/** The process's streams (the kmip service is one process; a stream lives on the connection's server). */
export const cipherStreams = new CipherStreams();
