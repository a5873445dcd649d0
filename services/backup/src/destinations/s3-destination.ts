import type { Readable } from 'node:stream';
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  type ListObjectsV2CommandOutput,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { BackupDestinationSetting } from '@keyward/config';
import { isSnapshotId } from '@keyward/crypto';
import { readAll, type BackupDestination, type StoredSnapshot } from './destination';

type S3Setting = Extract<BackupDestinationSetting, { kind: 's3' }>;

/**
 * An S3 bucket prefix, on AWS or an S3-compatible server (path-style requests when an endpoint is
 * set). Parts are streamed up as multipart uploads, so an object appears only when complete.
 * Checksums are sent only where an operation requires them, which every S3-compatible server accepts.
 */
export class S3Destination implements BackupDestination {
  private readonly client: S3Client;

  constructor(private readonly setting: S3Setting) {
    this.client = new S3Client({
      region: setting.region,
      ...(setting.endpoint === null ? {} : { endpoint: setting.endpoint, forcePathStyle: true }),
      ...(setting.credentials === null ? {} : { credentials: setting.credentials }),
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      maxAttempts: 3,
    });
  }

  get description(): string {
    const base = `s3://${this.setting.bucket}${this.setting.prefix === '' ? '' : `/${this.setting.prefix}`}`;
    return this.setting.endpoint === null ? base : `${base} at ${this.setting.endpoint}`;
  }

  private key(snapshotId: string, name: string): string {
    if (!isSnapshotId(snapshotId) || !/^[a-z0-9.]+$/.test(name)) throw new Error(`not a snapshot object: ${snapshotId}/${name}`);
    return `${this.root}${snapshotId}/${name}`;
  }

  private get root(): string {
    return this.setting.prefix === '' ? '' : `${this.setting.prefix}/`;
  }

  where(snapshotId: string, name: string): string {
    return `s3://${this.setting.bucket}/${this.key(snapshotId, name)}`;
  }

  async put(snapshotId: string, name: string, body: Readable): Promise<void> {
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.setting.bucket, Key: this.key(snapshotId, name), Body: body, ContentType: 'application/octet-stream' },
      partSize: 8 * 1024 * 1024,
      queueSize: 2,
      leavePartsOnError: false,
    });
    await this.explain(upload.done());
  }

  async putText(snapshotId: string, name: string, text: string): Promise<void> {
    await this.explain(
      this.client.send(
        new PutObjectCommand({ Bucket: this.setting.bucket, Key: this.key(snapshotId, name), Body: text, ContentType: 'application/json' }),
      ),
    );
  }

  async get(snapshotId: string, name: string): Promise<Readable | null> {
    try {
      const answer = await this.client.send(new GetObjectCommand({ Bucket: this.setting.bucket, Key: this.key(snapshotId, name) }));
      return (answer.Body as Readable | undefined) ?? null;
    } catch (err: unknown) {
      if (
        err instanceof S3ServiceException &&
        (err.name === 'NoSuchKey' || err.$metadata.httpStatusCode === 404) &&
        err.name !== 'NoSuchBucket'
      ) {
        return null;
      }
      throw this.reason(err);
    }
  }

  async getText(snapshotId: string, name: string): Promise<string | null> {
    const body = await this.get(snapshotId, name);
    return body === null ? null : (await readAll(body)).toString('utf8');
  }

  private async keys(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page: ListObjectsV2CommandOutput = await this.explain(
        this.client.send(
          new ListObjectsV2Command({
            Bucket: this.setting.bucket,
            Prefix: prefix,
            ...(token === undefined ? {} : { ContinuationToken: token }),
          }),
        ),
      );
      for (const object of page.Contents ?? []) if (object.Key !== undefined) keys.push(object.Key);
      token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
    return keys;
  }

  async list(): Promise<StoredSnapshot[]> {
    const bySnapshot = new Map<string, string[]>();
    for (const key of await this.keys(this.root)) {
      const [snapshotId, name, ...rest] = key.slice(this.root.length).split('/');
      if (snapshotId === undefined || name === undefined || rest.length > 0 || !isSnapshotId(snapshotId)) continue;
      bySnapshot.set(snapshotId, [...(bySnapshot.get(snapshotId) ?? []), name]);
    }
    return [...bySnapshot.entries()]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([snapshotId, objects]) => ({ snapshotId, objects: objects.sort() }));
  }

  async remove(snapshotId: string): Promise<void> {
    if (!isSnapshotId(snapshotId)) throw new Error(`not a snapshot id: ${snapshotId}`);
    const keys = await this.keys(`${this.root}${snapshotId}/`);
    for (let i = 0; i < keys.length; i += 1000) {
      const batch = keys.slice(i, i + 1000).map((Key) => ({ Key }));
      await this.explain(
        this.client.send(new DeleteObjectsCommand({ Bucket: this.setting.bucket, Delete: { Objects: batch, Quiet: true } })),
      );
    }
  }

  close(): void {
    this.client.destroy();
  }

  private async explain<T>(operation: Promise<T>): Promise<T> {
    try {
      return await operation;
    } catch (err: unknown) {
      throw this.reason(err);
    }
  }

  /** S3 errors with the destination in the message (the SDK's own say little). */
  private reason(err: unknown): Error {
    if (err instanceof S3ServiceException) {
      const why = err.name === 'NoSuchBucket' ? `bucket ${this.setting.bucket} does not exist` : `${err.name}: ${err.message}`;
      return new Error(`${this.description}: ${why}`);
    }
    const message = err instanceof Error ? err.message : String(err);
    return new Error(`${this.description}: ${message}`);
  }
}
