import { applyCommand, day, NOW, refusal } from '../testing/spec-helpers';
import { evolveCommit, TenantLog, type KeywardCommand, type KeywardEvent } from '../keyset/keyset';
import type { Actor } from '../shared/actor';
import type { DecisionContext } from '../shared/decision-context';
import { accessTo, authorize, mayReadKey, requireKnownKey } from './authorize';
import { ownershipGrantId } from './grant';
import { GRANT_OPERATIONS, type GrantMode, type GrantOperation, type KeySelector } from './grant.types';

const TENANT = 'tnt_owngrant01';
const PROVIDER: Actor = { principalId: 'prn_provider01', role: 'provider-admin' };
const ADMIN: Actor = { principalId: 'prn_admin0001', role: 'tenant-admin' };
const ARRAY: Actor = { principalId: 'prn_array0001', role: 'kmip-client' };
const TAPE: Actor = { principalId: 'prn_tape00001', role: 'kmip-client' };
const USER: Actor = { principalId: 'prn_user00001', role: 'key-user' };
const ctx = (actor: Actor, now: Date = day(-5)): DecisionContext => ({ now, actor, correlationId: 'c-own' });

const OWNED = 'key_array0001'; // created by ARRAY: it owns it
const ADMINS = 'key_admin0001'; // created by ADMIN: nobody owns it

/** A tenant with an admin, two appliances, a key-user, a key ARRAY created and one the admin created; every event kept. */
function tenant(mode: GrantMode): { log: TenantLog; events: KeywardEvent[][] } {
  const log = new TenantLog(TENANT);
  const events: KeywardEvent[][] = [];
  const run = (command: KeywardCommand, actor: Actor) => events.push(applyCommand(log, command, ctx(actor)));
  run({ kind: 'tenant.onboard', tenantId: TENANT, name: 'Storage', grants: mode }, PROVIDER);
  for (const p of [ADMIN, ARRAY, TAPE, USER])
    run({ kind: 'principal.create', principalId: p.principalId, name: p.principalId, role: p.role }, ADMIN);
  run({ kind: 'key.create', keyId: OWNED, keyType: 'AES-256-GCM', kcv: 'k1' }, ARRAY);
  run({ kind: 'key.create', keyId: ADMINS, keyType: 'AES-256-GCM', kcv: 'k2' }, ADMIN);
  return { log, events };
}
const use = (log: TenantLog, who: Actor, keyId: string, op: GrantOperation = 'encrypt') =>
  authorize(log, who, log.keys.get(keyId), op, {}, NOW);
const run = (log: TenantLog, command: KeywardCommand, actor: Actor = ADMIN) => applyCommand(log, command, ctx(actor, day(-1)));
const grantTo = (log: TenantLog, grantId: string, to: Actor, operations: GrantOperation[], keys: KeySelector) =>
  run(log, { kind: 'grant.create', grantId, principalId: to.principalId, operations, keys, conditions: {} });

describe.each<GrantMode>(['required', 'open'])("a kmip-client's ownership is a standing, revocable grant (%s tenant)", (mode) => {
  it('creating a kmip-client implies its standing grant: every operation on the keys it owns; a key-user gets none', () => {
    const { log } = tenant(mode);
    const standing = log.grants.get(ownershipGrantId(ARRAY.principalId));
    expect(standing).toEqual({
      grantId: 'grtown_array0001',
      principalId: ARRAY.principalId,
      operations: [...GRANT_OPERATIONS],
      keys: { owned: true },
      conditions: {},
      createdAt: day(-5).toISOString(),
      createdBy: ADMIN,
      revokedAt: null,
      revokedBy: null,
    });
    expect(log.grantsOf(USER.principalId)).toEqual([]);
    for (const op of GRANT_OPERATIONS) expect(use(log, ARRAY, OWNED, op)).toEqual({ allowed: true, grantId: 'grtown_array0001' });
  });

  it('another appliance, and any key it does not own, answer 404 (even under a grant naming the key)', () => {
    const { log } = tenant(mode);
    expect(use(log, TAPE, OWNED)).toMatchObject({ allowed: false, status: 404, reason: 'no-grant' });
    expect(use(log, ARRAY, ADMINS)).toMatchObject({ allowed: false, status: 404 });
    grantTo(log, 'grt_byid00001', ARRAY, ['encrypt'], { ids: [ADMINS] });
    expect(use(log, ARRAY, ADMINS)).toMatchObject({ allowed: false, status: 404 });
    expect(mayReadKey(log, ARRAY, log.keys.get(ADMINS)!, NOW)).toBe(false);
  });

  it('assigning the key moves the use with the ownership: the new owner under its own standing grant, the old one refused', () => {
    const { log } = tenant(mode);
    run(log, { kind: 'key.assign-owner', keyId: OWNED, owner: TAPE.principalId });
    expect(use(log, TAPE, OWNED)).toEqual({ allowed: true, grantId: 'grtown_tape00001' });
    expect(use(log, ARRAY, OWNED)).toMatchObject({ allowed: false, status: 404 });
    run(log, { kind: 'key.assign-owner', keyId: OWNED, owner: null });
    expect(use(log, TAPE, OWNED)).toMatchObject({ allowed: false, status: 404 });
  });

  it('revoking the standing grant ends the use and the sight of every key it owns; revoking it again is refused', () => {
    const { log } = tenant(mode);
    const [revoked] = run(log, { kind: 'grant.revoke', grantId: 'grtown_array0001' });
    expect(revoked).toMatchObject({ type: 'grant.revoked.v1', data: { grantId: 'grtown_array0001', principalId: ARRAY.principalId } });
    for (const op of GRANT_OPERATIONS) expect(use(log, ARRAY, OWNED, op)).toMatchObject({ allowed: false, status: 404 });
    expect(mayReadKey(log, ARRAY, log.keys.get(OWNED)!, NOW)).toBe(false);
    expect(log.keys.get(OWNED)?.owner).toBe(ARRAY.principalId); // still the owner: only its use is gone
    expect(refusal(() => run(log, { kind: 'grant.revoke', grantId: 'grtown_array0001' })).code).toBe('illegal-transition');
    // The other appliance keeps its own.
    expect(log.grants.get('grtown_tape00001')?.revokedAt).toBeNull();
  });

  it('an administrator narrows it: after the revocation, a grant on the owned keys allows what it names (403 for the rest)', () => {
    const { log } = tenant(mode);
    run(log, { kind: 'grant.revoke', grantId: 'grtown_array0001' });
    grantTo(log, 'grt_narrow001', ARRAY, ['encrypt', 'decrypt', 'read'], { owned: true });
    expect(use(log, ARRAY, OWNED, 'encrypt')).toEqual({ allowed: true, grantId: 'grt_narrow001' });
    expect(use(log, ARRAY, OWNED, 'export')).toMatchObject({ allowed: false, status: 403, reason: 'operation-not-granted' });
    expect(mayReadKey(log, ARRAY, log.keys.get(OWNED)!, NOW)).toBe(true);
    // A grant by id on its own key works the same way.
    run(log, { kind: 'grant.revoke', grantId: 'grt_narrow001' });
    grantTo(log, 'grt_byid00002', ARRAY, ['mac'], { ids: [OWNED] });
    expect(use(log, ARRAY, OWNED, 'mac')).toEqual({ allowed: true, grantId: 'grt_byid00002' });
    expect(use(log, ARRAY, OWNED, 'encrypt')).toMatchObject({ status: 403 });
  });

  it('key commands answer as a read would: not-found for a key it may not even read, allowed on a key it may know of', () => {
    const { log } = tenant(mode);
    const activate = (who: Actor, keyId: string) => applyCommand(log, { kind: 'key.activate', keyId }, ctx(who, day(-1)));
    // Another appliance's key and an unowned key are refused exactly as a key that does not exist.
    for (const [who, keyId] of [
      [TAPE, OWNED],
      [ARRAY, ADMINS],
      [ARRAY, 'key_nothing01'],
    ] as const) {
      expect(refusal(() => activate(who, keyId))).toMatchObject({
        code: 'not-found',
        message: `key ${keyId} not found`,
        details: { keyId },
      });
    }
    // Its standing grant revoked, its own key no longer exists for it either (though it still owns it)...
    run(log, { kind: 'grant.revoke', grantId: 'grtown_array0001' });
    expect(refusal(() => activate(ARRAY, OWNED)).code).toBe('not-found');
    // ...and a narrower grant makes it known again, with or without read: the lifecycle is the owner's.
    grantTo(log, 'grt_narrow002', ARRAY, ['encrypt'], { owned: true });
    expect(activate(ARRAY, OWNED).map((e) => e.type)).toEqual(['key.activated.v1']);
    // Administrators see every key; the rule never refuses them.
    expect(() => requireKnownKey(log, ADMIN, log.keys.get(ADMINS), ADMINS, NOW)).not.toThrow();
  });

  it('replaying the log gives the same standing grants, revocation included (the id is derived, not drawn)', () => {
    const { log, events } = tenant(mode);
    events.push(run(log, { kind: 'grant.revoke', grantId: 'grtown_tape00001' }));
    const replayed = new TenantLog(TENANT);
    events.forEach((commit, i) => evolveCommit(replayed, { seq: i + 1, events: commit }));
    expect([...replayed.grants.values()]).toEqual([...log.grants.values()]);
    expect(replayed.grantsOf(ARRAY.principalId)).toEqual(log.grantsOf(ARRAY.principalId));
    expect(replayed.grantsOf(TAPE.principalId)).toEqual([]);
  });

  it("the audit's accessTo lists the owner under its standing grant, and nobody's use of a key it does not own", () => {
    const { log } = tenant(mode);
    const owned = accessTo(log, log.keys.get(OWNED)!, NOW).access.filter((a) => a.role === 'kmip-client');
    expect(owned).toEqual([
      {
        principalId: ARRAY.principalId,
        role: 'kmip-client',
        grantId: 'grtown_array0001',
        operations: [...GRANT_OPERATIONS],
        conditions: {},
        inForce: true,
      },
    ]);
    expect(accessTo(log, log.keys.get(ADMINS)!, NOW).access.filter((a) => a.role === 'kmip-client')).toEqual([]);
    run(log, { kind: 'grant.revoke', grantId: 'grtown_array0001' });
    expect(accessTo(log, log.keys.get(OWNED)!, NOW).access.filter((a) => a.role === 'kmip-client')).toEqual([]);
  });
});

describe('the owned selector', () => {
  it('is for appliance identities only: a key-user owns no keys', () => {
    const { log } = tenant('required');
    expect(refusal(() => grantTo(log, 'grt_owned0001', USER, ['encrypt'], { owned: true }))).toMatchObject({ code: 'invalid' });
    expect(refusal(() => grantTo(log, 'grtown_array0001', ARRAY, ['encrypt'], { owned: true })).code).toBe('already-exists');
  });

  it('a key-user in an open tenant is unchanged: every key, no grant', () => {
    const { log } = tenant('open');
    expect(use(log, USER, OWNED)).toEqual({ allowed: true, grantId: null });
    expect(accessTo(log, log.keys.get(ADMINS)!, NOW).access).toEqual([
      expect.objectContaining({ principalId: USER.principalId, role: 'key-user', grantId: null }),
    ]);
  });
});
