import { KeywardStack } from '../support/keyward-stack';
import type { HttpAnswer, ServiceProcess } from '../support/service-process';
import { uniqueName } from '../support/env';

/**
 * Issue 18: per-key grants with conditions. In a grants-required tenant, a matrix of principals x
 * keys x operations x conditions proves that what a grant allows answers 2xx and everything else
 * 403 (404 where the principal holds no grant on the key at all, so may not even read it: as for
 * a key that does not exist); a route the principal's role may not call is 403 whatever the key
 * (nothing about keys leaks); an open tenant behaves as before grants; grants never cross tenants; a revocation made on instance A refuses the next
 * request on instance B once B hears of the commit (the delay is printed, not asserted); the
 * audit's state and access at an instant before and after a change match what was enforced then.
 */
jest.setTimeout(300_000);

const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const show = (a: HttpAnswer): string => `${a.status} ${a.body.slice(0, 300)}`;

type Op = 'encrypt' | 'decrypt' | 'data-key' | 'rewrap' | 'mac' | 'verify-mac' | 'read';
const OPS: readonly Op[] = ['encrypt', 'decrypt', 'data-key', 'rewrap', 'mac', 'verify-mac', 'read'];
type KeyName = 'PAY' | 'HR' | 'SIG' | 'CTX' | 'WIN';
const KEYS: readonly KeyName[] = ['PAY', 'HR', 'SIG', 'CTX', 'WIN'];
/** The encryption context CTX's grant requires (as the AAD, a JSON object). */
const GOOD_CONTEXT = b64(JSON.stringify({ svc: 'billing', order: '42' }));
const BAD_CONTEXT = b64(JSON.stringify({ svc: 'hr' }));

/**
 * The oracle, by hand: what `app` may do. Its grants: PAY by id (encrypt, decrypt, data-key, rewrap,
 * read); SIG by label team=sig (mac); CTX by alias prefix (encrypt, decrypt with svc=billing in
 * the context); WIN by id (encrypt, from a notBefore in the future). `other` holds no grant.
 */
function expected(principal: 'app' | 'other', key: KeyName, op: Op, context: 'good' | 'bad' = 'good'): number {
  if (principal === 'other' || key === 'HR') return 404;
  switch (key) {
    case 'PAY':
      return ['encrypt', 'decrypt', 'data-key', 'rewrap', 'read'].includes(op) ? 200 : 403;
    case 'SIG':
      return op === 'mac' ? 200 : 403;
    case 'CTX':
      return (op === 'encrypt' || op === 'decrypt') && context === 'good' ? 200 : 403;
    case 'WIN':
      return 403;
  }
}

describe('grants (issue 18) on REST, real Kafka and FerretDB', () => {
  const stack = new KeywardStack();
  let b: ServiceProcess;
  let admin: string;
  let tenantId: string;
  const users = {} as Record<'app' | 'other' | 'maker', { principalId: string; apiKey: string }>;
  const keyIds = {} as Record<KeyName, string>;
  const ciphertexts = {} as Record<KeyName, string>;
  let sigMac = '';
  const grantIds = {} as Record<'pay' | 'sig' | 'ctx' | 'win', string>;
  let suffix = '';
  /** An instant before app held any grant (its use of PAY was refused then: checked in beforeAll). */
  let beforeGrantsAt = '';

  const grant = async (principalId: string, operations: string[], keys: unknown, conditions?: unknown): Promise<string> => {
    const answer = await stack.call(admin, 'POST', '/v1/grants', { principalId, operations, keys, ...(conditions ? { conditions } : {}) });
    if (answer.status !== 201) throw new Error(`grant: ${show(answer)}`);
    return answer.json<{ grant: { grantId: string } }>().grant.grantId;
  };

  /** One request of `op` on `key` as `who`, on instance A (or `api`). */
  const attempt = (who: string, key: KeyName, op: Op, context: 'good' | 'bad' = 'good', api?: ServiceProcess): Promise<HttpAnswer> => {
    const id = keyIds[key];
    const aad = key === 'CTX' ? { aad: context === 'good' ? GOOD_CONTEXT : BAD_CONTEXT } : {};
    const call = (method: string, path: string, body?: unknown) =>
      api ? stack.callOn(api, who, method, path, body) : stack.call(who, method, path, body);
    switch (op) {
      case 'encrypt':
        return call('POST', `/v1/keys/${id}/encrypt`, { plaintext: b64('hello'), ...aad });
      case 'decrypt':
        return call('POST', '/v1/decrypt', { ciphertext: ciphertexts[key], ...aad });
      case 'data-key':
        return call('POST', `/v1/keys/${id}/data-key`, { bytes: 32, ...aad });
      case 'rewrap':
        return call('POST', '/v1/rewrap', { ciphertext: ciphertexts[key], ...aad });
      case 'mac':
        return call('POST', `/v1/keys/${id}/mac`, { data: b64('hello') });
      case 'verify-mac':
        // A MAC made with SIG: on SIG it verifies; on another key it would be a mismatch, once the grants let the caller see the key.
        return call('POST', `/v1/keys/${id}/verify-mac`, { data: b64('hello'), mac: sigMac });
      case 'read':
        return call('GET', `/v1/keys/${id}`);
    }
  };

  beforeAll(async () => {
    await stack.start();
    b = await stack.startApi({ CRYPTO_STATE_TTL_MS: '600000' });
    suffix = uniqueName('g')
      .replace(/[^A-Za-z0-9]/g, '')
      .slice(-8)
      .toLowerCase();
    ({ tenantId, adminKey: admin } = await stack.onboard(uniqueName('Grants'), 'required'));
    for (const name of ['app', 'other', 'maker'] as const) users[name] = await stack.principalWithId(admin, 'key-user');
    const make = async (body: Record<string, unknown>): Promise<string> => {
      const made = await stack.call(admin, 'POST', '/v1/keys', { activate: true, ...body });
      if (made.status !== 201) throw new Error(`key: ${show(made)}`);
      return made.json<{ key: { keyId: string } }>().key.keyId;
    };
    keyIds.PAY = await make({ alias: `pay/${suffix}`, labels: { team: 'pay' } });
    keyIds.HR = await make({ alias: `hr/${suffix}`, labels: { team: 'hr' } });
    keyIds.SIG = await make({ keyType: 'HMAC-SHA256', alias: `sig/${suffix}`, labels: { team: 'sig' } });
    keyIds.CTX = await make({ alias: `ctx-${suffix}/main` });
    keyIds.WIN = await make({ alias: `win/${suffix}` });

    // The maker may do everything with every key: it makes the ciphertexts and the MAC the matrix replays.
    await grant(users.maker.principalId, ['encrypt', 'decrypt', 'data-key', 'rewrap', 'mac', 'verify-mac', 'read'], {
      ids: Object.values(keyIds),
    });
    for (const key of ['PAY', 'HR', 'CTX', 'WIN'] as const) {
      const aad = key === 'CTX' ? { aad: GOOD_CONTEXT } : {};
      const made = await stack.call(users.maker.apiKey, 'POST', `/v1/keys/${keyIds[key]}/encrypt`, { plaintext: b64('hello'), ...aad });
      if (made.status !== 200) throw new Error(`maker encrypt ${key}: ${show(made)}`);
      ciphertexts[key] = made.json<{ ciphertext: string }>().ciphertext;
    }
    const mac = await stack.call(users.maker.apiKey, 'POST', `/v1/keys/${keyIds.SIG}/mac`, { data: b64('hello') });
    sigMac = mac.json<{ mac: string }>().mac;

    // Before its grants: app's use of PAY is refused (404), and that instant is kept for the audit.
    const refused = await stack.call(users.app.apiKey, 'POST', `/v1/keys/${keyIds.PAY}/encrypt`, { plaintext: b64('x') });
    if (refused.status !== 404) throw new Error(`app before its grants: ${show(refused)}`);
    await sleep(50);
    beforeGrantsAt = new Date().toISOString();
    await sleep(50);
    const app = users.app.principalId;
    grantIds.pay = await grant(app, ['encrypt', 'decrypt', 'data-key', 'rewrap', 'read'], { ids: [keyIds.PAY] });
    grantIds.sig = await grant(app, ['mac'], { labels: { team: 'sig' } });
    grantIds.ctx = await grant(app, ['encrypt', 'decrypt'], { aliasPrefix: `ctx-${suffix}/` }, { encryptionContext: { svc: 'billing' } });
    grantIds.win = await grant(app, ['encrypt'], { ids: [keyIds.WIN] }, { notBefore: '2099-01-01T00:00:00Z' });
  });

  afterAll(async () => {
    await (b as ServiceProcess | undefined)?.stop();
    await stack.stop();
  });

  describe.each(['app', 'other'] as const)('%s', (principal) => {
    it.each(KEYS)('on %s: what its grants allow answers 2xx, the rest 403, keys it holds no grant on 404', async (key) => {
      const outcomes: string[] = [];
      const wanted: string[] = [];
      for (const op of OPS) {
        // No ciphertext exists under an HMAC key.
        if (key === 'SIG' && (op === 'decrypt' || op === 'rewrap')) continue;
        const contexts = key === 'CTX' && (op === 'encrypt' || op === 'decrypt') ? (['good', 'bad'] as const) : (['good'] as const);
        for (const context of contexts) {
          const answer = await attempt(users[principal].apiKey, key, op, context);
          const status = answer.status >= 200 && answer.status < 300 ? 200 : answer.status;
          outcomes.push(`${op}/${context} ${status}${status === 200 ? '' : ` ${answer.json<{ type?: string }>().type ?? ''}`}`);
          const want = expected(principal, key, op, context);
          wanted.push(`${op}/${context} ${want}${want === 200 ? '' : ` urn:keyward:problem:${want === 404 ? 'not-found' : 'forbidden'}`}`);
        }
      }
      expect(outcomes).toEqual(wanted);
    });
  });

  it('the 403 names the unmet condition; a key-user lists only its own grants', async () => {
    const win = await attempt(users.app.apiKey, 'WIN', 'encrypt');
    expect(win.json<{ reason?: string; detail: string }>().detail).toMatch(/not in force yet/);
    const ctx = await attempt(users.app.apiKey, 'CTX', 'encrypt', 'bad');
    expect(ctx.json<{ detail: string }>().detail).toMatch(/encryption context/);
    const own = (await stack.call(users.app.apiKey, 'GET', '/v1/grants')).json<{ mode: string; items: { grantId: string }[] }>();
    expect(own.mode).toBe('required');
    expect(own.items.map((g) => g.grantId).sort()).toEqual(Object.values(grantIds).sort());
    const none = (await stack.call(users.other.apiKey, 'GET', `/v1/grants?principalId=${users.app.principalId}`)).json<{ items: [] }>();
    expect(none.items).toEqual([]);
    expect((await stack.call(users.other.apiKey, 'GET', `/v1/grants/${grantIds.pay}`)).status).toBe(404);
    const byKey = (await stack.call(admin, 'GET', `/v1/grants?keyId=${keyIds.SIG}`)).json<{ items: { grantId: string }[] }>();
    expect(byKey.items.map((g) => g.grantId)).toContain(grantIds.sig);
    // A key-user's key list shows only the keys it may read.
    const listed = (await stack.call(users.app.apiKey, 'GET', '/v1/keys?limit=200')).json<{ items: { keyId: string }[] }>();
    expect(listed.items.map((k) => k.keyId)).toEqual([keyIds.PAY]);
  });

  it('a refusal by role tells nothing about which keys exist: the same 403 for a readable key, an unreadable one and none', async () => {
    // The 404 of the matrix is for what a principal may do with keys; a route its role may not call at
    // all (a key-user's lifecycle command, any route for a kmip-client, which uses KMIP only) is refused
    // before any key is looked at, identically for every key id.
    const appliance = await stack.principalWithId(admin, 'kmip-client');
    const nowhere = 'key_nowhere0000000000';
    const answers: Record<string, string[]> = {};
    for (const [who, key] of [
      ['app', users.app.apiKey],
      ['kmip-client', appliance.apiKey],
    ] as const) {
      for (const [name, id] of [
        ['readable', keyIds.PAY],
        ['unreadable', keyIds.HR],
        ['nowhere', nowhere],
      ] as const) {
        const deactivate = await stack.call(key, 'POST', `/v1/keys/${id}/deactivate`, {});
        const encrypt =
          who === 'kmip-client' ? await stack.call(key, 'POST', `/v1/keys/${id}/encrypt`, { plaintext: b64('x') }) : undefined;
        answers[`${who} ${name}`] = [deactivate, ...(encrypt ? [encrypt] : [])].map(
          (a) => `${a.status} ${a.json<{ type?: string }>().type ?? ''}`,
        );
      }
    }
    const forbidden = '403 urn:keyward:problem:forbidden-role';
    expect(answers).toEqual({
      'app readable': [forbidden],
      'app unreadable': [forbidden],
      'app nowhere': [forbidden],
      'kmip-client readable': [forbidden, forbidden],
      'kmip-client unreadable': [forbidden, forbidden],
      'kmip-client nowhere': [forbidden, forbidden],
    });
  });

  it('refuses malformed grants with precise problems', async () => {
    const app = users.app.principalId;
    const cases: [unknown, number][] = [
      [{ principalId: app, operations: [], keys: { ids: [keyIds.PAY] } }, 400],
      [{ principalId: app, operations: ['launch'], keys: { ids: [keyIds.PAY] } }, 400],
      [{ principalId: app, operations: ['encrypt'], keys: { ids: [keyIds.PAY], aliasPrefix: 'x' } }, 400],
      [{ principalId: app, operations: ['encrypt'], keys: { ids: ['../etc'] } }, 400],
      [{ principalId: app, operations: ['encrypt'], keys: { ids: [keyIds.PAY] }, conditions: { notAfter: '2001-01-01T00:00:00Z' } }, 422],
      [{ principalId: app, operations: ['encrypt'], keys: { ids: [keyIds.PAY] }, tenantId: 'tnt_other0000001' }, 400],
      [{ principalId: 'prn_nobody00000', operations: ['encrypt'], keys: { ids: [keyIds.PAY] } }, 404],
    ];
    for (const [body, status] of cases) {
      const answer = await stack.call(admin, 'POST', '/v1/grants', body);
      expect({ body, status: answer.status }).toEqual({ body, status });
      expect(answer.headers['content-type']).toMatch(/problem\+json/);
    }
  });

  it('an open tenant behaves as before grants, and grants never cross tenants', async () => {
    const open = await stack.onboard(uniqueName('Open'), 'open');
    const openUser = await stack.principalWithId(open.adminKey, 'key-user');
    const made = await stack.call(open.adminKey, 'POST', '/v1/keys', { activate: true });
    const openKey = made.json<{ key: { keyId: string } }>().key.keyId;
    const enc = await stack.call(openUser.apiKey, 'POST', `/v1/keys/${openKey}/encrypt`, { plaintext: b64('x') });
    expect(show(enc)).toMatch(/^200 /);
    const policy = (await stack.call(open.adminKey, 'GET', '/v1/tenant/policy')).json<{ grants: string }>();
    expect(policy.grants).toBe('open');
    // The other tenant's admin cannot grant our principals anything (they do not exist there), nor see our grants.
    const cross = await stack.call(open.adminKey, 'POST', '/v1/grants', {
      principalId: users.other.principalId,
      operations: ['encrypt'],
      keys: { ids: [keyIds.HR] },
    });
    expect(cross.status).toBe(404);
    expect((await stack.call(open.adminKey, 'GET', `/v1/grants/${grantIds.pay}`)).status).toBe(404);
    // A grant in the open tenant naming our key id lets its principal reach nothing of ours.
    const theirs = await stack.call(open.adminKey, 'POST', '/v1/grants', {
      principalId: openUser.principalId,
      operations: ['encrypt'],
      keys: { ids: [keyIds.PAY] },
    });
    expect(theirs.status).toBe(201);
    expect((await stack.call(openUser.apiKey, 'POST', `/v1/keys/${keyIds.PAY}/encrypt`, { plaintext: b64('x') })).status).toBe(404);
    // Switching the open tenant to required: its key-user (whose grant names no key of its own) is refused at once.
    const switched = await stack.call(open.adminKey, 'PUT', '/v1/tenant/policy', { grants: 'required' });
    expect(show(switched)).toMatch(/^200 /);
    expect((await stack.call(openUser.apiKey, 'POST', `/v1/keys/${openKey}/encrypt`, { plaintext: b64('x') })).status).toBe(404);
  });

  it('usage records name the grant that allowed each operation', async () => {
    const enc = await attempt(users.app.apiKey, 'PAY', 'encrypt');
    expect(enc.status).toBe(200);
    let found: { grantId?: string; principalId: string; outcome: string }[] = [];
    const until = Date.now() + 30_000;
    while (Date.now() < until) {
      const usage = await stack.call(admin, 'GET', `/v1/audit/usage?keyId=${keyIds.PAY}`);
      found = usage.json<{ items: { grantId?: string; principalId: string; outcome: string }[] }>().items;
      if (found.some((r) => r.principalId === users.app.principalId && r.outcome === 'ok')) break;
      await sleep(500);
    }
    const mine = found.filter((r) => r.principalId === users.app.principalId);
    expect(mine.some((r) => r.outcome === 'ok' && r.grantId === grantIds.pay)).toBe(true);
    expect(mine.filter((r) => r.outcome === 'forbidden').every((r) => r.grantId === undefined)).toBe(true);
  });

  it('a revoked grant refuses the next request on a second instance once it hears of the commit; the audit says so at each instant', async () => {
    // B must serve PAY for app from its own cache first (it learns of grants from the stream or its first read).
    await b.waitFor(async () => (await attempt(users.app.apiKey, 'PAY', 'encrypt', 'good', b)).status === 200, 20_000, 50);
    expect((await attempt(users.app.apiKey, 'PAY', 'encrypt', 'good', b)).status).toBe(200);
    const before = new Date().toISOString();
    await sleep(50);

    const revoked = await stack.call(admin, 'DELETE', `/v1/grants/${grantIds.pay}`);
    const since = Date.now();
    expect(show(revoked)).toMatch(/^200 /);
    let probes = 0;
    let answer: HttpAnswer;
    for (;;) {
      answer = await attempt(users.app.apiKey, 'PAY', 'encrypt', 'good', b);
      probes += 1;
      if (answer.status !== 200 || Date.now() - since > 15_000) break;
      await sleep(10);
    }
    const elapsed = Date.now() - since;
    console.log(`grant revocation on A refused on B after ${elapsed} ms (${probes} probes)`);
    expect(show(answer)).toMatch(/^404 /);
    // And on A, the instance that made the commit, at once.
    expect((await attempt(users.app.apiKey, 'PAY', 'encrypt')).status).toBe(404);
    await sleep(50);
    const after = new Date().toISOString();

    // Three instants, each with what was enforced then: before app's grants (404, checked in
    // beforeAll), while it held the PAY grant (200 on A and B above), after the revocation (404).
    type Access = { mode: string; access: { principalId: string; grantId: string | null; operations: string[]; inForce: boolean }[] };
    const accessAt = async (at: string) =>
      (await stack.call(admin, 'GET', `/v1/audit/access?keyId=${keyIds.PAY}&at=${encodeURIComponent(at)}`)).json<Access>();
    const ofApp = (a: Access) => a.access.filter((x) => x.principalId === users.app.principalId);
    const [earlier, then, now] = [await accessAt(beforeGrantsAt), await accessAt(before), await accessAt(after)];
    expect(earlier.mode).toBe('required');
    expect(ofApp(earlier)).toEqual([]);
    expect(then.mode).toBe('required');
    expect(ofApp(then)).toEqual([
      expect.objectContaining({ grantId: grantIds.pay, operations: ['encrypt', 'decrypt', 'data-key', 'rewrap', 'read'], inForce: true }),
    ]);
    expect(ofApp(now)).toEqual([]);
    expect(now.access.map((a) => a.principalId)).toEqual([users.maker.principalId]);

    type State = { grantMode: string; grants: { grantId: string; principalId: string; revokedAt: string | null }[] };
    const stateAt = async (at: string) => (await stack.call(admin, 'GET', `/v1/audit/state?at=${encodeURIComponent(at)}`)).json<State>();
    const [s0, s1, s2] = [await stateAt(beforeGrantsAt), await stateAt(before), await stateAt(after)];
    expect(s0.grantMode).toBe('required');
    expect(s0.grants.filter((g) => g.principalId === users.app.principalId)).toEqual([]);
    expect(s1.grantMode).toBe('required');
    expect(s1.grants.find((g) => g.grantId === grantIds.pay)?.revokedAt).toBeNull();
    expect(s2.grants.find((g) => g.grantId === grantIds.pay)?.revokedAt).not.toBeNull();
    expect(tenantId).toMatch(/^tnt_/);
  });
});
