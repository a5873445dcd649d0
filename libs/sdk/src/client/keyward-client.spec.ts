import { FakeKeyApi } from '../testing/fake-key-api';
import { KeywardClient } from './keyward-client';
import { KeywardProblemError } from './problem';
import { parseRetryAfter, retryDelay } from './retry';

describe('the SDK client: retries of 429 and 503, problems as typed errors', () => {
  const setup = (retry = {}) => {
    const api = new FakeKeyApi();
    const waits: number[] = [];
    const client = new KeywardClient({
      baseUrl: 'https://kms.test',
      apiKey: 'kw_x_y',
      transport: api.transport,
      retry,
      sleep: (ms) => {
        waits.push(ms);
        return Promise.resolve();
      },
    });
    return { api, waits, client };
  };

  it('retries a 503 and a 429 after the Retry-After they name, then answers', async () => {
    const { api, waits, client } = setup();
    api.queued.push({ status: 503, headers: { 'retry-after': '2' } }, { status: 429, headers: { 'retry-after': '1' } });
    const key = await client.generateDataKey('alias/a');
    expect(key.plaintext).toHaveLength(32);
    expect(waits).toEqual([2000, 1000]);
    expect(api.calls).toHaveLength(3);
  });

  it('gives up after maxAttempts with the last problem, typed', async () => {
    const { api, waits, client } = setup({ maxAttempts: 3 });
    api.queued.push(...Array.from({ length: 5 }, () => ({ status: 503, headers: { 'retry-after': '0' } })));
    const failure = await client.generateDataKey('k').catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(KeywardProblemError);
    expect(failure).toMatchObject({ status: 503, problem: 'sealed', retryAfterMs: 0 });
    expect((failure as KeywardProblemError).is('sealed')).toBe(true);
    expect(api.calls).toHaveLength(3);
    expect(waits).toEqual([0, 0]);
  });

  it('does not wait longer than maxDelayMs: a longer Retry-After fails at once', async () => {
    const { api, waits, client } = setup({ maxDelayMs: 5_000 });
    api.queued.push({ status: 429, headers: { 'retry-after': '60' } });
    await expect(client.generateDataKey('k')).rejects.toMatchObject({ status: 429, retryAfterMs: 60_000 });
    expect(waits).toEqual([]);
  });

  it('never retries other refusals (a 422 is thrown at once with its problem document)', async () => {
    const { api, client } = setup();
    const failure = (await client.decrypt(Buffer.from('kwnope')).catch((err: unknown) => err)) as KeywardProblemError;
    expect(failure.problem).toBe('authentication-failed');
    expect(failure.document).toMatchObject({ status: 422, title: 'Authentication failed' });
    expect(failure.message).toBe('422 authentication-failed: Authentication failed');
    expect(api.calls).toHaveLength(1);
  });

  it('without Retry-After backs off exponentially with full jitter, capped', () => {
    const policy = { maxAttempts: 10, baseDelayMs: 100, maxDelayMs: 1_000 };
    expect([1, 2, 3, 4, 5].map((attempt) => retryDelay(policy, attempt, undefined, () => 0.999))).toEqual([99, 199, 399, 799, 999]);
    expect(retryDelay(policy, 10, undefined)).toBeUndefined();
    expect(retryDelay(policy, 1, 1_000)).toBe(1_000);
    expect(retryDelay(policy, 1, 1_001)).toBeUndefined();
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('3', now)).toBe(3000);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:05 GMT', now)).toBe(5000);
    expect(parseRetryAfter('Wed, 31 Dec 2025 23:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });

  it('fills path parameters (encoded) and query parameters from the typed options', async () => {
    const seen: string[] = [];
    const client = new KeywardClient({
      baseUrl: 'https://kms.test',
      transport: (r) => {
        seen.push(r.url.toString());
        return Promise.resolve({ status: 200, headers: {}, body: Buffer.from('{"items":[],"nextCursor":null}') });
      },
    });
    await client.request('get', '/v1/keys', { query: { state: 'Active', limit: 5 } });
    await client.request('get', '/v1/keys/{id}', { path: { id: 'alias/payments' } });
    expect(seen).toEqual(['https://kms.test/v1/keys?state=Active&limit=5', 'https://kms.test/v1/keys/alias%2Fpayments']);
  });
});
