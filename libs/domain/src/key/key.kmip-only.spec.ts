import { NOW, applyCommand, day, refusal } from '../testing/spec-helpers';
import { TenantLog } from '../keyset/keyset';
import type { Actor } from '../shared/actor';
import type { DecisionContext } from '../shared/decision-context';
import { authorizeCertificate, authorizeUse, publishedSigningKeys } from './key.use';
import { KMIP_ONLY_KEY_TYPES, REST_KEY_TYPES, type KeyType } from './key.types';

const TENANT = 'tnt_kmiponly1';
const PROVIDER: Actor = { principalId: 'prn_provider01', role: 'provider-admin' };
const ADMIN: Actor = { principalId: 'prn_admin0001', role: 'tenant-admin' };
const ctx = (offset: number, actor: Actor = ADMIN): DecisionContext => ({ now: day(offset), actor, correlationId: `c${offset}` });

function tenant(): TenantLog {
  const log = new TenantLog(TENANT);
  applyCommand(log, { kind: 'tenant.onboard', tenantId: TENANT, name: 'Acme' }, ctx(-60, PROVIDER));
  return log;
}

function withKey(log: TenantLog, keyId: string, keyType: KeyType, kmipOnly: boolean): void {
  applyCommand(log, { kind: 'key.create', keyId, keyType, kcv: 'kcv1', activate: true, ...(kmipOnly ? { kmipOnly } : {}) }, ctx(-10));
}

describe('keys created over KMIP (kmipOnly)', () => {
  it('are used through KMIP only: REST data-plane use is refused as wrong-usage', () => {
    const log = tenant();
    withKey(log, 'key_kmip0001', 'AES-128-GCM', true);
    const key = log.keys.get('key_kmip0001');
    expect(key?.kmipOnly).toBe(true);
    expect(authorizeUse(log.tenant, TENANT, key, 'key_kmip0001', 'encrypt', NOW, undefined, 'kmip').version).toBe(1);
    const refused = refusal(() => authorizeUse(log.tenant, TENANT, key, 'key_kmip0001', 'encrypt', NOW));
    expect(refused.code).toBe('wrong-usage');
    expect(refused.message).toContain('used over KMIP only');
    expect(refusal(() => authorizeUse(log.tenant, TENANT, key, 'key_kmip0001', 'decrypt', NOW, 1, 'rest')).code).toBe('wrong-usage');
  });

  it('keys created over REST stay usable through both doors', () => {
    const log = tenant();
    withKey(log, 'key_rest0001', 'AES-256-GCM', false);
    const key = log.keys.get('key_rest0001');
    expect(key?.kmipOnly).toBeUndefined();
    expect(authorizeUse(log.tenant, TENANT, key, 'key_rest0001', 'encrypt', NOW).version).toBe(1);
    expect(authorizeUse(log.tenant, TENANT, key, 'key_rest0001', 'encrypt', NOW, undefined, 'kmip').version).toBe(1);
  });

  it('KMIP-only key types cannot be created without the KMIP flag, and REST does not list them', () => {
    for (const keyType of KMIP_ONLY_KEY_TYPES) {
      const log = tenant();
      expect(refusal(() => withKey(log, 'key_only0001', keyType, false)).code).toBe('invalid');
      if (keyType !== 'CERTIFICATE') withKey(log, 'key_only0002', keyType, true); // certificates: below
      expect(REST_KEY_TYPES).not.toContain(keyType);
    }
  });

  it('Cryptographic Parameters are kept for KMIP keys only, as named integers or booleans', () => {
    const log = tenant();
    const base = { kind: 'key.create', keyType: 'AES-128-GCM', kcv: 'k' } as const;
    applyCommand(
      log,
      { ...base, keyId: 'key_params01', kmipOnly: true, cipherParameters: { blockCipherMode: 2, randomIv: true } },
      ctx(-5),
    );
    expect(log.keys.get('key_params01')?.cipherParameters).toEqual({ blockCipherMode: 2, randomIv: true });
    expect(
      refusal(() => applyCommand(log, { ...base, keyId: 'key_params02', cipherParameters: { blockCipherMode: 2 } }, ctx(-5))).code,
    ).toBe('invalid');
    const bad = { 'block cipher': 2 };
    expect(refusal(() => applyCommand(log, { ...base, keyId: 'key_params03', kmipOnly: true, cipherParameters: bad }, ctx(-5))).code).toBe(
      'invalid',
    );
  });
});

describe('legacy key types (3DES, RSA-1024)', () => {
  it('encrypt and decrypt only when the tenant policy allows legacy encryption', () => {
    const log = tenant();
    withKey(log, 'key_tdes0001', 'TDES-168', true);
    const key = log.keys.get('key_tdes0001');
    const refused = refusal(() => authorizeUse(log.tenant, TENANT, key, 'key_tdes0001', 'encrypt', NOW, undefined, 'kmip'));
    expect(refused.code).toBe('legacy-refused');
    expect(refused.message).toContain('does not allow legacy encryption');
    expect(refusal(() => authorizeUse(log.tenant, TENANT, key, 'key_tdes0001', 'decrypt', NOW, 1, 'kmip')).code).toBe('legacy-refused');
    applyCommand(log, { kind: 'tenant.set-policy', tenantId: TENANT, policy: { allowLegacyEncryption: true } }, ctx(-1));
    expect(authorizeUse(log.tenant, TENANT, key, 'key_tdes0001', 'encrypt', NOW, undefined, 'kmip').version).toBe(1);
    // Still never through REST.
    expect(refusal(() => authorizeUse(log.tenant, TENANT, key, 'key_tdes0001', 'encrypt', NOW)).code).toBe('wrong-usage');
  });

  it('RSA-1024: every use (sign, verify, encrypt, decrypt) only under the legacy policy, never through REST, never in the JWKS', () => {
    const log = tenant();
    withKey(log, 'key_rsa10241', 'RSA-1024', true);
    const key = log.keys.get('key_rsa10241');
    for (const op of ['sign', 'verify', 'encrypt', 'decrypt'] as const) {
      const refused = refusal(() => authorizeUse(log.tenant, TENANT, key, 'key_rsa10241', op, NOW, 1, 'kmip'));
      expect(refused.code).toBe('legacy-refused');
      expect(refused.message).toContain('legacy RSA-1024 key');
    }
    expect(publishedSigningKeys(log.keys.values())).toEqual([]);
    applyCommand(log, { kind: 'tenant.set-policy', tenantId: TENANT, policy: { allowLegacyEncryption: true } }, ctx(-1));
    for (const op of ['sign', 'verify', 'encrypt', 'decrypt'] as const)
      expect(authorizeUse(log.tenant, TENANT, key, 'key_rsa10241', op, NOW, 1, 'kmip').version).toBe(1);
    expect(refusal(() => authorizeUse(log.tenant, TENANT, key, 'key_rsa10241', 'sign', NOW)).code).toBe('wrong-usage');
    expect(publishedSigningKeys(log.keys.values())).toEqual([]);
    expect(REST_KEY_TYPES).not.toContain('RSA-1024');
  });
});

describe('certificates (CERTIFICATE keys)', () => {
  const register = (log: TenantLog, keyId: string, extra: Record<string, unknown> = {}) =>
    applyCommand(
      log,
      { kind: 'key.create', keyId, keyType: 'CERTIFICATE', kcv: 'kcv1', origin: 'imported', materialBytes: 1043, kmipOnly: true, ...extra },
      ctx(-10),
    );

  it('are registered over KMIP, never generated, and of a certificate length', () => {
    const log = tenant();
    expect(refusal(() => register(log, 'key_cert0001', { origin: undefined })).message).toContain('never generated');
    expect(refusal(() => register(log, 'key_cert0002', { kmipOnly: undefined })).code).toBe('invalid');
    expect(refusal(() => register(log, 'key_cert0003', { materialBytes: 20_000 })).code).toBe('invalid');
    register(log, 'key_cert0004');
    expect(log.keys.get('key_cert0004')).toMatchObject({ keyType: 'CERTIFICATE', state: 'PreActive' });
  });

  it('are read in any state short of destroyed, and admit no crypto operation', () => {
    const log = tenant();
    register(log, 'key_cert0005');
    const cert = () => log.keys.get('key_cert0005');
    expect(authorizeCertificate(log.tenant, TENANT, cert(), 'key_cert0005').version).toBe(1);
    applyCommand(log, { kind: 'key.activate', keyId: 'key_cert0005' }, ctx(-5));
    for (const op of ['encrypt', 'sign', 'verify', 'mac'] as const)
      expect(refusal(() => authorizeUse(log.tenant, TENANT, cert(), 'key_cert0005', op, NOW, undefined, 'kmip')).code).toBe('wrong-usage');
    applyCommand(log, { kind: 'key.compromise', keyId: 'key_cert0005', reason: 'CA revoked it' }, ctx(-4));
    expect(authorizeCertificate(log.tenant, TENANT, cert(), 'key_cert0005').version).toBe(1);
    applyCommand(log, { kind: 'key.schedule-destruction', keyId: 'key_cert0005', waitingPeriodDays: 1 }, ctx(-3));
    applyCommand(log, { kind: 'key.destroy', keyId: 'key_cert0005' }, ctx(0));
    expect(refusal(() => authorizeCertificate(log.tenant, TENANT, cert(), 'key_cert0005')).code).toBe('key-destroyed');
    withKey(log, 'key_aes00001', 'AES-256-GCM', true);
    expect(refusal(() => authorizeCertificate(log.tenant, TENANT, log.keys.get('key_aes00001'), 'key_aes00001')).code).toBe('wrong-usage');
  });
});
