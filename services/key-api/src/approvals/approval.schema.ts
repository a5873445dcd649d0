import { z } from 'zod';
import { enrollmentResponse } from '../enrollment/enrollment.schema';
import { ROLES } from '@keyward/domain';
import { idParam } from '../platform/common.schema';

const actor = z.object({ principalId: z.string(), role: z.enum(ROLES) });
export const approvalResponse = z.object({
  approvalId: z.string(),
  operation: z.string(),
  status: z.enum(['Pending', 'Executed', 'Failed', 'Rejected', 'Expired']),
  quorum: z.number().int().describe('People needed in all, requester included'),
  approvals: z.number().int().describe('People who agreed so far, requester included'),
  requestedBy: actor,
  requestedAt: z.string(),
  expiresAt: z.string(),
  approvedBy: z.array(actor),
  closedAt: z.string().nullable(),
  outcome: z.string().nullable(),
  command: z.record(z.string(), z.unknown()).describe('The command that runs when the quorum is reached'),
});
export const approvalListResponse = z.object({ items: z.array(approvalResponse) });
export const approvalDecisionResponse = z.object({
  seq: z.number().int(),
  approval: approvalResponse,
  issued: z
    .object({ principalId: z.string(), enrollment: enrollmentResponse })
    .optional()
    .describe('A principal the approval created: its one-time enrollment token (never its API key), shown once'),
});
export const approvalsQuery = z.strictObject({
  status: z.enum(['Pending', 'Executed', 'Failed', 'Rejected', 'Expired']).optional(),
  tenantId: idParam.optional().describe('Provider-admins: the tenant whose requests to read or decide'),
});
export const tenantScopeQuery = z.strictObject({ tenantId: idParam.optional() });
export const rejectBody = z.strictObject({ reason: z.string().max(512).optional() });
