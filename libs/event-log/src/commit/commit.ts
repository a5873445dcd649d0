import type { KeywardEvent } from '@keyward/domain';
import { canonicalDigest } from './canonical-json';

/** The hash a tenant's first commit points back to. */
export const GENESIS_HASH = '0'.repeat(64);

/** One command's events for one tenant: the unit of ordering, hashing and publication. */
export interface Commit {
  readonly tenantId: string;
  readonly seq: number;
  /** Identifies the command, so an ambiguous write can be recognised on retry. */
  readonly commandId: string;
  readonly events: readonly KeywardEvent[];
  readonly committedAt: string;
  readonly prevHash: string;
  readonly hash: string;
}

/** The stored form. `published` is set once the relay has published it (its outbox marker then goes: CommitStore). */
export interface CommitDocument extends Commit {
  readonly _id: string;
  readonly published: boolean;
}

export const commitId = (tenantId: string, seq: number): string => `${tenantId}:${seq}`;

/** SHA-256 over the canonical form of everything in the commit but its own hash. */
export function hashCommit(commit: Omit<Commit, 'hash'>): string {
  const { tenantId, seq, commandId, events, committedAt, prevHash } = commit;
  return canonicalDigest({ tenantId, seq, commandId, events, committedAt, prevHash });
}

export function sealCommit(unsealed: Omit<Commit, 'hash'>): Commit {
  return { ...unsealed, hash: hashCommit(unsealed) };
}

/** Strips storage fields, keeping exactly what was hashed plus the hash. */
export function toCommit(doc: Commit): Commit {
  return {
    tenantId: doc.tenantId,
    seq: doc.seq,
    commandId: doc.commandId,
    events: doc.events,
    committedAt: doc.committedAt,
    prevHash: doc.prevHash,
    hash: doc.hash,
  };
}
