import type { AuthenticatedPrincipal } from '@keyward/auth';

/** Who asked and under which request id: becomes the actor and correlation id of the events. */
export interface Origin {
  readonly principal: AuthenticatedPrincipal;
  readonly requestId: string;
}
