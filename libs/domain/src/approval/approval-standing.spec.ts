import { NOW, applyCommand, refusal } from '../testing/spec-helpers';
import { TenantLog, decide, type DirectCommand, type KeywardCommand } from '../keyset/keyset';
import type { Actor } from '../shared/actor';
import type { DecisionContext } from '../shared/decision-context';

const TENANT = 'tnt_stand0001';
const PROVIDER: Actor = { principalId: 'prn_provider01', role: 'provider-admin' };
const ALICE: Actor = { principalId: 'prn_alice0001', role: 'tenant-admin' };
const BOB: Actor = { principalId: 'prn_bob000001', role: 'tenant-admin' };
const CAROL: Actor = { principalId: 'prn_carol0001', role: 'tenant-admin' };
const DAVE: Actor = { principalId: 'prn_dave00001', role: 'tenant-admin' };
const KEY = 'key_stand0001';
const ctx = (actor: Actor, minutes = 0): DecisionContext => ({
  now: new Date(NOW.getTime() + minutes * 60_000),
  actor,
  correlationId: 'c',
});
const types = (events: readonly { type: string }[]) => events.map((e) => e.type);
const request = (command: DirectCommand, approvalId: string): KeywardCommand => ({ kind: 'approval.request', approvalId, command });
const approve = (approvalId: string): KeywardCommand => ({ kind: 'approval.approve', approvalId });
const reject = (approvalId: string): KeywardCommand => ({ kind: 'approval.reject', approvalId, reason: 'no' });
const revoke = (who: Actor): DirectCommand => ({ kind: 'principal.revoke', principalId: who.principalId });
const schedule: DirectCommand = { kind: 'key.schedule-destruction', keyId: KEY };

/** Alice, Bob, Carol and Dave as tenant-admins (quorum `quorum`), and one Deactivated key. */
function tenant(quorum: number | null): TenantLog {
  const log = new TenantLog(TENANT);
  applyCommand(
    log,
    { kind: 'tenant.onboard', tenantId: TENANT, name: 'Standing', firstAdmin: { principalId: ALICE.principalId, name: 'alice' } },
    ctx(PROVIDER),
  );
  [BOB, CAROL, DAVE].forEach((admin, i) => {
    const create: DirectCommand = {
      kind: 'principal.create',
      principalId: admin.principalId,
      name: admin.principalId,
      role: 'tenant-admin',
    };
    applyCommand(log, request(create, `apr_setup000${i}`), ctx(ALICE));
    if (i > 0) applyCommand(log, approve(`apr_setup000${i}`), ctx(BOB));
  });
  if (quorum !== null) {
    const policy: DirectCommand = {
      kind: 'tenant.set-policy',
      tenantId: TENANT,
      policy: { dualControl: { quorum, operations: ['key.schedule-destruction', 'principal.manage-admin', 'tenant.set-policy'] } },
    };
    applyCommand(log, request(policy, 'apr_policy001'), ctx(ALICE));
    applyCommand(log, approve('apr_policy001'), ctx(BOB));
  }
  applyCommand(log, { kind: 'key.create', keyId: KEY, keyType: 'AES-256-GCM', kcv: 'k1', activate: true }, ctx(ALICE));
  applyCommand(log, { kind: 'key.deactivate', keyId: KEY }, ctx(ALICE));
  return log;
}

describe('dual control counts administrators who still hold their office', () => {
  it('the admin whose revocation is requested cannot reject it; another admin can; the target may approve', () => {
    const log = tenant(null);
    applyCommand(log, request(revoke(BOB), 'apr_revbob001'), ctx(ALICE));
    const vetoed = refusal(() => decide(reject('apr_revbob001'), log, ctx(BOB)));
    expect([vetoed.code, vetoed.message]).toEqual(['illegal-transition', 'the administrator this request acts on cannot reject it']);
    expect(log.approvals.get('apr_revbob001')?.status).toBe('Pending');
    // Allowed: a third admin rejects it.
    expect(types(decide(reject('apr_revbob001'), log, ctx(CAROL)))).toEqual(['approval.rejected.v1']);
    // Allowed: the target agrees to its own revocation.
    expect(types(decide(approve('apr_revbob001'), log, ctx(BOB)))).toEqual([
      'approval.granted.v1',
      'principal.revoked.v1',
      'approval.executed.v1',
    ]);
    // The requester may still withdraw its own request.
    expect(types(decide(reject('apr_revbob001'), log, ctx(ALICE)))).toEqual(['approval.rejected.v1']);
  });

  it('an approval granted by an admin revoked since stops counting toward the quorum', () => {
    const log = tenant(3);
    applyCommand(log, request(schedule, 'apr_destroy01'), ctx(ALICE));
    expect(types(applyCommand(log, approve('apr_destroy01'), ctx(BOB)))).toEqual(['approval.granted.v1']);
    // Bob is revoked (Alice asks, Carol and Dave agree: quorum 3).
    applyCommand(log, request(revoke(BOB), 'apr_revbob001'), ctx(ALICE));
    applyCommand(log, approve('apr_revbob001'), ctx(CAROL));
    applyCommand(log, approve('apr_revbob001'), ctx(DAVE));
    expect(log.principals.get(BOB.principalId)?.revokedAt).not.toBeNull();
    // Carol's approval would have made three with Bob's; without it, it makes two: still pending.
    expect(types(applyCommand(log, approve('apr_destroy01'), ctx(CAROL)))).toEqual(['approval.granted.v1']);
    expect(log.keys.get(KEY)?.destroyAfter).toBeNull();
    const executed = applyCommand(log, approve('apr_destroy01'), ctx(DAVE));
    expect(types(executed)).toEqual(['approval.granted.v1', 'key.destruction-scheduled.v1', 'approval.executed.v1']);
    expect(executed[2]!.data).toEqual({ approvalId: 'apr_destroy01', requestedBy: ALICE, approvedBy: [CAROL, DAVE] });
  });

  it('without revocations, grants count as before', () => {
    const log = tenant(3);
    applyCommand(log, request(schedule, 'apr_destroy01'), ctx(ALICE));
    applyCommand(log, approve('apr_destroy01'), ctx(BOB));
    expect(types(applyCommand(log, approve('apr_destroy01'), ctx(CAROL)))).toContain('approval.executed.v1');
  });

  it('a pending request whose requester has been revoked can no longer execute', () => {
    const log = tenant(null);
    applyCommand(log, request(schedule, 'apr_destroy01'), ctx(BOB));
    applyCommand(log, request(revoke(BOB), 'apr_revbob001'), ctx(ALICE));
    applyCommand(log, approve('apr_revbob001'), ctx(CAROL));
    const refused = refusal(() => decide(approve('apr_destroy01'), log, ctx(CAROL)));
    expect([refused.code, refused.message]).toEqual([
      'illegal-transition',
      'the requester of approval apr_destroy01 has been revoked; the request can no longer execute',
    ]);
    expect(log.keys.get(KEY)?.destroyAfter).toBeNull();
    // Anyone may still close it.
    expect(types(decide(reject('apr_destroy01'), log, ctx(CAROL)))).toEqual(['approval.rejected.v1']);
  });
});
