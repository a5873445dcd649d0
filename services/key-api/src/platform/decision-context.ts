import type { DecisionContext } from '@keyward/domain';
import { businessNow } from '@keyward/platform';
import type { Caller } from './caller';

export function contextOf(caller: Caller, now = businessNow()): DecisionContext {
  return { now, actor: { principalId: caller.principal.principalId, role: caller.principal.role }, correlationId: caller.requestId };
}
