import { createCipheriv, createDecipheriv } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { ByteQueue } from './byte-queue';
import { EnvelopeError } from './envelope-error';
import {
  encodeHeader,
  FINAL_FLAG,
  FRAME_PREFIX_BYTES,
  frameAad,
  frameIv,
  openHeader,
  parseHeader,
  sha256,
  TAG_BYTES,
  withWrappedKey,
  type EnvelopeHeader,
  type MessageKeys,
} from './message-format';

/** A header ready to write and the keys of its message. */
export interface SealingMaterials {
  readonly header: EnvelopeHeader;
  readonly keys: MessageKeys;
}

/** Runs an async step inside a Transform callback. */
const settle = (work: Promise<void>, callback: TransformCallback): void => {
  work.then(
    () => callback(),
    (err: unknown) => callback(err instanceof Error ? err : new Error(String(err))),
  );
};

/** Plaintext in, an envelope message out: the header, then one authenticated frame per chunk, the last flagged final. */
export class EnvelopeSealer extends Transform {
  private readonly queue = new ByteQueue();
  private materials: SealingMaterials | undefined;
  private fixedDigest: Buffer = Buffer.alloc(0);
  private readonly aadDigest: Buffer;
  private index = 0;
  /** Plaintext bytes sealed so far. */
  plaintextBytes = 0;

  constructor(
    private readonly obtain: () => Promise<SealingMaterials>,
    aad: Buffer = Buffer.alloc(0),
  ) {
    super();
    this.aadDigest = sha256(aad);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    settle(
      this.start().then(() => {
        const { chunkBytes } = (this.materials as SealingMaterials).header;
        this.queue.push(chunk);
        // Strictly more than one chunk queued: what is left may still be the final chunk.
        while (this.queue.length > chunkBytes) this.frame(this.queue.take(chunkBytes), false);
      }),
      callback,
    );
  }

  override _flush(callback: TransformCallback): void {
    settle(
      this.start().then(() => {
        this.frame(this.queue.takeAll(), true);
        this.materials?.keys.encryption.fill(0);
      }),
      callback,
    );
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    this.materials?.keys.encryption.fill(0);
    callback(err);
  }

  private async start(): Promise<void> {
    if (this.materials !== undefined) return;
    this.materials = await this.obtain();
    this.fixedDigest = sha256(this.materials.header.fixed);
    this.push(encodeHeader(this.materials.header));
  }

  private frame(plaintext: Buffer, final: boolean): void {
    const cipher = createCipheriv('aes-256-gcm', (this.materials as SealingMaterials).keys.encryption, frameIv(this.index));
    cipher.setAAD(frameAad(this.fixedDigest, this.aadDigest, this.index, final));
    const body = cipher.update(plaintext);
    cipher.final();
    const prefix = Buffer.allocUnsafe(FRAME_PREFIX_BYTES);
    prefix.writeUInt8(final ? FINAL_FLAG : 0, 0);
    prefix.writeUInt32BE(body.length + TAG_BYTES, 1);
    // Three pieces, not one concatenated frame: a copy of every frame would double the garbage
    // buffers that wait for the next GC (what bounds keyward encrypt's memory is how much of it piles up).
    this.push(prefix);
    this.push(body);
    this.push(cipher.getAuthTag());
    this.index += 1;
    this.plaintextBytes += plaintext.length;
  }
}

/** An envelope message in, its authenticated plaintext out, frame by frame; the data key comes from `unwrap`. */
export class EnvelopeOpener extends Transform {
  private readonly queue = new ByteQueue();
  private header: EnvelopeHeader | undefined;
  private keys: MessageKeys | undefined;
  private fixedDigest: Buffer = Buffer.alloc(0);
  private readonly aadDigest: Buffer;
  private index = 0;
  private finalSeen = false;
  /** Message bytes read so far. */
  messageBytes = 0;

  constructor(
    private readonly unwrap: (wrappedKey: Buffer) => Promise<Buffer>,
    aad: Buffer = Buffer.alloc(0),
  ) {
    super();
    this.aadDigest = sha256(aad);
  }

  /** The message's header, once read. */
  get envelopeHeader(): EnvelopeHeader | undefined {
    return this.header;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.messageBytes += chunk.length;
    if (this.finalSeen) {
      callback(new EnvelopeError('tampered', `${chunk.length} byte(s) follow the final frame`));
      return;
    }
    this.queue.push(chunk);
    settle(this.drain(), callback);
  }

  override _flush(callback: TransformCallback): void {
    this.keys?.encryption.fill(0);
    if (this.header === undefined) {
      callback(new EnvelopeError('truncated', this.messageBytes === 0 ? 'the message is empty' : 'the message ends inside its header'));
    } else if (!this.finalSeen) {
      callback(new EnvelopeError('truncated', `the message is truncated: it ends after ${this.index} frame(s) without its final frame`));
    } else callback();
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    this.keys?.encryption.fill(0);
    callback(err);
  }

  private async drain(): Promise<void> {
    if (this.keys === undefined) {
      const parsed = parseHeader(this.queue.peek(this.queue.length));
      if (parsed === undefined) return;
      this.queue.take(parsed.length);
      this.header = parsed.header;
      const dataKey = await this.unwrap(parsed.header.wrappedKey);
      try {
        this.keys = openHeader(parsed.header, dataKey);
      } finally {
        dataKey.fill(0);
      }
      this.fixedDigest = sha256(parsed.header.fixed);
    }
    const keys = this.keys;
    const limit = (this.header as EnvelopeHeader).chunkBytes + TAG_BYTES;
    while (!this.finalSeen && this.queue.length >= FRAME_PREFIX_BYTES) {
      const prefix = this.queue.peek(FRAME_PREFIX_BYTES);
      const flags = prefix.readUInt8(0);
      const length = prefix.readUInt32BE(1);
      if ((flags & ~FINAL_FLAG) !== 0 || length < TAG_BYTES || length > limit)
        throw new EnvelopeError('tampered', `frame ${this.index} has an impossible prefix (flags ${flags}, length ${length})`);
      if (this.queue.length < FRAME_PREFIX_BYTES + length) return;
      this.queue.take(FRAME_PREFIX_BYTES);
      // The frame's ciphertext as the pieces it arrived in (a frame spans reads): deciphered piece
      // by piece rather than copied into one buffer first, and released only once its tag verified.
      const sealed = this.queue.takePieces(length - TAG_BYTES);
      const tag = this.queue.take(TAG_BYTES);
      const final = (flags & FINAL_FLAG) !== 0;
      const decipher = createDecipheriv('aes-256-gcm', keys.encryption, frameIv(this.index));
      decipher.setAAD(frameAad(this.fixedDigest, this.aadDigest, this.index, final));
      decipher.setAuthTag(tag);
      const plaintext = sealed.map((piece) => decipher.update(piece));
      try {
        decipher.final();
      } catch {
        for (const piece of plaintext) piece.fill(0);
        throw new EnvelopeError(
          'tampered',
          `frame ${this.index} failed authentication (altered, reordered, from another message, or the AAD differs)`,
        );
      }
      this.index += 1;
      if (final) this.finalSeen = true;
      for (const piece of plaintext) if (piece.length > 0) this.push(piece);
    }
    if (this.finalSeen && this.queue.length > 0) throw new EnvelopeError('tampered', `${this.queue.length} byte(s) follow the final frame`);
  }
}

/**
 * An envelope message in, the same message out with its data key rewrapped (`rewrap` answers the
 * new wrapped key): the frames pass through untouched, so any size rewraps in constant memory.
 */
export class EnvelopeRewrapper extends Transform {
  private readonly queue = new ByteQueue();
  private headerDone = false;

  constructor(private readonly rewrap: (wrappedKey: Buffer) => Promise<Buffer>) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.headerDone) {
      callback(null, chunk);
      return;
    }
    this.queue.push(chunk);
    settle(
      (async () => {
        const parsed = parseHeader(this.queue.peek(this.queue.length));
        if (parsed === undefined) return;
        this.queue.take(parsed.length);
        const rewrapped = await this.rewrap(parsed.header.wrappedKey);
        this.push(encodeHeader(withWrappedKey(parsed.header, rewrapped)));
        this.headerDone = true;
        if (this.queue.length > 0) this.push(this.queue.takeAll());
      })(),
      callback,
    );
  }

  override _flush(callback: TransformCallback): void {
    callback(this.headerDone ? null : new EnvelopeError('truncated', 'the message ends inside its header'));
  }
}
