import { KeywardStack } from '../support/keyward-stack';
import { uniqueName } from '../support/env';
import type { HttpAnswer } from '../support/service-process';

jest.setTimeout(240_000);

const b64 = (s: string | Buffer): string => (typeof s === 'string' ? Buffer.from(s, 'utf8') : s).toString('base64');
const problemType = (answer: HttpAnswer): string => answer.json<{ type: string }>().type.replace('urn:keyward:problem:', '');

interface KeyAnswer {
  seq: number;
  key: { keyId: string; state: string; latestVersion: number; versions: { version: number; kcv: string }[] };
}
interface Encrypted {
  ciphertext: string;
  keyId: string;
  version: number;
}

describe('crypto data plane end to end (real Kafka and FerretDB)', () => {
  const stack = new KeywardStack();
  let tenantId: string;
  let admin: string;
  let user: string;
  let auditor: string;
  let aes: string;
  let hmac: string;

  const createKey = async (body: Record<string, unknown> = { activate: true }, as = admin): Promise<KeyAnswer> => {
    const answer = await stack.call(as, 'POST', '/v1/keys', body);
    expect(answer.status).toBe(201);
    return answer.json<KeyAnswer>();
  };
  const keyAction = async (keyId: string, action: string, body?: unknown): Promise<HttpAnswer> =>
    stack.call(admin, 'POST', `/v1/keys/${keyId}/${action}`, body);
  const encrypt = async (keyId: string, plaintext: string, aad?: string, as = user): Promise<HttpAnswer> =>
    stack.call(as, 'POST', `/v1/keys/${keyId}/encrypt`, { plaintext: b64(plaintext), ...(aad === undefined ? {} : { aad: b64(aad) }) });
  const decrypt = async (ciphertext: string, aad?: string, as = user): Promise<HttpAnswer> =>
    stack.call(as, 'POST', '/v1/decrypt', { ciphertext, ...(aad === undefined ? {} : { aad: b64(aad) }) });
  const encrypted = async (keyId: string, plaintext: string, aad?: string): Promise<Encrypted> => {
    const answer = await encrypt(keyId, plaintext, aad);
    expect(answer.status).toBe(200);
    return answer.json<Encrypted>();
  };
  const decryptsTo = async (ciphertext: string, aad?: string): Promise<string> => {
    const answer = await decrypt(ciphertext, aad);
    expect(answer.status).toBe(200);
    return Buffer.from(answer.json<{ plaintext: string }>().plaintext, 'base64').toString('utf8');
  };

  beforeAll(async () => {
    await stack.start();
    ({ tenantId, adminKey: admin } = await stack.onboard('Crypto Corp'));
    user = await stack.principal(admin, 'key-user');
    auditor = await stack.principal(admin, 'auditor');
    aes = (await createKey({ activate: true, alias: 'payments' })).key.keyId;
    hmac = (await createKey({ activate: true, keyType: 'HMAC-SHA256' })).key.keyId;
  });
  afterAll(() => stack.stop());

  describe('round trips', () => {
    it.each([
      ['a short text', 'hello, world', undefined],
      ['with AAD', 'card 4111-1111-1111-1111', 'order-42'],
      ['empty plaintext', '', undefined],
      ['64 KiB', 'x'.repeat(64 * 1024), 'big'],
    ])('encrypt then decrypt: %s', async (_, plaintext, aad) => {
      const { ciphertext, keyId, version } = await encrypted(aes, plaintext, aad);
      expect([keyId, version]).toEqual([aes, 1]);
      const answer = await decrypt(ciphertext, aad);
      expect(answer.status).toBe(200);
      expect(answer.json()).toEqual({ plaintext: b64(plaintext), keyId: aes, version: 1 });
    });

    it('encrypts by alias, and the same plaintext twice gives different ciphertexts', async () => {
      const first = await encrypted('alias%2Fpayments', 'same');
      const second = await encrypted(aes, 'same');
      expect(first.keyId).toBe(aes);
      expect(first.ciphertext).not.toBe(second.ciphertext);
      expect(await decryptsTo(first.ciphertext)).toBe('same');
    });

    it.each([16, 24, 32])('data key of %i bytes: the ciphertext decrypts to the plaintext key', async (bytes) => {
      const answer = await stack.call(user, 'POST', `/v1/keys/${aes}/data-key`, { bytes, aad: b64('envelope') });
      expect(answer.status).toBe(200);
      const body = answer.json<{ plaintext: string; ciphertext: string }>();
      expect(Buffer.from(body.plaintext, 'base64')).toHaveLength(bytes);
      const opened = await decrypt(body.ciphertext, 'envelope');
      expect(opened.json<{ plaintext: string }>().plaintext).toBe(body.plaintext);
    });

    it('data key without plaintext answers only the ciphertext', async () => {
      const answer = await stack.call(user, 'POST', `/v1/keys/${aes}/data-key/without-plaintext`, {});
      expect(answer.status).toBe(200);
      const body = answer.json<Record<string, unknown>>();
      expect(body).not.toHaveProperty('plaintext');
      const opened = await decrypt(body.ciphertext as string);
      expect(Buffer.from(opened.json<{ plaintext: string }>().plaintext, 'base64')).toHaveLength(32);
    });

    it('mac and verify-mac: valid for the data, invalid for other data, refused for another key', async () => {
      const made = await stack.call(user, 'POST', `/v1/keys/${hmac}/mac`, { data: b64('message') });
      expect(made.status).toBe(200);
      const { mac } = made.json<{ mac: string }>();
      const verify = (data: string, m = mac, key = hmac) =>
        stack.call(user, 'POST', `/v1/keys/${key}/verify-mac`, { data: b64(data), mac: m });
      expect((await verify('message')).json()).toMatchObject({ valid: true, keyId: hmac, version: 1 });
      expect((await verify('messagE')).json()).toMatchObject({ valid: false });
      const flipped = Buffer.from(mac, 'base64');
      flipped.writeUInt8(flipped.readUInt8(flipped.length - 1) ^ 1, flipped.length - 1);
      expect((await verify('message', flipped.toString('base64'))).json()).toMatchObject({ valid: false });
      const other = (await createKey({ activate: true, keyType: 'HMAC-SHA256' })).key.keyId;
      const mismatch = await verify('message', mac, other);
      expect([mismatch.status, problemType(mismatch)]).toEqual([422, 'mac-key-mismatch']);
    });

    it('a key is used only for its purpose', async () => {
      const macWithAes = await stack.call(user, 'POST', `/v1/keys/${aes}/mac`, { data: b64('x') });
      expect([macWithAes.status, problemType(macWithAes)]).toEqual([422, 'wrong-key-usage']);
      const encryptWithHmac = await encrypt(hmac, 'x');
      expect([encryptWithHmac.status, problemType(encryptWithHmac)]).toEqual([422, 'wrong-key-usage']);
    });
  });

  describe('rotation, rewrap and retired versions', () => {
    it('old ciphertexts still decrypt after rotation; rewrap moves them to the new version; min-decryption-version retires the old', async () => {
      const key = (await createKey()).key.keyId;
      const v1 = await encrypted(key, 'rotate me', 'ctx');
      expect((await keyAction(key, 'rotate')).status).toBe(200);
      const v2 = await encrypted(key, 'fresh', 'ctx');
      expect(v2.version).toBe(2);
      expect(await decryptsTo(v1.ciphertext, 'ctx')).toBe('rotate me');

      const rewrapped = await stack.call(user, 'POST', '/v1/rewrap', { ciphertext: v1.ciphertext, aad: b64('ctx') });
      expect(rewrapped.status).toBe(200);
      const moved = rewrapped.json<Encrypted & { previousVersion: number; plaintext?: string }>();
      expect(moved).toMatchObject({ keyId: key, version: 2, previousVersion: 1 });
      expect(moved).not.toHaveProperty('plaintext');
      expect(await decryptsTo(moved.ciphertext, 'ctx')).toBe('rotate me');
      const wrongAad = await stack.call(user, 'POST', '/v1/rewrap', { ciphertext: v1.ciphertext, aad: b64('other') });
      expect([wrongAad.status, problemType(wrongAad)]).toEqual([422, 'authentication-failed']);

      const retire = await stack.call(admin, 'PUT', `/v1/keys/${key}/min-decryption-version`, { version: 2 });
      expect(retire.status).toBe(200);
      const old = await decrypt(v1.ciphertext, 'ctx');
      expect([old.status, problemType(old)]).toEqual([409, 'key-version-retired']);
      expect(await decryptsTo(moved.ciphertext, 'ctx')).toBe('rotate me');
      const tooHigh = await stack.call(admin, 'PUT', `/v1/keys/${key}/min-decryption-version`, { version: 3 });
      expect(tooHigh.status).toBe(422);
      expect((await stack.call(user, 'PUT', `/v1/keys/${key}/min-decryption-version`, { version: 1 })).status).toBe(403);
    });
  });

  describe('tampering fails authentication, never garbage', () => {
    it('every single flipped byte of a ciphertext is refused (400 malformed or 422 authentication failed)', async () => {
      const { ciphertext } = await encrypted(aes, 'tamper target', 'aad');
      const bytes = Buffer.from(ciphertext, 'base64');
      const outcomes = new Map<string, number>();
      for (let i = 0; i < bytes.length; i++) {
        const copy = Buffer.from(bytes);
        copy.writeUInt8(copy.readUInt8(i) ^ 0x01, i);
        const answer = await decrypt(copy.toString('base64'), 'aad');
        const outcome = `${answer.status} ${answer.status === 200 ? 'DECRYPTED' : problemType(answer)}`;
        outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
      }
      for (const outcome of outcomes.keys()) {
        expect(['400 malformed-ciphertext', '422 authentication-failed', '404 not-found', '404 not-found']).toContain(outcome);
      }
      expect(outcomes.get('422 authentication-failed')).toBeGreaterThan(bytes.length / 2);
    });

    it('a wrong, missing or extra AAD, a truncated ciphertext and junk are refused', async () => {
      const { ciphertext } = await encrypted(aes, 'aad target', 'right');
      for (const answer of [await decrypt(ciphertext, 'wrong'), await decrypt(ciphertext)]) {
        expect([answer.status, problemType(answer)]).toEqual([422, 'authentication-failed']);
      }
      const noAad = (await encrypted(aes, 'no aad')).ciphertext;
      expect((await decrypt(noAad, 'extra')).status).toBe(422);
      const truncated = Buffer.from(ciphertext, 'base64').subarray(0, 40).toString('base64');
      expect([400, 422]).toContain((await decrypt(truncated, 'right')).status);
      const junk = await decrypt(b64('definitely not a ciphertext'));
      expect([junk.status, problemType(junk)]).toEqual([400, 'malformed-ciphertext']);
      const notBase64 = await stack.call(user, 'POST', '/v1/decrypt', { ciphertext: 'not base64!!' });
      expect([notBase64.status, problemType(notBase64)]).toEqual([400, 'validation']);
    });

    it('a tampered keystore entry fails with a keystore-integrity problem, not garbage', async () => {
      const key = (await createKey()).key.keyId;
      const keystore = stack.db.collection<{ _id: string; keyId?: string; sealed: Buffer }>('keystore');
      const doc = await keystore.findOne({ keyId: key });
      expect(doc).not.toBeNull();
      const sealed = Buffer.from((doc!.sealed as unknown as { buffer: Uint8Array }).buffer);
      sealed.writeUInt8(sealed.readUInt8(sealed.length - 1) ^ 0x01, sealed.length - 1);
      await keystore.updateOne({ _id: doc!._id }, { $set: { sealed } });
      const answer = await encrypt(key, 'never');
      expect([answer.status, problemType(answer)]).toEqual([503, 'keystore-integrity']);
    });

    it('a tampered tenant KEK fails with a keystore-integrity problem', async () => {
      const other = await stack.onboard(uniqueName('Kek Tamper'));
      const keystore = stack.db.collection<{ _id: string; sealed: Buffer }>('keystore');
      const doc = await keystore.findOne({ _id: `kek:${other.tenantId}` });
      const sealed = Buffer.from((doc!.sealed as unknown as { buffer: Uint8Array }).buffer);
      sealed.writeUInt8(sealed.readUInt8(20) ^ 0x80, 20);
      await keystore.updateOne({ _id: doc!._id }, { $set: { sealed } });
      // This instance unwrapped the KEK at onboarding; a fresh instance reads the tampered one.
      const fresh = await stack.startApi();
      try {
        const created = await stack.callOn(fresh, other.adminKey, 'POST', '/v1/keys', { activate: true });
        expect([created.status, problemType(created)]).toEqual([503, 'keystore-integrity']);
      } finally {
        await fresh.stop();
      }
    });
  });

  describe('who may use keys', () => {
    it('only key-users: tenant-admins, auditors and provider-admins get 403', async () => {
      const { ciphertext } = await encrypted(aes, 'roles');
      for (const key of [admin, auditor, stack.providerKey]) {
        expect((await encrypt(aes, 'x', undefined, key)).status).toBe(403);
        expect((await decrypt(ciphertext, undefined, key)).status).toBe(403);
        expect((await stack.call(key, 'POST', `/v1/keys/${aes}/data-key`, {})).status).toBe(403);
      }
      expect((await stack.call('kw_notarealkey00000_' + 'a'.repeat(43), 'POST', '/v1/decrypt', { ciphertext })).status).toBe(401);
    });

    it("another tenant's key-user cannot use, or even see, this tenant's keys", async () => {
      const { ciphertext } = await encrypted(aes, 'cross tenant', 'x');
      const other = await stack.onboard(uniqueName('Other'));
      const otherUser = await stack.principal(other.adminKey, 'key-user');
      const stolen = await decrypt(ciphertext, 'x', otherUser);
      expect([stolen.status, problemType(stolen)]).toEqual([404, 'not-found']);
      expect((await encrypt(aes, 'x', undefined, otherUser)).status).toBe(404);
      expect((await stack.call(otherUser, 'POST', '/v1/rewrap', { ciphertext, aad: b64('x') })).status).toBe(404);
    });
  });

  describe('lifecycle gates crypto', () => {
    it('PreActive refuses; Deactivated decrypts only; Compromised refuses unless the tenant allows it', async () => {
      const pre = (await createKey({})).key.keyId;
      const preActive = await encrypt(pre, 'x');
      expect([preActive.status, problemType(preActive)]).toEqual([409, 'key-unusable']);

      const key = (await createKey()).key.keyId;
      const before = await encrypted(key, 'still readable');
      expect((await keyAction(key, 'deactivate')).status).toBe(200);
      const refused = await encrypt(key, 'x');
      expect([refused.status, problemType(refused)]).toEqual([409, 'key-unusable']);
      expect(await decryptsTo(before.ciphertext)).toBe('still readable');
      expect((await stack.call(user, 'POST', '/v1/rewrap', { ciphertext: before.ciphertext })).status).toBe(409);

      expect((await keyAction(key, 'compromise', { reason: 'laptop stolen' })).status).toBe(200);
      const compromised = await decrypt(before.ciphertext);
      expect([compromised.status, problemType(compromised)]).toEqual([409, 'key-unusable']);
      const allow = await stack.call(admin, 'PUT', '/v1/tenant/policy', { allowCompromisedDecrypt: true });
      expect(allow.status).toBe(200);
      expect(await decryptsTo(before.ciphertext)).toBe('still readable');
      expect((await encrypt(key, 'x')).status).toBe(409);
      expect((await stack.call(admin, 'PUT', '/v1/tenant/policy', { allowCompromisedDecrypt: false })).status).toBe(200);
      expect((await decrypt(before.ciphertext)).status).toBe(409);
      expect((await stack.call(user, 'PUT', '/v1/tenant/policy', { allowCompromisedDecrypt: true })).status).toBe(403);
    });

    it('a suspended tenant refuses every crypto operation with 423 until resumed', async () => {
      const t = await stack.onboard(uniqueName('Suspended'));
      const u = await stack.principal(t.adminKey, 'key-user');
      const k = (await createKey({ activate: true }, t.adminKey)).key.keyId;
      const { ciphertext } = (await encrypt(k, 'before', undefined, u)).json<Encrypted>();
      expect((await stack.call(stack.providerKey, 'POST', `/v1/tenants/${t.tenantId}/suspend`, { reason: 'unpaid' })).status).toBe(200);
      const refused = await encrypt(k, 'x', undefined, u);
      expect([refused.status, problemType(refused)]).toEqual([423, 'tenant-inactive']);
      expect((await decrypt(ciphertext, undefined, u)).status).toBe(423);
      expect((await stack.call(stack.providerKey, 'POST', `/v1/tenants/${t.tenantId}/resume`, {})).status).toBe(200);
      expect((await decrypt(ciphertext, undefined, u)).status).toBe(200);
    });
  });

  describe('payload limits and validation', () => {
    it('more than 64 KiB of plaintext is 413; unknown fields and bad data-key sizes are 400', async () => {
      const tooBig = await stack.call(user, 'POST', `/v1/keys/${aes}/encrypt`, { plaintext: b64('y'.repeat(64 * 1024 + 1)) });
      expect([tooBig.status, problemType(tooBig)]).toEqual([413, 'payload-too-large']);
      expect((await stack.call(user, 'POST', `/v1/keys/${aes}/encrypt`, { plaintext: b64('x'), keyId: 'evil' })).status).toBe(400);
      expect((await stack.call(user, 'POST', `/v1/keys/${aes}/data-key`, { bytes: 31 })).status).toBe(400);
      expect((await stack.call(user, 'POST', '/v1/decrypt', {})).status).toBe(400);
    });

    it('malformed JSON, a wrong content type and an oversized body are problem documents, never stack traces', async () => {
      const auth = { authorization: `Bearer ${user}` };
      const junk = await stack.api.request('POST', `/v1/keys/${aes}/encrypt`, { body: '{"plaintext":', headers: auth });
      expect([junk.status, junk.headers['content-type']]).toEqual([400, expect.stringMatching(/problem\+json/)]);
      expect(junk.body).not.toMatch(/\bat \w+ \(/);
      const text = await stack.api.request('POST', '/v1/decrypt', { body: 'x', headers: { ...auth, 'content-type': 'text/plain' } });
      expect([text.status, problemType(text)]).toEqual([415, 'unsupported-media-type']);
      const huge = await stack.api.request('POST', '/v1/decrypt', { body: { ciphertext: 'A'.repeat(200 * 1024) }, headers: auth });
      expect([huge.status, problemType(huge)]).toEqual([413, 'payload-too-large']);
      const badRef = await stack.call(user, 'POST', '/v1/keys/..%2Fetc/encrypt', { plaintext: b64('x') });
      expect([badRef.status, badRef.json<{ detail: string }>().detail]).toEqual([400, expect.stringContaining('path: not a key id')]);
    });

    it('answers are never cached; successes leave only a usage record, refusals also a log line with the request id', async () => {
      const okId = `ok-${uniqueName('req')}`.slice(0, 60);
      const refusedId = `no-${uniqueName('req')}`.slice(0, 60);
      const ok = await stack.api.request('POST', `/v1/keys/${aes}/encrypt`, {
        body: { plaintext: b64('quiet') },
        headers: { authorization: `Bearer ${user}`, 'x-request-id': okId },
      });
      expect([ok.status, ok.headers['cache-control'], ok.headers['x-request-id']]).toEqual([200, 'no-store', okId]);
      const refused = await stack.api.request('POST', `/v1/keys/${aes}/encrypt`, {
        body: { plaintext: b64('loud') },
        headers: { authorization: `Bearer ${admin}`, 'x-request-id': refusedId },
      });
      expect([refused.status, refused.headers['cache-control']]).toEqual([403, 'no-store']);
      await stack.api.waitFor(async () => Promise.resolve(stack.api.log.includes(refusedId)), 5_000);
      const line = stack.api.log.split('\n').find((l) => l.includes(refusedId)) ?? '';
      expect(JSON.parse(line)).toMatchObject({ res: { statusCode: 403 }, req: { path: `/v1/keys/${aes}/encrypt` }, role: 'tenant-admin' });
      expect(stack.api.log).not.toContain(okId);
    });
  });

  describe('destruction is real (crypto-shredding)', () => {
    it('a destroyed key loses its material; old ciphertexts answer 409 key-destroyed, also after a projection rebuild', async () => {
      const key = (await createKey()).key.keyId;
      const kept = (await createKey()).key.keyId;
      const { ciphertext } = await encrypted(key, 'doomed', 'x');
      const survivor = await encrypted(kept, 'survives', 'x');
      expect((await keyAction(key, 'rotate')).status).toBe(200);
      expect((await keyAction(key, 'deactivate')).status).toBe(200);
      expect((await keyAction(key, 'schedule-destruction', { waitingPeriodDays: 1 })).status).toBe(200);
      const keystore = stack.db.collection('keystore');
      expect(await keystore.countDocuments({ keyId: key })).toBe(2);

      // Two days later (business clock of a test run), the scheduler destroys it.
      await stack.restartApi({ KEYWARD_CLOCK_OFFSET_MS: String(2 * 86_400_000) });
      await stack.api.waitFor(async () => {
        const view = await stack.call(admin, 'GET', `/v1/keys/${key}`);
        return view.json<{ state: string }>().state === 'Destroyed';
      }, 60_000);
      expect(await keystore.countDocuments({ keyId: key })).toBe(0);
      expect(await keystore.countDocuments({ keyId: kept })).toBe(1);
      const gone = await decrypt(ciphertext, 'x');
      expect([gone.status, problemType(gone)]).toEqual([409, 'key-destroyed']);
      expect(await decryptsTo(survivor.ciphertext, 'x')).toBe('survives');

      const rebuilt = await stack.rebuildInto(uniqueName('scratch').replace(/[-.]/g, '_'));
      expect(rebuilt.mismatched).toEqual([]);
      await stack.restartApi();
      const stillGone = await decrypt(ciphertext, 'x');
      expect([stillGone.status, problemType(stillGone)]).toEqual([409, 'key-destroyed']);
      expect(await keystore.countDocuments({ keyId: key })).toBe(0);
    });

    it('offboarding destroys the tenant KEK and all its material; its keys refuse for good', async () => {
      const t = await stack.onboard(uniqueName('Leaving'));
      const u = await stack.principal(t.adminKey, 'key-user');
      const k = (await createKey({ activate: true }, t.adminKey)).key.keyId;
      const { ciphertext } = (await encrypt(k, 'bye', undefined, u)).json<Encrypted>();
      const keystore = stack.db.collection('keystore');
      expect(await keystore.countDocuments({ tenantId: t.tenantId })).toBe(2);
      const unconfirmed = await stack.call(stack.providerKey, 'POST', `/v1/tenants/${t.tenantId}/offboard`, { confirm: 'nope' });
      expect(unconfirmed.status).toBe(422);
      const offboarded = await stack.call(stack.providerKey, 'POST', `/v1/tenants/${t.tenantId}/offboard`, { confirm: t.tenantId });
      expect(offboarded.status).toBe(200);
      expect(await keystore.countDocuments({ tenantId: t.tenantId })).toBe(0);
      const refused = await decrypt(ciphertext, undefined, u);
      expect([refused.status, problemType(refused)]).toEqual([423, 'tenant-inactive']);
      expect((await stack.call(stack.providerKey, 'POST', `/v1/tenants/${t.tenantId}/resume`, {})).status).toBe(409);
    });
  });

  describe('sealed', () => {
    it('without a root key the service is sealed: not ready, crypto 503; the wrong key is refused; the right one unseals', async () => {
      // Make sure this stack's keystore already knows its root key.
      await encrypted(aes, 'warm');
      const sealed = await stack.startApi({
        KEYWARD_DATA: stack.dataDir,
        ROOT_KEY_GENERATE: 'off',
        ROOT_KEY_FILE: '/nonexistent/root.key',
      });
      try {
        expect((await sealed.get('/v1/sys/seal-status')).json()).toMatchObject({ sealed: true });
        const ready = await sealed.get('/health/ready');
        expect(ready.status).toBe(503);
        expect(ready.body).toContain('sealed');
        const refused = await stack.callOn(sealed, user, 'POST', `/v1/keys/${aes}/encrypt`, { plaintext: b64('x') });
        expect([refused.status, problemType(refused)]).toEqual([503, 'sealed']);
        expect(refused.headers['retry-after']).toBeDefined();
        const onboarding = await stack.callOn(sealed, stack.providerKey, 'POST', '/v1/tenants', { name: 'While Sealed' });
        expect(onboarding.status).toBe(503);

        const wrong = await stack.callOn(sealed, stack.providerKey, 'POST', '/v1/sys/unseal', {
          rootKey: Buffer.alloc(32, 7).toString('base64'),
        });
        expect([wrong.status, problemType(wrong)]).toEqual([422, 'root-key-mismatch']);
        const byUser = await stack.callOn(sealed, user, 'POST', '/v1/sys/unseal', { rootKey: stack.rootKey().toString('base64') });
        expect(byUser.status).toBe(403);
        const right = await stack.callOn(sealed, stack.providerKey, 'POST', '/v1/sys/unseal', {
          rootKey: stack.rootKey().toString('base64'),
        });
        expect(right.status).toBe(200);
        expect(right.json()).toMatchObject({ sealed: false });
        expect((await stack.callOn(sealed, user, 'POST', `/v1/keys/${aes}/encrypt`, { plaintext: b64('x') })).status).toBe(200);
        expect((await sealed.get('/health/ready')).status).toBe(200);
      } finally {
        await sealed.stop();
      }
    });

    it('a configured root key that does not match the keystore seals the service instead of making new KEKs', async () => {
      const other = await stack.startApi({ ROOT_KEY: Buffer.alloc(32, 9).toString('base64') });
      try {
        await other.waitFor(async () => (await other.get('/v1/sys/seal-status')).json<{ sealed: boolean }>().sealed, 15_000);
        const refused = await stack.callOn(other, user, 'POST', `/v1/keys/${aes}/encrypt`, { plaintext: b64('x') });
        expect([refused.status, problemType(refused)]).toEqual([503, 'sealed']);
      } finally {
        await other.stop();
      }
    });
  });

  it('the tenant view shows the crypto policy', async () => {
    const own = await stack.call(admin, 'GET', '/v1/tenant');
    expect(own.json()).toMatchObject({ tenantId, policy: { allowCompromisedDecrypt: false } });
  });
});
