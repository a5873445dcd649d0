import { NOW, applyCommand, day, refusal } from '../testing/spec-helpers';
import { TenantLog } from '../keyset/keyset';
import type { Actor } from '../shared/actor';
import type { DecisionContext } from '../shared/decision-context';
import { authorizeUse, keyOperations } from './key.use';
import { extraUsagesFor } from './key.types';
import { usageLimitCharge } from './key.usage-limits';

const TENANT = 'tnt_keyreuse1';
const PROVIDER: Actor = { principalId: 'prn_provider01', role: 'provider-admin' };
const ADMIN: Actor = { principalId: 'prn_admin0001', role: 'tenant-admin' };
const ctx = (offset: number, actor: Actor = ADMIN): DecisionContext => ({ now: day(offset), actor, correlationId: `c${offset}` });

function tenant(): TenantLog {
  const log = new TenantLog(TENANT);
  applyCommand(log, { kind: 'tenant.onboard', tenantId: TENANT, name: 'Acme' }, ctx(-60, PROVIDER));
  return log;
}

const aesForMac = { kind: 'key.create', keyType: 'AES-128-GCM', kcv: 'k', activate: true, kmipOnly: true, extraUsages: ['mac'] } as const;

describe('key reuse: an AES key a KMIP client asked to MAC with too', () => {
  it('takes on MAC only when the client asked for it, and only for types KEY_REUSE lists', () => {
    expect(extraUsagesFor('AES-256-GCM', ['encrypt', 'mac'])).toEqual(['mac']);
    expect(extraUsagesFor('AES-256-GCM', ['encrypt'])).toEqual([]);
    expect(extraUsagesFor('HMAC-SHA256', ['encrypt', 'mac'])).toEqual([]);
    expect(extraUsagesFor('TDES-168', ['mac'])).toEqual([]);
  });

  it('MACs and verifies MACs only while the tenant policy allows key reuse (off by default)', () => {
    const log = tenant();
    applyCommand(log, { ...aesForMac, keyId: 'key_reuse001' }, ctx(-5));
    const key = log.keys.get('key_reuse001');
    expect(key?.extraUsages).toEqual(['mac']);
    expect(keyOperations(key!)).toEqual(expect.arrayContaining(['encrypt', 'decrypt', 'mac', 'verify-mac']));
    const refused = refusal(() => authorizeUse(log.tenant, TENANT, key, 'key_reuse001', 'mac', NOW, undefined, 'kmip'));
    expect(refused.code).toBe('key-reuse-refused');
    expect(refused.message).toContain('allowKeyReuse');
    expect(refusal(() => authorizeUse(log.tenant, TENANT, key, 'key_reuse001', 'verify-mac', NOW, 1, 'kmip')).code).toBe(
      'key-reuse-refused',
    );
    // Its own usage is not affected by the policy.
    expect(authorizeUse(log.tenant, TENANT, key, 'key_reuse001', 'encrypt', NOW, undefined, 'kmip').version).toBe(1);

    applyCommand(log, { kind: 'tenant.set-policy', tenantId: TENANT, policy: { allowKeyReuse: true } }, ctx(-1));
    expect(log.tenant?.policy.allowKeyReuse).toBe(true);
    expect(authorizeUse(log.tenant, TENANT, key, 'key_reuse001', 'mac', NOW, undefined, 'kmip').version).toBe(1);
    expect(authorizeUse(log.tenant, TENANT, key, 'key_reuse001', 'verify-mac', NOW, 1, 'kmip').version).toBe(1);
    // Never through REST (a KMIP key), and turning the policy off again stops it at once.
    expect(refusal(() => authorizeUse(log.tenant, TENANT, key, 'key_reuse001', 'mac', NOW)).code).toBe('wrong-usage');
    applyCommand(log, { kind: 'tenant.set-policy', tenantId: TENANT, policy: { allowKeyReuse: false } }, ctx(0));
    expect(refusal(() => authorizeUse(log.tenant, TENANT, key, 'key_reuse001', 'mac', NOW, undefined, 'kmip')).code).toBe(
      'key-reuse-refused',
    );
  });

  it('an AES key its client did not ask to MAC with never MACs, whatever the policy', () => {
    const log = tenant();
    applyCommand(log, { kind: 'tenant.set-policy', tenantId: TENANT, policy: { allowKeyReuse: true } }, ctx(-6));
    applyCommand(log, { ...aesForMac, keyId: 'key_reuse002', extraUsages: [] }, ctx(-5));
    const key = log.keys.get('key_reuse002');
    expect(key?.extraUsages).toBeUndefined();
    expect(refusal(() => authorizeUse(log.tenant, TENANT, key, 'key_reuse002', 'mac', NOW, undefined, 'kmip')).code).toBe('wrong-usage');
  });

  it('refuses an extra usage on a key not created over KMIP, or one its type cannot take', () => {
    const log = tenant();
    expect(refusal(() => applyCommand(log, { ...aesForMac, keyId: 'key_reuse003', kmipOnly: false }, ctx(-5))).code).toBe('invalid');
    const hmacForEncrypt = { ...aesForMac, keyId: 'key_reuse004', keyType: 'HMAC-SHA256', extraUsages: ['encrypt'] } as const;
    expect(refusal(() => applyCommand(log, hmacForEncrypt, ctx(-5))).code).toBe('invalid');
    expect(refusal(() => applyCommand(log, { ...aesForMac, keyId: 'key_reuse005', extraUsages: ['sign'] }, ctx(-5))).code).toBe('invalid');
  });
});

describe('Usage Limits', () => {
  const base = { kind: 'key.create', keyType: 'AES-128-GCM', kcv: 'k', activate: true } as const;

  it('are kept on KMIP keys with a positive whole total of bytes or objects', () => {
    const log = tenant();
    applyCommand(log, { ...base, keyId: 'key_limit001', kmipOnly: true, usageLimits: { total: 16, unit: 'byte' } }, ctx(-5));
    expect(log.keys.get('key_limit001')?.usageLimits).toEqual({ total: 16, unit: 'byte' });
    const bad = [
      { kmipOnly: false, usageLimits: { total: 16, unit: 'byte' } },
      { kmipOnly: true, usageLimits: { total: 0, unit: 'byte' } },
      { kmipOnly: true, usageLimits: { total: 1.5, unit: 'object' } },
      { kmipOnly: true, usageLimits: { total: 16, unit: 'bit' } },
    ] as const;
    bad.forEach((b, i) => {
      const command = { ...base, keyId: `key_limitx0${i}`, ...b } as Parameters<typeof applyCommand>[1];
      expect(refusal(() => applyCommand(log, command, ctx(-5))).code).toBe('invalid');
    });
  });

  it('charge what a use protects: the bytes (unit byte) or one (unit object); decrypt and verify cost nothing', () => {
    const bytes = { usageLimits: { total: 16, unit: 'byte' } } as const;
    const objects = { usageLimits: { total: 3, unit: 'object' } } as const;
    expect(usageLimitCharge(bytes, 'encrypt', 16)).toBe(16);
    expect(usageLimitCharge(bytes, 'mac', 5)).toBe(5);
    expect(usageLimitCharge(bytes, 'decrypt', 16)).toBe(0);
    expect(usageLimitCharge(bytes, 'verify-mac', 16)).toBe(0);
    expect(usageLimitCharge(objects, 'encrypt', 4096)).toBe(1);
    expect(usageLimitCharge({}, 'encrypt', 4096)).toBe(0);
  });
});
