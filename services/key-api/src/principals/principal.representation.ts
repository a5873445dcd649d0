import type { PrincipalState } from '@keyward/domain';
import type { PrincipalView } from '@keyward/event-log';

/** What the API shows of a principal: never its credentials. */
export function principalBody(p: PrincipalState | PrincipalView): PrincipalState {
  return { principalId: p.principalId, name: p.name, role: p.role, createdAt: p.createdAt, revokedAt: p.revokedAt };
}
