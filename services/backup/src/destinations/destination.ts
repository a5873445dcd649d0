import type { Readable } from 'node:stream';

/** One stored snapshot in a destination: its id and the names of the objects under it. */
export interface StoredSnapshot {
  readonly snapshotId: string;
  readonly objects: readonly string[];
}

/**
 * A place snapshot parts are kept: a directory or an S3 bucket prefix. Objects live under
 * `<snapshotId>/<name>`; an object appears only once completely written.
 */
export interface BackupDestination {
  /** Where this is, for messages and listings: a path, or s3://bucket/prefix (and its endpoint). */
  readonly description: string;
  /** Where one object is, for messages. */
  where(snapshotId: string, name: string): string;
  put(snapshotId: string, name: string, body: Readable): Promise<void>;
  putText(snapshotId: string, name: string, text: string): Promise<void>;
  /** null when the object does not exist. */
  get(snapshotId: string, name: string): Promise<Readable | null>;
  getText(snapshotId: string, name: string): Promise<string | null>;
  /** Every snapshot id present, with its objects, in id (= time) order. */
  list(): Promise<StoredSnapshot[]>;
  /** Deletes every object of a snapshot (no error when there is none). */
  remove(snapshotId: string): Promise<void>;
  close(): void;
}

export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}
