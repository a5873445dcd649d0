import type { BackupPart } from '@keyward/crypto';

/** Where the backup service records its runs, for key-api's provider-admin route to read. */
export const BACKUP_REPORTS = 'backup_reports';

/** One encrypted part of a snapshot as it was written: where, how big, its file's SHA-256. */
export interface PartFacts {
  /** The destination's description (directory or s3://bucket/prefix [at endpoint]), never its credentials. */
  readonly destination: string;
  readonly bytes: number | null;
  /** SHA-256 of the encrypted file, as the signed manifest records it. */
  readonly sha256: string | null;
  readonly records: Readonly<Record<string, number>>;
}

/**
 * A run of the backup service: a snapshot it wrote (or found at start) or a backup that failed.
 * Facts only: sizes, digests of encrypted files, counts, problems (whose messages never hold key
 * material); no key, no fingerprint of a key, no credential.
 */
export interface BackupReportDocument {
  /** The snapshot id, or `failed-<time>-<random>` for a backup that wrote no snapshot. */
  readonly _id: string;
  readonly snapshotId: string | null;
  readonly at: Date;
  readonly trigger: string | null;
  readonly outcome: 'success' | 'failed' | 'incomplete';
  /** How long the backup took; null for a snapshot found at start. */
  readonly seconds: number | null;
  readonly tenants: number | null;
  readonly parts: Readonly<Record<BackupPart, PartFacts>> | null;
  readonly problem: string | null;
  /** When the backup service wrote this record. */
  readonly recordedAt: Date;
}

/** What a successful backup wrote, as the backup service knows it right after. */
export interface WrittenSnapshot {
  readonly snapshotId: string;
  readonly createdAt: string;
  readonly trigger: string;
  readonly seconds: number;
  readonly tenants: number;
  readonly parts: Readonly<
    Record<
      BackupPart,
      { readonly destination: string; readonly bytes: number; readonly sha256: string; readonly records: Record<string, number> }
    >
  >;
}

/** A snapshot as the backup service lists it from its destinations (`GET /v1/backups` on its listener, and at start). */
export interface FoundSnapshot {
  readonly snapshotId: string;
  readonly createdAt: string | null;
  readonly trigger: string | null;
  /** Both parts and both manifests are there, the signatures verify and the manifests agree. */
  readonly complete: boolean;
  /** Why not complete (missing part, bad signature, mismatched manifests). */
  readonly problem: string | null;
  readonly tenants: number | null;
  readonly records: Readonly<Record<string, number>>;
  readonly parts: Readonly<
    Record<
      BackupPart,
      { readonly destination: string; readonly bytes: number | null; readonly sha256: string | null; readonly present: boolean }
    >
  >;
}

/** A destination's description without any user:password an endpoint URL might carry. */
export function publicDestination(description: string): string {
  return description.replace(/([a-z][a-z0-9+.-]*:\/\/)[^/@\s]*@/gi, '$1');
}

/** SnapshotId's time (bk-20261115T101500123Z-…), for a snapshot whose manifest cannot be read. */
export function snapshotTime(snapshotId: string): Date | null {
  const m = /^bk-(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(\d{3})Z-/.exec(snapshotId);
  return m ? new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}.${m[7]}Z`) : null;
}

export function writtenReport(written: WrittenSnapshot, now: Date = new Date()): BackupReportDocument {
  const part = (p: WrittenSnapshot['parts'][BackupPart]): PartFacts => ({
    destination: publicDestination(p.destination),
    bytes: p.bytes,
    sha256: p.sha256,
    records: { ...p.records },
  });
  return {
    _id: written.snapshotId,
    snapshotId: written.snapshotId,
    at: new Date(written.createdAt),
    trigger: written.trigger,
    outcome: 'success',
    seconds: written.seconds,
    tenants: written.tenants,
    parts: { kek: part(written.parts.kek), dek: part(written.parts.dek) },
    problem: null,
    recordedAt: now,
  };
}

export function failedReport(trigger: string, problem: string, at: Date, suffix: string, now: Date = new Date()): BackupReportDocument {
  return {
    _id: `failed-${at.toISOString()}-${suffix}`,
    snapshotId: null,
    at,
    trigger,
    outcome: 'failed',
    seconds: (now.getTime() - at.getTime()) / 1000,
    tenants: null,
    parts: null,
    problem: publicDestination(problem),
    recordedAt: now,
  };
}

/** A snapshot found in the destinations; its records split by part are unknown there, so each part carries the counts of its own kinds. */
export function foundReport(found: FoundSnapshot, now: Date = new Date()): BackupReportDocument {
  const KEK_KINDS = new Set(['root', 'kek']);
  const records = (kek: boolean): Record<string, number> =>
    Object.fromEntries(Object.entries(found.records).filter(([kind]) => KEK_KINDS.has(kind) === kek));
  const part = (p: FoundSnapshot['parts'][BackupPart], kek: boolean): PartFacts => ({
    destination: publicDestination(p.destination),
    bytes: p.bytes,
    sha256: p.sha256,
    records: records(kek),
  });
  return {
    _id: found.snapshotId,
    snapshotId: found.snapshotId,
    at: found.createdAt ? new Date(found.createdAt) : (snapshotTime(found.snapshotId) ?? now),
    trigger: found.trigger,
    outcome: found.complete ? 'success' : 'incomplete',
    seconds: null,
    tenants: found.tenants,
    parts: { kek: part(found.parts.kek, true), dek: part(found.parts.dek, false) },
    problem: found.problem === null ? null : publicDestination(found.problem),
    recordedAt: now,
  };
}
