import type { KeywardEventBody } from '../keyset/keyset';
import { DEFAULT_TENANT_POLICY } from '../tenant/tenant';
import { commitEffects, effectsOf, EVENT_RULES, NO_EFFECTS, type EventEffects, type KeywardEventType } from './event-effects';

const KEY = 'key_effects01';
const PRN = 'prn_effects01';
const TNT = 'tnt_effects01';
const APR = 'apr_effects01';
const ADMIN = { principalId: 'prn_admin0001', role: 'tenant-admin' } as const;
const VERSION = { version: 1, kcv: 'a1b2c3' };

interface Row<T extends KeywardEventType> {
  readonly event: Extract<KeywardEventBody, { type: T }>;
  /** What differs from "no effect". */
  readonly effects: Partial<EventEffects>;
}

/**
 * Every event type of the domain with what it must mean, written out independently of the table:
 * the compiler refuses this object until a new event type has a row, so a new event without a
 * decided rule fails here.
 */
const EXPECTED: { readonly [T in KeywardEventType]: Row<T> } = {
  'tenant.onboarded.v1': { event: { type: 'tenant.onboarded.v1', data: { tenantId: TNT, name: 'acme' } }, effects: {} },
  'tenant.suspended.v1': {
    event: { type: 'tenant.suspended.v1', data: { tenantId: TNT, reason: 'unpaid' } },
    effects: { forgetTenant: true },
  },
  'tenant.resumed.v1': { event: { type: 'tenant.resumed.v1', data: { tenantId: TNT } }, effects: {} },
  'tenant.offboarded.v1': {
    event: { type: 'tenant.offboarded.v1', data: { tenantId: TNT } },
    effects: { forgetTenant: true, shred: [{ shred: 'tenant' }] },
  },
  'grant.created.v1': {
    event: {
      type: 'grant.created.v1',
      data: { grantId: 'grt_a0000001', principalId: 'prn_a0000001', operations: ['encrypt'], keys: { ids: [KEY] }, conditions: {} },
    },
    effects: {},
  },
  'grant.revoked.v1': { event: { type: 'grant.revoked.v1', data: { grantId: 'grt_a0000001', principalId: 'prn_a0000001' } }, effects: {} },
  'tenant.policy-set.v1': { event: { type: 'tenant.policy-set.v1', data: { tenantId: TNT, policy: DEFAULT_TENANT_POLICY } }, effects: {} },
  'key.created.v1': {
    event: {
      type: 'key.created.v1',
      data: { keyId: KEY, keyType: 'AES-256-GCM', description: '', labels: {}, exportable: false, version: VERSION },
    },
    effects: {},
  },
  'key.activated.v1': { event: { type: 'key.activated.v1', data: { keyId: KEY, reason: 'requested' } }, effects: {} },
  'key.deactivated.v1': {
    event: { type: 'key.deactivated.v1', data: { keyId: KEY, reason: 'requested' } },
    effects: { forgetKeys: [KEY] },
  },
  'key.compromised.v1': {
    event: { type: 'key.compromised.v1', data: { keyId: KEY, reason: 'leaked', compromiseDate: '2030-01-01T00:00:00.000Z' } },
    effects: { forgetKeys: [KEY] },
  },
  'key.rotated.v1': { event: { type: 'key.rotated.v1', data: { keyId: KEY, version: { version: 2, kcv: 'd4e5f6' } } }, effects: {} },
  'key.destruction-scheduled.v1': {
    event: { type: 'key.destruction-scheduled.v1', data: { keyId: KEY, waitingPeriodDays: 7, destroyAfter: '2030-01-08T00:00:00.000Z' } },
    effects: { forgetKeys: [KEY] },
  },
  'key.destruction-cancelled.v1': { event: { type: 'key.destruction-cancelled.v1', data: { keyId: KEY } }, effects: {} },
  'key.destroyed.v1': {
    event: { type: 'key.destroyed.v1', data: { keyId: KEY, versions: [1, 2] } },
    effects: { forgetKeys: [KEY], shred: [{ shred: 'versions', keyId: KEY, versions: [1, 2] }] },
  },
  'key.alias-set.v1': { event: { type: 'key.alias-set.v1', data: { keyId: KEY, alias: 'payments' } }, effects: {} },
  'key.labels-changed.v1': { event: { type: 'key.labels-changed.v1', data: { keyId: KEY, set: { team: 'a' }, removed: [] } }, effects: {} },
  'key.description-set.v1': { event: { type: 'key.description-set.v1', data: { keyId: KEY, description: 'x' } }, effects: {} },
  'key.min-decryption-version-set.v1': {
    event: { type: 'key.min-decryption-version-set.v1', data: { keyId: KEY, version: 2 } },
    effects: {},
  },
  'key.export-enabled.v1': { event: { type: 'key.export-enabled.v1', data: { keyId: KEY } }, effects: {} },
  'key.owner-assigned.v1': {
    event: { type: 'key.owner-assigned.v1', data: { keyId: KEY, owner: PRN } },
    effects: { forgetKeys: [KEY] },
  },
  'key.attributes-changed.v1': {
    event: { type: 'key.attributes-changed.v1', data: { keyId: KEY, set: { 'Object Group': ['g'] }, removed: [] } },
    effects: {},
  },
  'principal.created.v1': {
    event: { type: 'principal.created.v1', data: { principalId: PRN, name: 'app', role: 'key-user' } },
    effects: {},
  },
  'principal.revoked.v1': {
    event: { type: 'principal.revoked.v1', data: { principalId: PRN } },
    effects: { forgetPrincipals: [PRN], disablePrincipals: [PRN] },
  },
  'principal.enrollment-issued.v1': {
    event: { type: 'principal.enrollment-issued.v1', data: { principalId: PRN, tokenHash: 'h', expiresAt: '2030-01-02T00:00:00.000Z' } },
    effects: {},
  },
  'principal.enrolled.v1': {
    event: { type: 'principal.enrolled.v1', data: { principalId: PRN, from: { address: '127.0.0.1' } } },
    effects: {},
  },
  'principal.certificate-bound.v1': {
    event: { type: 'principal.certificate-bound.v1', data: { principalId: PRN, subject: 'CN=app' } },
    effects: {},
  },
  'principal.certificate-unbound.v1': { event: { type: 'principal.certificate-unbound.v1', data: { principalId: PRN } }, effects: {} },
  'approval.requested.v1': {
    event: {
      type: 'approval.requested.v1',
      data: {
        approvalId: APR,
        operation: 'principal.manage-admin',
        command: { kind: 'principal.revoke', principalId: PRN },
        quorum: 2,
        expiresAt: '2030-01-02T00:00:00.000Z',
      },
    },
    // A request changes nothing yet: the revocation it asks for is its own event, once executed.
    effects: {},
  },
  'approval.granted.v1': { event: { type: 'approval.granted.v1', data: { approvalId: APR } }, effects: {} },
  'approval.executed.v1': {
    event: { type: 'approval.executed.v1', data: { approvalId: APR, requestedBy: ADMIN, approvedBy: [ADMIN] } },
    effects: {},
  },
  'approval.failed.v1': { event: { type: 'approval.failed.v1', data: { approvalId: APR, reason: 'key changed' } }, effects: {} },
  'approval.rejected.v1': { event: { type: 'approval.rejected.v1', data: { approvalId: APR, reason: 'no' } }, effects: {} },
};

const rows = Object.entries(EXPECTED) as [KeywardEventType, Row<KeywardEventType>][];

describe('effectsOf: what each event means for caches, keystore and credentials', () => {
  it('the table has a rule for every event type of the domain, and for nothing else', () => {
    expect(Object.keys(EVENT_RULES).sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  it.each(rows)('%s', (type, { event, effects }) => {
    expect(event.type).toBe(type);
    expect(effectsOf(event)).toEqual({ ...NO_EFFECTS, ...effects });
  });

  it('forgets the unwrapped material of a key scheduled for destruction, as of one deactivated, compromised or destroyed', () => {
    // The writer's shredder and KMIP used to skip the scheduled destruction (only the stream listener knew it).
    for (const type of ['key.deactivated.v1', 'key.compromised.v1', 'key.destruction-scheduled.v1', 'key.destroyed.v1'] as const) {
      expect(effectsOf(EXPECTED[type].event).forgetKeys).toEqual([KEY]);
    }
  });

  it('shreds only on destruction and offboarding: suspension forgets the tenant but keeps its keys', () => {
    const shredding = rows.filter(([, { event }]) => effectsOf(event).shred.length > 0).map(([type]) => type);
    expect(shredding.sort()).toEqual(['key.destroyed.v1', 'tenant.offboarded.v1']);
    expect(effectsOf(EXPECTED['tenant.suspended.v1'].event)).toEqual({ ...NO_EFFECTS, forgetTenant: true });
  });

  it('disables credentials only on revocation', () => {
    const disabling = rows.filter(([, { event }]) => effectsOf(event).disablePrincipals.length > 0).map(([type]) => type);
    expect(disabling).toEqual(['principal.revoked.v1']);
  });

  it('an unknown event type (a forged stream message) means nothing, whatever its name', () => {
    for (const type of ['key.vanished.v1', 'constructor', 'toString', '__proto__']) {
      expect(effectsOf({ type, data: { keyId: KEY } } as unknown as KeywardEventBody)).toEqual(NO_EFFECTS);
    }
  });
});

describe('commitEffects', () => {
  it('gathers the effects of a commit in event order', () => {
    const effects = commitEffects([
      EXPECTED['key.deactivated.v1'].event,
      { type: 'key.destroyed.v1', data: { keyId: 'key_effects02', versions: [3] } },
      EXPECTED['principal.revoked.v1'].event,
      EXPECTED['tenant.offboarded.v1'].event,
    ]);
    expect(effects).toEqual({
      forgetKeys: [KEY, 'key_effects02'],
      forgetTenant: true,
      forgetPrincipals: [PRN],
      shred: [{ shred: 'versions', keyId: 'key_effects02', versions: [3] }, { shred: 'tenant' }],
      disablePrincipals: [PRN],
    });
  });

  it('a commit of events without consequences means nothing', () => {
    expect(commitEffects([])).toEqual(NO_EFFECTS);
    expect(commitEffects([EXPECTED['key.created.v1'].event, EXPECTED['key.activated.v1'].event])).toEqual(NO_EFFECTS);
  });
});
