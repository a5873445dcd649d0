import { NOW, applyCommand, day, refusal } from '../testing/spec-helpers';
import { TenantLog, type KeywardCommand } from '../keyset/keyset';
import type { Actor } from '../shared/actor';
import type { DecisionContext } from '../shared/decision-context';
import type { DomainErrorCode } from '../shared/domain-error';
import { DEFAULT_TENANT_POLICY, type TenantStatus } from '../tenant/tenant';
import { authorizeExport, authorizeUse, CRYPTO_OPERATIONS, type CryptoOperation } from './key.use';
import type { KeyLifecycleState, KeyType } from './key.types';

const TENANT = 'tnt_acme0001';
const PROVIDER: Actor = { principalId: 'prn_provider01', role: 'provider-admin' };
const ADMIN: Actor = { principalId: 'prn_admin0001', role: 'tenant-admin' };
const ctx = (offset: number, actor: Actor = ADMIN): DecisionContext => ({ now: day(offset), actor, correlationId: `c${offset}` });

const ENC = 'key_enc00001';
const MAC = 'key_mac00001';
const SIG = 'key_sig00001';

/** A tenant with one encryption, one MAC and one signing (EC-P256) key, both brought to `state` (rotated once while Active). */
function tenantWith(state: KeyLifecycleState, tenantStatus: TenantStatus = 'Active', allowCompromised = false): TenantLog {
  const log = new TenantLog(TENANT);
  applyCommand(log, { kind: 'tenant.onboard', tenantId: TENANT, name: 'Acme' }, ctx(-60, PROVIDER));
  if (allowCompromised)
    applyCommand(log, { kind: 'tenant.set-policy', tenantId: TENANT, policy: { allowCompromisedDecrypt: true } }, ctx(-59));
  for (const [keyId, keyType] of [
    [ENC, 'AES-256-GCM'],
    [MAC, 'HMAC-SHA256'],
    [SIG, 'EC-P256'],
  ] as [string, KeyType][]) {
    const steps: KeywardCommand[] = [{ kind: 'key.create', keyId, keyType, kcv: 'kcv1' }];
    if (state !== 'PreActive') steps.push({ kind: 'key.activate', keyId }, { kind: 'key.rotate', keyId, kcv: 'kcv2' });
    if (state === 'Deactivated' || state === 'Destroyed') steps.push({ kind: 'key.deactivate', keyId });
    if (state === 'Compromised' || state === 'DestroyedCompromised') steps.push({ kind: 'key.compromise', keyId, reason: 'leak' });
    if (state === 'Destroyed' || state === 'DestroyedCompromised') {
      steps.push({ kind: 'key.schedule-destruction', keyId, waitingPeriodDays: 1 });
    }
    steps.forEach((command, i) => applyCommand(log, command, ctx(-50 + i)));
    if (state === 'Destroyed' || state === 'DestroyedCompromised') applyCommand(log, { kind: 'key.destroy', keyId }, ctx(-1));
    expect(log.keys.get(keyId)?.state).toBe(state);
  }
  if (tenantStatus !== 'Active') applyCommand(log, { kind: 'tenant.suspend', tenantId: TENANT }, ctx(-1, PROVIDER));
  if (tenantStatus === 'Offboarded') applyCommand(log, { kind: 'tenant.offboard', tenantId: TENANT }, ctx(-1, PROVIDER));
  return log;
}

const use = (log: TenantLog, keyId: string, op: CryptoOperation, version?: number) =>
  authorizeUse(log.tenant, TENANT, log.keys.get(keyId), keyId, op, NOW, version);

const OPERATIONS = Object.keys(CRYPTO_OPERATIONS) as CryptoOperation[];
const KEY_OF_USAGE = { encrypt: ENC, mac: MAC, sign: SIG } as const;
const keyFor = (op: CryptoOperation): string => KEY_OF_USAGE[CRYPTO_OPERATIONS[op].usage];

/** The whole matrix: what each operation gets from a key in each state (default tenant policy). */
const EXPECTED: Record<KeyLifecycleState, Record<'protect' | 'unprotect', number | DomainErrorCode>> = {
  PreActive: { protect: 'key-unusable', unprotect: 'key-unusable' },
  Active: { protect: 2, unprotect: 2 },
  Deactivated: { protect: 'key-unusable', unprotect: 2 },
  Compromised: { protect: 'key-unusable', unprotect: 'key-unusable' },
  Destroyed: { protect: 'key-destroyed', unprotect: 'key-destroyed' },
  DestroyedCompromised: { protect: 'key-destroyed', unprotect: 'key-destroyed' },
};

describe('authorizeUse: every key state × every crypto operation', () => {
  const cells = (Object.keys(EXPECTED) as KeyLifecycleState[]).flatMap((state) => OPERATIONS.map((op) => [state, op] as const));
  it.each(cells)('%s key, %s', (state, op) => {
    const log = tenantWith(state);
    const expected = EXPECTED[state][CRYPTO_OPERATIONS[op].direction];
    if (typeof expected === 'number') expect(use(log, keyFor(op), op).version).toBe(expected);
    else expect(refusal(() => use(log, keyFor(op), op)).code).toBe(expected);
  });
});

describe('authorizeUse: tenant status', () => {
  it.each(['Suspended', 'Offboarded'] as const)('a %s tenant refuses every operation with tenant-inactive', (status) => {
    const log = tenantWith('Active', status);
    for (const op of OPERATIONS) {
      const error = refusal(() => use(log, keyFor(op), op));
      expect(error.code).toBe('tenant-inactive');
      expect(error.details).toMatchObject({ status });
    }
  });

  it('an unknown tenant or key is not-found', () => {
    const log = tenantWith('Active');
    expect(refusal(() => authorizeUse(undefined, TENANT, undefined, ENC, 'encrypt', NOW)).code).toBe('not-found');
    expect(refusal(() => use(log, 'key_missing0001', 'encrypt')).code).toBe('not-found');
  });
});

describe('authorizeUse: key usage', () => {
  it.each(OPERATIONS)('%s refuses a key of the other usage with wrong-usage', (op) => {
    const log = tenantWith('Active');
    for (const other of [ENC, MAC, SIG].filter((k) => k !== keyFor(op)))
      expect(refusal(() => use(log, other, op)).code).toBe('wrong-usage');
  });
});

describe('authorizeUse: versions', () => {
  it('protect always uses the latest version; unprotect uses the one asked for', () => {
    const log = tenantWith('Active');
    expect(use(log, ENC, 'encrypt').version).toBe(2);
    expect(use(log, ENC, 'decrypt', 1).version).toBe(1);
    expect(use(log, ENC, 'decrypt', 2).kcv).toBe('kcv2');
  });

  it('a version that never existed is not-found', () => {
    expect(refusal(() => use(tenantWith('Active'), ENC, 'decrypt', 3)).code).toBe('not-found');
  });

  it('versions below minDecryptionVersion are retired for unprotect, not for protect', () => {
    const log = tenantWith('Active');
    applyCommand(log, { kind: 'key.set-min-decryption-version', keyId: ENC, version: 2 }, ctx(-1));
    const error = refusal(() => use(log, ENC, 'decrypt', 1));
    expect(error.code).toBe('version-retired');
    expect(error.details).toMatchObject({ version: 1, minDecryptionVersion: 2 });
    expect(use(log, ENC, 'decrypt', 2).version).toBe(2);
    expect(use(log, ENC, 'rewrap', 2).version).toBe(2);
    expect(use(log, ENC, 'encrypt').version).toBe(2);
  });
});

describe('authorizeUse: compromised keys and the tenant policy', () => {
  it('the policy lets a Compromised key decrypt and verify, never encrypt or mac', () => {
    const log = tenantWith('Compromised', 'Active', true);
    for (const op of OPERATIONS) {
      if (CRYPTO_OPERATIONS[op].direction === 'unprotect') expect(use(log, keyFor(op), op, 1).version).toBe(1);
      else expect(refusal(() => use(log, keyFor(op), op)).code).toBe('key-unusable');
    }
  });

  it('the policy does not bring back a destroyed compromised key', () => {
    const log = tenantWith('DestroyedCompromised', 'Active', true);
    expect(refusal(() => use(log, ENC, 'decrypt', 1)).code).toBe('key-destroyed');
  });
});

describe('authorizeUse: cryptoperiod', () => {
  it('an Active key past its deactivation date protects nothing, even before the scheduler deactivates it', () => {
    const log = new TenantLog(TENANT);
    applyCommand(log, { kind: 'tenant.onboard', tenantId: TENANT, name: 'Acme' }, ctx(-60, PROVIDER));
    applyCommand(
      log,
      { kind: 'key.create', keyId: ENC, keyType: 'AES-256-GCM', kcv: 'k', activate: true, deactivationDate: day(-1) },
      ctx(-10),
    );
    expect(refusal(() => use(log, ENC, 'encrypt')).code).toBe('key-unusable');
    expect(use(log, ENC, 'decrypt', 1).version).toBe(1);
  });
});

describe('tenant.set-policy', () => {
  it('records a change, ignores a no-op, and refuses for a tenant that is not Active', () => {
    const log = tenantWith('Active');
    const events = applyCommand(log, { kind: 'tenant.set-policy', tenantId: TENANT, policy: { allowCompromisedDecrypt: true } }, ctx(0));
    expect(events.map((e) => e.type)).toEqual(['tenant.policy-set.v1']);
    expect(log.tenant?.policy).toEqual({ ...DEFAULT_TENANT_POLICY, grants: 'required', allowCompromisedDecrypt: true });
    expect(applyCommand(log, { kind: 'tenant.set-policy', tenantId: TENANT, policy: { allowCompromisedDecrypt: true } }, ctx(0))).toEqual(
      [],
    );
    const suspended = tenantWith('Active', 'Suspended');
    const error = refusal(() =>
      applyCommand(suspended, { kind: 'tenant.set-policy', tenantId: TENANT, policy: { allowCompromisedDecrypt: true } }, ctx(0)),
    );
    expect(error.code).toBe('tenant-inactive');
  });
});

describe('key.enable-export and authorizeExport', () => {
  /** A tenant with one exportable key brought to `state`. */
  function exportableIn(state: KeyLifecycleState): TenantLog {
    const log = new TenantLog(TENANT);
    applyCommand(log, { kind: 'tenant.onboard', tenantId: TENANT, name: 'Acme' }, ctx(-60, PROVIDER));
    const steps: KeywardCommand[] = [{ kind: 'key.create', keyId: ENC, keyType: 'AES-256-GCM', kcv: 'kcv1', exportable: true }];
    if (state !== 'PreActive') steps.push({ kind: 'key.activate', keyId: ENC });
    if (state === 'Deactivated' || state === 'Destroyed') steps.push({ kind: 'key.deactivate', keyId: ENC });
    if (state === 'Compromised' || state === 'DestroyedCompromised') steps.push({ kind: 'key.compromise', keyId: ENC, reason: 'leak' });
    if (isDestroyedState(state)) steps.push({ kind: 'key.schedule-destruction', keyId: ENC, waitingPeriodDays: 1 });
    steps.forEach((command, i) => applyCommand(log, command, ctx(-50 + i)));
    if (isDestroyedState(state)) applyCommand(log, { kind: 'key.destroy', keyId: ENC }, ctx(-1));
    return log;
  }
  const isDestroyedState = (s: KeyLifecycleState) => s === 'Destroyed' || s === 'DestroyedCompromised';
  const enable: KeywardCommand = { kind: 'key.enable-export', keyId: ENC };

  it.each([
    ['PreActive', null],
    ['Active', null],
    ['Deactivated', null],
    ['Compromised', 'illegal-transition'],
    ['Destroyed', 'illegal-transition'],
    ['DestroyedCompromised', 'illegal-transition'],
  ] as const)('enabling export of a %s exportable key: %s', (state, refused) => {
    const log = exportableIn(state);
    if (refused) {
      expect(refusal(() => applyCommand(log, enable, ctx(0))).code).toBe(refused);
      return;
    }
    expect(applyCommand(log, enable, ctx(0)).map((e) => e.type)).toEqual(['key.export-enabled.v1']);
    expect(log.keys.get(ENC)?.exportEnabled).toBe(true);
    expect(applyCommand(log, enable, ctx(0))).toEqual([]);
  });

  it('a key not created exportable can never be exported', () => {
    const log = tenantWith('Active');
    expect(refusal(() => applyCommand(log, enable, ctx(0))).code).toBe('invalid');
    expect(refusal(() => authorizeExport(log.tenant, TENANT, log.keys.get(ENC), ENC)).code).toBe('key-unusable');
  });

  it('export needs it enabled, and an Active or Deactivated key', () => {
    const log = exportableIn('Active');
    expect(refusal(() => authorizeExport(log.tenant, TENANT, log.keys.get(ENC), ENC)).message).toMatch(/has not been enabled/);
    applyCommand(log, enable, ctx(0));
    expect(authorizeExport(log.tenant, TENANT, log.keys.get(ENC), ENC).version).toBe(1);
    applyCommand(log, { kind: 'key.compromise', keyId: ENC, reason: 'leak' }, ctx(0));
    expect(refusal(() => authorizeExport(log.tenant, TENANT, log.keys.get(ENC), ENC)).code).toBe('key-unusable');
    expect(refusal(() => authorizeExport(log.tenant, TENANT, undefined, 'key_nope00001')).code).toBe('not-found');
  });
});
