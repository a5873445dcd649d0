import { randomBytes } from 'node:crypto';

/** `bk-20261115T101500123Z-1a2b3c4d`: sorts by creation time, safe as a directory or object name. */
export const SNAPSHOT_ID = /^bk-\d{8}T\d{9}Z-[0-9a-f]{8}$/;

export function newSnapshotId(now: Date = new Date()): string {
  const stamp = now.toISOString().replace(/[-:.]/g, '');
  return `bk-${stamp}-${randomBytes(4).toString('hex')}`;
}

export function isSnapshotId(value: string): boolean {
  return SNAPSHOT_ID.test(value);
}
