import { ApiResponse } from '@nestjs/swagger';
import { z } from 'zod';
import { ROLES } from '@keyward/domain';
import { openApi } from '../platform/zod.pipe';

const actor = z.object({ principalId: z.string(), role: z.enum(ROLES) });
/** An approval request as the API shows it (approval.representation.ts). */
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
/** What a command that became an approval request answers (202, pending-approval.interceptor.ts). */
export const pendingApprovalResponse = z.object({
  seq: z.number().int(),
  tenantId: z.string().optional().describe('The tenant the command concerns (tenant commands)'),
  pendingApproval: approvalResponse,
});

/** Documents the 202 of a route whose command may need dual control (`answer`: a route whose 202 says more). */
export const ApiPendingApproval = (answer: z.ZodObject = pendingApprovalResponse): MethodDecorator & ClassDecorator =>
  ApiResponse({
    status: 202,
    description: 'Dual control: the command became an approval request that other admins must approve',
    schema: openApi(answer),
  });
