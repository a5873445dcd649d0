import { z } from 'zod';
import { ROLES } from '@keyward/domain';
import { pendingApprovalResponse } from '../dual-control/approval.schema';
import { seqResponse } from '../platform/common.schema';

/** Optional on every request that creates a principal (or re-issues its token). */
export const enrollmentRequest = z
  .strictObject({
    publicKey: z
      .string()
      .min(1)
      .max(8192)
      .describe("The new principal's RSA public key (SPKI PEM, >= 2048 bits): its API key is then answered only wrapped under it"),
  })
  .describe('How the new principal will receive its API key');

export const enrollmentResponse = z
  .object({
    token: z.string().describe('One-time enrollment token: hand it to the new principal, who redeems it at POST /v1/enroll'),
    expiresAt: z.string(),
    publicKeyFingerprint: z.string().optional().describe('sha256 of the public key the API key will be wrapped under'),
  })
  .describe('Not a credential: the new principal redeems it for its own API key, once');

/** What a re-issue answers (201): the principal, the commit and its new enrollment token. */
export const reissueResponse = seqResponse.extend({ principalId: z.string(), enrollment: enrollmentResponse });
/** Its 202 under dual control: the same, with the pending approval (the token works once it executes). */
export const reissuePendingResponse = pendingApprovalResponse.extend({ principalId: z.string(), enrollment: enrollmentResponse });

export const redeemBody = z.strictObject({ token: z.string().min(1).max(256) });
export const redeemResponse = seqResponse.extend({
  principalId: z.string(),
  tenantId: z.string(),
  role: z.enum(ROLES),
  apiKey: z.string().optional().describe('Your API key, shown this once (absent when wrapped)'),
  wrappedApiKey: z.string().optional().describe('Your API key encrypted under your public key (base64, RSA-OAEP-SHA256)'),
  wrapping: z.literal('RSA-OAEP-SHA256').optional(),
});

export const reissueBody = z.strictObject({ enrollment: enrollmentRequest.optional() });
export const reissueQuery = z.strictObject({
  tenantId: z
    .string()
    .regex(/^tnt_[A-Za-z0-9]{8,40}$/)
    .optional()
    .describe("provider-admins: a tenant's first tenant-admin"),
});
