import type { TenantView } from '@keyward/event-log';

/** What the API shows of a tenant: its view, never storage fields. */
export function tenantBody(view: TenantView) {
  return {
    tenantId: view.tenantId,
    name: view.name,
    status: view.status,
    policy: view.policy,
    onboardedAt: view.onboardedAt,
    updatedAt: view.updatedAt,
    keyCount: view.keyCount,
    keysByState: view.keysByState,
    principalCount: view.principalCount,
    seq: view.appliedSeq,
  };
}
