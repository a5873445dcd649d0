import { pipeline, Readable } from 'node:stream';
import { createGunzip, createGzip } from 'node:zlib';
import { BackupError } from './backup-error';
import { backupKeyFingerprint, PART_LABEL, partEncryptionKey, type BackupPart } from './backup-keys';
import { ChunkOpener, ChunkSealer, newPartHeader, type FileDigest, type PartHeader } from './chunked-cipher';
import { RecordDecoder, RecordEncoder, type ContentDigest, type SnapshotRecord } from './snapshot-records';

/** What the manifest records of a part: the encrypted file and the content inside it. */
export interface PartSummary extends FileDigest, ContentDigest {
  readonly keyFingerprint: string;
}

export interface SealPartOptions {
  readonly backupKey: Buffer;
  readonly part: BackupPart;
  readonly snapshotId: string;
  readonly createdAt: string;
  readonly chunkBytes?: number;
}

/**
 * Streams records into an encrypted part: NDJSON → gzip → AES-256-GCM chunks. `body` is the file
 * to store (read it to drive the pipeline); `summary` settles once every record was sealed.
 */
export function sealSnapshotPart(
  records: AsyncIterable<SnapshotRecord> | Iterable<SnapshotRecord>,
  options: SealPartOptions,
): { body: Readable; summary: Promise<PartSummary> } {
  const keyFingerprint = backupKeyFingerprint(options.backupKey);
  const header = newPartHeader({ ...options, keyFingerprint });
  const key = partEncryptionKey(options.backupKey, options.part, options.snapshotId, Buffer.from(header.salt, 'base64'));
  const encoder = new RecordEncoder(options.part);
  const sealer = new ChunkSealer(key, header);
  const summary = new Promise<PartSummary>((resolve, reject) => {
    pipeline(Readable.from(records, { objectMode: true }), encoder, createGzip({ level: 6 }), sealer, (err) => {
      key.fill(0);
      if (err) reject(err);
      else resolve({ ...sealer.digest, ...encoder.content, keyFingerprint });
    });
  });
  summary.catch(() => undefined);
  return { body: sealer, summary };
}

export interface OpenPartOptions {
  readonly part: BackupPart;
  /** The file must belong to this snapshot. */
  readonly snapshotId?: string;
  /** Where the file came from, for messages ("s3://bucket/prefix/…"). */
  readonly source: string;
  /** The backup key given for this part. */
  readonly backupKey: Buffer;
  /** The backup key given for the other part: lets a refusal say the two were swapped. */
  readonly otherKey?: Buffer;
  /** The key fingerprint the (already verified) manifest records for this part. */
  readonly expectedFingerprint?: string;
  readonly onBytes?: (bytes: number) => void;
}

/** Reads an encrypted part back: authenticated chunk by chunk, decompressed, parsed and counted. */
export class SnapshotPartReader {
  private readonly opener: ChunkOpener;
  private readonly decoder: RecordDecoder;
  private finished = false;

  constructor(
    private readonly source: Readable,
    private readonly options: OpenPartOptions,
  ) {
    this.opener = new ChunkOpener({
      part: options.part,
      source: options.source,
      keyFor: (header) => this.keyFor(header),
      ...(options.snapshotId === undefined ? {} : { snapshotId: options.snapshotId }),
      ...(options.onBytes === undefined ? {} : { onBytes: options.onBytes }),
    });
    this.decoder = new RecordDecoder(options.part, this.what);
  }

  private get what(): string {
    return `the ${PART_LABEL[this.options.part]} part${this.options.snapshotId === undefined ? '' : ` of snapshot ${this.options.snapshotId}`} (${this.options.source})`;
  }

  get header(): PartHeader | undefined {
    return this.opener.header;
  }

  /** Every record, in order; throws a BackupError the moment something does not authenticate. */
  async *records(): AsyncGenerator<SnapshotRecord> {
    const gunzip = createGunzip();
    const done = new Promise<void>((resolve, reject) => {
      pipeline(this.source, this.opener, gunzip, this.decoder, (err) => (err ? reject(this.explain(err)) : resolve()));
    });
    done.catch(() => undefined);
    try {
      for await (const record of this.decoder) yield record as SnapshotRecord;
    } catch (err: unknown) {
      throw await done.then(
        () => this.explain(err),
        (first: unknown) => first,
      );
    }
    await done;
    this.finished = true;
  }

  /** Reads every record, discarding them; answers the summary. */
  async drain(onRecord: (record: SnapshotRecord) => void = () => undefined): Promise<PartSummary> {
    for await (const record of this.records()) onRecord(record);
    return this.summary();
  }

  summary(): PartSummary {
    if (!this.finished) throw new Error('the part has not been read to its end');
    return { ...this.opener.digest, ...this.decoder.content, keyFingerprint: this.opener.header?.keyFingerprint ?? '' };
  }

  private keyFor(header: PartHeader): Buffer {
    const given = backupKeyFingerprint(this.options.backupKey);
    const label = PART_LABEL[this.options.part];
    if (this.options.expectedFingerprint !== undefined && header.keyFingerprint !== this.options.expectedFingerprint) {
      throw new BackupError(
        'tampered',
        `${this.what} was altered: its header names backup key ${header.keyFingerprint}, its signed manifest ${this.options.expectedFingerprint}`,
      );
    }
    if (header.keyFingerprint !== given) {
      const other = this.options.otherKey === undefined ? undefined : backupKeyFingerprint(this.options.otherKey);
      if (other === header.keyFingerprint) {
        throw new BackupError(
          'swapped-keys',
          `${this.what} is encrypted under the key given as the ${label === 'KEK' ? 'DEK' : 'KEK'} backup key: the two backup keys are swapped`,
        );
      }
      throw new BackupError(
        'wrong-key',
        `${this.what} is encrypted under backup key ${header.keyFingerprint}, not under the ${label} backup key given (${given})`,
      );
    }
    return partEncryptionKey(this.options.backupKey, this.options.part, header.snapshotId, Buffer.from(header.salt, 'base64'));
  }

  private explain(err: unknown): Error {
    if (err instanceof BackupError) return err;
    const code = (err as { code?: string }).code;
    if (typeof code === 'string' && code.startsWith('Z_')) {
      return new BackupError('digest-mismatch', `${this.what} authenticated, but its content is not valid gzip (${code})`);
    }
    return err instanceof Error ? err : new Error(String(err));
  }
}
