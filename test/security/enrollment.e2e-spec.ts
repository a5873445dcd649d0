import { constants, createHash, generateKeyPairSync, privateDecrypt } from 'node:crypto';
import { uniqueName } from '../support/env';
import { enrollWith, KeywardStack } from '../support/keyward-stack';
import type { HttpAnswer, ServiceProcess } from '../support/service-process';

jest.setTimeout(240_000);

/** Any Keyward API key, anywhere in a text. */
const API_KEY = /kw_[A-Za-z0-9]{16}_[A-Za-z0-9_-]{43}/;

const problemType = (answer: HttpAnswer): string => answer.json<{ type: string }>().type.replace('urn:keyward:problem:', '');

interface Enrollment {
  token: string;
  expiresAt: string;
  publicKeyFingerprint?: string;
}

interface CommitDoc {
  tenantId: string;
  seq: number;
  events: { type: string; actor: { principalId: string }; at: string; data: Record<string, unknown> }[];
}

/**
 * Finding 4: nobody but a new principal ever receives its API key. Onboarding, creation and the
 * approval that creates an admin answer a one-time enrollment token; the principal redeems it
 * itself (POST /v1/enroll), once, before it expires, and the redemption is in the tenant's log.
 */
describe('enrollment: a new principal receives its API key itself, nobody else ever sees it', () => {
  const stack = new KeywardStack();
  let tenantId: string;
  let alice: string;
  let aliceToken: string;
  let bob: string;

  const redeem = (token: string, api: ServiceProcess = stack.api): Promise<HttpAnswer> =>
    api.request('POST', '/v1/enroll', { body: { token } });
  const create = (as: string, role: string, extra: Record<string, unknown> = {}) =>
    stack.call(as, 'POST', '/v1/principals', { name: uniqueName(role), role, ...extra });
  const commits = (id: string) => stack.db.collection<CommitDoc>('commits').find({ tenantId: id }).sort({ seq: 1 }).toArray();

  beforeAll(async () => {
    await stack.start();
    const onboarded = await stack.call(stack.providerKey, 'POST', '/v1/tenants', { name: uniqueName('Enrollment Corp') });
    expect(onboarded.status).toBe(201);
    // The provider receives a token, not the first admin's key (the old answer carried admin.apiKey).
    expect(onboarded.body).not.toMatch(API_KEY);
    const body = onboarded.json<{ tenantId: string; admin: { principalId: string; enrollment: Enrollment; apiKey?: string } }>();
    expect(body.admin.apiKey).toBeUndefined();
    expect(body.admin.enrollment.token).toMatch(/^kwe\./);
    tenantId = body.tenantId;
    aliceToken = body.admin.enrollment.token;
    const redeemed = await redeem(aliceToken);
    expect(redeemed.status).toBe(200);
    alice = redeemed.json<{ apiKey: string }>().apiKey;
    expect(alice).toMatch(API_KEY);
    expect(redeemed.json()).toMatchObject({ principalId: body.admin.principalId, tenantId, role: 'tenant-admin' });
    expect((await stack.call(alice, 'GET', '/v1/keys')).status).toBe(200);
  });
  afterAll(() => stack.stop());

  it('a token works once: the second redemption is refused plainly', async () => {
    const again = await redeem(aliceToken);
    expect([again.status, problemType(again)]).toEqual([409, 'enrollment-token-used']);
    expect(again.body).not.toMatch(API_KEY);
  });

  it('an admin creating a principal never sees its key, and cannot act as it without the token', async () => {
    const made = await create(alice, 'key-user');
    expect(made.status).toBe(201);
    expect(made.body).not.toMatch(API_KEY);
    const { principalId, enrollment } = made.json<{ principalId: string; enrollment: Enrollment; apiKey?: string }>();
    expect(made.json<{ apiKey?: string }>().apiKey).toBeUndefined();
    // No credential of the new principal exists until it redeems its token: there is nothing the admin could hold.
    const credentials = stack.db.collection('credentials');
    expect(await credentials.countDocuments({ principalId })).toBe(0);
    const redeemed = await redeem(enrollment.token);
    expect(redeemed.status).toBe(200);
    expect(await credentials.countDocuments({ principalId })).toBe(1);
    const key = redeemed.json<{ apiKey: string }>().apiKey;
    expect((await stack.call(key, 'GET', '/v1/keys')).status).toBe(200);
  });

  it('the second admin, the approval of the third and GET /v1/approvals carry no API key', async () => {
    const second = await create(alice, 'tenant-admin');
    expect(second.status).toBe(201); // one admin alone may add the second
    expect(second.body).not.toMatch(API_KEY);
    bob = (await enrollWith(stack.api, second.json<{ enrollment: Enrollment }>().enrollment.token)).apiKey;

    const requested = await create(alice, 'tenant-admin');
    expect(requested.status).toBe(202);
    expect(requested.body).not.toMatch(API_KEY);
    const approvalId = requested.json<{ pendingApproval: { approvalId: string } }>().pendingApproval.approvalId;
    const approved = await stack.call(bob, 'POST', `/v1/approvals/${approvalId}/approve`);
    expect(approved.status).toBe(200);
    expect(approved.body).not.toMatch(API_KEY);
    const issued = approved.json<{ issued: { principalId: string; enrollment: Enrollment; apiKey?: string } }>().issued;
    expect(issued.apiKey).toBeUndefined();
    const listed = await stack.call(alice, 'GET', '/v1/approvals');
    expect(listed.status).toBe(200);
    expect(listed.body).not.toMatch(API_KEY);
    expect(listed.body).not.toContain(issued.enrollment.token);
    const carol = await redeem(issued.enrollment.token);
    expect(carol.status).toBe(200);
    expect((await stack.call(carol.json<{ apiKey: string }>().apiKey, 'GET', '/v1/keys')).status).toBe(200);
  });

  it('wrong, malformed, revoked and expired tokens are refused with one and the same answer', async () => {
    const made = (await create(alice, 'auditor')).json<{ principalId: string; enrollment: Enrollment }>();
    const token = made.enrollment.token;
    const last = token.at(-1) === 'A' ? 'B' : 'A';
    const wrong = await redeem(`${token.slice(0, -1)}${last}`);
    const malformed = await redeem('kwe.not-a-token');
    const unknownTenant = await redeem(token.replace(tenantId, 'tnt_000000000unknowntenant1'));
    const refusal = (a: HttpAnswer) => [a.status, a.json<{ type: string; title: string; detail: string }>()];
    expect(refusal(wrong)).toEqual([401, expect.objectContaining({ type: expect.stringMatching(/invalid-enrollment-token$/) as unknown })]);
    const same = (a: HttpAnswer) => {
      const { type, title, detail, status } = a.json<{ type: string; title: string; detail: string; status: number }>();
      return { type, title, detail, status };
    };
    expect(same(malformed)).toEqual(same(wrong));
    expect(same(unknownTenant)).toEqual(same(wrong));

    const revoked = (await create(alice, 'key-user')).json<{ principalId: string; enrollment: Enrollment }>();
    expect((await stack.call(alice, 'DELETE', `/v1/principals/${revoked.principalId}`)).status).toBe(200);
    expect(same(await redeem(revoked.enrollment.token))).toEqual(same(wrong));

    // 73 hours later on the business clock (ENROLLMENT_TTL_HOURS defaults to 72).
    const later = await stack.startApi({ KEYWARD_CLOCK_OFFSET_MS: String(73 * 3_600_000) });
    try {
      expect(same(await redeem(token, later))).toEqual(same(wrong));
    } finally {
      await later.stop();
    }
    // The token itself was fine: it still works before it expires.
    expect((await redeem(token)).status).toBe(200);
  });

  it("the redemption is in the tenant's log with its time and origin, and no secret", async () => {
    const made = (await create(alice, 'key-user')).json<{ principalId: string; enrollment: Enrollment }>();
    const redeemed = await stack.api.request('POST', '/v1/enroll', {
      body: { token: made.enrollment.token },
      headers: { 'user-agent': 'enrollment-spec/1.0' },
    });
    const { apiKey } = redeemed.json<{ apiKey: string }>();
    const log = await commits(tenantId);
    const enrolled = log
      .flatMap((c) => c.events)
      .filter((e) => e.type === 'principal.enrolled.v1' && e.data.principalId === made.principalId);
    expect(enrolled).toEqual([
      expect.objectContaining({
        actor: expect.objectContaining({ principalId: made.principalId }) as unknown,
        at: expect.any(String) as unknown,
        data: {
          principalId: made.principalId,
          from: { address: expect.stringMatching(/127\.0\.0\.1/) as unknown, userAgent: 'enrollment-spec/1.0' },
        },
      }),
    ]);
    const issued = log
      .flatMap((c) => c.events)
      .find((e) => e.type === 'principal.enrollment-issued.v1' && e.data.principalId === made.principalId);
    const secret = made.enrollment.token.split('.').at(-1)!;
    expect(issued?.data.tokenHash).toBe(createHash('sha256').update(secret).digest('hex'));
    const everything = JSON.stringify(log);
    expect(everything).not.toContain(secret);
    expect(everything).not.toContain(apiKey.split('_').at(-1));
    expect(everything).not.toMatch(API_KEY);
  });

  it('with a public key the API key comes back wrapped under it; approvers see its fingerprint', async () => {
    const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = pair.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const fingerprint = `sha256:${createHash('sha256')
      .update(pair.publicKey.export({ type: 'spki', format: 'der' }))
      .digest('hex')}`;
    const requested = await create(alice, 'tenant-admin', { enrollment: { publicKey: pem } });
    expect(requested.status).toBe(202);
    const approvalId = requested.json<{ pendingApproval: { approvalId: string } }>().pendingApproval.approvalId;
    const pending = (await stack.call(bob, 'GET', `/v1/approvals/${approvalId}`)).json<{ command: Record<string, unknown> }>();
    expect(pending.command).toMatchObject({ kind: 'principal.create', role: 'tenant-admin', publicKeyFingerprint: fingerprint });
    expect(pending.command).not.toHaveProperty('enrollmentKey');
    const approved = await stack.call(bob, 'POST', `/v1/approvals/${approvalId}/approve`);
    const issued = approved.json<{ issued: { enrollment: Enrollment } }>().issued;
    expect(issued.enrollment.publicKeyFingerprint).toBe(fingerprint);
    // Whoever holds the token (here the approver) gets only the wrapped key.
    const redeemed = await redeem(issued.enrollment.token);
    expect(redeemed.status).toBe(200);
    expect(redeemed.body).not.toMatch(API_KEY);
    const { wrappedApiKey, wrapping } = redeemed.json<{ wrappedApiKey: string; wrapping: string }>();
    expect(wrapping).toBe('RSA-OAEP-SHA256');
    const opened = privateDecrypt(
      { key: pair.privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
      Buffer.from(wrappedApiKey, 'base64'),
    ).toString('utf8');
    expect((await stack.call(opened, 'GET', '/v1/keys')).status).toBe(200);

    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const refused = await create(alice, 'key-user', { enrollment: { publicKey: ec } });
    expect([refused.status, problemType(refused)]).toEqual([422, 'invalid-public-key']);
  });

  it('re-issue replaces an unredeemed token; for an admin it needs an approval; an enrolled principal gets none', async () => {
    const made = (await create(alice, 'key-user')).json<{ principalId: string; enrollment: Enrollment }>();
    const reissued = await stack.call(alice, 'POST', `/v1/principals/${made.principalId}/enrollment`, {});
    expect(reissued.status).toBe(201);
    const fresh = reissued.json<{ enrollment: Enrollment }>().enrollment;
    expect(reissued.body).not.toMatch(API_KEY);
    expect([(await redeem(made.enrollment.token)).status]).toEqual([401]);
    expect((await redeem(fresh.token)).status).toBe(200);
    const again = await stack.call(alice, 'POST', `/v1/principals/${made.principalId}/enrollment`, {});
    expect([again.status, problemType(again)]).toEqual([409, 'illegal-transition']);
    // Only administrators issue tokens.
    const user = await stack.principal(alice, 'key-user');
    const auditor = await stack.principal(alice, 'auditor');
    for (const key of [user, auditor]) {
      expect((await stack.call(key, 'POST', `/v1/principals/${made.principalId}/enrollment`, {})).status).toBe(403);
    }

    const requested = await create(alice, 'tenant-admin');
    const approvalId = requested.json<{ pendingApproval: { approvalId: string } }>().pendingApproval.approvalId;
    const approved = (await stack.call(bob, 'POST', `/v1/approvals/${approvalId}/approve`)).json<{
      issued: { principalId: string; enrollment: Enrollment };
    }>().issued;
    const pendingReissue = await stack.call(alice, 'POST', `/v1/principals/${approved.principalId}/enrollment`, {});
    expect(pendingReissue.status).toBe(202);
    const next = pendingReissue.json<{ enrollment: Enrollment; pendingApproval: { approvalId: string } }>();
    expect((await redeem(next.enrollment.token)).status).toBe(401); // not before the approval executes
    expect((await stack.call(bob, 'POST', `/v1/approvals/${next.pendingApproval.approvalId}/approve`)).status).toBe(200);
    expect((await redeem(approved.enrollment.token)).status).toBe(401); // replaced
    expect((await redeem(next.enrollment.token)).status).toBe(200);
  });

  it('refused redemptions are limited per client address', async () => {
    const limited = await stack.startApi({ ENROLLMENT_RATE_PER_MINUTE: '3' });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++)
        statuses.push((await redeem(`kwe.${tenantId}.prn_000000000nobodyatall1.${'A'.repeat(43)}`, limited)).status);
      expect(statuses).toEqual([401, 401, 401, 429]);
    } finally {
      await limited.stop();
    }
  });
});
