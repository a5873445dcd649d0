import { principalFromClaims } from './oidc-claims';

const names = { tenantClaim: 'keyward_tenant', roleClaim: 'keyward_role' };
const TENANT = 'tnt_acme0001';
const base = { sub: 'alice', exp: 2_000_000_000, keyward_tenant: TENANT, keyward_role: 'key-user' };

describe('principalFromClaims', () => {
  it('maps sub, tenant and role to an oidc principal', () => {
    expect(principalFromClaims(base, names)).toEqual({
      ok: true,
      principal: { principalId: 'oidc:alice', tenantId: TENANT, role: 'key-user', credentialId: 'oidc' },
    });
    const provider = principalFromClaims({ ...base, keyward_tenant: 'provider', keyward_role: 'provider-admin' }, names);
    expect(provider).toMatchObject({ ok: true, principal: { tenantId: 'provider', role: 'provider-admin' } });
  });

  it('uses the configured claim names', () => {
    const custom = principalFromClaims({ sub: 'a', exp: 1, org: TENANT, groups: 'auditor' }, { tenantClaim: 'org', roleClaim: 'groups' });
    expect(custom).toMatchObject({ ok: true, principal: { tenantId: TENANT, role: 'auditor' } });
  });

  it.each([
    ['no exp', { exp: undefined }, /exp/],
    ['no sub', { sub: undefined }, /sub/],
    ['a sub with spaces', { sub: 'a b' }, /sub/],
    ['no tenant', { keyward_tenant: undefined }, /keyward_tenant/],
    ['a tenant that is not an id', { keyward_tenant: '../x' }, /keyward_tenant/],
    ['an unknown role', { keyward_role: 'root' }, /keyward_role/],
    ['a role list', { keyward_role: ['key-user'] }, /keyward_role/],
    ['provider-admin of a tenant', { keyward_role: 'provider-admin' }, /does not belong/],
    ['a tenant role of the provider', { keyward_tenant: 'provider' }, /does not belong/],
    ['a cnf without x5t#S256', { cnf: { jkt: 'x' } }, /cnf/],
  ])('refuses %s', (_, change, reason) => {
    const outcome = principalFromClaims({ ...base, ...change }, names);
    expect(outcome.ok).toBe(false);
    expect(outcome.ok ? '' : outcome.reason).toMatch(reason);
  });

  it('passes on a certificate binding (RFC 8705)', () => {
    const thumbprint = 'A'.repeat(43);
    expect(principalFromClaims({ ...base, cnf: { 'x5t#S256': thumbprint } }, names)).toMatchObject({
      ok: true,
      certificateThumbprint: thumbprint,
    });
  });
});
