import { KeywardStack } from '../support/keyward-stack';
import type { HttpAnswer, ServiceProcess } from '../support/service-process';
import { uniqueName } from '../support/env';

/**
 * Issue 15's memory bound: a key-api instance keeps at most TENANT_LOG_CACHE_MAX tenant logs (and
 * CRYPTO_CACHE_MAX_ENTRIES unwrapped keys) in memory and reloads the others from the store on
 * their next request. Instance B runs with room for 3 tenants and 4 keys and serves 10 tenants
 * round-robin: every answer must still be right, evictions must show on /metrics, and a lifecycle
 * change made on instance A while B had the tenant evicted must be honoured by B's next request.
 * B's state TTL is 10 minutes, so nothing but eviction and the stream makes it read again.
 */
jest.setTimeout(300_000);

const TENANTS = 10;
const KEYS_PER_TENANT = 2;
const ROUNDS = 3;

const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');
const describeAnswer = (answer: HttpAnswer): string => `${answer.status} ${answer.body.slice(0, 300)}`;

interface Tenant {
  readonly tenantId: string;
  readonly admin: string;
  readonly user: string;
  readonly keys: string[];
}

/** The value of one sample of a key-api metric with `cache="<cache>"`. */
async function cacheMetric(api: ServiceProcess, name: string, cache: string): Promise<number> {
  const body = await (await fetch(api.metricsUrl!)).text();
  const line = body.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(`cache="${cache}"`));
  return line === undefined ? Number.NaN : Number(line.split(' ').at(-1));
}

describe('bounded per-tenant state: 10 tenants through a key-api that keeps 3 (real Kafka and FerretDB)', () => {
  const stack = new KeywardStack();
  let b: ServiceProcess;
  const tenants: Tenant[] = [];

  const onB = (key: string, method: string, path: string, body?: unknown) => stack.callOn(b, key, method, path, body);
  const encryptOnB = async (t: Tenant, keyId: string, text: string): Promise<string> => {
    const answer = await onB(t.user, 'POST', `/v1/keys/${keyId}/encrypt`, { plaintext: b64(text) });
    if (answer.status !== 200) throw new Error(`encrypt ${t.tenantId}/${keyId}: ${describeAnswer(answer)}\n${b.log.slice(-3000)}`);
    return answer.json<{ ciphertext: string }>().ciphertext;
  };

  beforeAll(async () => {
    await stack.start();
    b = await stack.startApi({ TENANT_LOG_CACHE_MAX: '3', CRYPTO_CACHE_MAX_ENTRIES: '4', CRYPTO_STATE_TTL_MS: '600000' });
    for (let i = 0; i < TENANTS; i++) {
      const { tenantId, adminKey } = await stack.onboard(uniqueName(`Bounded ${i}`));
      const user = await stack.principal(adminKey, 'key-user');
      const keys: string[] = [];
      for (let k = 0; k < KEYS_PER_TENANT; k++) {
        const created = await stack.call(adminKey, 'POST', '/v1/keys', { keyType: 'AES-256-GCM', activate: true });
        if (created.status !== 201) throw new Error(`create key: ${describeAnswer(created)}`);
        keys.push(created.json<{ key: { keyId: string } }>().key.keyId);
      }
      tenants.push({ tenantId, admin: adminKey, user, keys });
    }
  });

  afterAll(async () => {
    await b.stop();
    await stack.stop();
  });

  it('answers every request of 10 tenants round-robin correctly while keeping 3 logs, evicting and reloading', async () => {
    const sealed: { t: Tenant; keyId: string; text: string; ciphertext: string }[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      for (const t of tenants) {
        for (const keyId of t.keys) {
          const text = `round ${round} ${t.tenantId} ${keyId}`;
          sealed.push({ t, keyId, text, ciphertext: await encryptOnB(t, keyId, text) });
        }
      }
    }
    // Decrypt in another order than encrypted (each tenant's ciphertexts far apart again).
    for (const { t, text, ciphertext } of [...sealed].reverse()) {
      const opened = await onB(t.user, 'POST', '/v1/decrypt', { ciphertext });
      expect(describeAnswer(opened)).toMatch(/^200 /);
      expect(opened.json<{ plaintext: string }>().plaintext).toBe(b64(text));
    }
    // Another tenant's ciphertext stays another tenant's, evicted or not.
    const foreign = await onB(tenants[1]!.user, 'POST', '/v1/decrypt', { ciphertext: sealed[0]!.ciphertext });
    expect(foreign.status).toBe(404);

    expect(await cacheMetric(b, 'keyward_cache_entries', 'tenant-logs')).toBeLessThanOrEqual(3);
    expect(await cacheMetric(b, 'keyward_cache_evictions_total', 'tenant-logs')).toBeGreaterThan(TENANTS);
    expect(await cacheMetric(b, 'keyward_cache_reloads_total', 'tenant-logs')).toBeGreaterThan(0);
    expect(await cacheMetric(b, 'keyward_cache_entries', 'material')).toBeLessThanOrEqual(4);
    expect(await cacheMetric(b, 'keyward_cache_evictions_total', 'material')).toBeGreaterThan(0);
  });

  it('honours a deactivation made elsewhere while the tenant was evicted, at its next request', async () => {
    const [target, ...others] = tenants;
    const keyId = target!.keys[0]!;
    const before = await encryptOnB(target!, keyId, 'before deactivation');
    // Three other tenants used after it: B holds 3 logs, so the target's is gone.
    for (const t of others.slice(0, 3)) await encryptOnB(t, t.keys[0]!, 'push it out');
    const reloads = await cacheMetric(b, 'keyward_cache_reloads_total', 'tenant-logs');

    const deactivated = await stack.call(target!.admin, 'POST', `/v1/keys/${keyId}/deactivate`);
    expect(deactivated.status).toBe(200);
    const refused = await onB(target!.user, 'POST', `/v1/keys/${keyId}/encrypt`, { plaintext: b64('after') });
    expect(describeAnswer(refused)).toMatch(/^409 /);
    expect(refused.json<{ type: string }>().type).toBe('urn:keyward:problem:key-unusable');
    // Deactivated decrypts only, and the tenant's other key is still in use.
    const opened = await onB(target!.user, 'POST', '/v1/decrypt', { ciphertext: before });
    expect(opened.json<{ plaintext: string }>().plaintext).toBe(b64('before deactivation'));
    await encryptOnB(target!, target!.keys[1]!, 'still fine');
    // The refusal came from a log read again from the store (not only from the stream's word).
    expect(await cacheMetric(b, 'keyward_cache_reloads_total', 'tenant-logs')).toBeGreaterThan(reloads);
  });
});
