import { newId } from '@keyward/auth';
import {
  isProviderDecision,
  maybeSensitive,
  PROVIDER_LOG,
  providerQuorum,
  type ApprovalState,
  type DirectCommand,
  type KeywardCommand,
} from '@keyward/domain';
import type { CommandExecutor, Executed } from '@keyward/event-log';

/** What a command answers when it became a pending approval request instead of executing. */
export interface PendingApproval {
  readonly pendingApproval: ApprovalState<DirectCommand>;
}

/**
 * Wraps a command that may fall under dual control as an approval request (executed at once when no
 * approval is needed): the domain decides. A provider decision carries the provider's quorum.
 */
export async function gated(command: DirectCommand, executor: CommandExecutor): Promise<KeywardCommand> {
  if (!maybeSensitive(command)) return command;
  const quorum = isProviderDecision(command.kind) ? providerQuorum(await executor.current(PROVIDER_LOG)) : undefined;
  return { kind: 'approval.request', approvalId: newId('apr'), command, ...(quorum === undefined ? {} : { quorum }) };
}

/** The approval a command opened, if it did not execute. */
export function pendingOf(executed: Executed): ApprovalState<DirectCommand> | undefined {
  const requested = executed.events.find((e) => e.type === 'approval.requested.v1');
  return requested ? executed.log.approvals.get((requested.data as { approvalId: string }).approvalId) : undefined;
}
