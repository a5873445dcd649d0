import { createHash, randomBytes } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { z } from 'zod';
import { AuthenticationFailed } from '../errors';
import { GCM_IV_BYTES, GCM_TAG_BYTES, openAesGcm, sealAesGcm } from '../aead/aes-gcm';
import { boundFields } from '../hierarchy/key-hierarchy';
import { BackupError } from './backup-error';
import { PART_LABEL, type BackupPart } from './backup-keys';
import { canonicalize } from './canonical';

/**
 * The encrypted file of one snapshot part:
 *
 *   "KWBK" ‖ format (u8) ‖ header length (u32 BE) ‖ header (canonical JSON)
 *   then frames: flags (u8, bit 0 = final) ‖ length (u32 BE) ‖ IV (12) ‖ tag (16) ‖ ciphertext
 *
 * Each frame is AES-256-GCM over up to `chunkBytes` of the compressed stream. Its AAD binds the
 * SHA-256 of the header, the frame's index and its final flag: a changed header, a reordered,
 * dropped, duplicated or altered frame fails authentication, and a file that ends before a frame
 * flagged final is truncated. Nothing after the final frame is accepted.
 */
export const BACKUP_MAGIC = Buffer.from('KWBK', 'ascii');
export const BACKUP_FORMAT = 1;
export const DEFAULT_CHUNK_BYTES = 256 * 1024;
const MIN_CHUNK_BYTES = 1024;
const MAX_CHUNK_BYTES = 16 * 1024 * 1024;
const MAX_HEADER_BYTES = 64 * 1024;
const PREFIX_BYTES = BACKUP_MAGIC.length + 1 + 4;
const FRAME_PREFIX_BYTES = 1 + 4;
const SEALED_OVERHEAD = GCM_IV_BYTES + GCM_TAG_BYTES;
const FINAL = 0x01;

const headerSchema = z
  .object({
    format: z.literal(BACKUP_FORMAT),
    part: z.enum(['kek', 'dek']),
    snapshotId: z.string().min(1).max(200),
    createdAt: z.string(),
    keyFingerprint: z.string().regex(/^[0-9a-f]{16}$/),
    salt: z.string().regex(/^[A-Za-z0-9+/]{43}=$/),
    chunkBytes: z.number().int().min(MIN_CHUNK_BYTES).max(MAX_CHUNK_BYTES),
    compression: z.literal('gzip'),
    cipher: z.literal('AES-256-GCM'),
  })
  .strict();

export type PartHeader = z.infer<typeof headerSchema>;

export function newPartHeader(fields: {
  part: BackupPart;
  snapshotId: string;
  createdAt: string;
  keyFingerprint: string;
  chunkBytes?: number;
}): PartHeader {
  const chunkBytes = fields.chunkBytes ?? DEFAULT_CHUNK_BYTES;
  if (!Number.isInteger(chunkBytes) || chunkBytes < MIN_CHUNK_BYTES || chunkBytes > MAX_CHUNK_BYTES) {
    throw new RangeError(`chunkBytes must be between ${MIN_CHUNK_BYTES} and ${MAX_CHUNK_BYTES}`);
  }
  return {
    format: BACKUP_FORMAT,
    part: fields.part,
    snapshotId: fields.snapshotId,
    createdAt: fields.createdAt,
    keyFingerprint: fields.keyFingerprint,
    salt: randomBytes(32).toString('base64'),
    chunkBytes,
    compression: 'gzip',
    cipher: 'AES-256-GCM',
  };
}

export function encodePartHeader(header: PartHeader): Buffer {
  const json = Buffer.from(canonicalize(header), 'utf8');
  const prefix = Buffer.alloc(PREFIX_BYTES);
  BACKUP_MAGIC.copy(prefix, 0);
  prefix.writeUInt8(BACKUP_FORMAT, BACKUP_MAGIC.length);
  prefix.writeUInt32BE(json.length, BACKUP_MAGIC.length + 1);
  return Buffer.concat([prefix, json]);
}

const chunkAad = (headerDigest: Buffer, index: number, final: boolean): Buffer =>
  boundFields('keyward/backup/chunk/v1', headerDigest, index, final ? 1 : 0);

/** What a sealer or opener saw of the encrypted file: its size and SHA-256. */
export interface FileDigest {
  readonly bytes: number;
  readonly sha256: string;
}

/** Plaintext (the compressed stream) in, the encrypted file out. */
export class ChunkSealer extends Transform {
  private readonly headerBytes: Buffer;
  private readonly headerDigest: Buffer;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private index = 0;
  private started = false;
  private readonly hash = createHash('sha256');
  private written = 0;

  constructor(
    private readonly key: Buffer,
    readonly header: PartHeader,
  ) {
    super();
    this.headerBytes = encodePartHeader(header);
    this.headerDigest = createHash('sha256').update(this.headerBytes).digest();
  }

  /** Size and SHA-256 of everything emitted (complete once the stream has ended). */
  get digest(): FileDigest {
    return { bytes: this.written, sha256: this.hash.copy().digest('hex') };
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      this.start();
      this.pending.push(chunk);
      this.pendingBytes += chunk.length;
      // Strictly more than one chunk buffered: what is left may still turn out to be the final chunk.
      while (this.pendingBytes > this.header.chunkBytes) {
        const all = Buffer.concat(this.pending);
        this.emitFrame(all.subarray(0, this.header.chunkBytes), false);
        const rest = all.subarray(this.header.chunkBytes);
        this.pending = [rest];
        this.pendingBytes = rest.length;
      }
      callback();
    } catch (err: unknown) {
      callback(err as Error);
    }
  }

  override _flush(callback: TransformCallback): void {
    try {
      this.start();
      this.emitFrame(Buffer.concat(this.pending), true);
      this.pending = [];
      this.pendingBytes = 0;
      callback();
    } catch (err: unknown) {
      callback(err as Error);
    }
  }

  private start(): void {
    if (this.started) return;
    this.started = true;
    this.out(this.headerBytes);
  }

  private emitFrame(plaintext: Buffer, final: boolean): void {
    const sealed = sealAesGcm(this.key, plaintext, chunkAad(this.headerDigest, this.index, final));
    this.index += 1;
    const prefix = Buffer.alloc(FRAME_PREFIX_BYTES);
    prefix.writeUInt8(final ? FINAL : 0, 0);
    prefix.writeUInt32BE(SEALED_OVERHEAD + sealed.ciphertext.length, 1);
    this.out(Buffer.concat([prefix, sealed.iv, sealed.tag, sealed.ciphertext]));
  }

  private out(bytes: Buffer): void {
    this.hash.update(bytes);
    this.written += bytes.length;
    this.push(bytes);
  }
}

export interface ChunkOpenerOptions {
  /** The part this file must be ("the KEK part"); a file of the other part is refused. */
  readonly part: BackupPart;
  /** When set, the file must belong to this snapshot. */
  readonly snapshotId?: string;
  /** Where the file came from, for messages. */
  readonly source: string;
  /**
   * Gives the part's encryption key for a header, or throws a precise BackupError (wrong key,
   * swapped keys). Called once, after the header was read and before any frame is opened.
   */
  readonly keyFor: (header: PartHeader) => Buffer;
  /** Encrypted bytes consumed so far (for progress bars). */
  readonly onBytes?: (bytes: number) => void;
}

/** The encrypted file in, the authenticated plaintext (the compressed stream) out. */
export class ChunkOpener extends Transform {
  private buffered: Buffer = Buffer.alloc(0);
  private headerRead: PartHeader | undefined;
  private headerDigest: Buffer | undefined;
  private key: Buffer | undefined;
  private index = 0;
  private finalSeen = false;
  private readonly hash = createHash('sha256');
  private consumed = 0;

  constructor(private readonly options: ChunkOpenerOptions) {
    super();
  }

  get header(): PartHeader | undefined {
    return this.headerRead;
  }

  get digest(): FileDigest {
    return { bytes: this.consumed, sha256: this.hash.copy().digest('hex') };
  }

  get chunks(): number {
    return this.index;
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    this.key?.fill(0);
    callback(err);
  }

  private get what(): string {
    const id = this.headerRead?.snapshotId ?? this.options.snapshotId;
    return `the ${PART_LABEL[this.options.part]} part${id === undefined ? '' : ` of snapshot ${id}`} (${this.options.source})`;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      this.hash.update(chunk);
      this.consumed += chunk.length;
      this.options.onBytes?.(chunk.length);
      if (this.finalSeen) throw this.tampered(`${chunk.length} byte(s) follow its final chunk`);
      this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
      this.drain();
      callback();
    } catch (err: unknown) {
      callback(err as Error);
    }
  }

  override _flush(callback: TransformCallback): void {
    if (this.headerRead === undefined) {
      callback(
        this.consumed === 0
          ? new BackupError('truncated', `${this.what} is empty`)
          : new BackupError('truncated', `${this.what} ends inside its header (${this.consumed} bytes): the file is truncated`),
      );
      return;
    }
    if (!this.finalSeen) {
      const partial = this.buffered.length > 0 ? ` and ${this.buffered.length} byte(s) of an incomplete chunk` : '';
      callback(
        new BackupError('truncated', `${this.what} is truncated: it ends after ${this.index} chunk(s)${partial}, without its final chunk`),
      );
      return;
    }
    callback();
  }

  private drain(): void {
    if (this.headerRead === undefined && !this.readHeader()) return;
    for (;;) {
      if (this.finalSeen) {
        if (this.buffered.length > 0) throw this.tampered(`${this.buffered.length} byte(s) follow its final chunk`);
        return;
      }
      if (this.buffered.length < FRAME_PREFIX_BYTES) return;
      const flags = this.buffered.readUInt8(0);
      const length = this.buffered.readUInt32BE(1);
      const header = this.headerRead as PartHeader;
      if ((flags & ~FINAL) !== 0 || length < SEALED_OVERHEAD || length > header.chunkBytes + SEALED_OVERHEAD) {
        throw this.tampered(`chunk ${this.index} has an impossible frame (flags ${flags}, length ${length})`);
      }
      if (this.buffered.length < FRAME_PREFIX_BYTES + length) return;
      const frame = this.buffered.subarray(FRAME_PREFIX_BYTES, FRAME_PREFIX_BYTES + length);
      this.buffered = this.buffered.subarray(FRAME_PREFIX_BYTES + length);
      const final = (flags & FINAL) !== 0;
      const sealed = {
        iv: frame.subarray(0, GCM_IV_BYTES),
        tag: frame.subarray(GCM_IV_BYTES, SEALED_OVERHEAD),
        ciphertext: frame.subarray(SEALED_OVERHEAD),
      };
      let plaintext: Buffer;
      try {
        plaintext = openAesGcm(this.key as Buffer, sealed, chunkAad(this.headerDigest as Buffer, this.index, final));
      } catch (err: unknown) {
        if (!(err instanceof AuthenticationFailed)) throw err;
        throw this.tampered(
          this.index === 0
            ? 'its header or first chunk failed authentication'
            : `chunk ${this.index} failed authentication (altered, reordered or from another file)`,
        );
      }
      this.index += 1;
      if (final) this.finalSeen = true;
      if (plaintext.length > 0) this.push(plaintext);
    }
  }

  /** Reads and checks the header; false while it has not fully arrived. */
  private readHeader(): boolean {
    if (this.buffered.length < PREFIX_BYTES) {
      if (!BACKUP_MAGIC.subarray(0, this.buffered.length).equals(this.buffered.subarray(0, BACKUP_MAGIC.length))) this.notBackup();
      return false;
    }
    if (!this.buffered.subarray(0, BACKUP_MAGIC.length).equals(BACKUP_MAGIC)) this.notBackup();
    const format = this.buffered.readUInt8(BACKUP_MAGIC.length);
    if (format !== BACKUP_FORMAT) {
      throw new BackupError('unsupported-format', `${this.what} has format ${format}; this version reads format ${BACKUP_FORMAT}`);
    }
    const length = this.buffered.readUInt32BE(BACKUP_MAGIC.length + 1);
    if (length > MAX_HEADER_BYTES) throw this.tampered(`its header claims ${length} bytes`);
    if (this.buffered.length < PREFIX_BYTES + length) return false;
    const headerBytes = this.buffered.subarray(0, PREFIX_BYTES + length);
    let parsed: unknown;
    try {
      parsed = JSON.parse(headerBytes.subarray(PREFIX_BYTES).toString('utf8'));
    } catch {
      throw this.tampered('its header is not valid JSON');
    }
    const result = headerSchema.safeParse(parsed);
    if (!result.success) throw this.tampered(`its header is invalid (${result.error.issues[0]?.path.join('.') ?? '?'})`);
    const header = result.data;
    if (header.part !== this.options.part) {
      throw new BackupError(
        'wrong-part',
        `${this.what} holds a ${PART_LABEL[header.part]} part instead (snapshot ${header.snapshotId}): are the two destinations swapped?`,
      );
    }
    if (this.options.snapshotId !== undefined && header.snapshotId !== this.options.snapshotId) {
      throw new BackupError(
        'mismatched-pair',
        `${this.what} belongs to snapshot ${header.snapshotId}, not ${this.options.snapshotId}: the file was moved between snapshots`,
      );
    }
    this.headerRead = header;
    this.headerDigest = createHash('sha256').update(headerBytes).digest();
    this.key = this.options.keyFor(header);
    this.buffered = this.buffered.subarray(PREFIX_BYTES + length);
    return true;
  }

  private notBackup(): never {
    throw new BackupError('unsupported-format', `${this.what} is not a Keyward backup file (no KWBK signature)`);
  }

  private tampered(why: string): BackupError {
    return new BackupError('tampered', `${this.what} was altered: ${why}`);
  }
}
