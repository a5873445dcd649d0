import { z } from 'zod';
import {
  DUAL_CONTROL_OPERATIONS,
  GRANT_MODES,
  KEY_STATES,
  KMIP_DESTROY_POLICIES,
  MAX_QUORUM,
  TENANT_STATUSES,
  type DualControlOperation,
} from '@keyward/domain';
import { enrollmentRequest } from '../enrollment/enrollment.schema';
import { seqResponse } from '../platform/common.schema';
import { issuedKey } from '../principals/principal.schema';

export const onboardTenantBody = z.strictObject({
  name: z.string().min(1).max(128),
  adminName: z.string().min(1).max(128).default('admin').describe('Name of the first tenant-admin principal'),
  adminEnrollment: enrollmentRequest.optional(),
  grants: z
    .enum(GRANT_MODES)
    .default('required')
    .describe('required (default): key-users use only the keys their grants cover; open: every key of the tenant (before grants)'),
});
export const suspendTenantBody = z.strictObject({ reason: z.string().max(512).optional() });

export const tenantPolicyResponse = z.object({
  allowCompromisedDecrypt: z.boolean(),
  allowLegacyEncryption: z.boolean().optional(),
  allowKeyReuse: z.boolean().optional(),
  dualControl: z.object({ quorum: z.number().int().nullable(), operations: z.array(z.string()) }),
  kmipDestroy: z.enum(KMIP_DESTROY_POLICIES).optional(),
  grants: z.enum(GRANT_MODES).optional(),
});
export const tenantResponse = z.object({
  tenantId: z.string(),
  name: z.string(),
  status: z.enum(TENANT_STATUSES),
  policy: tenantPolicyResponse.optional(),
  onboardedAt: z.string(),
  updatedAt: z.string(),
  keyCount: z.number().int(),
  keysByState: z.record(z.enum(KEY_STATES), z.number().int()),
  principalCount: z.number().int(),
  seq: z.number().int().describe('Seq of the last commit reflected here'),
});
/** The caller's own tenant: its summary and where dual control stands now. */
export const ownTenantResponse = tenantResponse.extend({
  dualControl: z.object({
    quorum: z.number().int().describe('People a sensitive operation needs now, requester included'),
    activeAdmins: z.number().int(),
    warning: z.string().optional().describe('Set when one administrator alone can act'),
  }),
});
export const tenantListResponse = z.object({ items: z.array(tenantResponse), nextCursor: z.string().nullable() });
export const onboardResponse = seqResponse.extend({ tenantId: z.string(), name: z.string(), admin: issuedKey.omit({ role: true }) });
export const tenantCommandResponse = seqResponse.extend({ tenantId: z.string(), status: z.enum(TENANT_STATUSES) });
export const tenantPolicyBody = z
  .strictObject({
    allowCompromisedDecrypt: z
      .boolean()
      .optional()
      .describe('Let Compromised keys still decrypt and verify (data recovery); default false'),
    allowLegacyEncryption: z
      .boolean()
      .optional()
      .describe('Let legacy key types (3DES, created or registered over KMIP) encrypt and decrypt over KMIP; default false'),
    allowKeyReuse: z
      .boolean()
      .optional()
      .describe(
        'Let a KMIP key use the second usage its client asked for at Create or Register (an AES key whose Cryptographic Usage Mask names MAC Generate/Verify also computes HMACs); default false (key separation)',
      ),
    dualControl: z
      .strictObject({
        quorum: z
          .number()
          .int()
          .min(1)
          .max(MAX_QUORUM)
          .nullable()
          .describe('People needed in all, requester included; null: 2 when the tenant has two active admins, else 1'),
        operations: z.array(
          z.enum(DUAL_CONTROL_OPERATIONS.filter((op) => op !== 'tenant.offboard') as [DualControlOperation, ...DualControlOperation[]]),
        ),
      })
      .optional(),
    kmipDestroy: z
      .enum(KMIP_DESTROY_POLICIES)
      .optional()
      .describe(
        'KMIP Destroy of a Deactivated or Compromised key: pending (default; unusable at once, shredded after the waiting period) or immediate-for-owner (shredded at once when a kmip-client destroys a key it owns)',
      ),
    grants: z
      .enum(GRANT_MODES)
      .optional()
      .describe('required: key-users need grants (GET/POST /v1/grants); open: every key-user may use every key'),
  })
  .refine(
    (b) =>
      b.allowCompromisedDecrypt !== undefined ||
      b.allowLegacyEncryption !== undefined ||
      b.allowKeyReuse !== undefined ||
      b.dualControl !== undefined ||
      b.kmipDestroy !== undefined ||
      b.grants !== undefined,
    'send allowCompromisedDecrypt, allowLegacyEncryption, allowKeyReuse, dualControl, kmipDestroy and/or grants',
  );
export const offboardBody = z.strictObject({
  confirm: z.string().describe('The tenant id again: offboarding destroys every key for good'),
});
