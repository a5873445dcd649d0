import type { Column } from '../output';

/** Who did something, as the key-api reports it. */
export interface Actor {
  readonly principalId: string;
  readonly role: string;
}

/** A command that became an approval request instead of running. */
export interface PendingApproval {
  readonly approvalId: string;
  readonly operation: string;
  readonly quorum: number;
  readonly approvals: number;
}

/** An enrollment token as key-api answers it. */
export interface Enrollment {
  readonly token: string;
  readonly expiresAt: string;
  readonly publicKeyFingerprint?: string;
}

/** An enrollment token as it is handed over: the new principal redeems it for its own API key. */
export const enrollmentText = (e: Enrollment): string =>
  `  ${e.token}\n(expires ${e.expiresAt}${e.publicKeyFingerprint ? `; its API key will be wrapped under public key ${e.publicKeyFingerprint}` : ''}). The new principal runs: keyward enroll redeem --token <token>`;

/** What a key row shows in a table. */
export interface KeyRow {
  readonly keyId: string;
  readonly alias?: string | null;
  readonly keyType: string;
  readonly state: string;
  readonly latestVersion: number;
}

/** The columns of a table of keys; the last is a date (created, or last updated). */
export const keyColumns = <T extends KeyRow>(date: Column<T>): readonly Column<T>[] => [
  ['key', (k) => k.keyId],
  ['alias', (k) => k.alias ?? ''],
  ['type', (k) => k.keyType],
  ['state', (k) => k.state],
  ['version', (k) => k.latestVersion],
  date,
];
