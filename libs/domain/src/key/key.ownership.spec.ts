import { applyCommand, day, iso, NOW, refusal } from '../testing/spec-helpers';
import { TenantLog, type KeywardCommand } from '../keyset/keyset';
import type { Actor } from '../shared/actor';
import type { DecisionContext } from '../shared/decision-context';
import { ATTRIBUTE_LIMITS } from './key.attributes';
import { mayActOnKey } from './key.ownership';
import { authorizeExport, authorizeUse } from './key.use';

const TENANT = 'tnt_owner0001';
const ADMIN: Actor = { principalId: 'prn_admin0001', role: 'tenant-admin' };
const APPLIANCE: Actor = { principalId: 'prn_array0001', role: 'kmip-client' };
const OTHER: Actor = { principalId: 'prn_tape00001', role: 'kmip-client' };
const USER: Actor = { principalId: 'prn_user00001', role: 'key-user' };
const as = (actor: Actor, now = NOW): DecisionContext => ({ now, actor, correlationId: 'corr-owner' });

function tenantLog(kmipDestroy?: 'pending' | 'immediate-for-owner'): TenantLog {
  const log = new TenantLog(TENANT);
  applyCommand(
    log,
    { kind: 'tenant.onboard', tenantId: TENANT, name: 'Storage', firstAdmin: { principalId: ADMIN.principalId, name: 'admin' } },
    as(ADMIN),
  );
  for (const p of [APPLIANCE, OTHER, USER]) {
    applyCommand(log, { kind: 'principal.create', principalId: p.principalId, name: p.principalId, role: p.role }, as(ADMIN));
  }
  if (kmipDestroy) applyCommand(log, { kind: 'tenant.set-policy', tenantId: TENANT, policy: { kmipDestroy } }, as(ADMIN));
  return log;
}
const run = (log: TenantLog, actor: Actor, command: KeywardCommand, now = NOW) => applyCommand(log, command, as(actor, now));
const create = (log: TenantLog, actor: Actor, keyId: string, extra: Record<string, unknown> = {}) =>
  run(log, actor, { kind: 'key.create', keyId, keyType: 'AES-256-GCM', kcv: 'kcv1', ...extra });

describe('key ownership (kmip-client appliance identities)', () => {
  it('a key a kmip-client creates records it as owner, in the event, and survives replay', () => {
    const log = tenantLog();
    const [created] = create(log, APPLIANCE, 'key_a');
    expect(created?.data).toMatchObject({ owner: APPLIANCE.principalId });
    expect(log.keys.get('key_a')?.owner).toBe(APPLIANCE.principalId);
    create(log, ADMIN, 'key_admin');
    expect(log.keys.get('key_admin')?.owner).toBeUndefined();
  });

  it('the owner runs the lifecycle on its key; for another kmip-client it does not exist (not-found), other roles are not bound', () => {
    const log = tenantLog();
    create(log, APPLIANCE, 'key_a');
    expect(refusal(() => run(log, OTHER, { kind: 'key.activate', keyId: 'key_a' }))).toMatchObject({
      code: 'not-found',
      message: 'key key_a not found',
    });
    // The same answer as for a key that does not exist at all.
    expect(refusal(() => run(log, OTHER, { kind: 'key.activate', keyId: 'key_none' }))).toMatchObject({
      code: 'not-found',
      message: 'key key_none not found',
    });
    expect(run(log, APPLIANCE, { kind: 'key.activate', keyId: 'key_a' }).map((e) => e.type)).toEqual(['key.activated.v1']);
    const key = log.keys.get('key_a')!;
    expect(mayActOnKey(APPLIANCE, key)).toBe(true);
    expect(mayActOnKey(OTHER, key)).toBe(false);
    expect(mayActOnKey(USER, key)).toBe(true);
    expect(mayActOnKey(ADMIN, key)).toBe(true);
  });

  it('a kmip-client may not send administrative commands, even on its own key', () => {
    const log = tenantLog();
    create(log, APPLIANCE, 'key_a', { activate: true });
    for (const command of [
      { kind: 'key.rotate', keyId: 'key_a', kcv: 'k2' },
      { kind: 'key.schedule-destruction', keyId: 'key_a' },
      { kind: 'key.enable-export', keyId: 'key_a' },
      { kind: 'key.assign-owner', keyId: 'key_a', owner: OTHER.principalId },
      { kind: 'key.destroy', keyId: 'key_a' },
    ] as const) {
      expect(refusal(() => run(log, APPLIANCE, command)).code).toBe('forbidden');
    }
  });

  it('an administrator assigns a key to a kmip-client (only to an active kmip-client), and takes it back', () => {
    const log = tenantLog();
    create(log, ADMIN, 'key_b');
    expect(refusal(() => run(log, APPLIANCE, { kind: 'key.activate', keyId: 'key_b' })).code).toBe('not-found');
    expect(refusal(() => run(log, ADMIN, { kind: 'key.assign-owner', keyId: 'key_b', owner: USER.principalId })).code).toBe('invalid');
    expect(refusal(() => run(log, ADMIN, { kind: 'key.assign-owner', keyId: 'key_b', owner: 'prn_nobody' })).code).toBe('invalid');
    expect(run(log, ADMIN, { kind: 'key.assign-owner', keyId: 'key_b', owner: APPLIANCE.principalId })[0]?.type).toBe(
      'key.owner-assigned.v1',
    );
    expect(run(log, APPLIANCE, { kind: 'key.activate', keyId: 'key_b' }).map((e) => e.type)).toEqual(['key.activated.v1']);
    expect(run(log, ADMIN, { kind: 'key.assign-owner', keyId: 'key_b', owner: APPLIANCE.principalId })).toEqual([]);
    run(log, ADMIN, { kind: 'key.assign-owner', keyId: 'key_b', owner: null });
    expect(log.keys.get('key_b')?.owner).toBeUndefined();
    expect(refusal(() => run(log, APPLIANCE, { kind: 'key.deactivate', keyId: 'key_b' })).code).toBe('not-found');
  });

  it('a kmip-client fetches its own exportable key before activating it and once compromised; an assigned or non-exportable key needs more', () => {
    const log = tenantLog();
    create(log, APPLIANCE, 'key_own', { exportable: true });
    expect(authorizeExport(log.tenant, TENANT, log.keys.get('key_own'), 'key_own', APPLIANCE).version).toBe(1);
    expect(refusal(() => authorizeExport(log.tenant, TENANT, log.keys.get('key_own'), 'key_own', USER)).message).toMatch(
      /has not been enabled/,
    );
    run(log, APPLIANCE, { kind: 'key.activate', keyId: 'key_own' });
    run(log, APPLIANCE, { kind: 'key.compromise', keyId: 'key_own', reason: 'drive stolen' });
    expect(authorizeExport(log.tenant, TENANT, log.keys.get('key_own'), 'key_own', APPLIANCE).version).toBe(1);
    create(log, APPLIANCE, 'key_sealed');
    expect(refusal(() => authorizeExport(log.tenant, TENANT, log.keys.get('key_sealed'), 'key_sealed', APPLIANCE)).message).toMatch(
      /not exportable/,
    );
    create(log, ADMIN, 'key_given', { exportable: true });
    run(log, ADMIN, { kind: 'key.assign-owner', keyId: 'key_given', owner: APPLIANCE.principalId });
    run(log, ADMIN, { kind: 'key.enable-export', keyId: 'key_given' });
    expect(refusal(() => authorizeExport(log.tenant, TENANT, log.keys.get('key_given'), 'key_given', APPLIANCE)).message).toMatch(
      /is PreActive/,
    );
  });

  it('assigning an owner is a sensitive operation (dual control once the tenant has two admins)', () => {
    const log = tenantLog();
    run(log, ADMIN, { kind: 'principal.create', principalId: 'prn_admin0002', name: 'admin2', role: 'tenant-admin' });
    create(log, ADMIN, 'key_c');
    expect(refusal(() => run(log, ADMIN, { kind: 'key.assign-owner', keyId: 'key_c', owner: APPLIANCE.principalId })).code).toBe(
      'approval-required',
    );
  });
});

describe('KMIP Destroy (key.request-destruction) under the tenant policy', () => {
  it('destroys a never-activated key at once', () => {
    const log = tenantLog();
    create(log, APPLIANCE, 'key_p');
    expect(run(log, APPLIANCE, { kind: 'key.request-destruction', keyId: 'key_p' }).map((e) => e.type)).toEqual(['key.destroyed.v1']);
    expect(log.keys.get('key_p')?.state).toBe('Destroyed');
  });

  it('refuses an Active key (revoke first)', () => {
    const log = tenantLog('immediate-for-owner');
    create(log, APPLIANCE, 'key_a', { activate: true });
    expect(refusal(() => run(log, APPLIANCE, { kind: 'key.request-destruction', keyId: 'key_a' })).message).toMatch(/revoke it first/);
  });

  it('immediate-for-owner: shreds a Deactivated or Compromised key its owner destroys', () => {
    const log = tenantLog('immediate-for-owner');
    create(log, APPLIANCE, 'key_d', { activate: true });
    run(log, APPLIANCE, { kind: 'key.deactivate', keyId: 'key_d' });
    expect(run(log, APPLIANCE, { kind: 'key.request-destruction', keyId: 'key_d' }).map((e) => e.type)).toEqual(['key.destroyed.v1']);
    create(log, APPLIANCE, 'key_c', { activate: true });
    run(log, APPLIANCE, { kind: 'key.compromise', keyId: 'key_c', reason: 'stolen' });
    run(log, APPLIANCE, { kind: 'key.request-destruction', keyId: 'key_c' });
    expect(log.keys.get('key_c')?.state).toBe('DestroyedCompromised');
  });

  it('pending (the default): the key becomes unusable at once, is destroyed once due, and a cancel restores it', () => {
    const log = tenantLog();
    create(log, APPLIANCE, 'key_d', { activate: true, exportable: true });
    run(log, ADMIN, { kind: 'key.enable-export', keyId: 'key_d' });
    run(log, APPLIANCE, { kind: 'key.deactivate', keyId: 'key_d' });
    expect(authorizeUse(log.tenant, TENANT, log.keys.get('key_d'), 'key_d', 'decrypt', NOW).version).toBe(1);
    const [scheduled] = run(log, APPLIANCE, { kind: 'key.request-destruction', keyId: 'key_d' });
    expect(scheduled).toMatchObject({ type: 'key.destruction-scheduled.v1', data: { destroyAfter: iso(7), suspendUse: true } });
    const key = log.keys.get('key_d');
    expect(key?.useSuspended).toBe(true);
    expect(refusal(() => authorizeUse(log.tenant, TENANT, key, 'key_d', 'decrypt', NOW)).code).toBe('key-destroyed');
    expect(refusal(() => authorizeExport(log.tenant, TENANT, key, 'key_d')).code).toBe('key-destroyed');
    expect(refusal(() => run(log, APPLIANCE, { kind: 'key.request-destruction', keyId: 'key_d' })).message).toMatch(/pending until/);
    run(log, ADMIN, { kind: 'key.cancel-destruction', keyId: 'key_d' });
    expect(log.keys.get('key_d')?.useSuspended).toBeUndefined();
    expect(authorizeUse(log.tenant, TENANT, log.keys.get('key_d'), 'key_d', 'decrypt', NOW).version).toBe(1);
    run(log, APPLIANCE, { kind: 'key.request-destruction', keyId: 'key_d' });
    expect(run(log, APPLIANCE, { kind: 'key.request-destruction', keyId: 'key_d' }, day(8)).map((e) => e.type)).toEqual([
      'key.destroyed.v1',
    ]);
    expect(log.keys.get('key_d')?.useSuspended).toBeUndefined();
  });

  it('immediate-for-owner does not extend to a tenant-admin (not an owner): pending', () => {
    const log = tenantLog('immediate-for-owner');
    create(log, ADMIN, 'key_x', { activate: true });
    run(log, ADMIN, { kind: 'key.deactivate', keyId: 'key_x' });
    expect(run(log, ADMIN, { kind: 'key.request-destruction', keyId: 'key_x' })[0]?.type).toBe('key.destruction-scheduled.v1');
  });

  it('refuses an unknown kmipDestroy policy', () => {
    const log = tenantLog();
    const policy = { kmipDestroy: 'whenever' } as unknown as { kmipDestroy: 'pending' };
    expect(refusal(() => run(log, ADMIN, { kind: 'tenant.set-policy', tenantId: TENANT, policy })).code).toBe('invalid');
  });
});

describe('client attributes', () => {
  it('are stored at creation, changed and removed by events, and bounded', () => {
    const log = tenantLog();
    create(log, APPLIANCE, 'key_a', { attributes: { 'Object Group': ['volumes'], 'x-slot': [7, { a: 'b' }] } });
    expect(log.keys.get('key_a')?.attributes).toEqual({ 'Object Group': ['volumes'], 'x-slot': [7, { a: 'b' }] });
    const [changed] = run(log, APPLIANCE, {
      kind: 'key.change-attributes',
      keyId: 'key_a',
      set: { 'Object Group': ['volumes', 'tapes'] },
      remove: ['x-slot', 'absent'],
    });
    expect(changed?.data).toEqual({ keyId: 'key_a', set: { 'Object Group': ['volumes', 'tapes'] }, removed: ['x-slot'] });
    expect(log.keys.get('key_a')?.attributes).toEqual({ 'Object Group': ['volumes', 'tapes'] });
    expect(run(log, APPLIANCE, { kind: 'key.change-attributes', keyId: 'key_a', set: { 'Object Group': ['volumes', 'tapes'] } })).toEqual(
      [],
    );
    run(log, APPLIANCE, { kind: 'key.change-attributes', keyId: 'key_a', remove: ['Object Group'] });
    expect(log.keys.get('key_a')?.attributes).toBeUndefined();
    const many = Object.fromEntries(Array.from({ length: ATTRIBUTE_LIMITS.names + 1 }, (_, i) => [`x-${i}`, [i]]));
    expect(refusal(() => run(log, APPLIANCE, { kind: 'key.change-attributes', keyId: 'key_a', set: many })).code).toBe('invalid');
    const big = { 'x-big': ['a'.repeat(ATTRIBUTE_LIMITS.totalBytes)] };
    expect(refusal(() => create(log, APPLIANCE, 'key_big', { attributes: big })).code).toBe('invalid');
    expect(refusal(() => create(log, APPLIANCE, 'key_empty', { attributes: { 'x-none': [] } })).code).toBe('invalid');
  });

  it('a kmip-client cannot change the attributes of a key it does not own (not-found: it does not exist for it)', () => {
    const log = tenantLog();
    create(log, ADMIN, 'key_b');
    expect(refusal(() => run(log, APPLIANCE, { kind: 'key.change-attributes', keyId: 'key_b', set: { 'x-a': ['b'] } })).code).toBe(
      'not-found',
    );
  });
});
