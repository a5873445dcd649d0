import { z } from 'zod';
import { canonicalSubject, normalizeFingerprint } from '@keyward/auth';

export const bindCertificateBody = z
  .strictObject({
    fingerprint: z
      .string()
      .max(128)
      .transform((value, ctx) => {
        const hex = normalizeFingerprint(value);
        if (hex === undefined) ctx.addIssue({ code: 'custom', message: 'must be a SHA-256 fingerprint: 64 hex digits, colons allowed' });
        return hex ?? '';
      })
      .optional()
      .describe('SHA-256 fingerprint of the client certificate (as `npm run cert:issue` prints it)'),
    subject: z
      .string()
      .max(1024)
      .transform((value, ctx) => {
        const canonical = canonicalSubject(value);
        if (canonical === undefined)
          ctx.addIssue({ code: 'custom', message: 'must be a distinguished name such as "CN=billing-app, O=Acme"' });
        return canonical ?? '';
      })
      .optional()
      .describe('Subject DN every certificate presented must carry exactly (any order), e.g. "CN=billing-app, O=Acme"'),
  })
  .refine((body) => body.fingerprint !== undefined || body.subject !== undefined, { error: 'give a fingerprint, a subject, or both' });

export const certificateBindingResponse = z.object({
  seq: z.number().int().describe('the commit that recorded the binding (principal.certificate-bound.v1 / -unbound.v1)'),
  principalId: z.string(),
  certificate: z
    .object({
      fingerprint: z.string().optional(),
      subject: z.string().optional(),
      boundAt: z.string(),
      boundBy: z.string(),
    })
    .nullable()
    .describe('null: the API key works without a client certificate'),
});
