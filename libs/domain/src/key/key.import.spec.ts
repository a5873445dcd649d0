import { applyCommand, NOW, refusal } from '../testing/spec-helpers';
import { TenantLog, type KeywardCommand } from '../keyset/keyset';
import type { Actor } from '../shared/actor';
import type { DecisionContext } from '../shared/decision-context';
import type { CreateKey } from './key.commands';
import { acceptsMaterialLength, KEY_TYPES, type KeyType } from './key.types';
import { authorizeExport, authorizeUse, CRYPTO_OPERATIONS, type CryptoOperation } from './key.use';

const TENANT = 'tnt_import001';
const KEY = 'key_import0001';
const ADMIN: Actor = { principalId: 'prn_admin0001', role: 'tenant-admin' };
const ctx: DecisionContext = { now: NOW, actor: ADMIN, correlationId: 'corr-import' };

function tenantLog(): TenantLog {
  const log = new TenantLog(TENANT);
  applyCommand(log, { kind: 'tenant.onboard', tenantId: TENANT, name: 'Importer' }, ctx);
  return log;
}
const create = (keyType: KeyType, extra: Partial<CreateKey> = {}): CreateKey => ({
  kind: 'key.create',
  keyId: KEY,
  keyType,
  kcv: 'kcv1',
  ...extra,
});
const run = (log: TenantLog, command: KeywardCommand) => applyCommand(log, command, ctx);

describe('key types: AES-128/192/256-GCM, HMAC-SHA256 and SECRET', () => {
  it('gives each type its material length and usage', () => {
    expect(KEY_TYPES['AES-128-GCM']).toEqual({ usage: 'encrypt', materialBytes: 16 });
    expect(KEY_TYPES['AES-192-GCM']).toEqual({ usage: 'encrypt', materialBytes: 24 });
    expect(KEY_TYPES['AES-256-GCM']).toEqual({ usage: 'encrypt', materialBytes: 32 });
    expect(KEY_TYPES.SECRET.usage).toBe('secret');
  });

  it.each(['AES-128-GCM', 'AES-192-GCM'] as const)('%s keys encrypt and decrypt, and refuse MACs', (keyType) => {
    const log = tenantLog();
    run(log, create(keyType, { activate: true }));
    const key = log.keys.get(KEY);
    expect(key?.keyType).toBe(keyType);
    expect(authorizeUse(log.tenant, TENANT, key, KEY, 'encrypt', NOW).version).toBe(1);
    expect(authorizeUse(log.tenant, TENANT, key, KEY, 'decrypt', NOW).version).toBe(1);
    expect(refusal(() => authorizeUse(log.tenant, TENANT, key, KEY, 'mac', NOW)).code).toBe('wrong-usage');
    expect(run(log, { kind: 'key.rotate', keyId: KEY, kcv: 'kcv2' }).map((e) => e.type)).toEqual(['key.rotated.v1']);
  });

  it('SECRET keys admit no crypto operation, and are retrieved only under the export rules', () => {
    const log = tenantLog();
    run(log, create('SECRET', { activate: true, exportable: true, origin: 'imported', materialBytes: 12 }));
    const key = log.keys.get(KEY);
    for (const operation of Object.keys(CRYPTO_OPERATIONS) as CryptoOperation[]) {
      expect(refusal(() => authorizeUse(log.tenant, TENANT, key, KEY, operation, NOW)).code).toBe('wrong-usage');
    }
    expect(refusal(() => authorizeExport(log.tenant, TENANT, key, KEY)).message).toMatch(/has not been enabled/);
    run(log, { kind: 'key.enable-export', keyId: KEY });
    expect(authorizeExport(log.tenant, TENANT, log.keys.get(KEY), KEY).kcv).toBe('kcv1');
  });

  it('a SECRET not created exportable can never be retrieved', () => {
    const log = tenantLog();
    run(log, create('SECRET', { activate: true, origin: 'imported', materialBytes: 8 }));
    expect(refusal(() => run(log, { kind: 'key.enable-export', keyId: KEY })).code).toBe('invalid');
    expect(refusal(() => authorizeExport(log.tenant, TENANT, log.keys.get(KEY), KEY)).code).toBe('key-unusable');
  });
});

describe('key.create with imported material (KMIP Register)', () => {
  it('records the origin in the event and the state; generated keys carry no origin', () => {
    const log = tenantLog();
    const [created] = run(log, create('AES-128-GCM', { origin: 'imported', materialBytes: 16 }));
    expect(created).toMatchObject({
      type: 'key.created.v1',
      data: { keyType: 'AES-128-GCM', origin: 'imported', version: { kcv: 'kcv1' } },
    });
    expect(log.keys.get(KEY)?.origin).toBe('imported');

    const other = tenantLog();
    const [generated] = run(other, create('AES-128-GCM', { origin: 'generated' }));
    expect(generated?.data).not.toHaveProperty('origin');
    expect(other.keys.get(KEY)).not.toHaveProperty('origin');
  });

  it.each([
    ['AES-128-GCM', 16, true],
    ['AES-128-GCM', 32, false],
    ['AES-192-GCM', 24, true],
    ['AES-192-GCM', 16, false],
    ['AES-256-GCM', 32, true],
    ['AES-256-GCM', 31, false],
    ['HMAC-SHA256', 32, true],
    ['HMAC-SHA256', 64, false],
    ['SECRET', 1, true],
    ['SECRET', 190, true],
    ['SECRET', 0, false],
    ['SECRET', 191, false],
  ] as const)('imports %s material of %i bytes: %s', (keyType, bytes, accepted) => {
    expect(acceptsMaterialLength(keyType, bytes)).toBe(accepted);
    const log = tenantLog();
    const command = create(keyType, { origin: 'imported', materialBytes: bytes });
    if (accepted) expect(run(log, command).map((e) => e.type)).toEqual(['key.created.v1']);
    else expect(refusal(() => run(log, command)).code).toBe('invalid');
  });

  it('refuses an import that does not say how long the material is', () => {
    expect(refusal(() => run(tenantLog(), create('AES-256-GCM', { origin: 'imported' }))).message).toMatch(/does not fit/);
    expect(acceptsMaterialLength('SECRET', 1.5)).toBe(false);
  });

  it('imported material may come with its past: both dates passed make a key created deactivated (generated keys: refused)', () => {
    const day = (n: number): Date => new Date(NOW.getTime() + n * 86_400_000);
    const log = tenantLog();
    const dates = { activationDate: day(-10), deactivationDate: day(-9) };
    const events = run(log, create('AES-256-GCM', { origin: 'imported', materialBytes: 32, ...dates }));
    expect(events.map((e) => e.type)).toEqual(['key.created.v1', 'key.activated.v1', 'key.deactivated.v1']);
    expect(log.keys.get(KEY)).toMatchObject({ state: 'Deactivated', deactivationDate: NOW.toISOString() }); // when Keyward deactivated it
    expect(authorizeUse(log.tenant, TENANT, log.keys.get(KEY), KEY, 'decrypt', NOW, 1).version).toBe(1);
    expect(refusal(() => authorizeUse(log.tenant, TENANT, log.keys.get(KEY), KEY, 'encrypt', NOW)).code).toBe('key-unusable');
    // Without an activation date it goes from PreActive to Deactivated: it never protected anything here.
    const other = tenantLog();
    const never = run(other, create('AES-256-GCM', { origin: 'imported', materialBytes: 32, deactivationDate: day(-1) }));
    expect(never.map((e) => e.type)).toEqual(['key.created.v1', 'key.deactivated.v1']);
    expect(refusal(() => run(tenantLog(), create('AES-256-GCM', dates))).message).toContain('deactivationDate must be in the future');
  });

  it('an imported key is not rotated (the caller imports a new key instead)', () => {
    const log = tenantLog();
    run(log, create('AES-256-GCM', { origin: 'imported', materialBytes: 32, activate: true }));
    expect(refusal(() => run(log, { kind: 'key.rotate', keyId: KEY, kcv: 'kcv2' })).code).toBe('invalid');
  });
});
