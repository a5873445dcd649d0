import type { IncomingMessage } from 'node:http';

/** What authentication learned about a request, for log lines; set by the auth layer. */
export interface RequestIdentity {
  readonly tenantId?: string;
  readonly principalId?: string;
  readonly role?: string;
}

const identities = new WeakMap<object, RequestIdentity>();

export function setRequestIdentity(raw: IncomingMessage, identity: RequestIdentity): void {
  identities.set(raw, identity);
}

export function requestContext(raw: IncomingMessage): Record<string, string> {
  const identity = identities.get(raw);
  const out: Record<string, string> = {};
  if (identity?.tenantId) out.tenant = identity.tenantId;
  if (identity?.principalId) out.principal = identity.principalId;
  if (identity?.role) out.role = identity.role;
  return out;
}
