import { NOW, applyCommand, refusal } from '../testing/spec-helpers';
import { TenantLog, decide, type DirectCommand, type KeywardCommand } from '../keyset/keyset';
import type { Actor } from '../shared/actor';
import type { DecisionContext } from '../shared/decision-context';
import { approvalStatusAt } from './approval';

const TENANT = 'tnt_dual00001';
const PROVIDER: Actor = { principalId: 'prn_provider01', role: 'provider-admin' };
const PROVIDER2: Actor = { principalId: 'prn_provider02', role: 'provider-admin' };
const ALICE: Actor = { principalId: 'prn_alice0001', role: 'tenant-admin' };
const BOB: Actor = { principalId: 'prn_bob000001', role: 'tenant-admin' };
const CAROL: Actor = { principalId: 'prn_carol0001', role: 'tenant-admin' };
const USER: Actor = { principalId: 'prn_user00001', role: 'key-user' };
const HOUR = 3_600_000;
const at = (hours: number, actor: Actor): DecisionContext => ({
  now: new Date(NOW.getTime() + hours * HOUR),
  actor,
  correlationId: `c${hours}`,
});
const KEY = 'key_dual00001';

/** A tenant with `admins` tenant-admins (Alice first) and one Deactivated key. */
function tenant(admins: Actor[] = [ALICE, BOB]): TenantLog {
  const log = new TenantLog(TENANT);
  applyCommand(
    log,
    { kind: 'tenant.onboard', tenantId: TENANT, name: 'Dual', firstAdmin: { principalId: ALICE.principalId, name: 'alice' } },
    at(-50, PROVIDER),
  );
  admins.slice(1).forEach((a, i) => {
    const create: DirectCommand = { kind: 'principal.create', principalId: a.principalId, name: a.principalId, role: 'tenant-admin' };
    // From the second admin on, adding an admin is itself dual-controlled.
    applyCommand(log, { kind: 'approval.request', approvalId: `apr_setup000${i}`, command: create }, at(-49, ALICE));
    if (i > 0) applyCommand(log, { kind: 'approval.approve', approvalId: `apr_setup000${i}` }, at(-49, BOB));
  });
  applyCommand(log, { kind: 'principal.create', principalId: USER.principalId, name: 'user', role: 'key-user' }, at(-49, ALICE));
  applyCommand(log, { kind: 'key.create', keyId: KEY, keyType: 'AES-256-GCM', kcv: 'k1', activate: true }, at(-48, ALICE));
  applyCommand(log, { kind: 'key.deactivate', keyId: KEY }, at(-47, ALICE));
  return log;
}

const schedule: DirectCommand = { kind: 'key.schedule-destruction', keyId: KEY };
const request = (command: DirectCommand, approvalId = 'apr_0000000001', extra: object = {}): KeywardCommand => ({
  kind: 'approval.request',
  approvalId,
  command,
  ...extra,
});
const approve = (approvalId = 'apr_0000000001'): KeywardCommand => ({ kind: 'approval.approve', approvalId });
const types = (events: readonly { type: string }[]) => events.map((e) => e.type);

describe('dual control: a sensitive command waits for a second administrator', () => {
  it('refuses the command sent directly when the quorum is above one', () => {
    expect(refusal(() => decide(schedule, tenant(), at(0, ALICE))).code).toBe('approval-required');
  });

  it('records a request that changes nothing until another admin approves; then executes once, with both identities', () => {
    const log = tenant();
    expect(types(applyCommand(log, request(schedule), at(0, ALICE)))).toEqual(['approval.requested.v1']);
    expect(log.keys.get(KEY)?.destroyAfter).toBeNull();
    expect(log.approvals.get('apr_0000000001')).toMatchObject({
      status: 'Pending',
      quorum: 2,
      requestedBy: ALICE,
      operation: 'key.schedule-destruction',
    });

    expect(refusal(() => decide(approve(), log, at(1, ALICE))).message).toMatch(/requester cannot approve/);
    const events = applyCommand(log, approve(), at(1, BOB));
    expect(types(events)).toEqual(['approval.granted.v1', 'key.destruction-scheduled.v1', 'approval.executed.v1']);
    expect(events[1]!.actor).toEqual(BOB);
    expect(events[2]!.data).toEqual({ approvalId: 'apr_0000000001', requestedBy: ALICE, approvedBy: [BOB] });
    expect(log.keys.get(KEY)?.destroyAfter).not.toBeNull();
    expect(log.approvals.get('apr_0000000001')?.status).toBe('Executed');
    // exactly once
    expect(refusal(() => decide(approve(), log, at(2, CAROL))).message).toMatch(/already executed/);
  });

  it('an approver counts once: with a quorum of three the same admin cannot approve twice', () => {
    const log = tenant([ALICE, BOB, CAROL]);
    const strict: DirectCommand = {
      kind: 'tenant.set-policy',
      tenantId: TENANT,
      policy: { dualControl: { quorum: 3, operations: ['key.schedule-destruction'] } },
    };
    applyCommand(log, request(strict, 'apr_0000000009'), at(-39, ALICE));
    applyCommand(log, approve('apr_0000000009'), at(-39, BOB));
    expect(log.tenant?.policy.dualControl.quorum).toBe(3);
    applyCommand(log, request(schedule, 'apr_0000000002'), at(0, ALICE));
    expect(types(applyCommand(log, approve('apr_0000000002'), at(1, BOB)))).toEqual(['approval.granted.v1']);
    expect(refusal(() => decide(approve('apr_0000000002'), log, at(2, BOB))).message).toMatch(/counts once/);
    expect(log.keys.get(KEY)?.destroyAfter).toBeNull();
    const done = applyCommand(log, approve('apr_0000000002'), at(3, CAROL));
    expect(types(done)).toEqual(['approval.granted.v1', 'key.destruction-scheduled.v1', 'approval.executed.v1']);
    expect(done[2]!.data).toMatchObject({ approvedBy: [BOB, CAROL] });
  });

  it('an expired request cannot be approved (24 h by default) and reads as Expired', () => {
    const log = tenant();
    applyCommand(log, request(schedule), at(0, ALICE));
    const approval = log.approvals.get('apr_0000000001')!;
    expect(approvalStatusAt(approval, at(23, BOB).now)).toBe('Pending');
    expect(approvalStatusAt(approval, at(24, BOB).now)).toBe('Expired');
    expect(refusal(() => decide(approve(), log, at(24, BOB))).message).toMatch(/expired/);
    expect(types(applyCommand(log, approve(), at(23.9, BOB)))).toContain('approval.executed.v1');
  });

  it('a request with ttlHours expires when asked; bad ttlHours are invalid', () => {
    const log = tenant();
    applyCommand(log, request(schedule, 'apr_0000000001', { ttlHours: 1 }), at(0, ALICE));
    expect(refusal(() => decide(approve(), log, at(1, BOB))).message).toMatch(/expired/);
    expect(refusal(() => decide(request(schedule, 'apr_0000000009', { ttlHours: 0 }), log, at(0, ALICE))).code).toBe('invalid');
  });

  it('a rejected request is closed: approving it afterwards is refused', () => {
    const log = tenant();
    applyCommand(log, request(schedule), at(0, ALICE));
    applyCommand(log, { kind: 'approval.reject', approvalId: 'apr_0000000001', reason: 'not now' }, at(1, BOB));
    expect(log.approvals.get('apr_0000000001')).toMatchObject({ status: 'Rejected', outcome: 'not now' });
    expect(refusal(() => decide(approve(), log, at(2, BOB))).message).toMatch(/already rejected/);
  });

  it('when the world changed since the request, the approval closes as Failed with the reason and nothing executes', () => {
    const log = tenant();
    applyCommand(log, { kind: 'key.create', keyId: 'key_dual00002', keyType: 'AES-256-GCM', kcv: 'k' }, at(-1, ALICE));
    applyCommand(log, request({ kind: 'key.schedule-destruction', keyId: 'key_dual00002' }), at(0, ALICE));
    applyCommand(log, { kind: 'key.activate', keyId: 'key_dual00002' }, at(1, ALICE));
    const events = applyCommand(log, approve(), at(2, BOB));
    expect(types(events)).toEqual(['approval.granted.v1', 'approval.failed.v1']);
    expect(log.approvals.get('apr_0000000001')?.status).toBe('Failed');
    expect(log.keys.get('key_dual00002')?.destroyAfter).toBeNull();
  });

  it('a request that could never execute is refused at once with the real reason', () => {
    const log = tenant();
    expect(refusal(() => decide(request({ kind: 'key.schedule-destruction', keyId: 'key_missing001' }), log, at(0, ALICE))).code).toBe(
      'not-found',
    );
  });

  it('only the requester role decides: a key-user cannot approve an admin request', () => {
    const log = tenant();
    applyCommand(log, request(schedule), at(0, ALICE));
    expect(refusal(() => decide(approve(), log, at(1, USER))).code).toBe('invalid');
  });

  it('with a single admin the quorum is one: the request executes at once', () => {
    const log = tenant([ALICE]);
    expect(types(applyCommand(log, request(schedule), at(0, ALICE)))).toEqual(['key.destruction-scheduled.v1']);
    expect(log.approvals.size).toBe(0);
  });

  it('non-sensitive commands sent as requests execute at once; raising minDecryptionVersion is not sensitive, lowering is', () => {
    const log = tenant();
    applyCommand(log, { kind: 'key.create', keyId: 'key_dual00003', keyType: 'AES-256-GCM', kcv: 'k', activate: true }, at(-5, ALICE));
    applyCommand(log, { kind: 'key.rotate', keyId: 'key_dual00003', kcv: 'k2' }, at(-4, ALICE));
    expect(
      types(applyCommand(log, request({ kind: 'key.set-min-decryption-version', keyId: 'key_dual00003', version: 2 }), at(0, ALICE))),
    ).toEqual(['key.min-decryption-version-set.v1']);
    expect(
      types(
        applyCommand(
          log,
          request({ kind: 'key.set-min-decryption-version', keyId: 'key_dual00003', version: 1 }, 'apr_0000000003'),
          at(0, ALICE),
        ),
      ),
    ).toEqual(['approval.requested.v1']);
  });

  it('creating and revoking a tenant-admin are sensitive; other roles are not', () => {
    const log = tenant();
    const newAdmin: DirectCommand = { kind: 'principal.create', principalId: 'prn_dave0001', name: 'dave', role: 'tenant-admin' };
    expect(refusal(() => decide(newAdmin, log, at(0, ALICE))).code).toBe('approval-required');
    expect(refusal(() => decide({ kind: 'principal.revoke', principalId: BOB.principalId }, log, at(0, ALICE))).code).toBe(
      'approval-required',
    );
    expect(types(decide({ kind: 'principal.revoke', principalId: USER.principalId }, log, at(0, ALICE)))).toEqual(['principal.revoked.v1']);
  });

  it('a policy can take an operation out of dual control; the policy change itself needs approval', () => {
    const log = tenant();
    const relax: DirectCommand = { kind: 'tenant.set-policy', tenantId: TENANT, policy: { dualControl: { quorum: null, operations: [] } } };
    expect(types(applyCommand(log, request(relax), at(0, ALICE)))).toEqual(['approval.requested.v1']);
    applyCommand(log, approve(), at(1, BOB));
    expect(types(decide(schedule, log, at(2, ALICE)))).toEqual(['key.destruction-scheduled.v1']);
  });

  it('refuses a policy whose quorum exceeds the admins, or that names an operation tenants cannot control', () => {
    const log = tenant([ALICE]);
    applyCommand(
      log,
      { kind: 'tenant.set-policy', tenantId: TENANT, policy: { dualControl: { quorum: 2, operations: ['key.schedule-destruction'] } } },
      at(0, ALICE),
    );
    expect(refusal(() => decide(request(schedule), log, at(1, ALICE))).message).toMatch(/needs 2 tenant-admins/);
    expect(
      refusal(() =>
        decide(
          { kind: 'tenant.set-policy', tenantId: TENANT, policy: { dualControl: { quorum: null, operations: ['tenant.offboard'] } } },
          log,
          at(0, ALICE),
        ),
      ).code,
    ).toBe('invalid');
    expect(
      refusal(() =>
        decide({ kind: 'tenant.set-policy', tenantId: TENANT, policy: { dualControl: { quorum: 0, operations: [] } } }, log, at(0, ALICE)),
      ).code,
    ).toBe('invalid');
  });

  it('offboarding takes its quorum from the provider: two provider-admins', () => {
    const log = tenant();
    const offboard = request({ kind: 'tenant.offboard', tenantId: TENANT }, 'apr_0000000004', { quorum: 2 });
    expect(types(applyCommand(log, offboard, at(0, PROVIDER)))).toEqual(['approval.requested.v1']);
    expect(refusal(() => decide(approve('apr_0000000004'), log, at(1, ALICE))).code).toBe('invalid');
    expect(types(applyCommand(log, approve('apr_0000000004'), at(1, PROVIDER2)))).toEqual([
      'approval.granted.v1',
      'tenant.offboarded.v1',
      'approval.executed.v1',
    ]);
    expect(log.tenant?.status).toBe('Offboarded');
  });

  it("the provider's own admins: adding or revoking a provider-admin needs two once there are two", () => {
    const log = new TenantLog('provider');
    const add = (id: string): DirectCommand => ({ kind: 'principal.create', principalId: id, name: id, role: 'provider-admin' });
    applyCommand(log, add(PROVIDER.principalId), at(-3, PROVIDER));
    expect(types(applyCommand(log, request(add(PROVIDER2.principalId), 'apr_0000000010'), at(-2, PROVIDER)))).toEqual([
      'principal.created.v1',
    ]);
    expect(refusal(() => decide(add('prn_provider03'), log, at(0, PROVIDER))).code).toBe('approval-required');
    expect(types(applyCommand(log, request(add('prn_provider03'), 'apr_0000000011'), at(0, PROVIDER)))).toEqual(['approval.requested.v1']);
    expect(types(applyCommand(log, approve('apr_0000000011'), at(1, PROVIDER2)))).toContain('principal.created.v1');
  });
});
