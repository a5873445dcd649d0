import { z } from 'zod';

export const unsealBody = z.strictObject({ rootKey: z.string().regex(/^[A-Za-z0-9+/]{43}=$/, 'rootKey must be 32 bytes of base64') });
export const unsealShareBody = z.strictObject({
  share: z
    .string()
    .min(1)
    .max(1024)
    .describe('One custodian share, as printed by `keyward root init` (kwshare-1-…); white space is ignored'),
});
export const unsealProgress = z
  .object({
    submitted: z.number().int().describe('Different shares held so far (a share submitted twice counts once)'),
    threshold: z.number().int().describe('Shares needed to unseal'),
    shares: z.number().int().describe('Shares in the set'),
    rootKcv: z.string().describe('Check value of the root key the shares are of'),
    setId: z.string().describe('Id of the share set'),
    startedAt: z.string().describe('When the first share came'),
    expiresAt: z.string().describe('When the held shares are discarded unless the threshold is reached'),
  })
  .describe('Unsealing with Shamir shares under way');
export const sealStatusResponse = z.object({
  sealed: z.boolean(),
  reason: z.string().optional(),
  rootKcv: z.string().optional(),
  progress: unsealProgress.optional(),
});
export const unsealShareResponse = sealStatusResponse.extend({
  duplicate: z.boolean().optional().describe('This share had been submitted before: it counted once'),
});
