import { z } from 'zod';
import { ROLES } from '@keyward/domain';

/** What the session routes answer: who is signed in, until when, and the CSRF token for changes. */
export const sessionResponse = z
  .object({
    principalId: z.string(),
    tenantId: z.string().describe('`provider` for provider-admins'),
    role: z.enum(ROLES),
    expiresAt: z.string().describe('The session ends then (sign in again); signing out or revoking the principal ends it sooner'),
    csrfToken: z
      .string()
      .describe('Send it as the x-csrf-token header on every request made with the session cookie that is not a GET or HEAD'),
  })
  .describe('A console session (the API key itself is never answered or kept)');

/** Opening a session takes no body: the API key is the request's Authorization header. */
export const openSessionBody = z.strictObject({});
