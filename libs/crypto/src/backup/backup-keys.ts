import { createHmac, hkdfSync } from 'node:crypto';
import { parseRootKey } from '../root-key/root-key-source';

/** The two halves of a snapshot, each written to its own destination under its own backup key. */
export type BackupPart = 'kek' | 'dek';
export const BACKUP_PARTS: readonly BackupPart[] = ['kek', 'dek'];
export const PART_LABEL: Readonly<Record<BackupPart, string>> = { kek: 'KEK', dek: 'DEK' };

export const BACKUP_KEY_BYTES = 32;

/** Parses a backup key given as base64 (44 characters) or, in a file, as 32 raw bytes. */
export function parseBackupKey(input: Buffer | string): Buffer | null {
  return parseRootKey(input);
}

/**
 * Identifies a backup key without revealing it (first 8 bytes of an HMAC keyed by it), so a
 * refusal can say "this is the other backup key" instead of just "authentication failed".
 */
export function backupKeyFingerprint(backupKey: Buffer): string {
  return createHmac('sha256', backupKey).update('keyward/backup/v1/fingerprint').digest().subarray(0, 8).toString('hex');
}

function derive(backupKey: Buffer, salt: Buffer, info: string): Buffer {
  if (backupKey.length !== BACKUP_KEY_BYTES) throw new RangeError(`a backup key is ${BACKUP_KEY_BYTES} bytes`);
  return Buffer.from(hkdfSync('sha256', backupKey, salt, info, 32));
}

/**
 * The AES-256-GCM key of one part of one snapshot: HKDF-SHA256 of the backup key with the part's
 * random salt, bound to the part and the snapshot id. A fresh key per part keeps random 96-bit IVs
 * far from their limit however large the keystore, and a part cannot be opened as the other part
 * or as a part of another snapshot.
 */
export function partEncryptionKey(backupKey: Buffer, part: BackupPart, snapshotId: string, salt: Buffer): Buffer {
  return derive(backupKey, salt, `keyward/backup/v1/encrypt/${part}/${snapshotId}`);
}

/** The HMAC-SHA256 key that signs the manifest stored beside a part (its own key per part). */
export function manifestMacKey(backupKey: Buffer, part: BackupPart): Buffer {
  return derive(backupKey, Buffer.alloc(0), `keyward/backup/v1/manifest/${part}`);
}
