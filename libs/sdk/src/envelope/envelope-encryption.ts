import { Readable, type Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { KeyRef, KeywardClient } from '../client/keyward-client';
import { checkLimits, DataKeyCache, DEFAULT_CACHE_LIMITS, type DataKeyCacheLimits } from './data-key-cache';
import { EnvelopeOpener, EnvelopeRewrapper, EnvelopeSealer, type SealingMaterials } from './envelope-streams';
import { DATA_KEY_BYTES, DEFAULT_CHUNK_BYTES, newHeader, sha256 } from './message-format';

export interface EnvelopeOptions {
  /** The key that wraps the data keys (id or `alias/<name>`): needed to encrypt, not to decrypt. */
  readonly key?: KeyRef;
  /** Plaintext bytes per frame (1 KiB to 4 MiB, default 64 KiB). */
  readonly chunkBytes?: number;
  /** Cache data keys within these limits; false (the default) fetches a data key per message. */
  readonly cache?: Partial<DataKeyCacheLimits> | false;
}

export interface MessageOptions {
  /** Additional authenticated data: bound to the data key (key-api) and to every frame; needed again to decrypt. */
  readonly aad?: Buffer;
}

export interface StreamOptions extends MessageOptions {
  /**
   * The plaintext's size, when known: lets a stream use the cache (its bytes are counted against
   * maxBytes). A stream of unknown size always gets a fresh data key, as with the AWS Encryption SDK.
   */
  readonly size?: number;
}

/**
 * Envelope encryption over key-api: each message is sealed locally (AES-256-GCM, Node's crypto,
 * in authenticated frames) under a data key from `POST /v1/keys/{id}/data-key`, whose wrapped form
 * travels in the message header; decryption unwraps it with `POST /v1/decrypt`. Any size, in
 * constant memory with the stream methods. With `cache`, data keys are reused within the limits.
 */
export class EnvelopeEncryption {
  private readonly cache: DataKeyCache | undefined;
  private readonly chunkBytes: number;

  constructor(
    private readonly client: KeywardClient,
    private readonly options: EnvelopeOptions = {},
    now?: () => number,
  ) {
    this.chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
    this.cache =
      options.cache === undefined || options.cache === false
        ? undefined
        : new DataKeyCache(checkLimits({ ...DEFAULT_CACHE_LIMITS, ...options.cache }), now);
  }

  /** Seals a whole message in memory. */
  async encrypt(plaintext: Buffer, options: MessageOptions = {}): Promise<Buffer> {
    return collect(Readable.from([plaintext]), this.encryptStream({ ...options, size: plaintext.length }));
  }

  /** Opens a whole message in memory (refused if altered, truncated, or the AAD differs). */
  async decrypt(message: Buffer, options: MessageOptions = {}): Promise<Buffer> {
    return collect(Readable.from([message]), this.decryptStream(options));
  }

  /** Plaintext in, message out. */
  encryptStream(options: StreamOptions = {}): EnvelopeSealer {
    const aad = options.aad ?? Buffer.alloc(0);
    return new EnvelopeSealer(() => this.materials(aad, options.size), aad);
  }

  /** Message in, plaintext out (only authenticated frames are released; a truncated message errors at the end). */
  decryptStream(options: MessageOptions = {}): EnvelopeOpener {
    const aad = options.aad ?? Buffer.alloc(0);
    return new EnvelopeOpener((wrapped) => this.unwrap(wrapped, aad), aad);
  }

  /** Message in, the same message out with its data key rewrapped under the key's latest version. */
  rewrapStream(options: MessageOptions = {}): Transform {
    return new EnvelopeRewrapper(async (wrapped) => (await this.client.rewrap(wrapped, options.aad)).ciphertext);
  }

  /** Zeroes and drops the cached data keys. */
  clearCache(): void {
    this.cache?.clear();
  }

  private async materials(aad: Buffer, size: number | undefined): Promise<SealingMaterials> {
    const key = this.options.key;
    if (key === undefined) throw new TypeError('EnvelopeEncryption needs options.key to encrypt');
    const partition = `${key}\u0000${sha256(aad).toString('hex')}`;
    const cache = size === undefined ? undefined : this.cache;
    const cached = size === undefined ? undefined : cache?.takeForEncryption(partition, size);
    const dataKey = cached ?? (await this.fetchDataKey(key, aad));
    try {
      if (cached === undefined && size !== undefined) cache?.putForEncryption(partition, dataKey, size);
      return newHeader(dataKey.plaintext, dataKey.wrapped, this.chunkBytes);
    } finally {
      dataKey.plaintext.fill(0);
    }
  }

  private async fetchDataKey(key: KeyRef, aad: Buffer): Promise<{ plaintext: Buffer; wrapped: Buffer }> {
    const made = await this.client.generateDataKey(key, { bytes: DATA_KEY_BYTES, ...(aad.length > 0 ? { aad } : {}) });
    if (made.plaintext?.length !== DATA_KEY_BYTES) throw new Error('key-api answered a data key of the wrong length');
    return { plaintext: made.plaintext, wrapped: made.ciphertext };
  }

  private async unwrap(wrapped: Buffer, aad: Buffer): Promise<Buffer> {
    const partition = `${sha256(wrapped).toString('hex')}\u0000${sha256(aad).toString('hex')}`;
    const cached = this.cache?.getForDecryption(partition);
    if (cached !== undefined) return cached;
    const { plaintext } = await this.client.decrypt(wrapped, aad.length > 0 ? aad : undefined);
    this.cache?.putForDecryption(partition, { plaintext, wrapped });
    return plaintext;
  }
}

async function collect(source: Readable, transform: Transform): Promise<Buffer> {
  const chunks: Buffer[] = [];
  await pipeline(source, transform, async (stream: AsyncIterable<Buffer>) => {
    for await (const chunk of stream) chunks.push(chunk);
  });
  return Buffer.concat(chunks);
}
