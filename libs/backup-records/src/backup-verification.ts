import { BackupError, type BackupPart } from '@keyward/crypto';
import { publicDestination } from './backup-report';

/** Verification requests (key-api writes them) and their outcomes (the backup service, which holds the backup keys, writes those). */
export const BACKUP_VERIFICATIONS = 'backup_verifications';

export type VerificationStatus = 'pending' | 'running' | 'verified' | 'failed';

export interface VerifiedPart {
  readonly bytes: number;
  readonly sha256: string;
  readonly records: Readonly<Record<string, number>>;
}

export interface BackupVerificationDocument {
  readonly _id: string;
  readonly snapshotId: string;
  readonly status: VerificationStatus;
  readonly requestedAt: Date;
  /** Who asked (principal id and role), never their credential. */
  readonly requestedBy: { readonly principalId: string; readonly role: string };
  /** The backup-service instance working on it, and since when (a claim older than STALE_CLAIM_MS is taken over). */
  readonly claimedBy?: string;
  readonly claimedAt?: Date;
  readonly finishedAt?: Date;
  /** Why it failed: a backup refusal code (tampered, truncated, missing-part, digest-mismatch, …) or `error`. */
  readonly code?: string;
  readonly detail?: string;
  readonly parts?: Readonly<Record<BackupPart, VerifiedPart>>;
  readonly seconds?: number;
}

/** A claim this old belongs to an instance that stopped mid-verification: another may take it over. */
export const STALE_CLAIM_MS = 10 * 60_000;

/** Verifications kept per snapshot (older outcomes are deleted when a new request comes). */
export const VERIFICATIONS_KEPT = 10;

/** What a finished verification records: the parts it read, or why it refused the snapshot. */
export type VerificationOutcome =
  | { readonly status: 'verified'; readonly parts: Readonly<Record<BackupPart, VerifiedPart>>; readonly seconds: number }
  | { readonly status: 'failed'; readonly code: string; readonly detail: string; readonly seconds: number };

/**
 * A verification's failure as it is recorded: a backup refusal keeps its code and its message (which
 * say what and where, never key material); anything else is `error` with its message.
 */
export function failedOutcome(err: unknown, seconds: number): VerificationOutcome {
  const detail = publicDestination(err instanceof Error ? err.message : String(err));
  return { status: 'failed', code: err instanceof BackupError ? err.code : 'error', detail, seconds };
}
