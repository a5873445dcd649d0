import { z } from 'zod';
import {
  ALIAS_PATTERN,
  GRANT_LIMITS,
  GRANT_MODES,
  GRANT_OPERATIONS,
  ID_PATTERN,
  LABEL_KEY_PATTERN,
  MAX_LABEL_VALUE,
} from '@keyward/domain';
import { idParam, seqResponse } from '../platform/common.schema';

const keyId = z.string().regex(ID_PATTERN, 'not a key id');
const instant = z.iso.datetime({ offset: true });

export const keySelector = z
  .union([
    z.strictObject({ ids: z.array(keyId).min(1).max(GRANT_LIMITS.ids) }),
    z.strictObject({ aliasPrefix: z.string().regex(ALIAS_PATTERN, 'not the start of an alias') }),
    z.strictObject({
      labels: z
        .record(z.string().regex(LABEL_KEY_PATTERN, 'not a label name'), z.string().max(MAX_LABEL_VALUE))
        .refine((l) => Object.keys(l).length >= 1 && Object.keys(l).length <= GRANT_LIMITS.labels, `1 to ${GRANT_LIMITS.labels} labels`),
    }),
    z.strictObject({ owned: z.literal(true) }),
  ])
  .describe(
    'Exactly one of: ids (key ids), aliasPrefix (every key whose alias starts with it), labels (every key with all these labels), ' +
      'owned: true (a kmip-client only: every key it owns)',
  );

export const grantConditions = z
  .strictObject({
    encryptionContext: z
      .record(z.string().min(1).max(128), z.string().max(GRANT_LIMITS.contextValue))
      .refine(
        (c) => Object.keys(c).length >= 1 && Object.keys(c).length <= GRANT_LIMITS.contextEntries,
        `1 to ${GRANT_LIMITS.contextEntries} entries`,
      )
      .optional()
      .describe('The AAD must be a UTF-8 JSON object holding each of these entries with exactly this value'),
    aad: z
      .base64()
      .min(1)
      .max(Math.ceil(GRANT_LIMITS.aadBytes / 3) * 4)
      .optional()
      .describe('The AAD must be exactly these bytes (base64)'),
    notBefore: instant.optional(),
    notAfter: instant.optional(),
    certificateBound: z.literal(true).optional().describe('Only while the principal is bound to a client certificate'),
  })
  .default({});

export const createGrantBody = z.strictObject({
  principalId: idParam,
  operations: z.array(z.enum(GRANT_OPERATIONS)).min(1).max(GRANT_OPERATIONS.length),
  keys: keySelector,
  conditions: grantConditions,
});

export const grantResponse = z.object({
  grantId: z.string(),
  principalId: z.string(),
  operations: z.array(z.enum(GRANT_OPERATIONS)),
  keys: z.record(z.string(), z.unknown()),
  conditions: z.record(z.string(), z.unknown()),
  createdAt: z.string(),
  createdBy: z.object({ principalId: z.string(), role: z.string() }),
  revokedAt: z.string().nullable(),
  revokedBy: z.object({ principalId: z.string(), role: z.string() }).nullable(),
});
export const createGrantResponse = seqResponse.extend({ grant: grantResponse });
export const grantListQuery = z.strictObject({
  principalId: idParam.optional(),
  keyId: z.string().regex(ID_PATTERN, 'not a key id').optional().describe('Only grants that cover this key (as it is now)'),
  revoked: z.enum(['include', 'exclude']).default('exclude'),
});
export const grantListResponse = z.object({ mode: z.enum(GRANT_MODES), items: z.array(grantResponse) });
