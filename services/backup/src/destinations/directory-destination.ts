import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, type ReadStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { isSnapshotId } from '@keyward/crypto';
import { readAll, type BackupDestination, type StoredSnapshot } from './destination';

const PARTIAL = '.partial-';

/**
 * A local or mounted directory. Each object is written to a temporary name, flushed to disk and
 * renamed into place, so a crash never leaves a half-written object under its real name. Folders
 * are 0700 and files 0600: a snapshot is encrypted, but its existence and size are nobody's business.
 */
export class DirectoryDestination implements BackupDestination {
  constructor(readonly root: string) {}

  get description(): string {
    return this.root;
  }

  where(snapshotId: string, name: string): string {
    if (!isSnapshotId(snapshotId) || !/^[a-z0-9.]+$/.test(name)) throw new Error(`not a snapshot object: ${snapshotId}/${name}`);
    return join(this.root, snapshotId, name);
  }

  async put(snapshotId: string, name: string, body: Readable): Promise<void> {
    const target = this.where(snapshotId, name);
    await mkdir(join(this.root, snapshotId), { recursive: true, mode: 0o700 });
    const temporary = `${target}${PARTIAL}${randomBytes(4).toString('hex')}`;
    try {
      await pipeline(body, createWriteStream(temporary, { mode: 0o600, flags: 'wx' }));
      const handle = await open(temporary, 'r');
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temporary, target);
    } catch (err: unknown) {
      await unlink(temporary).catch(() => undefined);
      throw err;
    }
  }

  putText(snapshotId: string, name: string, text: string): Promise<void> {
    return this.put(snapshotId, name, Readable.from([Buffer.from(text, 'utf8')]));
  }

  async get(snapshotId: string, name: string): Promise<Readable | null> {
    const path = this.where(snapshotId, name);
    try {
      if (!(await stat(path)).isFile()) return null;
    } catch (err: unknown) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
    const stream: ReadStream = createReadStream(path, { highWaterMark: 256 * 1024 });
    return stream;
  }

  async getText(snapshotId: string, name: string): Promise<string | null> {
    const stream = await this.get(snapshotId, name);
    return stream === null ? null : (await readAll(stream)).toString('utf8');
  }

  async list(): Promise<StoredSnapshot[]> {
    let entries: string[];
    try {
      entries = await readdir(this.root);
    } catch (err: unknown) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const found: StoredSnapshot[] = [];
    for (const snapshotId of entries.filter(isSnapshotId).sort()) {
      const objects = await readdir(join(this.root, snapshotId)).catch(() => null);
      if (objects !== null) found.push({ snapshotId, objects: objects.filter((o) => !o.includes(PARTIAL)).sort() });
    }
    return found;
  }

  async remove(snapshotId: string): Promise<void> {
    if (!isSnapshotId(snapshotId)) throw new Error(`not a snapshot id: ${snapshotId}`);
    await rm(join(this.root, snapshotId), { recursive: true, force: true });
  }

  close(): void {
    // Nothing to release.
  }
}
