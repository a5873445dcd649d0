import { NOW, applyCommand, day, refusal } from '../testing/spec-helpers';
import { TenantLog } from '../keyset/keyset';
import type { Actor } from '../shared/actor';
import type { DecisionContext } from '../shared/decision-context';
import {
  ASYMMETRIC_KEY_TYPES,
  SIGNATURE_ALGORITHMS,
  admitsSignature,
  type AsymmetricKeyType,
  type SignatureAlgorithm,
} from './key.asymmetric';
import { acceptsMaterialLength, KEY_TYPES, REST_KEY_TYPES, type KeyType } from './key.types';
import {
  allowedOperations,
  authorizePublicKey,
  authorizeUse,
  CRYPTO_OPERATIONS,
  keyOperations,
  publishedSigningKeys,
  requireSignatureAlgorithm,
  type CryptoOperation,
} from './key.use';

const TENANT = 'tnt_asym0001';
const PROVIDER: Actor = { principalId: 'prn_provider01', role: 'provider-admin' };
const ADMIN: Actor = { principalId: 'prn_admin0001', role: 'tenant-admin' };
const ctx = (offset: number, actor: Actor = ADMIN): DecisionContext => ({ now: day(offset), actor, correlationId: `c${offset}` });
const KCV = (n: number) => `pk1.${String(n).repeat(64).slice(0, 64)}`;

const ASYMMETRIC = Object.keys(ASYMMETRIC_KEY_TYPES) as AsymmetricKeyType[];
const OPERATIONS = Object.keys(CRYPTO_OPERATIONS) as CryptoOperation[];
const ALGORITHMS = Object.keys(SIGNATURE_ALGORITHMS) as SignatureAlgorithm[];

/** The operations each key type admits: the table this feature adds, spelled out. */
const EXPECTED_OPERATIONS: Record<KeyType, readonly CryptoOperation[]> = {
  'AES-256-GCM': ['encrypt', 'generate-data-key', 'decrypt', 'rewrap'],
  'AES-192-GCM': ['encrypt', 'generate-data-key', 'decrypt', 'rewrap'],
  'AES-128-GCM': ['encrypt', 'generate-data-key', 'decrypt', 'rewrap'],
  'HMAC-SHA256': ['mac', 'verify-mac'],
  'HMAC-SHA1': ['mac', 'verify-mac'],
  'HMAC-SHA224': ['mac', 'verify-mac'],
  'HMAC-SHA384': ['mac', 'verify-mac'],
  'HMAC-SHA512': ['mac', 'verify-mac'],
  'TDES-168': ['encrypt', 'generate-data-key', 'decrypt', 'rewrap'],
  SECRET: [],
  CERTIFICATE: [],
  'RSA-1024': ['sign', 'verify', 'encrypt', 'decrypt'],
  'RSA-2048': ['sign', 'verify', 'encrypt', 'decrypt'],
  'RSA-3072': ['sign', 'verify', 'encrypt', 'decrypt'],
  'RSA-4096': ['sign', 'verify', 'encrypt', 'decrypt'],
  'EC-P256': ['sign', 'verify'],
  'EC-P384': ['sign', 'verify'],
  ED25519: ['sign', 'verify'],
};

const EXPECTED_SIGNATURES: Record<AsymmetricKeyType, readonly SignatureAlgorithm[]> = {
  'RSA-1024': ['RSA-PSS-SHA256', 'RSA-PSS-SHA384', 'RSA-PKCS1-SHA256', 'RSA-PKCS1-SHA384', 'RSA-PKCS1-SHA512'],
  'RSA-2048': ['RSA-PSS-SHA256', 'RSA-PSS-SHA384', 'RSA-PSS-SHA512', 'RSA-PKCS1-SHA256', 'RSA-PKCS1-SHA384', 'RSA-PKCS1-SHA512'],
  'RSA-3072': ['RSA-PSS-SHA256', 'RSA-PSS-SHA384', 'RSA-PSS-SHA512', 'RSA-PKCS1-SHA256', 'RSA-PKCS1-SHA384', 'RSA-PKCS1-SHA512'],
  'RSA-4096': ['RSA-PSS-SHA256', 'RSA-PSS-SHA384', 'RSA-PSS-SHA512', 'RSA-PKCS1-SHA256', 'RSA-PKCS1-SHA384', 'RSA-PKCS1-SHA512'],
  'EC-P256': ['ECDSA-SHA256'],
  'EC-P384': ['ECDSA-SHA384'],
  ED25519: ['ED25519'],
};

/** A tenant with one Active key of each type, rotated once (versions 1 and 2). */
function tenantWithEveryType(): TenantLog {
  const log = new TenantLog(TENANT);
  applyCommand(log, { kind: 'tenant.onboard', tenantId: TENANT, name: 'Asym' }, ctx(-60, PROVIDER));
  REST_KEY_TYPES.forEach((keyType, i) => {
    const keyId = keyIdOf(keyType);
    applyCommand(log, { kind: 'key.create', keyId, keyType, kcv: KCV(1), activate: true }, ctx(-50 + i));
    if (keyType !== 'SECRET') applyCommand(log, { kind: 'key.rotate', keyId, kcv: KCV(2) }, ctx(-40 + i));
  });
  return log;
}
const keyIdOf = (keyType: KeyType): string => `key_${keyType.replace(/[^A-Za-z0-9]/g, '').toLowerCase()}`;

describe('asymmetric key types: which type allows which operation', () => {
  it('allowedOperations is the expected table for every key type', () => {
    for (const keyType of Object.keys(KEY_TYPES) as KeyType[])
      expect([...allowedOperations(keyType)].sort()).toEqual([...EXPECTED_OPERATIONS[keyType]].sort());
  });

  const log = tenantWithEveryType();
  // KMIP-only types (HMAC-SHA1/224/384/512, TDES-168) are covered by key.kmip-only.spec.ts.
  const cells = REST_KEY_TYPES.flatMap((keyType) => OPERATIONS.map((op) => [keyType, op] as const));
  it.each(cells)('a %s key and %s: allowed exactly when the table says so, refused with wrong-usage otherwise', (keyType, op) => {
    const keyId = keyIdOf(keyType);
    const run = () => authorizeUse(log.tenant, TENANT, log.keys.get(keyId), keyId, op, NOW);
    if (EXPECTED_OPERATIONS[keyType].includes(op)) expect(run().version).toBe(2);
    else expect(refusal(run).code).toBe('wrong-usage');
  });
});

describe('asymmetric key types: signature algorithms', () => {
  const log = tenantWithEveryType();
  const cells = ASYMMETRIC.flatMap((keyType) => ALGORITHMS.map((algorithm) => [keyType, algorithm] as const));
  it.each(cells)('a %s key with %s', (keyType, algorithm) => {
    const admitted = EXPECTED_SIGNATURES[keyType].includes(algorithm);
    expect(admitsSignature(keyType, algorithm)).toBe(admitted);
    // A KMIP-only type (RSA-1024) has no REST key in the log: its row of the table is checked above.
    const key = log.keys.get(keyIdOf(keyType)) ?? { ...log.keys.get(keyIdOf('RSA-2048'))!, keyType };
    if (admitted) expect(() => requireSignatureAlgorithm(key, algorithm)).not.toThrow();
    else expect(refusal(() => requireSignatureAlgorithm(key, algorithm)).code).toBe('wrong-usage');
  });

  it('a symmetric key admits no signature algorithm', () => {
    const key = log.keys.get(keyIdOf('HMAC-SHA256'));
    if (key === undefined) throw new Error('no key');
    expect(refusal(() => requireSignatureAlgorithm(key, 'ECDSA-SHA256')).details).toMatchObject({ keyType: 'HMAC-SHA256' });
  });
});

describe('asymmetric keys: lifecycle and use like the others', () => {
  it('signing needs an Active key; verifying works on a Deactivated one (as decrypt), and names the version', () => {
    const log = tenantWithEveryType();
    const keyId = keyIdOf('EC-P256');
    const key = () => log.keys.get(keyId);
    expect(authorizeUse(log.tenant, TENANT, key(), keyId, 'sign', NOW).version).toBe(2);
    applyCommand(log, { kind: 'key.deactivate', keyId }, ctx(-1));
    expect(refusal(() => authorizeUse(log.tenant, TENANT, key(), keyId, 'sign', NOW)).code).toBe('key-unusable');
    expect(authorizeUse(log.tenant, TENANT, key(), keyId, 'verify', NOW, 1)).toMatchObject({ version: 1, kcv: KCV(1) });
    applyCommand(log, { kind: 'key.schedule-destruction', keyId, waitingPeriodDays: 1 }, ctx(-3));
    applyCommand(log, { kind: 'key.destroy', keyId }, ctx(0));
    expect(refusal(() => authorizeUse(log.tenant, TENANT, key(), keyId, 'verify', NOW, 1)).code).toBe('key-destroyed');
    expect(refusal(() => authorizeUse(log.tenant, TENANT, key(), keyId, 'sign', NOW)).code).toBe('key-destroyed');
  });

  it('a private key cannot be created exportable', () => {
    const log = tenantWithEveryType();
    for (const keyType of ASYMMETRIC) {
      const error = refusal(() =>
        applyCommand(log, { kind: 'key.create', keyId: 'key_exp00001', keyType, kcv: KCV(1), exportable: true }, ctx(0)),
      );
      expect(error.code).toBe('invalid');
      expect(error.details).toEqual({ keyType });
    }
  });

  it('a private key is imported as a PKCS#8 document of 48 to 8,192 bytes (the door checks its structure)', () => {
    for (const keyType of ASYMMETRIC) {
      expect(acceptsMaterialLength(keyType, 1200)).toBe(true);
      expect(acceptsMaterialLength(keyType, 48)).toBe(true);
      expect(acceptsMaterialLength(keyType, 47)).toBe(false);
      expect(acceptsMaterialLength(keyType, 8193)).toBe(false);
      expect(acceptsMaterialLength(keyType, 0)).toBe(false);
    }
  });

  it('the created event carries the public key digest as the version check value', () => {
    const log = tenantWithEveryType();
    expect(log.keys.get(keyIdOf('ED25519'))?.versions.map((v) => v.kcv)).toEqual([KCV(1), KCV(2)]);
  });
});

describe('public keys: who may read them, and what the JWKS publishes', () => {
  it('any live version of an asymmetric key, whatever its state short of destroyed', () => {
    const log = tenantWithEveryType();
    const keyId = keyIdOf('RSA-2048');
    const read = (version?: number) => authorizePublicKey(log.tenant, TENANT, log.keys.get(keyId), keyId, version);
    expect(read().version).toBe(2);
    expect(read(1).kcv).toBe(KCV(1));
    expect(refusal(() => read(3)).code).toBe('not-found');
    applyCommand(log, { kind: 'key.deactivate', keyId }, ctx(-2));
    expect(read(1).version).toBe(1);
    applyCommand(log, { kind: 'key.schedule-destruction', keyId, waitingPeriodDays: 1 }, ctx(-2));
    applyCommand(log, { kind: 'key.destroy', keyId }, ctx(0));
    expect(refusal(() => read()).code).toBe('key-destroyed');
  });

  it('a symmetric key has no public key; an unknown key is not found; a suspended tenant reads none', () => {
    const log = tenantWithEveryType();
    const aes = keyIdOf('AES-256-GCM');
    expect(refusal(() => authorizePublicKey(log.tenant, TENANT, log.keys.get(aes), aes)).code).toBe('wrong-usage');
    expect(refusal(() => authorizePublicKey(log.tenant, TENANT, undefined, 'key_none')).code).toBe('not-found');
    applyCommand(log, { kind: 'tenant.suspend', tenantId: TENANT }, ctx(0, PROVIDER));
    const ec = keyIdOf('EC-P256');
    expect(refusal(() => authorizePublicKey(log.tenant, TENANT, log.keys.get(ec), ec)).code).toBe('tenant-inactive');
  });

  it('the JWKS holds the live versions of Active asymmetric keys only', () => {
    const log = tenantWithEveryType();
    const ec = keyIdOf('EC-P256');
    applyCommand(log, { kind: 'key.set-min-decryption-version', keyId: ec, version: 2 }, ctx(-2));
    applyCommand(log, { kind: 'key.deactivate', keyId: keyIdOf('ED25519') }, ctx(-2));
    const published = publishedSigningKeys(log.keys.values()).map(({ key, version }) => `${key.keyType}:${version.version}`);
    expect(published.sort()).toEqual([
      'EC-P256:2',
      'EC-P384:1',
      'EC-P384:2',
      'RSA-2048:1',
      'RSA-2048:2',
      'RSA-3072:1',
      'RSA-3072:2',
      'RSA-4096:1',
      'RSA-4096:2',
    ]);
  });
});

describe('a public key registered alone (publicOnly)', () => {
  const register = (log: TenantLog, keyId: string, keyType: KeyType, extra: Record<string, unknown> = {}) =>
    applyCommand(
      log,
      {
        kind: 'key.create',
        keyId,
        keyType,
        kcv: KCV(1),
        origin: 'imported',
        materialBytes: 91,
        kmipOnly: true,
        publicOnly: true,
        activate: true,
        ...extra,
      },
      ctx(-5),
    );

  it('verifies (RSA: also encrypts) and never signs or decrypts; it is in no JWKS and does not rotate', () => {
    const log = tenantWithEveryType();
    register(log, 'key_pubec001', 'EC-P256');
    register(log, 'key_pubrsa01', 'RSA-2048', { materialBytes: 294 });
    const ec = log.keys.get('key_pubec001');
    const rsa = log.keys.get('key_pubrsa01');
    expect(ec).toMatchObject({ publicOnly: true, origin: 'imported', state: 'Active' });
    expect(authorizeUse(log.tenant, TENANT, ec, 'key_pubec001', 'verify', NOW, 1, 'kmip').version).toBe(1);
    expect(authorizeUse(log.tenant, TENANT, rsa, 'key_pubrsa01', 'encrypt', NOW, undefined, 'kmip').version).toBe(1);
    for (const [key, op] of [
      [ec, 'sign'],
      [rsa, 'sign'],
      [rsa, 'decrypt'],
    ] as const) {
      const refused = refusal(() => authorizeUse(log.tenant, TENANT, key, key?.keyId ?? '', op, NOW, 1, 'kmip'));
      expect(refused.code).toBe('wrong-usage');
      expect(refused.message).toContain('holds a public key only');
    }
    expect(keyOperations(rsa!)).toEqual(['verify', 'encrypt']);
    expect(authorizePublicKey(log.tenant, TENANT, ec, 'key_pubec001').version).toBe(1);
    const published = publishedSigningKeys(log.keys.values()).map(({ key }) => key.keyId);
    expect(published).not.toContain('key_pubec001');
    expect(published).not.toContain('key_pubrsa01');
    expect(refusal(() => applyCommand(log, { kind: 'key.rotate', keyId: 'key_pubec001', kcv: KCV(2) }, ctx(-1))).code).toBe('invalid');
  });

  it('is an imported asymmetric key of an SPKI length, or refused', () => {
    const log = tenantWithEveryType();
    expect(refusal(() => register(log, 'key_pubaes01', 'AES-256-GCM', { materialBytes: 32 })).code).toBe('invalid');
    expect(refusal(() => register(log, 'key_pubgen01', 'EC-P256', { origin: undefined })).code).toBe('invalid');
    expect(refusal(() => register(log, 'key_pubbig01', 'RSA-4096', { materialBytes: 4096 })).code).toBe('invalid');
    expect(acceptsMaterialLength('ED25519', 44, true)).toBe(true);
    expect(acceptsMaterialLength('ED25519', 44)).toBe(false); // a private key is longer
    expect(acceptsMaterialLength('EC-P256', 43, true)).toBe(false);
  });
});
