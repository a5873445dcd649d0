import { NOW, applyCommand, refusal } from '../testing/spec-helpers';
import { TenantLog, decide, type DirectCommand, type KeywardCommand } from '../keyset/keyset';
import type { Actor } from '../shared/actor';
import type { DecisionContext } from '../shared/decision-context';

const TENANT = 'tnt_cert00001';
const PROVIDER: Actor = { principalId: 'prn_provider01', role: 'provider-admin' };
const ALICE: Actor = { principalId: 'prn_alice0001', role: 'tenant-admin' };
const BOB: Actor = { principalId: 'prn_bob000001', role: 'tenant-admin' };
const USER: Actor = { principalId: 'prn_user00001', role: 'key-user' };
const FP = 'ab'.repeat(32);
const ctx = (actor: Actor, minutes = 0): DecisionContext => ({
  now: new Date(NOW.getTime() + minutes * 60_000),
  actor,
  correlationId: 'c',
});
const types = (events: readonly { type: string }[]) => events.map((e) => e.type);

/** Alice alone, or Alice and Bob (Bob added under dual control), and a key-user. */
function tenant(withBob = true): TenantLog {
  const log = new TenantLog(TENANT);
  applyCommand(
    log,
    { kind: 'tenant.onboard', tenantId: TENANT, name: 'Certs', firstAdmin: { principalId: ALICE.principalId, name: 'alice' } },
    ctx(PROVIDER),
  );
  if (withBob) {
    const create: DirectCommand = { kind: 'principal.create', principalId: BOB.principalId, name: 'bob', role: 'tenant-admin' };
    applyCommand(log, { kind: 'approval.request', approvalId: 'apr_setup0001', command: create }, ctx(ALICE));
  }
  applyCommand(log, { kind: 'principal.create', principalId: USER.principalId, name: 'user', role: 'key-user' }, ctx(ALICE));
  return log;
}

const bind = (principalId: string, binding: { fingerprint?: string; subject?: string }): DirectCommand => ({
  kind: 'principal.bind-certificate',
  principalId,
  ...binding,
});
const unbind = (principalId: string): DirectCommand => ({ kind: 'principal.unbind-certificate', principalId });
const request = (command: DirectCommand, approvalId = 'apr_cert00001'): KeywardCommand => ({
  kind: 'approval.request',
  approvalId,
  command,
});

describe('certificate bindings are events of the tenant log', () => {
  it("binds and unbinds a key-user's certificate with one admin; the log holds the current binding", () => {
    const log = tenant();
    const bound = applyCommand(log, bind(USER.principalId, { fingerprint: FP, subject: 'CN=app, O=Acme' }), ctx(ALICE, 1));
    expect(types(bound)).toEqual(['principal.certificate-bound.v1']);
    expect(bound[0]!.data).toEqual({ principalId: USER.principalId, fingerprint: FP, subject: 'CN=app, O=Acme' });
    expect(log.certificates.get(USER.principalId)).toEqual({
      fingerprint: FP,
      subject: 'CN=app, O=Acme',
      boundAt: new Date(NOW.getTime() + 60_000).toISOString(),
      boundBy: ALICE.principalId,
    });
    expect(types(applyCommand(log, unbind(USER.principalId), ctx(ALICE, 2)))).toEqual(['principal.certificate-unbound.v1']);
    expect(log.certificates.has(USER.principalId)).toBe(false);
    // Unbinding what is not bound changes nothing.
    expect(decide(unbind(USER.principalId), log, ctx(ALICE))).toEqual([]);
  });

  it('refuses unknown and revoked principals as not found, and malformed fingerprints or subjects', () => {
    const log = tenant();
    expect(refusal(() => decide(bind('prn_nobody001', { fingerprint: FP }), log, ctx(ALICE))).code).toBe('not-found');
    expect(refusal(() => decide(bind(USER.principalId, {}), log, ctx(ALICE))).code).toBe('invalid');
    expect(refusal(() => decide(bind(USER.principalId, { fingerprint: 'AB'.repeat(32) }), log, ctx(ALICE))).code).toBe('invalid');
    // A CN holding a newline and "O=" must never read as two attributes: refused at bind time.
    expect(refusal(() => decide(bind(USER.principalId, { subject: 'CN=app\nO=Victim' }), log, ctx(ALICE))).code).toBe('invalid');
    expect(refusal(() => decide(bind(USER.principalId, { subject: 'CN=app\u0000' }), log, ctx(ALICE))).code).toBe('invalid');
    applyCommand(log, { kind: 'principal.revoke', principalId: USER.principalId }, ctx(ALICE));
    expect(refusal(() => decide(bind(USER.principalId, { fingerprint: FP }), log, ctx(ALICE))).code).toBe('not-found');
  });

  it("binding or unbinding an administrator's certificate is dual-controlled (principal.manage-admin)", () => {
    const log = tenant();
    const refused = refusal(() => decide(bind(BOB.principalId, { fingerprint: FP }), log, ctx(ALICE)));
    expect([refused.code, refused.details]).toEqual(['approval-required', { operation: 'principal.manage-admin' }]);
    // Its own certificate too: an admin's binding decides who can act as that admin.
    expect(refusal(() => decide(bind(ALICE.principalId, { fingerprint: FP }), log, ctx(ALICE))).code).toBe('approval-required');

    expect(types(applyCommand(log, request(bind(BOB.principalId, { fingerprint: FP })), ctx(ALICE)))).toEqual(['approval.requested.v1']);
    expect(log.certificates.has(BOB.principalId)).toBe(false);
    const executed = applyCommand(log, { kind: 'approval.approve', approvalId: 'apr_cert00001' }, ctx(BOB));
    expect(types(executed)).toEqual(['approval.granted.v1', 'principal.certificate-bound.v1', 'approval.executed.v1']);
    expect(log.certificates.get(BOB.principalId)?.fingerprint).toBe(FP);

    expect(refusal(() => decide(unbind(BOB.principalId), log, ctx(ALICE))).code).toBe('approval-required');
    applyCommand(log, request(unbind(BOB.principalId), 'apr_cert00002'), ctx(ALICE));
    // The admin the request acts on may agree, never veto.
    expect(refusal(() => decide({ kind: 'approval.reject', approvalId: 'apr_cert00002' }, log, ctx(BOB))).message).toMatch(
      /acts on cannot reject/,
    );
    applyCommand(log, { kind: 'approval.approve', approvalId: 'apr_cert00002' }, ctx(BOB));
    expect(log.certificates.has(BOB.principalId)).toBe(false);
  });

  it('a lone administrator binds its own certificate directly (quorum 1)', () => {
    const log = tenant(false);
    expect(types(applyCommand(log, bind(ALICE.principalId, { fingerprint: FP }), ctx(ALICE)))).toEqual(['principal.certificate-bound.v1']);
  });

  it('the provider log binds provider-admin certificates under the provider quorum', () => {
    const log = new TenantLog('provider');
    applyCommand(log, { kind: 'principal.create', principalId: PROVIDER.principalId, name: 'p1', role: 'provider-admin' }, ctx(PROVIDER));
    expect(types(applyCommand(log, bind(PROVIDER.principalId, { fingerprint: FP }), ctx(PROVIDER)))).toEqual([
      'principal.certificate-bound.v1',
    ]);
  });
});
