import { KeywardStack } from '../support/keyward-stack';

jest.setTimeout(180_000);

interface Problem {
  type: string;
  status: number;
  detail?: string;
}

/**
 * Action routes take an optional body: an empty one is accepted with or without
 * `content-type: application/json` (curl's `-X POST -H 'content-type: application/json'`), unknown
 * fields are still refused, and every malformed body is a precise 400 problem.
 */
describe('request bodies of action routes (issue 20)', () => {
  const stack = new KeywardStack();
  let admin: string;
  let user: string;
  let keyId: string;

  beforeAll(async () => {
    await stack.start();
    ({ adminKey: admin } = await stack.onboard());
    user = await stack.principal(admin, 'key-user');
    const created = await stack.call(admin, 'POST', '/v1/keys', {});
    expect(created.status).toBe(201);
    keyId = created.json<{ key: { keyId: string } }>().key.keyId;
  });
  afterAll(() => stack.stop());

  const raw = (key: string, path: string, body: string, contentType?: string) =>
    stack.api.request('POST', path, {
      body,
      headers: {
        authorization: `Bearer ${key}`,
        ...(contentType === undefined ? { 'content-type': '' } : { 'content-type': contentType }),
      },
    });

  it('an empty body is accepted with content-type application/json, and without a content type', async () => {
    const activated = await raw(admin, `/v1/keys/${keyId}/activate`, '', 'application/json');
    expect({ status: activated.status, body: activated.json() }).toMatchObject({ status: 200, body: { key: { state: 'Active' } } });
    const rotated = await raw(admin, `/v1/keys/${keyId}/rotate`, '', 'application/json; charset=utf-8');
    expect({ status: rotated.status, body: rotated.json() }).toMatchObject({ status: 200, body: { key: { latestVersion: 2 } } });
    const bare = await stack.api.request('POST', `/v1/keys/${keyId}/deactivate`, { headers: { authorization: `Bearer ${admin}` } });
    expect({ status: bare.status, body: bare.json() }).toMatchObject({ status: 200, body: { key: { state: 'Deactivated' } } });
    const braces = await stack.call(admin, 'POST', `/v1/keys/${keyId}/activate`, {});
    expect(braces.status).toBe(409); // the body was fine; a Deactivated key cannot be activated again
  });

  it('unknown fields are still refused, naming the field', async () => {
    const answer = await stack.call(admin, 'POST', `/v1/keys/${keyId}/rotate`, { force: true });
    expect(answer.status).toBe(400);
    expect(answer.json<Problem>()).toMatchObject({
      type: 'urn:keyward:problem:validation',
      detail: expect.stringContaining('force') as string,
    });
  });

  it('a route whose body is required says what is missing when it is empty', async () => {
    const principal = await raw(admin, '/v1/principals', '', 'application/json');
    expect(principal.status).toBe(400);
    expect(principal.json<Problem>()).toMatchObject({
      type: 'urn:keyward:problem:validation',
      detail: expect.stringContaining('body.name') as string,
    });
    const encrypt = await raw(user, `/v1/keys/${keyId}/encrypt`, '', 'application/json');
    expect(encrypt.status).toBe(400);
    expect(encrypt.json<Problem>()).toMatchObject({
      type: 'urn:keyward:problem:validation',
      detail: expect.stringContaining('plaintext') as string,
    });
  });

  it('malformed JSON is a 400 malformed-json naming where parsing stopped, without echoing the body', async () => {
    const marker = 'c2VjcmV0LW1hcmtlcg';
    for (const [path, key] of [
      [`/v1/keys/${keyId}/rotate`, admin],
      [`/v1/keys/${keyId}/encrypt`, user],
    ] as const) {
      const answer = await raw(key, path, `{"plaintext": "${marker}" oops`, 'application/json');
      expect(answer.status).toBe(400);
      const problem = answer.json<Problem>();
      expect(problem).toMatchObject({ type: 'urn:keyward:problem:malformed-json', status: 400 });
      expect(problem.detail).toMatch(/not valid JSON \((at byte \d+|line \d+, column \d+)\)/);
      expect(answer.body).not.toContain(marker);
    }
    const poisoned = await raw(admin, `/v1/keys/${keyId}/rotate`, '{"__proto__": {"admin": true}}', 'application/json');
    expect(poisoned.status).toBe(400);
    expect(poisoned.json<Problem>()).toMatchObject({
      type: 'urn:keyward:problem:malformed-json',
      detail: expect.stringContaining('__proto__') as string,
    });
    const whitespace = await raw(admin, `/v1/keys/${keyId}/rotate`, '   ', 'application/json');
    expect(whitespace.json<Problem>()).toMatchObject({ status: 400, type: 'urn:keyward:problem:malformed-json' });
  });
});
