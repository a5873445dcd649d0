import { applyCommand, day, NOW, refusal } from '../testing/spec-helpers';
import { TenantLog, type KeywardCommand } from '../keyset/keyset';
import type { Actor } from '../shared/actor';
import type { DecisionContext } from '../shared/decision-context';
import { accessTo, authorize, authorizeRead, mayReadKey, requireAccess, requireRead, seesByGrant, type AccessContext } from './authorize';
import type { GrantCommand } from './grant';
import { GRANT_OPERATIONS, type GrantConditions, type GrantMode, type GrantOperation, type KeySelector } from './grant.types';

const TENANT = 'tnt_authz0001';
const PROVIDER: Actor = { principalId: 'prn_provider01', role: 'provider-admin' };
const ADMIN: Actor = { principalId: 'prn_admin0001', role: 'tenant-admin' };
const USER: Actor = { principalId: 'prn_user00001', role: 'key-user' };
const OTHER: Actor = { principalId: 'prn_user00002', role: 'key-user' };
const AUDITOR: Actor = { principalId: 'prn_audit0001', role: 'auditor' };
const ARRAY: Actor = { principalId: 'prn_array0001', role: 'kmip-client' };
const TAPE: Actor = { principalId: 'prn_tape00001', role: 'kmip-client' };
const ctx = (actor: Actor = ADMIN, now: Date = NOW): DecisionContext => ({ now, actor, correlationId: 'c' });

const PAY = 'key_pay00001'; // alias payments/eu, labels team=pay env=prod
const HR = 'key_hr000001'; // alias hr/main, labels team=hr env=prod
const aad = (text: string): AccessContext => ({ aad: Buffer.from(text) });

function tenant(mode: GrantMode = 'required'): TenantLog {
  const log = new TenantLog(TENANT);
  applyCommand(log, { kind: 'tenant.onboard', tenantId: TENANT, name: 'Acme', grants: mode }, ctx(PROVIDER, day(-10)));
  const steps: KeywardCommand[] = [
    { kind: 'principal.create', principalId: ADMIN.principalId, name: 'admin', role: 'tenant-admin' },
    { kind: 'principal.create', principalId: USER.principalId, name: 'app', role: 'key-user' },
    { kind: 'principal.create', principalId: OTHER.principalId, name: 'other', role: 'key-user' },
    { kind: 'principal.create', principalId: AUDITOR.principalId, name: 'audit', role: 'auditor' },
    { kind: 'principal.create', principalId: ARRAY.principalId, name: 'array', role: 'kmip-client' },
    { kind: 'principal.create', principalId: TAPE.principalId, name: 'tape', role: 'kmip-client' },
    { kind: 'key.create', keyId: PAY, keyType: 'AES-256-GCM', kcv: 'k1', alias: 'payments/eu', labels: { team: 'pay', env: 'prod' } },
    { kind: 'key.create', keyId: HR, keyType: 'AES-256-GCM', kcv: 'k2', alias: 'hr/main', labels: { team: 'hr', env: 'prod' } },
  ];
  for (const step of steps) applyCommand(log, step, ctx(ADMIN, day(-9)));
  return log;
}

let n = 0;
function grant(
  log: TenantLog,
  keys: KeySelector,
  operations: GrantOperation[],
  conditions: GrantConditions = {},
  to: Actor = USER,
): string {
  const grantId = `grt_${String(++n).padStart(8, '0')}`;
  const command: GrantCommand = { kind: 'grant.create', grantId, principalId: to.principalId, operations, keys, conditions };
  applyCommand(log, command, ctx(ADMIN, day(-1)));
  return grantId;
}

const check = (log: TenantLog, keyId: string, op: GrantOperation, context: AccessContext = {}, now = NOW, who: Actor = USER) =>
  authorize(log, who, log.keys.get(keyId), op, context, now);

describe('authorize: open tenants', () => {
  it('allows every operation on every key without a grant (grantId null), as before grants', () => {
    const log = tenant('open');
    for (const op of GRANT_OPERATIONS) expect(check(log, PAY, op)).toEqual({ allowed: true, grantId: null });
  });
});

describe('authorize: grants required', () => {
  it('a principal with no grant does not even see the key (404), nor an unknown key', () => {
    const log = tenant();
    expect(check(log, PAY, 'encrypt')).toMatchObject({ allowed: false, status: 404, reason: 'no-grant' });
    expect(authorize(log, USER, undefined, 'encrypt', {}, NOW)).toMatchObject({ allowed: false, status: 404 });
  });

  it.each<[string, KeySelector]>([
    ['ids', { ids: [PAY] }],
    ['alias prefix', { aliasPrefix: 'payments/' }],
    ['labels', { labels: { team: 'pay' } }],
    ['labels (all must match)', { labels: { team: 'pay', env: 'prod' } }],
  ])('a grant by %s allows its operations on the keys it selects and nothing on the others', (_, keys) => {
    const log = tenant();
    const id = grant(log, keys, ['encrypt', 'decrypt']);
    expect(check(log, PAY, 'encrypt')).toEqual({ allowed: true, grantId: id });
    expect(check(log, PAY, 'decrypt')).toEqual({ allowed: true, grantId: id });
    expect(check(log, HR, 'encrypt')).toMatchObject({ allowed: false, status: 404 });
    for (const op of GRANT_OPERATIONS.filter((o) => o !== 'encrypt' && o !== 'decrypt')) {
      expect(check(log, PAY, op)).toMatchObject({ allowed: false, status: 403, reason: 'operation-not-granted' });
    }
  });

  it('a label selector with one label that differs selects nothing', () => {
    const log = tenant();
    grant(log, { labels: { team: 'pay', env: 'dev' } }, ['encrypt']);
    expect(check(log, PAY, 'encrypt')).toMatchObject({ status: 404 });
  });

  it('follows the key as it is now: an alias or label change moves it in or out of a selector', () => {
    const log = tenant();
    grant(log, { aliasPrefix: 'payments/' }, ['encrypt']);
    applyCommand(log, { kind: 'key.set-alias', keyId: HR, alias: 'payments/hr' }, ctx());
    expect(check(log, HR, 'encrypt').allowed).toBe(true);
    applyCommand(log, { kind: 'key.set-alias', keyId: PAY, alias: 'legacy/pay' }, ctx());
    expect(check(log, PAY, 'encrypt')).toMatchObject({ status: 404 });
  });

  it("grants are the principal's own: another principal's grant allows nothing", () => {
    const log = tenant();
    grant(log, { ids: [PAY] }, ['encrypt'], {}, OTHER);
    expect(check(log, PAY, 'encrypt')).toMatchObject({ status: 404 });
    expect(check(log, PAY, 'encrypt', {}, NOW, OTHER).allowed).toBe(true);
  });

  it('a revoked grant allows nothing and no longer reveals the key', () => {
    const log = tenant();
    const id = grant(log, { ids: [PAY] }, ['encrypt']);
    applyCommand(log, { kind: 'grant.revoke', grantId: id }, ctx());
    expect(check(log, PAY, 'encrypt')).toMatchObject({ status: 404 });
  });

  it('any of several grants may allow; the first in force that does is named', () => {
    const log = tenant();
    grant(log, { ids: [PAY] }, ['encrypt'], { notAfter: day(10).toISOString() });
    const second = grant(log, { labels: { team: 'pay' } }, ['encrypt']);
    expect(check(log, PAY, 'encrypt', {}, day(11))).toEqual({ allowed: true, grantId: second });
  });

  it('names the oldest allowing grant whatever its selector (grants by id and by selector are indexed apart)', () => {
    const log = tenant();
    const byLabel = grant(log, { labels: { team: 'pay' } }, ['encrypt']);
    const byId = grant(log, { ids: [PAY, HR] }, ['encrypt', 'decrypt']);
    const byAlias = grant(log, { aliasPrefix: 'payments/' }, ['encrypt', 'decrypt', 'mac']);
    for (let i = 0; i < 50; i++) grant(log, { ids: [`key_other${String(i).padStart(4, '0')}`] }, ['encrypt']);
    expect(check(log, PAY, 'encrypt')).toEqual({ allowed: true, grantId: byLabel });
    expect(check(log, PAY, 'decrypt')).toEqual({ allowed: true, grantId: byId });
    expect(check(log, HR, 'encrypt')).toEqual({ allowed: true, grantId: byId });
    expect(check(log, PAY, 'mac').allowed).toBe(true);
    expect(check(log, HR, 'mac')).toMatchObject({ status: 403 });
    // The candidates: the selector grants and the grants naming the key, in creation order; not the 50 others.
    expect(log.grantsFor(USER.principalId, HR).map((g) => g.grantId)).toEqual([byLabel, byId, byAlias]);
  });

  it('administrators never hold grants: a tenant-admin sees nothing through authorize', () => {
    const log = tenant();
    expect(authorize(log, ADMIN, log.keys.get(PAY), 'read', {}, NOW)).toMatchObject({ status: 404 });
  });
});

describe('authorize: conditions', () => {
  it('validity window: refused before notBefore and from notAfter on, allowed in between', () => {
    const log = tenant();
    const id = grant(log, { ids: [PAY] }, ['encrypt'], { notBefore: day(1).toISOString(), notAfter: day(5).toISOString() });
    expect(check(log, PAY, 'encrypt', {}, NOW)).toMatchObject({ status: 403, reason: 'not-yet-valid' });
    expect(check(log, PAY, 'encrypt', {}, day(1))).toEqual({ allowed: true, grantId: id });
    expect(check(log, PAY, 'encrypt', {}, new Date(day(5).getTime() - 1))).toEqual({ allowed: true, grantId: id });
    expect(check(log, PAY, 'encrypt', {}, day(5))).toMatchObject({ status: 403, reason: 'expired' });
  });

  it('certificate-bound: refused while the principal has no binding, allowed once bound, refused again once unbound', () => {
    const log = tenant();
    grant(log, { ids: [PAY] }, ['encrypt'], { certificateBound: true });
    expect(check(log, PAY, 'encrypt')).toMatchObject({ status: 403, reason: 'certificate-required' });
    applyCommand(log, { kind: 'principal.bind-certificate', principalId: USER.principalId, fingerprint: 'ab'.repeat(32) }, ctx());
    expect(check(log, PAY, 'encrypt').allowed).toBe(true);
    applyCommand(log, { kind: 'principal.unbind-certificate', principalId: USER.principalId }, ctx());
    expect(check(log, PAY, 'encrypt')).toMatchObject({ status: 403, reason: 'certificate-required' });
  });

  it('exact AAD: only these bytes, and only operations that carry AAD', () => {
    const log = tenant();
    grant(log, { ids: [PAY] }, ['encrypt', 'decrypt', 'data-key', 'rewrap', 'export'], { aad: Buffer.from('order:42').toString('base64') });
    for (const op of ['encrypt', 'decrypt', 'data-key', 'rewrap'] as const) {
      expect(check(log, PAY, op, aad('order:42')).allowed).toBe(true);
      expect(check(log, PAY, op, aad('order:43'))).toMatchObject({ status: 403, reason: 'aad-mismatch' });
      expect(check(log, PAY, op, aad('order:42 '))).toMatchObject({ status: 403, reason: 'aad-mismatch' });
      expect(check(log, PAY, op, {})).toMatchObject({ status: 403, reason: 'aad-mismatch' });
    }
    expect(check(log, PAY, 'export', aad('order:42'))).toMatchObject({ status: 403, reason: 'aad-mismatch' });
  });

  it('encryption context: each required entry with exactly its value; other entries may be present', () => {
    const log = tenant();
    const id = grant(log, { ids: [PAY] }, ['encrypt', 'decrypt'], { encryptionContext: { service: 'billing', region: 'eu' } });
    const ctxOf = (value: unknown): AccessContext => aad(JSON.stringify(value));
    expect(check(log, PAY, 'encrypt', ctxOf({ service: 'billing', region: 'eu' }))).toEqual({ allowed: true, grantId: id });
    expect(check(log, PAY, 'decrypt', ctxOf({ region: 'eu', service: 'billing', order: '42' })).allowed).toBe(true);
    for (const bad of [
      { service: 'billing' },
      { service: 'billing', region: 'us' },
      { service: 'Billing', region: 'eu' },
      { service: 'billing', region: ['eu'] },
      ['service', 'billing'],
      'service=billing',
    ]) {
      expect(check(log, PAY, 'encrypt', ctxOf(bad))).toMatchObject({ status: 403, reason: 'encryption-context-mismatch' });
    }
    expect(check(log, PAY, 'encrypt', aad('{not json'))).toMatchObject({ reason: 'encryption-context-mismatch' });
    expect(check(log, PAY, 'encrypt', { aad: Buffer.from([0xff, 0xfe, 0x7b, 0x7d]) })).toMatchObject({
      reason: 'encryption-context-mismatch',
    });
    expect(check(log, PAY, 'encrypt', {})).toMatchObject({ reason: 'encryption-context-mismatch' });
  });

  it('an inherited property name is not an entry (no prototype tricks)', () => {
    const log = tenant();
    grant(log, { ids: [PAY] }, ['encrypt'], { encryptionContext: { toString: 'x' } });
    expect(check(log, PAY, 'encrypt', aad('{}'))).toMatchObject({ reason: 'encryption-context-mismatch' });
  });

  it('every condition must hold: one unmet condition refuses with its reason', () => {
    const log = tenant();
    applyCommand(log, { kind: 'principal.bind-certificate', principalId: USER.principalId, fingerprint: 'ab'.repeat(32) }, ctx());
    grant(log, { ids: [PAY] }, ['encrypt'], {
      certificateBound: true,
      notAfter: day(3).toISOString(),
      encryptionContext: { service: 'billing' },
    });
    const good = aad('{"service":"billing"}');
    expect(check(log, PAY, 'encrypt', good).allowed).toBe(true);
    expect(check(log, PAY, 'encrypt', good, day(3))).toMatchObject({ reason: 'expired' });
    expect(check(log, PAY, 'encrypt', aad('{"service":"hr"}'))).toMatchObject({ reason: 'encryption-context-mismatch' });
  });

  it('a condition failure is reported rather than a missing operation on another grant of the key', () => {
    const log = tenant();
    grant(log, { ids: [PAY] }, ['read']);
    grant(log, { ids: [PAY] }, ['encrypt'], { notBefore: day(2).toISOString() });
    expect(check(log, PAY, 'encrypt')).toMatchObject({ status: 403, reason: 'not-yet-valid' });
  });
});

describe('requireAccess', () => {
  it('answers the grant id, or refuses with not-found (404) or forbidden (403) and the reason', () => {
    const log = tenant();
    const id = grant(log, { ids: [PAY] }, ['encrypt']);
    expect(requireAccess(log, USER, log.keys.get(PAY), PAY, 'encrypt', {}, NOW)).toBe(id);
    expect(refusal(() => requireAccess(log, USER, log.keys.get(HR), 'alias/hr/main', 'encrypt', {}, NOW))).toMatchObject({
      code: 'not-found',
      details: { keyId: 'alias/hr/main' },
    });
    expect(refusal(() => requireAccess(log, USER, log.keys.get(PAY), PAY, 'decrypt', {}, NOW))).toMatchObject({
      code: 'forbidden',
      details: { keyId: PAY, operation: 'decrypt', reason: 'operation-not-granted' },
    });
  });
});

describe('authorize: a kmip-client in a grants-required tenant (its standing ownership grant, ownership-grant.spec.ts)', () => {
  it('allows every operation on the keys it owns and answers 404 for any other key, granted to others or not', () => {
    const log = tenant();
    applyCommand(log, { kind: 'key.create', keyId: 'key_array001', keyType: 'AES-256-GCM', kcv: 'k3' }, ctx(ARRAY, day(-2)));
    grant(log, { ids: [PAY] }, ['encrypt']);
    for (const op of GRANT_OPERATIONS) {
      expect(check(log, 'key_array001', op, {}, NOW, ARRAY)).toEqual({ allowed: true, grantId: 'grtown_array0001' });
      expect(check(log, 'key_array001', op, {}, NOW, TAPE)).toMatchObject({ allowed: false, status: 404, reason: 'no-grant' });
      expect(check(log, PAY, op, {}, NOW, ARRAY)).toMatchObject({ allowed: false, status: 404, reason: 'no-grant' });
    }
  });
});

describe('the read rule (authorizeRead, requireRead, mayReadKey): who may know of a key', () => {
  it('grants decide for the roles that use keys only', () => {
    expect([USER, ARRAY, ADMIN, AUDITOR, PROVIDER].map((a) => seesByGrant(a.role))).toEqual([true, true, false, false, false]);
  });

  it('grants required: a key-user sees a key only under a grant allowing read (none: 404; one without read: 403)', () => {
    const log = tenant();
    expect(authorizeRead(log, USER, log.keys.get(PAY), NOW)).toMatchObject({ allowed: false, status: 404, reason: 'no-grant' });
    expect(mayReadKey(log, USER, log.keys.get(PAY)!, NOW)).toBe(false);
    expect(refusal(() => requireRead(log, USER, log.keys.get(PAY), 'alias/payments/eu', NOW))).toMatchObject({
      code: 'not-found',
      details: { keyId: 'alias/payments/eu' },
    });
    grant(log, { ids: [PAY] }, ['encrypt']);
    expect(authorizeRead(log, USER, log.keys.get(PAY), NOW)).toMatchObject({
      allowed: false,
      status: 403,
      reason: 'operation-not-granted',
    });
    expect(mayReadKey(log, USER, log.keys.get(PAY)!, NOW)).toBe(false);
    expect(refusal(() => requireRead(log, USER, log.keys.get(PAY), PAY, NOW))).toMatchObject({ code: 'forbidden' });
    const read = grant(log, { aliasPrefix: 'payments/' }, ['read']);
    expect(authorizeRead(log, USER, log.keys.get(PAY), NOW)).toEqual({ allowed: true, grantId: read });
    expect(mayReadKey(log, USER, log.keys.get(PAY)!, NOW)).toBe(true);
    expect(() => requireRead(log, USER, log.keys.get(PAY), PAY, NOW)).not.toThrow();
    // Other keys, and another key-user, still see nothing.
    expect(mayReadKey(log, USER, log.keys.get(HR)!, NOW)).toBe(false);
    expect(mayReadKey(log, OTHER, log.keys.get(PAY)!, NOW)).toBe(false);
  });

  it('a revoked read grant hides the key again; an expired one answers 403 (the grant still covers it)', () => {
    const log = tenant();
    const read = grant(log, { ids: [PAY] }, ['read'], { notAfter: day(2).toISOString() });
    expect(mayReadKey(log, USER, log.keys.get(PAY)!, NOW)).toBe(true);
    expect(authorizeRead(log, USER, log.keys.get(PAY), day(2))).toMatchObject({ allowed: false, status: 403, reason: 'expired' });
    applyCommand(log, { kind: 'grant.revoke', grantId: read }, ctx());
    expect(authorizeRead(log, USER, log.keys.get(PAY), NOW)).toMatchObject({ allowed: false, status: 404 });
  });

  it('administrators and auditors see every key without grants; an unknown key is not the read rule’s to answer for them', () => {
    const log = tenant();
    for (const who of [ADMIN, AUDITOR]) {
      expect(authorizeRead(log, who, log.keys.get(PAY), NOW)).toEqual({ allowed: true, grantId: null });
      expect(mayReadKey(log, who, log.keys.get(HR)!, NOW)).toBe(true);
      expect(() => requireRead(log, who, log.keys.get(HR), HR, NOW)).not.toThrow();
    }
  });

  it('a kmip-client sees the keys it owns only, in a grants-required tenant and in an open one', () => {
    for (const mode of ['required', 'open'] as const) {
      const log = tenant(mode);
      applyCommand(log, { kind: 'key.create', keyId: 'key_array001', keyType: 'AES-256-GCM', kcv: 'k3' }, ctx(ARRAY, day(-2)));
      expect(mayReadKey(log, ARRAY, log.keys.get('key_array001')!, NOW)).toBe(true);
      expect(mayReadKey(log, TAPE, log.keys.get('key_array001')!, NOW)).toBe(false);
      expect(mayReadKey(log, ARRAY, log.keys.get(PAY)!, NOW)).toBe(false);
    }
  });

  it('an open tenant: every key-user sees every key', () => {
    const log = tenant('open');
    expect(mayReadKey(log, USER, log.keys.get(PAY)!, NOW)).toBe(true);
    expect(() => requireRead(log, OTHER, log.keys.get(HR), HR, NOW)).not.toThrow();
  });
});

describe('accessTo (the audit view)', () => {
  it('lists each principal holding an unrevoked grant on the key, with whether it is in force', () => {
    const log = tenant();
    const a = grant(log, { ids: [PAY] }, ['encrypt']);
    const b = grant(log, { aliasPrefix: 'pay' }, ['decrypt'], { notBefore: day(5).toISOString() }, OTHER);
    const revoked = grant(log, { ids: [PAY] }, ['mac']);
    applyCommand(log, { kind: 'grant.revoke', grantId: revoked }, ctx());
    grant(log, { ids: [HR] }, ['encrypt']);
    const { mode, access } = accessTo(log, log.keys.get(PAY)!, NOW);
    expect(mode).toBe('required');
    expect(access).toEqual([
      { principalId: USER.principalId, role: 'key-user', grantId: a, operations: ['encrypt'], conditions: {}, inForce: true },
      {
        principalId: OTHER.principalId,
        role: 'key-user',
        grantId: b,
        operations: ['decrypt'],
        conditions: { notBefore: day(5).toISOString() },
        inForce: false,
      },
    ]);
  });

  it('in an open tenant, every active key-user may use the key', () => {
    const log = tenant('open');
    applyCommand(log, { kind: 'principal.revoke', principalId: OTHER.principalId }, ctx());
    const { mode, access } = accessTo(log, log.keys.get(PAY)!, NOW);
    expect(mode).toBe('open');
    expect(access.map((a) => [a.principalId, a.grantId])).toEqual([[USER.principalId, null]]);
  });
});
