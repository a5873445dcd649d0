import { randomBytes } from 'node:crypto';
import { BackupError } from './backup-error';
import { backupKeyFingerprint, manifestMacKey, partEncryptionKey } from './backup-keys';
import { canonicalize } from './canonical';
import {
  checkPair,
  encodeSignedManifest,
  parseSignedManifest,
  signManifest,
  verifyManifest,
  type PartEntry,
  type SnapshotManifest,
} from './manifest';
import { isSnapshotId, newSnapshotId } from './snapshot-id';

const kekKey = randomBytes(32);
const dekKey = randomBytes(32);

const entry = (key: Buffer, part: 'kek' | 'dek'): PartEntry => ({
  object: `${part}.kwb`,
  bytes: 10,
  sha256: 'a'.repeat(64),
  contentSha256: 'b'.repeat(64),
  records: part === 'kek' ? { root: 1, kek: 2 } : { material: 3, credential: 1 },
  keyFingerprint: backupKeyFingerprint(key),
});

const manifest = (snapshotId = 'bk-20261115T101500123Z-0a1b2c3d'): SnapshotManifest => ({
  format: 'keyward-backup/1',
  snapshotId,
  createdAt: '2026-11-15T10:15:00.123Z',
  trigger: 'cli',
  rootKcv: '0011223344556677',
  positions: { tnt_a: { seq: 4, hash: 'c'.repeat(64) } },
  parts: { kek: entry(kekKey, 'kek'), dek: entry(dekKey, 'dek') },
});

function refusal(fn: () => unknown): BackupError {
  try {
    fn();
  } catch (err: unknown) {
    if (err instanceof BackupError) return err;
    throw err;
  }
  throw new Error('expected a refusal');
}

describe('signed manifests', () => {
  it('round-trips through its stored form and verifies with its own key', () => {
    const signed = signManifest(manifest(), kekKey, 'kek');
    const parsed = parseSignedManifest(encodeSignedManifest(signed), 'the KEK manifest');
    expect(parsed).toEqual(signed);
    expect(() => verifyManifest(parsed, 'kek', { backupKey: kekKey }, 'the KEK manifest')).not.toThrow();
  });

  it('refuses any altered field, the wrong key, swapped keys, the other part', () => {
    const signed = signManifest(manifest(), kekKey, 'kek');
    const altered = { ...signed, manifest: { ...signed.manifest, positions: { tnt_a: { seq: 3, hash: 'c'.repeat(64) } } } };
    expect(refusal(() => verifyManifest(altered, 'kek', { backupKey: kekKey }, 'm')).message).toBe(
      'm does not match its signature: it was altered',
    );
    expect(refusal(() => verifyManifest(signed, 'kek', { backupKey: randomBytes(32) }, 'm')).code).toBe('wrong-key');
    const swapped = refusal(() => verifyManifest(signed, 'kek', { backupKey: dekKey, otherKey: kekKey }, 'm'));
    expect(swapped.code).toBe('swapped-keys');
    expect(swapped.message).toBe('m is signed with the key given as the DEK backup key: the two backup keys are swapped');
    expect(refusal(() => verifyManifest(signed, 'dek', { backupKey: kekKey }, 'm')).code).toBe('wrong-part');
  });

  it('refuses unreadable manifests as altered', () => {
    const text = encodeSignedManifest(signManifest(manifest(), kekKey, 'kek'));
    expect(refusal(() => parseSignedManifest(text.slice(0, -20), 'm')).code).toBe('tampered');
    expect(refusal(() => parseSignedManifest(text.replace('"seq": 4', '"seq": "4"'), 'm')).message).toMatch(/positions\.tnt_a\.seq/);
    expect(refusal(() => parseSignedManifest(text.replace('keyward-backup/1', 'keyward-backup/9'), 'm')).code).toBe('unsupported-format');
  });

  it('pairs only the two manifests of one snapshot', () => {
    const kek = signManifest(manifest(), kekKey, 'kek');
    expect(checkPair(kek, signManifest(manifest(), dekKey, 'dek')).snapshotId).toBe(manifest().snapshotId);
    const other = signManifest(manifest('bk-20261116T101500123Z-0a1b2c3d'), dekKey, 'dek');
    expect(refusal(() => checkPair(kek, other)).message).toBe(
      'the KEK part is snapshot bk-20261115T101500123Z-0a1b2c3d (2026-11-15T10:15:00.123Z) but the DEK part is snapshot bk-20261116T101500123Z-0a1b2c3d (2026-11-15T10:15:00.123Z): a restore needs both parts of one snapshot',
    );
    const differs = signManifest({ ...manifest(), rootKcv: 'ffff' }, dekKey, 'dek');
    expect(refusal(() => checkPair(kek, differs)).message).toMatch(/differ \(rootKcv\)/);
  });
});

describe('backup keys and ids', () => {
  it('derives distinct keys per part, snapshot and salt, and a stable fingerprint', () => {
    const salt = randomBytes(32);
    const keys = [
      partEncryptionKey(kekKey, 'kek', 'a', salt),
      partEncryptionKey(kekKey, 'dek', 'a', salt),
      partEncryptionKey(kekKey, 'kek', 'b', salt),
      partEncryptionKey(kekKey, 'kek', 'a', randomBytes(32)),
      manifestMacKey(kekKey, 'kek'),
      manifestMacKey(kekKey, 'dek'),
    ].map((k) => k.toString('hex'));
    expect(new Set(keys).size).toBe(keys.length);
    expect(backupKeyFingerprint(kekKey)).toBe(backupKeyFingerprint(Buffer.from(kekKey)));
    expect(backupKeyFingerprint(kekKey)).toMatch(/^[0-9a-f]{16}$/);
  });

  it('makes sortable, path-safe snapshot ids', () => {
    const a = newSnapshotId(new Date('2026-11-15T10:15:00.123Z'));
    expect(a).toMatch(/^bk-20261115T101500123Z-[0-9a-f]{8}$/);
    expect(isSnapshotId(a)).toBe(true);
    expect(isSnapshotId('../etc/passwd')).toBe(false);
    expect(newSnapshotId(new Date('2026-11-16T00:00:00Z')) > a).toBe(true);
  });

  it('canonical JSON sorts keys at every level', () => {
    expect(canonicalize({ b: 1, a: { d: [2, { z: 1, y: 2 }], c: null } })).toBe('{"a":{"c":null,"d":[2,{"y":2,"z":1}]},"b":1}');
  });
});
