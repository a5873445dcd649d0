import { TenantLog, type DirectCommand } from '../keyset/keyset';
import type { Role } from '../shared/actor';
import { DEFAULT_TENANT_POLICY, type TenantPolicy } from '../tenant/tenant';
import {
  activeWithRole,
  defaultQuorum,
  maybeSensitive,
  needsApproval,
  policyQuorum,
  PROVIDER_LOG,
  providerQuorum,
  quorumFor,
  sensitiveOperation,
} from './dual-control';

const AT = '2030-01-01T00:00:00.000Z';
const TNT = 'tnt_dualctl01';
const KEY = 'key_dualctl01';

function withPrincipals(log: TenantLog, principals: readonly { id: string; role: Role; revoked?: boolean }[]): TenantLog {
  for (const p of principals) {
    log.principals.set(p.id, { principalId: p.id, name: p.id, role: p.role, createdAt: AT, revokedAt: p.revoked ? AT : null });
  }
  return log;
}

function tenantLog(admins: number, policy: Partial<TenantPolicy['dualControl']> = {}): TenantLog {
  const log = new TenantLog(TNT);
  log.tenant = {
    tenantId: TNT,
    name: 'acme',
    status: 'Active',
    policy: { ...DEFAULT_TENANT_POLICY, dualControl: { ...DEFAULT_TENANT_POLICY.dualControl, ...policy } },
    onboardedAt: AT,
    updatedAt: AT,
  };
  const ids = Array.from({ length: admins }, (_, i) => ({ id: `prn_admin000${i}`, role: 'tenant-admin' as const }));
  return withPrincipals(log, [...ids, { id: 'prn_user00001', role: 'key-user' }]);
}

describe('defaultQuorum: two administrators must agree once there are two', () => {
  it.each([
    [0, 1],
    [1, 1],
    [2, 2],
    [3, 2],
    [9, 2],
  ])('%i active admins: quorum %i', (admins, quorum) => {
    expect(defaultQuorum(admins)).toBe(quorum);
  });
});

describe('providerQuorum and policyQuorum', () => {
  it('counts only active provider-admins of the provider log', () => {
    const provider = withPrincipals(new TenantLog(PROVIDER_LOG), [{ id: 'prn_prov00001', role: 'provider-admin' }]);
    expect(providerQuorum(provider)).toBe(1);
    withPrincipals(provider, [{ id: 'prn_prov00002', role: 'provider-admin', revoked: true }]);
    expect(activeWithRole(provider, 'provider-admin')).toBe(1);
    expect(providerQuorum(provider)).toBe(1);
    withPrincipals(provider, [{ id: 'prn_prov00003', role: 'provider-admin' }]);
    expect(providerQuorum(provider)).toBe(2);
  });

  it("a tenant's policy quorum is the one it names, else the default for its active tenant-admins", () => {
    expect(policyQuorum(tenantLog(1))).toBe(1);
    expect(policyQuorum(tenantLog(2))).toBe(2);
    expect(policyQuorum(tenantLog(3, { quorum: 3 }))).toBe(3);
    expect(policyQuorum(new TenantLog(TNT))).toBe(1);
  });
});

describe('quorumFor', () => {
  it('offboarding takes the quorum the provider supplies, never the tenant policy', () => {
    expect(quorumFor('tenant.offboard', tenantLog(3, { quorum: 3 }))).toBe(1);
    expect(quorumFor('tenant.offboard', tenantLog(1), 2)).toBe(2);
  });

  it('the provider log follows its provider-admins', () => {
    const provider = withPrincipals(new TenantLog(PROVIDER_LOG), [
      { id: 'prn_prov00001', role: 'provider-admin' },
      { id: 'prn_prov00002', role: 'provider-admin' },
    ]);
    expect(quorumFor('principal.manage-admin', provider)).toBe(2);
  });

  it('an operation the policy does not cover needs one person', () => {
    expect(quorumFor('key.enable-export', tenantLog(2, { operations: ['key.schedule-destruction'] }))).toBe(1);
    expect(quorumFor('key.schedule-destruction', tenantLog(2, { operations: ['key.schedule-destruction'] }))).toBe(2);
  });
});

/** Every direct command kind, and whether it can ever be sensitive (the compiler wants every kind here). */
const MAYBE: Record<DirectCommand['kind'], boolean> = {
  'tenant.onboard': false,
  'tenant.suspend': false,
  'tenant.resume': false,
  'tenant.offboard': true,
  'tenant.set-policy': true,
  'key.create': false,
  'key.activate': false,
  'key.deactivate': false,
  'key.compromise': false,
  'key.rotate': false,
  'key.schedule-destruction': true,
  'key.cancel-destruction': false,
  'key.destroy': false,
  'key.set-alias': false,
  'key.change-labels': false,
  'key.set-description': false,
  'key.set-min-decryption-version': true,
  'key.enable-export': true,
  'key.assign-owner': true,
  'key.request-destruction': false,
  'key.change-attributes': false,
  'principal.create': true,
  'principal.revoke': true,
  'principal.bind-certificate': true,
  'principal.unbind-certificate': true,
  'principal.issue-enrollment': true,
  'principal.enroll': false,
  'grant.create': true,
  'grant.revoke': false,
};

describe('sensitive operations', () => {
  it.each(Object.entries(MAYBE))('%s may be sensitive: %s', (kind, maybe) => {
    expect(maybeSensitive({ kind } as DirectCommand)).toBe(maybe);
  });

  it('a command that is never sensitive has no operation in any log', () => {
    const log = tenantLog(2);
    for (const [kind, maybe] of Object.entries(MAYBE)) {
      if (!maybe) expect(sensitiveOperation({ kind, keyId: KEY, principalId: 'prn_admin0000' } as DirectCommand, log)).toBeUndefined();
    }
  });

  it('names the operation of each sensitive command', () => {
    const log = tenantLog(2);
    log.keys.set(KEY, { keyId: KEY, minDecryptionVersion: 2 } as never);
    const op = (command: DirectCommand) => sensitiveOperation(command, log);
    expect(op({ kind: 'tenant.offboard', tenantId: TNT })).toBe('tenant.offboard');
    expect(op({ kind: 'tenant.set-policy', tenantId: TNT, policy: {} })).toBe('tenant.set-policy');
    expect(op({ kind: 'key.schedule-destruction', keyId: KEY })).toBe('key.schedule-destruction');
    expect(op({ kind: 'key.enable-export', keyId: KEY })).toBe('key.enable-export');
    expect(op({ kind: 'key.set-min-decryption-version', keyId: KEY, version: 1 })).toBe('key.lower-min-decryption-version');
    expect(op({ kind: 'key.set-min-decryption-version', keyId: KEY, version: 3 })).toBeUndefined();
    expect(op({ kind: 'principal.create', principalId: 'prn_new000001', name: 'n', role: 'tenant-admin' })).toBe('principal.manage-admin');
    expect(op({ kind: 'principal.create', principalId: 'prn_new000001', name: 'n', role: 'key-user' })).toBeUndefined();
    expect(op({ kind: 'principal.revoke', principalId: 'prn_admin0000' })).toBe('principal.manage-admin');
    expect(op({ kind: 'principal.revoke', principalId: 'prn_user00001' })).toBeUndefined();
    expect(op({ kind: 'principal.unbind-certificate', principalId: 'prn_admin0000' })).toBe('principal.manage-admin');
    expect(op({ kind: 'principal.bind-certificate', principalId: 'prn_user00001', subject: 'CN=u' })).toBeUndefined();
  });

  it('needsApproval: sensitive and a quorum above one', () => {
    const revokeAdmin: DirectCommand = { kind: 'principal.revoke', principalId: 'prn_admin0000' };
    expect(needsApproval(revokeAdmin, tenantLog(2))).toBe(true);
    expect(needsApproval(revokeAdmin, tenantLog(1))).toBe(false);
    expect(needsApproval({ kind: 'principal.revoke', principalId: 'prn_user00001' }, tenantLog(2))).toBe(false);
    // Offboarding sent directly: its quorum comes with a request from the provider.
    expect(needsApproval({ kind: 'tenant.offboard', tenantId: TNT }, tenantLog(2))).toBe(false);
  });
});
