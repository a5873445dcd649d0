import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KeywardStack } from '../support/keyward-stack';
import type { HttpAnswer } from '../support/service-process';
import { opensslVerifies } from '../support/openssl';

jest.setTimeout(300_000);

const b64 = (s: string | Buffer): string => (typeof s === 'string' ? Buffer.from(s, 'utf8') : s).toString('base64');
const problemType = (answer: HttpAnswer): string => answer.json<{ type: string }>().type.replace('urn:keyward:problem:', '');
const typeOf = (error: { type: string }): string => error.type.replace('urn:keyward:problem:', '');

interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
}
type SignResult = { signature: string } | { error: Problem };
type VerifyResult = { valid: boolean; version: number } | { error: Problem };
interface SignBatch {
  batchResults: SignResult[];
  keyId: string;
  version: number;
}
interface VerifyBatch {
  batchResults: VerifyResult[];
  keyId: string;
  version: number;
}

describe('sign and verify batches (Vault transit batch_input) over REST (real Kafka and FerretDB)', () => {
  const stack = new KeywardStack();
  const dir = mkdtempSync(join(tmpdir(), 'kw-batch-'));
  let admin: string;
  let user: string;
  let auditor: string;
  let ec: string;
  let rsa: string;

  const createKey = async (keyType: string): Promise<string> => {
    const body = { keyType, activate: true };
    const answer = await stack.api.request('POST', '/v1/keys', { headers: { authorization: `Bearer ${admin}` }, body, timeoutMs: 120_000 });
    expect(answer.status).toBe(201);
    return answer.json<{ key: { keyId: string } }>().key.keyId;
  };
  const signBatch = (keyId: string, body: Record<string, unknown>, as = user) =>
    stack.call(as, 'POST', `/v1/keys/${keyId}/sign/batch`, body);
  const verifyBatch = (keyId: string, body: Record<string, unknown>, as = user) =>
    stack.call(as, 'POST', `/v1/keys/${keyId}/verify/batch`, body);
  const signedBatch = async (keyId: string, body: Record<string, unknown>): Promise<SignBatch> => {
    const answer = await signBatch(keyId, body);
    expect(answer.status).toBe(200);
    return answer.json<SignBatch>();
  };
  const verifiedBatch = async (keyId: string, body: Record<string, unknown>): Promise<VerifyBatch> => {
    const answer = await verifyBatch(keyId, body);
    expect(answer.status).toBe(200);
    return answer.json<VerifyBatch>();
  };
  const signatureOf = (r: SignResult | undefined): string => (r !== undefined && 'signature' in r ? r.signature : 'none');
  const pemOf = async (keyId: string, query = ''): Promise<string> =>
    (await stack.call(user, 'GET', `/v1/keys/${keyId}/public-key${query}`)).json<{ pem: string }>().pem;
  const keyAction = (keyId: string, action: string, body?: unknown) => stack.call(admin, 'POST', `/v1/keys/${keyId}/${action}`, body);

  beforeAll(async () => {
    await stack.start();
    ({ adminKey: admin } = await stack.onboard('Batch Corp'));
    user = await stack.principal(admin, 'key-user');
    auditor = await stack.principal(admin, 'auditor');
    ec = await createKey('EC-P256');
    rsa = await createKey('RSA-2048');
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await stack.stop();
  });

  it('signs every message of a batch, in order; openssl verifies each signature with the PEM from /public-key', async () => {
    const messages = ['first', 'second', 'third'].map((m) => Buffer.from(`batch ${m}`, 'utf8'));
    for (const [keyId, algorithm] of [
      [ec, 'ECDSA-SHA256'],
      [rsa, 'RSA-PSS-SHA256'],
      [rsa, 'RSA-PKCS1-SHA256'],
    ] as const) {
      const batch = await signedBatch(keyId, { algorithm, batchInput: messages.map((m) => ({ message: b64(m) })) });
      expect([batch.keyId, batch.version, batch.batchResults.length]).toEqual([keyId, 1, 3]);
      const pem = await pemOf(keyId);
      messages.forEach((m, i) => {
        const signature = Buffer.from(signatureOf(batch.batchResults[i]), 'base64');
        expect(opensslVerifies(dir, pem, algorithm, m, signature)).toBe(true);
        // In order: item i's signature is not the signature of another item's message.
        expect(opensslVerifies(dir, pem, algorithm, messages[(i + 1) % 3]!, signature)).toBe(false);
      });
    }
  });

  it('a batch of valid and invalid items answers each: signatures for the valid, a problem document for each invalid one', async () => {
    const digest = Buffer.alloc(32, 7);
    const tooLarge = Buffer.alloc(64 * 1024 + 1, 1);
    const batch = await signedBatch(rsa, {
      algorithm: 'RSA-PKCS1-SHA256',
      batchInput: [{ message: b64('ok') }, { digest: b64(Buffer.alloc(20)) }, { message: b64(tooLarge) }, { digest: b64(digest) }],
    });
    const [ok, shortDigest, large, byDigest] = batch.batchResults;
    expect(opensslVerifies(dir, await pemOf(rsa), 'RSA-PKCS1-SHA256', Buffer.from('ok'), Buffer.from(signatureOf(ok), 'base64'))).toBe(
      true,
    );
    expect(shortDigest).toMatchObject({ error: { status: 422, title: 'Digest not signable' } });
    expect(typeOf((shortDigest as { error: Problem }).error)).toBe('unsupported-digest');
    expect(large).toMatchObject({ error: { status: 413 } });
    expect(typeOf((large as { error: Problem }).error)).toBe('payload-too-large');
    expect(signatureOf(byDigest)).not.toBe('none');

    const ecBatch = await signedBatch(ec, { algorithm: 'ECDSA-SHA256', batchInput: [{ digest: b64(digest) }, { message: b64('fine') }] });
    expect(typeOf((ecBatch.batchResults[0] as { error: Problem }).error)).toBe('unsupported-digest');
    expect(signatureOf(ecBatch.batchResults[1])).not.toBe('none');
  });

  it('verifies a batch: good, forged and tampered signatures, each with its own answer', async () => {
    const messages = ['a', 'b', 'c'].map((m) => b64(m));
    const batch = await signedBatch(ec, { algorithm: 'ECDSA-SHA256', batchInput: messages.map((message) => ({ message })) });
    const signatures = batch.batchResults.map(signatureOf);
    const tampered = Buffer.from(signatures[2]!, 'base64');
    tampered[8] = (tampered[8] ?? 0) ^ 1;
    const verified = await verifiedBatch(ec, {
      algorithm: 'ECDSA-SHA256',
      batchInput: [
        { message: messages[0], signature: signatures[0] },
        { message: messages[0], signature: signatures[1] },
        { message: messages[2], signature: b64(tampered) },
        { message: messages[1], signature: signatures[1] },
      ],
    });
    expect(verified.batchResults).toEqual([
      { valid: true, version: 1 },
      { valid: false, version: 1 },
      { valid: false, version: 1 },
      { valid: true, version: 1 },
    ]);
  });

  it('whole-request refusals: too many items (413), malformed items (400), another tenant (404), the wrong role (403), no key', async () => {
    const many = await signBatch(ec, { algorithm: 'ECDSA-SHA256', batchInput: Array.from({ length: 257 }, () => ({ message: b64('x') })) });
    expect([many.status, problemType(many)]).toEqual([413, 'payload-too-large']);
    expect(many.json<{ limit: number }>().limit).toBe(256);
    const malformed = await signBatch(ec, { algorithm: 'ECDSA-SHA256', batchInput: [{ message: b64('x') }, { message: 'not base64!' }] });
    expect([malformed.status, problemType(malformed)]).toEqual([400, 'validation']);
    const empty = await signBatch(ec, { algorithm: 'ECDSA-SHA256', batchInput: [] });
    expect(empty.status).toBe(400);
    const wrongAlgorithm = await signBatch(ec, { algorithm: 'RSA-PSS-SHA256', batchInput: [{ message: b64('x') }] });
    expect(wrongAlgorithm.status).toBe(422);

    const other = await stack.onboard('Other Batch Corp');
    const otherUser = await stack.principal(other.adminKey, 'key-user');
    const crossSign = await signBatch(ec, { algorithm: 'ECDSA-SHA256', batchInput: [{ message: b64('x') }] }, otherUser);
    expect([crossSign.status, problemType(crossSign)]).toEqual([404, 'not-found']);
    const crossVerify = await verifyBatch(
      ec,
      { algorithm: 'ECDSA-SHA256', batchInput: [{ message: b64('x'), signature: b64('sig') }] },
      otherUser,
    );
    expect([crossVerify.status, problemType(crossVerify)]).toEqual([404, 'not-found']);
    // Even a batch whose every item is unreadable says nothing about another tenant's key.
    const crossUnreadable = await signBatch(
      ec,
      { algorithm: 'ECDSA-SHA256', batchInput: [{ message: b64(Buffer.alloc(64 * 1024 + 1)) }] },
      otherUser,
    );
    expect(crossUnreadable.status).toBe(404);
    const asAdmin = await signBatch(ec, { algorithm: 'ECDSA-SHA256', batchInput: [{ message: b64('x') }] }, admin);
    expect(asAdmin.status).toBe(403);
    const unknown = await signBatch('key_doesnotexist0000000000', { algorithm: 'ECDSA-SHA256', batchInput: [{ message: b64('x') }] });
    expect(unknown.status).toBe(404);
  });

  it('after rotation a verify batch checks each item with the version it names; an unknown version is refused alone; a Deactivated key verifies but does not sign', async () => {
    const keyId = await createKey('EC-P256');
    const message = b64('rotated');
    const v1 = signatureOf((await signedBatch(keyId, { algorithm: 'ECDSA-SHA256', batchInput: [{ message }] })).batchResults[0]);
    expect((await keyAction(keyId, 'rotate')).status).toBe(200);
    const after = await signedBatch(keyId, { algorithm: 'ECDSA-SHA256', batchInput: [{ message }] });
    expect(after.version).toBe(2);
    const v2 = signatureOf(after.batchResults[0]);
    expect(opensslVerifies(dir, await pemOf(keyId, '?version=2'), 'ECDSA-SHA256', Buffer.from('rotated'), Buffer.from(v2, 'base64'))).toBe(
      true,
    );
    const verified = await verifiedBatch(keyId, {
      algorithm: 'ECDSA-SHA256',
      batchInput: [
        { message, signature: v1, version: 1 },
        { message, signature: v2 },
        { message, signature: v1 },
        { message, signature: v1, version: 9 },
      ],
    });
    expect(verified.batchResults.slice(0, 3)).toEqual([
      { valid: true, version: 1 },
      { valid: true, version: 2 },
      { valid: false, version: 2 },
    ]);
    expect(verified.batchResults[3]).toMatchObject({ error: { status: 404 } });
    // The refused item's usage record names the version it asked for.
    await stack.api.waitFor(async () => {
      const usage = await stack.call(auditor, 'GET', `/v1/audit/usage?keyId=${keyId}`);
      const records = usage.json<{ items: { operation: string; outcome: string; version: number | null }[] }>().items;
      return records.some((r) => r.operation === 'verify' && r.outcome === 'not-found' && r.version === 9);
    }, 60_000);

    expect((await keyAction(keyId, 'deactivate')).status).toBe(200);
    const refused = await signBatch(keyId, { algorithm: 'ECDSA-SHA256', batchInput: [{ message }] });
    expect([refused.status, problemType(refused)]).toEqual([409, 'key-unusable']);
    const stillVerifies = await verifiedBatch(keyId, { algorithm: 'ECDSA-SHA256', version: 1, batchInput: [{ message, signature: v1 }] });
    expect(stillVerifies.batchResults).toEqual([{ valid: true, version: 1 }]);
  });

  it('every item leaves a usage record with its own outcome', async () => {
    const keyId = await createKey('EC-P256');
    await signedBatch(keyId, {
      algorithm: 'ECDSA-SHA256',
      batchInput: [{ message: b64('1') }, { digest: b64(Buffer.alloc(32)) }, { message: b64('3') }],
    });
    await stack.api.waitFor(async () => {
      const usage = await stack.call(auditor, 'GET', `/v1/audit/usage?keyId=${keyId}`);
      const outcomes = usage.json<{ items: { operation: string; outcome: string }[] }>().items.map((r) => `${r.operation}:${r.outcome}`);
      return outcomes.length === 3 && outcomes.filter((o) => o === 'sign:ok').length === 2 && outcomes.includes('sign:unsupported-digest');
    }, 60_000);
  });

  it('a destroyed key signs and verifies nothing: every batch against it is refused (409 key-destroyed), whatever its items', async () => {
    const keyId = await createKey('EC-P256');
    const message = b64('doomed');
    const signature = signatureOf((await signedBatch(keyId, { algorithm: 'ECDSA-SHA256', batchInput: [{ message }] })).batchResults[0]);
    expect((await keyAction(keyId, 'deactivate')).status).toBe(200);
    expect((await keyAction(keyId, 'schedule-destruction', { waitingPeriodDays: 1 })).status).toBe(200);
    await stack.restartApi({ KEYWARD_CLOCK_OFFSET_MS: String(2 * 86_400_000) });
    await stack.api.waitFor(
      async () => (await stack.call(admin, 'GET', `/v1/keys/${keyId}`)).json<{ state: string }>().state === 'Destroyed',
      60_000,
    );
    const signAfter = await signBatch(keyId, { algorithm: 'ECDSA-SHA256', batchInput: [{ message }, { message: b64('other') }] });
    expect([signAfter.status, problemType(signAfter)]).toEqual([409, 'key-destroyed']);
    const verifyAfter = await verifyBatch(keyId, {
      algorithm: 'ECDSA-SHA256',
      batchInput: [
        { message, signature },
        { message, signature, version: 1 },
      ],
    });
    expect([verifyAfter.status, problemType(verifyAfter)]).toEqual([409, 'key-destroyed']);
    expect(JSON.stringify(verifyAfter.json())).not.toContain('valid');
    await stack.restartApi();
  });
});
