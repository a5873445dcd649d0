import type { OptionSpecs } from '@keyward/cli-kit';

/** Paging options of a list verb. */
export const pageOptions = (limit: string) =>
  ({
    limit: { type: 'string', value: 'N', description: `items per page (${limit})` },
    cursor: { type: 'string', value: 'CURSOR', description: 'nextCursor of a previous page' },
    all: { type: 'boolean', description: 'follow every page' },
  }) as const satisfies OptionSpecs;

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
