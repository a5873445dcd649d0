import { z } from 'zod';
import { KEY_STATES, ROLES, TENANT_ROLES, TENANT_STATUSES } from '@keyward/domain';
import { enrollmentRequest, enrollmentResponse } from '../enrollment/enrollment.schema';
import { pageQuery, seqResponse } from '../platform/common.schema';

export const onboardTenantBody = z.strictObject({
  name: z.string().min(1).max(128),
  adminName: z.string().min(1).max(128).default('admin').describe('Name of the first tenant-admin principal'),
  adminEnrollment: enrollmentRequest.optional(),
});
export const suspendTenantBody = z.strictObject({ reason: z.string().max(512).optional() });
export const listQuery = z.strictObject(pageQuery);

export const tenantResponse = z.object({
  tenantId: z.string(),
  name: z.string(),
  status: z.enum(TENANT_STATUSES),
  policy: z.object({ allowCompromisedDecrypt: z.boolean() }).optional(),
  onboardedAt: z.string(),
  updatedAt: z.string(),
  keyCount: z.number().int(),
  keysByState: z.record(z.enum(KEY_STATES), z.number().int()),
  principalCount: z.number().int(),
  seq: z.number().int().describe('Seq of the last commit reflected here'),
});
export const tenantListResponse = z.object({ items: z.array(tenantResponse), nextCursor: z.string().nullable() });
export const issuedKey = z.object({
  principalId: z.string(),
  name: z.string(),
  role: z.enum(ROLES),
  enrollment: enrollmentResponse,
});
export const onboardResponse = seqResponse.extend({ tenantId: z.string(), name: z.string(), admin: issuedKey.omit({ role: true }) });
export const tenantCommandResponse = seqResponse.extend({ tenantId: z.string(), status: z.enum(TENANT_STATUSES) });

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
