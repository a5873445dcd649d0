import type { DecisionContext } from '@keyward/domain';
import { businessNow } from '@keyward/platform';
import type { Origin } from './caller';

export function contextOf(origin: Origin, now = businessNow()): DecisionContext {
  return { now, actor: { principalId: origin.principal.principalId, role: origin.principal.role }, correlationId: origin.requestId };
}
