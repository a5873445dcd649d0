import type { GrantState } from '@keyward/domain';

/** What the API shows of a grant: all of it (grants hold no secret). */
export function grantBody(grant: GrantState): GrantState {
  const { grantId, principalId, operations, keys, conditions, createdAt, createdBy, revokedAt, revokedBy } = grant;
  return { grantId, principalId, operations, keys, conditions, createdAt, createdBy, revokedAt, revokedBy };
}
