import { z } from 'zod';
import { ROLES, TENANT_ROLES } from '@keyward/domain';
import { enrollmentRequest, enrollmentResponse } from '../enrollment/enrollment.schema';
import { seqResponse } from '../platform/common.schema';

export const issuedKey = z.object({
  principalId: z.string(),
  name: z.string(),
  role: z.enum(ROLES),
  enrollment: enrollmentResponse,
});
export const createPrincipalBody = z.strictObject({
  name: z.string().min(1).max(128),
  role: z.enum([...TENANT_ROLES, 'provider-admin']).describe('A tenant role; provider-admins create provider-admins only'),
  enrollment: enrollmentRequest.optional(),
});
export const principalResponse = z.object({
  principalId: z.string(),
  name: z.string(),
  role: z.enum(ROLES),
  createdAt: z.string(),
  revokedAt: z.string().nullable(),
});
export const principalListResponse = z.object({ items: z.array(principalResponse), nextCursor: z.string().nullable() });
export const createPrincipalResponse = seqResponse.extend(issuedKey.shape);
