import { z } from 'zod';
import { DESTRUCTION_WAIT_DAYS, ID_PATTERN, KEY_STATES, KEY_TYPES, REST_KEY_TYPES, ROLES } from '@keyward/domain';
import { isoDate, pageQuery, seqResponse } from '../platform/common.schema';

const keyTypes = Object.keys(KEY_TYPES) as [keyof typeof KEY_TYPES, ...(keyof typeof KEY_TYPES)[]];
/** The types REST creates; the KMIP-only ones (HMAC-SHA1/224/384/512, 3DES) are created over KMIP. */
const restKeyTypes = REST_KEY_TYPES as [keyof typeof KEY_TYPES, ...(keyof typeof KEY_TYPES)[]];
const labels = z.record(z.string().max(63), z.string().max(256));

export const createKeyBody = z.strictObject({
  keyType: z.enum(restKeyTypes).default('AES-256-GCM'),
  alias: z.string().min(1).max(128).optional(),
  description: z.string().max(1024).optional(),
  labels: labels.optional(),
  activate: z.boolean().optional().describe('Activate at once (default false: the key starts PreActive)'),
  activationDate: isoDate.optional(),
  deactivationDate: isoDate.optional(),
  exportable: z.boolean().optional(),
});
export const compromiseBody = z.strictObject({ reason: z.string().min(1).max(512), compromiseDate: isoDate.optional() });
export const scheduleDestructionBody = z.strictObject({
  waitingPeriodDays: z.number().int().min(DESTRUCTION_WAIT_DAYS.min).max(DESTRUCTION_WAIT_DAYS.max).default(DESTRUCTION_WAIT_DAYS.default),
});
export const setAliasBody = z.strictObject({ alias: z.string().min(1).max(128) });
export const setOwnerBody = z.strictObject({
  owner: z
    .string()
    .regex(ID_PATTERN)
    .nullable()
    .describe('A kmip-client principal of the tenant that may then use, revoke and destroy the key over KMIP; null takes it back'),
});
export const patchKeyBody = z
  .strictObject({
    description: z.string().max(1024).optional(),
    labels: z.record(z.string().max(63), z.string().max(256).nullable()).optional().describe('Merge patch: a null value removes the label'),
  })
  .refine((b) => b.description !== undefined || b.labels !== undefined, 'send description and/or labels');
export const listKeysQuery = z.strictObject({
  state: z.enum(KEY_STATES).optional(),
  keyType: z.enum(keyTypes).optional().describe('Only keys of this type (a page may then hold fewer than `limit` keys; follow nextCursor)'),
  alias: z.string().min(1).max(128).optional(),
  label: z
    .string()
    .regex(/^[a-z][a-z0-9_-]{0,62}=.{0,256}$/, 'label filter is name=value')
    .optional(),
  ...pageQuery,
});

const actor = z.object({ principalId: z.string(), role: z.enum(ROLES) });
export const keyResponse = z.object({
  keyId: z.string(),
  keyType: z.enum(keyTypes),
  state: z.enum(KEY_STATES),
  alias: z.string().nullable(),
  description: z.string(),
  labels: z.record(z.string(), z.string()),
  exportable: z.boolean(),
  kmipOnly: z.literal(true).optional().describe('Created or registered over KMIP: used over KMIP only (this data plane refuses it)'),
  publicOnly: z
    .literal(true)
    .optional()
    .describe('A public key registered without its private key (KMIP): it verifies (RSA: also encrypts) and never signs or decrypts'),
  exportEnabled: z.boolean(),
  versions: z.array(z.object({ version: z.number().int(), kcv: z.string(), createdAt: z.string(), destroyed: z.boolean() })),
  latestVersion: z.number().int(),
  minDecryptionVersion: z.number().int(),
  activationDate: z.string().nullable(),
  deactivationDate: z.string().nullable(),
  compromiseDate: z.string().nullable(),
  compromiseReason: z.string().nullable(),
  destroyAfter: z.string().nullable(),
  destroyedAt: z.string().nullable(),
  createdAt: z.string(),
  createdBy: actor,
  updatedAt: z.string(),
  history: z.array(
    z.object({
      at: z.string(),
      from: z.enum(KEY_STATES).nullable(),
      to: z.enum(KEY_STATES),
      event: z.string(),
      actor,
      reason: z.string().optional(),
    }),
  ),
  owner: z.string().optional().describe('The kmip-client that owns the key (created it, or was assigned it)'),
  useSuspended: z.literal(true).optional().describe('A KMIP Destroy is pending: the key refuses every use until destroyed or cancelled'),
  attributes: z.record(z.string(), z.array(z.unknown())).optional().describe('Client attributes (KMIP), answered back as given'),
});
export const keyCommandResponse = seqResponse.extend({ key: keyResponse });
export const keyListResponse = z.object({ items: z.array(keyResponse.omit({ history: true })), nextCursor: z.string().nullable() });
export const minDecryptionVersionBody = z.strictObject({ version: z.number().int().min(1) });
