import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Two directory destinations and two fresh backup keys in a temporary folder: the backup service's settings. */
type BackupSetting = 'BACKUP_KEK_DEST' | 'BACKUP_DEK_DEST' | 'BACKUP_KEK_KEY_FILE' | 'BACKUP_DEK_KEY_FILE' | 'BACKUP_RETAIN';

export function directoryBackups(prefix: string): { env: Readonly<Record<BackupSetting, string>>; kekDir: string } {
  const work = mkdtempSync(join(tmpdir(), prefix));
  const env = {
    BACKUP_KEK_DEST: join(work, 'kek'),
    BACKUP_DEK_DEST: join(work, 'dek'),
    BACKUP_KEK_KEY_FILE: join(work, 'kek.key'),
    BACKUP_DEK_KEY_FILE: join(work, 'dek.key'),
    BACKUP_RETAIN: '5',
  };
  writeFileSync(env.BACKUP_KEK_KEY_FILE, randomBytes(32), { mode: 0o600 });
  writeFileSync(env.BACKUP_DEK_KEY_FILE, randomBytes(32), { mode: 0o600 });
  return { env, kekDir: env.BACKUP_KEK_DEST };
}

/** Flips one bit of the last byte of a snapshot's KEK part on disk (its final chunk's tag): a tampered backup. */
export function tamperKekPart(kekDir: string, snapshotId: string): string {
  const file = join(kekDir, snapshotId, 'kek.kwb');
  const bytes = readFileSync(file);
  bytes[bytes.length - 1]! ^= 0x01;
  writeFileSync(file, bytes);
  return file;
}
