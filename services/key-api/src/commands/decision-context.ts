import type { DecisionContext } from '@keyward/domain';
import type { Origin } from './commands';

export function contextOf(origin: Origin, now = new Date()): DecisionContext {
  return { now, actor: { principalId: origin.principal.principalId, role: origin.principal.role }, correlationId: origin.requestId };
}
