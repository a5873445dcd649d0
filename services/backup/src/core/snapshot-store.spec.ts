import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { backupKeyFingerprint, encodeSignedManifest, MANIFEST_FORMAT, signManifest, type SnapshotManifest } from '@keyward/crypto';
import { DirectoryDestination } from '../destinations/directory-destination';
import { SnapshotStore } from './snapshot-store';

const keys = { kek: randomBytes(32), dek: randomBytes(32) };

const manifest = (snapshotId: string): SnapshotManifest => ({
  format: MANIFEST_FORMAT,
  snapshotId,
  createdAt: new Date().toISOString(),
  trigger: 'cli',
  rootKcv: null,
  positions: {},
  parts: {
    kek: {
      object: 'kek.kwb',
      bytes: 1,
      sha256: '0'.repeat(64),
      contentSha256: '0'.repeat(64),
      records: {},
      keyFingerprint: backupKeyFingerprint(keys.kek),
    },
    dek: {
      object: 'dek.kwb',
      bytes: 1,
      sha256: '0'.repeat(64),
      contentSha256: '0'.repeat(64),
      records: {},
      keyFingerprint: backupKeyFingerprint(keys.dek),
    },
  },
});

async function snapshot(store: SnapshotStore, snapshotId: string, complete = true): Promise<void> {
  await store.kek.put(snapshotId, 'kek.kwb', Readable.from([Buffer.from('k')]));
  await store.dek.put(snapshotId, 'dek.kwb', Readable.from([Buffer.from('d')]));
  if (!complete) return;
  const described = manifest(snapshotId);
  await store.kek.putText(snapshotId, 'manifest.json', encodeSignedManifest(signManifest(described, keys.kek, 'kek')));
  await store.dek.putText(snapshotId, 'manifest.json', encodeSignedManifest(signManifest(described, keys.dek, 'dek')));
}

const id = (n: number): string => `bk-2026111${n}T101500123Z-0000000${n}`;

describe('SnapshotStore on two directories', () => {
  const make = () => {
    const root = mkdtempSync(join(tmpdir(), 'kw-store-'));
    return new SnapshotStore(new DirectoryDestination(join(root, 'kek')), new DirectoryDestination(join(root, 'dek')));
  };

  it('lists newest first, saying which snapshots are incomplete and why', async () => {
    const store = make();
    await snapshot(store, id(1));
    await snapshot(store, id(2), false);
    const listed = await store.list(keys);
    expect(listed.map((l) => [l.snapshotId, l.complete])).toEqual([
      [id(2), false],
      [id(1), true],
    ]);
    expect(listed[0]!.problem).toMatch(/the KEK part of snapshot \S+ is incomplete: .*manifest.json is missing/);
    const swapped = await store.list({ kek: keys.dek, dek: keys.kek });
    expect(swapped[1]!.problem).toMatch(/the two backup keys are swapped/);
  });

  it('keeps the newest complete snapshots, and deletes older ones and old leftovers, in both destinations', async () => {
    const store = make();
    for (const n of [1, 2, 3, 4]) await snapshot(store, id(n), n !== 2);
    await snapshot(store, id(5), false); // a backup still running: newer than every complete one, kept
    expect(await store.prune(2)).toEqual([id(1), id(2)]);
    for (const destination of [store.kek, store.dek]) {
      expect(readdirSync((destination as DirectoryDestination).root).sort()).toEqual([id(3), id(4), id(5)]);
    }
    expect(await store.prune(5)).toEqual([]);
  });

  it('never leaves a half-written object under its name, and refuses ids that are not snapshot ids', async () => {
    const store = make();
    const failing = new Readable({
      read() {
        this.destroy(new Error('disk on fire'));
      },
    });
    await expect(store.kek.put(id(1), 'kek.kwb', failing)).rejects.toThrow('disk on fire');
    expect(await store.kek.get(id(1), 'kek.kwb')).toBeNull();
    expect(readdirSync(join((store.kek as DirectoryDestination).root, id(1)))).toEqual([]);
    await expect(store.kek.getText('../../etc', 'passwd')).rejects.toThrow(/not a snapshot object/);
  });
});
