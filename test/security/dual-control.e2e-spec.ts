import { KeywardStack } from '../support/keyward-stack';
import type { HttpAnswer } from '../support/service-process';

jest.setTimeout(180_000);

interface Approval {
  approvalId: string;
  status: string;
  quorum: number;
  approvals: number;
  requestedBy: { principalId: string };
  approvedBy: { principalId: string }[];
  operation: string;
}

const problemType = (answer: HttpAnswer): string => answer.json<{ type: string }>().type.replace('urn:keyward:problem:', '');

describe('dual control end to end: sensitive operations wait for a second administrator', () => {
  const stack = new KeywardStack();
  let tenantId: string;
  let alice: string;
  let bob: string;
  let auditor: string;
  let user: string;

  const deactivatedKey = async (): Promise<string> => {
    const created = await stack.call(alice, 'POST', '/v1/keys', { activate: true });
    const keyId = created.json<{ key: { keyId: string } }>().key.keyId;
    expect((await stack.call(alice, 'POST', `/v1/keys/${keyId}/deactivate`)).status).toBe(200);
    return keyId;
  };
  /** The seq of the last request's answer: reads wait for the views to have caught up with it. */
  let requestedAtSeq = 0;
  const keyState = async (keyId: string, minSeq = requestedAtSeq) => {
    const log = await stack.call(alice, 'GET', `/v1/keys/${keyId}?minSeq=${minSeq}`);
    return log.json<{ destroyAfter: string | null; history: { event: string; actor: { principalId: string } }[] }>();
  };
  const requestDestruction = async (keyId: string): Promise<Approval> => {
    const answer = await stack.call(alice, 'POST', `/v1/keys/${keyId}/schedule-destruction`, { waitingPeriodDays: 3 });
    expect(answer.status).toBe(202);
    const body = answer.json<{ seq: number; pendingApproval: Approval }>();
    requestedAtSeq = body.seq;
    return body.pendingApproval;
  };

  beforeAll(async () => {
    await stack.start();
    let seq: number;
    ({ tenantId, adminKey: alice, seq } = await stack.onboard('Two Person Rule'));
    // With one admin, adding the second needs nobody else (and the summary warns).
    const summary = (await stack.call(alice, 'GET', `/v1/tenant?minSeq=${seq}`)).json<{
      dualControl: { quorum: number; warning?: string };
    }>();
    expect(summary.dualControl.quorum).toBe(1);
    expect(summary.dualControl.warning).toMatch(/dual control is off/);
    bob = await stack.principal(alice, 'tenant-admin');
    auditor = await stack.principal(alice, 'auditor');
    user = await stack.principal(alice, 'key-user');
  });
  afterAll(() => stack.stop());

  it('with two admins the tenant summary shows a quorum of two and no warning', async () => {
    const summary = (await stack.call(alice, 'GET', '/v1/tenant?minSeq=1')).json<{
      tenantId: string;
      dualControl: Record<string, unknown>;
    }>();
    expect(summary.tenantId).toBe(tenantId);
    expect(summary.dualControl).toEqual({ quorum: 2, activeAdmins: 2 });
  });

  it('a destruction requested by one admin does nothing until a second admin approves; then it runs once, by the approver', async () => {
    const keyId = await deactivatedKey();
    const pending = await requestDestruction(keyId);
    expect(pending).toMatchObject({ status: 'Pending', quorum: 2, approvals: 1, operation: 'key.schedule-destruction' });
    expect((await keyState(keyId)).destroyAfter).toBeNull();

    const own = await stack.call(alice, 'POST', `/v1/approvals/${pending.approvalId}/approve`);
    expect([own.status, problemType(own)]).toEqual([409, 'illegal-transition']);
    expect(own.json<{ detail: string }>().detail).toMatch(/requester cannot approve/);
    expect((await keyState(keyId)).destroyAfter).toBeNull();

    expect((await stack.call(user, 'POST', `/v1/approvals/${pending.approvalId}/approve`)).status).toBe(403);
    expect((await stack.call(auditor, 'POST', `/v1/approvals/${pending.approvalId}/approve`)).status).toBe(403);

    const approved = await stack.call(bob, 'POST', `/v1/approvals/${pending.approvalId}/approve`);
    expect(approved.status).toBe(200);
    expect(approved.json<{ approval: Approval }>().approval).toMatchObject({ status: 'Executed', approvals: 2 });
    const state = await keyState(keyId, approved.json<{ seq: number }>().seq);
    expect(state.destroyAfter).not.toBeNull();

    const twice = await stack.call(bob, 'POST', `/v1/approvals/${pending.approvalId}/approve`);
    expect([twice.status, problemType(twice)]).toEqual([409, 'illegal-transition']);

    const commits = await stack.db
      .collection<{ events: { type: string; actor: { principalId: string }; data: Record<string, unknown> }[] }>('commits')
      .find({ tenantId, 'events.type': 'approval.executed.v1' })
      .toArray();
    const commit = commits.find((c) => c.events.some((e) => e.type === 'approval.executed.v1' && e.data.approvalId === pending.approvalId));
    const executed = commit!.events;
    expect(executed.map((e) => e.type)).toEqual(['approval.granted.v1', 'key.destruction-scheduled.v1', 'approval.executed.v1']);
    const [, scheduled, done] = executed;
    expect(scheduled!.actor.principalId).not.toBe(pending.requestedBy.principalId);
    expect(done!.data).toMatchObject({ requestedBy: pending.requestedBy });
  });

  it('a rejected request never executes', async () => {
    const keyId = await deactivatedKey();
    const pending = await requestDestruction(keyId);
    const rejected = await stack.call(bob, 'POST', `/v1/approvals/${pending.approvalId}/reject`, { reason: 'wrong key' });
    expect(rejected.json<{ approval: Approval }>().approval.status).toBe('Rejected');
    expect((await stack.call(bob, 'POST', `/v1/approvals/${pending.approvalId}/approve`)).status).toBe(409);
    expect((await keyState(keyId)).destroyAfter).toBeNull();
  });

  it('an expired request does nothing when approved', async () => {
    const keyId = await deactivatedKey();
    const pending = await requestDestruction(keyId);
    // 25 hours later on the business clock of this test run
    await stack.restartApi({ KEYWARD_CLOCK_OFFSET_MS: String(25 * 3_600_000) });
    const late = await stack.call(bob, 'POST', `/v1/approvals/${pending.approvalId}/approve`);
    expect([late.status, problemType(late)]).toEqual([409, 'illegal-transition']);
    expect(late.json<{ detail: string }>().detail).toMatch(/expired/);
    const listed = (await stack.call(auditor, 'GET', '/v1/approvals?status=Expired')).json<{ items: Approval[] }>().items;
    expect(listed.map((a) => a.approvalId)).toContain(pending.approvalId);
    expect((await keyState(keyId)).destroyAfter).toBeNull();
    await stack.restartApi();
  });

  it('a third admin needs approval; the approver who completes it receives its enrollment token, never its key', async () => {
    const requested = await stack.call(alice, 'POST', '/v1/principals', { name: 'carol', role: 'tenant-admin' });
    expect(requested.status).toBe(202);
    const pending = requested.json<{ pendingApproval: Approval }>().pendingApproval;
    expect(requested.body).not.toMatch(/kw_/);
    const approved = await stack.call(bob, 'POST', `/v1/approvals/${pending.approvalId}/approve`);
    expect(approved.status).toBe(200);
    expect(approved.body).not.toMatch(/kw_[A-Za-z0-9]{16}_/);
    const carol = (await stack.enroll(approved.json<{ issued: { enrollment: { token: string } } }>().issued.enrollment.token)).apiKey;
    expect((await stack.call(carol, 'GET', '/v1/keys')).status).toBe(200);
  });

  it('policy changes and lowering the minimum decryption version are dual-controlled too', async () => {
    const policy = await stack.call(alice, 'PUT', '/v1/tenant/policy', { allowCompromisedDecrypt: true });
    expect(policy.status).toBe(202);
    expect((await stack.call(alice, 'GET', '/v1/tenant/policy')).json()).toMatchObject({ allowCompromisedDecrypt: false });
    const id = policy.json<{ pendingApproval: Approval }>().pendingApproval.approvalId;
    expect((await stack.call(bob, 'POST', `/v1/approvals/${id}/approve`)).status).toBe(200);
    expect((await stack.call(alice, 'GET', '/v1/tenant/policy')).json()).toMatchObject({ allowCompromisedDecrypt: true });

    const key = (await stack.call(alice, 'POST', '/v1/keys', { activate: true })).json<{ key: { keyId: string } }>().key.keyId;
    await stack.call(alice, 'POST', `/v1/keys/${key}/rotate`);
    expect((await stack.call(alice, 'PUT', `/v1/keys/${key}/min-decryption-version`, { version: 2 })).status).toBe(200);
    const lower = await stack.call(alice, 'PUT', `/v1/keys/${key}/min-decryption-version`, { version: 1 });
    expect(lower.status).toBe(202);
  });

  it('lists requests for admins and auditors only', async () => {
    const all = await stack.call(auditor, 'GET', '/v1/approvals');
    expect(all.status).toBe(200);
    expect(all.json<{ items: Approval[] }>().items.length).toBeGreaterThanOrEqual(5);
    expect((await stack.call(user, 'GET', '/v1/approvals')).status).toBe(403);
    const other = await stack.onboard();
    expect((await stack.call(other.adminKey, 'GET', '/v1/approvals')).json<{ items: Approval[] }>().items).toEqual([]);
  });

  it('offboarding needs two provider-admins once the provider has two; the same one cannot approve its own request', async () => {
    const second = await stack.call(stack.providerKey, 'POST', '/v1/principals', { name: 'second-provider', role: 'provider-admin' });
    expect(second.status).toBe(201); // the first provider-admin alone may add the second
    const provider2 = (await stack.enroll(second.json<{ enrollment: { token: string } }>().enrollment.token)).apiKey;
    const third = await stack.call(stack.providerKey, 'POST', '/v1/principals', { name: 'third-provider', role: 'provider-admin' });
    expect(third.status).toBe(202); // from two on, adding a provider-admin is dual-controlled too
    expect((await stack.call(provider2, 'POST', '/v1/principals', { name: 'nope', role: 'key-user' })).status).toBe(422);

    const leaving = await stack.onboard('Leaving Under Dual Control');
    const requested = await stack.call(stack.providerKey, 'POST', `/v1/tenants/${leaving.tenantId}/offboard`, {
      confirm: leaving.tenantId,
    });
    expect(requested.status).toBe(202);
    const id = requested.json<{ pendingApproval: Approval }>().pendingApproval.approvalId;
    const keystore = stack.db.collection('keystore');
    expect(await keystore.countDocuments({ tenantId: leaving.tenantId })).toBe(1);
    const own = await stack.call(stack.providerKey, 'POST', `/v1/approvals/${id}/approve?tenantId=${leaving.tenantId}`);
    expect([own.status, problemType(own)]).toEqual([409, 'illegal-transition']);
    const approved = await stack.call(provider2, 'POST', `/v1/approvals/${id}/approve?tenantId=${leaving.tenantId}`);
    expect(approved.status).toBe(200);
    expect(approved.json<{ approval: Approval }>().approval.status).toBe('Executed');
    expect(await keystore.countDocuments({ tenantId: leaving.tenantId })).toBe(0);
  });
});
