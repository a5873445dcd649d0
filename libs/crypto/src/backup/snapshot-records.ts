import { createHash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { z } from 'zod';
import { BackupError } from './backup-error';
import { PART_LABEL, type BackupPart } from './backup-keys';

/**
 * The content of a part, one JSON record per line before compression. Wrapped values stay
 * wrapped: KEKs under the root key, material under its tenant's KEK.
 */
const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/);
const rootRecord = z.object({ t: z.literal('root'), kcv: z.string().min(1), createdAt: z.string() }).strict();
const kekRecord = z
  .object({ t: z.literal('kek'), tenantId: z.string().min(1), rootKcv: z.string().min(1), sealed: base64, createdAt: z.string() })
  .strict();
const materialRecord = z
  .object({
    t: z.literal('material'),
    tenantId: z.string().min(1),
    keyId: z.string().min(1),
    version: z.number().int().min(1),
    kcv: z.string().min(1),
    sealed: base64,
    createdAt: z.string(),
  })
  .strict();
/** A hashed API key (the credentials collection): not in the log, so only a backup brings it back. */
const credentialRecord = z.object({ t: z.literal('credential'), doc: z.record(z.string(), z.unknown()) }).strict();

export type RootRecord = z.infer<typeof rootRecord>;
export type KekRecord = z.infer<typeof kekRecord>;
export type MaterialRecord = z.infer<typeof materialRecord>;
export type CredentialRecord = z.infer<typeof credentialRecord>;
export type KekPartRecord = RootRecord | KekRecord;
export type DekPartRecord = MaterialRecord | CredentialRecord;
export type SnapshotRecord = KekPartRecord | DekPartRecord;

const PART_RECORDS = {
  kek: z.discriminatedUnion('t', [rootRecord, kekRecord]),
  dek: z.discriminatedUnion('t', [materialRecord, credentialRecord]),
} as const;

/** The record kinds each part holds (the manifest counts each). */
export const PART_RECORD_KINDS: Readonly<Record<BackupPart, readonly SnapshotRecord['t'][]>> = {
  kek: ['root', 'kek'],
  dek: ['material', 'credential'],
};

export type RecordCounts = Record<string, number>;

export const emptyCounts = (part: BackupPart): RecordCounts => Object.fromEntries(PART_RECORD_KINDS[part].map((kind) => [kind, 0]));

/** What the records of a part amount to: their count by kind and the SHA-256 of the uncompressed content. */
export interface ContentDigest {
  readonly contentSha256: string;
  readonly records: RecordCounts;
}

/** Records in (object mode), NDJSON bytes out; counts and hashes what passes. */
export class RecordEncoder extends Transform {
  private readonly hash = createHash('sha256');
  private readonly counts: RecordCounts;

  constructor(private readonly part: BackupPart) {
    super({ writableObjectMode: true });
    this.counts = emptyCounts(part);
  }

  get content(): ContentDigest {
    return { contentSha256: this.hash.copy().digest('hex'), records: { ...this.counts } };
  }

  override _transform(record: SnapshotRecord, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (!PART_RECORD_KINDS[this.part].includes(record.t)) {
      callback(new Error(`a ${record.t} record does not belong in the ${PART_LABEL[this.part]} part`));
      return;
    }
    const line = Buffer.from(`${JSON.stringify(record)}\n`, 'utf8');
    this.hash.update(line);
    this.counts[record.t] = (this.counts[record.t] ?? 0) + 1;
    callback(null, line);
  }
}

const MAX_LINE_BYTES = 4 * 1024 * 1024;

/** NDJSON bytes in, validated records out (object mode); counts and hashes what passes. */
export class RecordDecoder extends Transform {
  private readonly hash = createHash('sha256');
  private readonly counts: RecordCounts;
  private partial: Buffer = Buffer.alloc(0);
  private line = 0;

  constructor(
    private readonly part: BackupPart,
    private readonly what: string,
  ) {
    super({ readableObjectMode: true });
    this.counts = emptyCounts(part);
  }

  get content(): ContentDigest {
    return { contentSha256: this.hash.copy().digest('hex'), records: { ...this.counts } };
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      this.hash.update(chunk);
      let data = this.partial.length === 0 ? chunk : Buffer.concat([this.partial, chunk]);
      for (let newline = data.indexOf(0x0a); newline >= 0; newline = data.indexOf(0x0a)) {
        this.push(this.parse(data.subarray(0, newline)));
        data = data.subarray(newline + 1);
      }
      if (data.length > MAX_LINE_BYTES) throw this.corrupt(`record ${this.line + 1} is longer than ${MAX_LINE_BYTES} bytes`);
      this.partial = Buffer.from(data);
      callback();
    } catch (err: unknown) {
      callback(err as Error);
    }
  }

  override _flush(callback: TransformCallback): void {
    callback(this.partial.length > 0 ? this.corrupt('its last record is incomplete') : null);
  }

  private parse(bytes: Buffer): SnapshotRecord {
    this.line += 1;
    let json: unknown;
    try {
      json = JSON.parse(bytes.toString('utf8'));
    } catch {
      throw this.corrupt(`record ${this.line} is not JSON`);
    }
    const result = PART_RECORDS[this.part].safeParse(json);
    if (!result.success) throw this.corrupt(`record ${this.line} is not a valid ${PART_LABEL[this.part]}-part record`);
    this.counts[result.data.t] = (this.counts[result.data.t] ?? 0) + 1;
    return result.data;
  }

  private corrupt(why: string): BackupError {
    return new BackupError('digest-mismatch', `${this.what} decrypted, but ${why}`);
  }
}
