import { newId } from '@keyward/auth';
import { activeWithRole, PROVIDER_LOG, type ApprovalState, type DirectCommand, type KeywardCommand } from '@keyward/domain';
import type { CommandExecutor, Executed } from '@keyward/event-log';

/** Commands that may fall under dual control; they always travel as approval requests and the domain decides. */
const MAYBE_SENSITIVE = new Set<string>([
  'key.schedule-destruction',
  'key.enable-export',
  'key.set-min-decryption-version',
  'tenant.set-policy',
  'tenant.offboard',
  'principal.create',
  'principal.revoke',
  'principal.bind-certificate',
  'principal.unbind-certificate',
  'principal.issue-enrollment',
]);

/** What a command answers when it became a pending approval request instead of executing. */
export interface PendingApproval {
  readonly pendingApproval: ApprovalState<DirectCommand>;
}

/** Provider decisions need two provider-admins when the provider has two. */
export async function providerQuorum(executor: CommandExecutor): Promise<number> {
  return activeWithRole(await executor.current(PROVIDER_LOG), 'provider-admin') >= 2 ? 2 : 1;
}

/** Wraps a possibly sensitive command as an approval request (executed at once when no approval is needed). */
export async function gated(command: DirectCommand, executor: CommandExecutor): Promise<KeywardCommand> {
  if (!MAYBE_SENSITIVE.has(command.kind)) return command;
  const quorum = command.kind === 'tenant.offboard' ? await providerQuorum(executor) : undefined;
  return { kind: 'approval.request', approvalId: newId('apr'), command, ...(quorum === undefined ? {} : { quorum }) };
}

/** The approval a command opened, if it did not execute. */
export function pendingOf(executed: Executed): ApprovalState<DirectCommand> | undefined {
  const requested = executed.events.find((e) => e.type === 'approval.requested.v1');
  return requested ? executed.log.approvals.get((requested.data as { approvalId: string }).approvalId) : undefined;
}
