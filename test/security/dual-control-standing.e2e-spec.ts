import { KeywardStack } from '../support/keyward-stack';
import type { HttpAnswer } from '../support/service-process';

jest.setTimeout(240_000);

interface Approval {
  approvalId: string;
  status: string;
  quorum: number;
  approvals: number;
}

const problem = (answer: HttpAnswer): [number, string, string] => {
  const body = answer.json<{ type: string; detail: string }>();
  return [answer.status, body.type.replace('urn:keyward:problem:', ''), body.detail];
};

/**
 * Dual control counts people who hold their office (finding 5 and 12 of issue 23): the admin a
 * request acts on cannot veto it, approvals of admins revoked since stop counting, a revoked
 * requester's request cannot execute, and administrators' certificate bindings are dual-controlled.
 */
describe('dual control: targets cannot veto, revoked admins stop counting, admin certificate bindings need approval', () => {
  const stack = new KeywardStack();
  let alice: string;
  let bob: string;
  let carol: string;
  let dave: string;
  const ids: Record<string, string> = {};

  /** The principal ids of the tenant's principals of a role, from the views (eventually). */
  const idsOf = async (role: string): Promise<string[]> => {
    const answer = await stack.call(alice, 'GET', '/v1/principals?limit=100');
    return answer
      .json<{ items: { principalId: string; role: string }[] }>()
      .items.filter((p) => p.role === role)
      .map((p) => p.principalId);
  };
  /** Waits until the views list exactly `count` principals of the role; answers their ids. */
  const settled = async (role: string, count: number): Promise<string[]> => {
    let found: string[] = [];
    await stack.api.waitFor(async () => (found = await idsOf(role)).length === count, 30_000);
    return found;
  };
  /** Creates a principal through the test helper and learns its id from the views (`existing`: how many of the role there are). */
  const newPrincipal = async (role: string, existing: number): Promise<[key: string, id: string]> => {
    const before = new Set(await settled(role, existing));
    const key = await stack.principal(alice, role);
    let id: string | undefined;
    await stack.api.waitFor(async () => {
      id = (await idsOf(role)).find((p) => !before.has(p));
      return id !== undefined;
    }, 30_000);
    return [key, id!];
  };
  const approve = (key: string, approvalId: string) => stack.call(key, 'POST', `/v1/approvals/${approvalId}/approve`);
  const request = async (answer: Promise<HttpAnswer>): Promise<Approval> => {
    const done = await answer;
    expect(done.status).toBe(202);
    return done.json<{ pendingApproval: Approval }>().pendingApproval;
  };
  const deactivatedKey = async (): Promise<string> => {
    const keyId = (await stack.call(alice, 'POST', '/v1/keys', { activate: true })).json<{ key: { keyId: string } }>().key.keyId;
    expect((await stack.call(alice, 'POST', `/v1/keys/${keyId}/deactivate`)).status).toBe(200);
    return keyId;
  };
  const destroyAfter = async (keyId: string, minSeq: number): Promise<string | null> =>
    (await stack.call(alice, 'GET', `/v1/keys/${keyId}?minSeq=${minSeq}`)).json<{ destroyAfter: string | null }>().destroyAfter;

  beforeAll(async () => {
    await stack.start();
    ({ adminKey: alice } = await stack.onboard('Standing Admins'));
    // Alone, Alice takes adding admins out of dual control so the test helper can add three of them.
    const open = await stack.call(alice, 'PUT', '/v1/tenant/policy', {
      dualControl: { quorum: null, operations: ['key.schedule-destruction'] },
    });
    expect(open.status).toBe(200);
    ids.alice = (await settled('tenant-admin', 1))[0]!;
    [bob, ids.bob] = await newPrincipal('tenant-admin', 1);
    [carol, ids.carol] = await newPrincipal('tenant-admin', 2);
    [dave, ids.dave] = await newPrincipal('tenant-admin', 3);
    // Three of the four must agree from now on, on destruction and on managing admins.
    const strict = await stack.call(alice, 'PUT', '/v1/tenant/policy', {
      dualControl: { quorum: 3, operations: ['key.schedule-destruction', 'principal.manage-admin', 'tenant.set-policy'] },
    });
    expect(strict.status).toBe(200);
  });
  afterAll(() => stack.stop());

  it("binding a co-administrator's certificate needs the quorum; a key-user's does not", async () => {
    const pending = await request(stack.call(alice, 'PUT', `/v1/principals/${ids.carol}/certificate`, { fingerprint: 'ab'.repeat(32) }));
    expect(pending).toMatchObject({ status: 'Pending', quorum: 3 });
    // Nothing changed yet: Carol's key still works without a certificate.
    expect((await stack.call(carol, 'GET', '/v1/keys')).status).toBe(200);
    expect((await stack.call(carol, 'POST', `/v1/approvals/${pending.approvalId}/reject`, { reason: 'mine' })).status).toBe(409);
    expect((await approve(bob, pending.approvalId)).status).toBe(200);
    expect((await approve(dave, pending.approvalId)).json<{ approval: Approval }>().approval.status).toBe('Executed');
    const alone = await stack.call(carol, 'GET', '/v1/keys');
    expect([alone.status, problem(alone)[1]]).toEqual([401, 'client-certificate-required']);
    // Unbinding her again is dual-controlled too.
    const unbind = await request(stack.call(alice, 'DELETE', `/v1/principals/${ids.carol}/certificate`));
    await approve(bob, unbind.approvalId);
    await approve(dave, unbind.approvalId);
    expect((await stack.call(carol, 'GET', '/v1/keys')).status).toBe(200);

    const [, userId] = await newPrincipal('key-user', 0);
    const bound = await stack.call(alice, 'PUT', `/v1/principals/${userId}/certificate`, { fingerprint: 'cd'.repeat(32) });
    expect(bound.status).toBe(200);
    expect(bound.json()).toMatchObject({ principalId: userId, certificate: { fingerprint: 'cd'.repeat(32), boundBy: ids.alice } });
    const newline = await stack.call(alice, 'PUT', `/v1/principals/${userId}/certificate`, { subject: 'CN=app\nO=Victim' });
    expect(newline.status).toBe(400);
  });

  it('the administrator whose revocation is requested cannot reject it; the others still can', async () => {
    const pending = await request(stack.call(alice, 'DELETE', `/v1/principals/${ids.dave}`));
    const veto = await stack.call(dave, 'POST', `/v1/approvals/${pending.approvalId}/reject`, { reason: 'no' });
    expect(problem(veto)).toEqual([409, 'illegal-transition', 'the administrator this request acts on cannot reject it']);
    const listed = await stack.call(alice, 'GET', '/v1/approvals?status=Pending');
    expect(listed.json<{ items: Approval[] }>().items.map((a) => a.approvalId)).toContain(pending.approvalId);
    const closed = await stack.call(carol, 'POST', `/v1/approvals/${pending.approvalId}/reject`, { reason: 'not today' });
    expect(closed.json<{ approval: Approval }>().approval.status).toBe('Rejected');
  });

  it("approvals of an admin revoked since stop counting, and a revoked admin's own requests can no longer execute", async () => {
    const keyId = await deactivatedKey();
    const destroy = await request(stack.call(alice, 'POST', `/v1/keys/${keyId}/schedule-destruction`, { waitingPeriodDays: 3 }));
    expect((await approve(bob, destroy.approvalId)).json<{ approval: Approval }>().approval).toMatchObject({ approvals: 2 });
    const bobsKey = await deactivatedKey();
    const bobs = await request(stack.call(bob, 'POST', `/v1/keys/${bobsKey}/schedule-destruction`, { waitingPeriodDays: 3 }));

    // Bob is revoked: Alice asks, Carol and Dave agree.
    const revoke = await request(stack.call(alice, 'DELETE', `/v1/principals/${ids.bob}`));
    await approve(carol, revoke.approvalId);
    const revoked = await approve(dave, revoke.approvalId);
    expect(revoked.json<{ approval: Approval }>().approval.status).toBe('Executed');
    expect((await stack.call(bob, 'GET', '/v1/keys')).status).toBe(401);

    // With Bob's approval Carol's would make three; without it, two: still pending.
    const carols = await approve(carol, destroy.approvalId);
    expect(carols.status).toBe(200);
    expect(carols.json<{ approval: Approval }>().approval.status).toBe('Pending');
    expect(await destroyAfter(keyId, carols.json<{ seq: number }>().seq)).toBeNull();
    const daves = await approve(dave, destroy.approvalId);
    expect(daves.json<{ approval: Approval }>().approval.status).toBe('Executed');
    expect(await destroyAfter(keyId, daves.json<{ seq: number }>().seq)).not.toBeNull();

    // Bob's own pending request cannot execute any more.
    const late = await approve(carol, bobs.approvalId);
    expect(problem(late)).toEqual([
      409,
      'illegal-transition',
      `the requester of approval ${bobs.approvalId} has been revoked; the request can no longer execute`,
    ]);
  });
});
