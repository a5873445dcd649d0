import { z } from 'zod';
import { enrollmentResponse } from '../enrollment/enrollment.schema';
import { approvalResponse } from '../dual-control/approval.schema';
import { idParam } from '../platform/common.schema';

export { approvalResponse };
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
