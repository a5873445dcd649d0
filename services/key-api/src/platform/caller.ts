import type { AuthenticatedPrincipal } from '@keyward/auth';

/**
 * Who calls, under which request id: the actor and correlation id of the events a command commits,
 * and the subject of the usage records of the data plane. One name throughout key-api (the data
 * plane's CryptoService declares the same shape under the same name).
 */
export interface Caller {
  readonly principal: AuthenticatedPrincipal;
  readonly requestId: string;
}
