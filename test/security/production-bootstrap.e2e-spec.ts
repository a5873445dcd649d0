import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { testInfra, uniqueName } from '../support/env';
import { ServiceProcess } from '../support/service-process';

jest.setTimeout(180_000);

/**
 * Finding 10: in production the first provider-admin key goes to a 0600 file only; stdout and the
 * logs say where it is, never what it is (container logs are read by many). Started sealed (no
 * root key yet), that key can unseal and nothing else until it has.
 */
describe('production bootstrap prints no credential', () => {
  const infra = testInfra();
  const databases: string[] = [];

  const productionEnv = (dataDir: string, extra: Record<string, string> = {}): Record<string, string> => {
    const db = uniqueName('kw_prod').replace(/[-.]/g, '_');
    databases.push(db);
    return {
      NODE_ENV: 'production',
      KEYWARD_DATA: dataDir,
      KAFKA_BROKERS: infra.brokers.join(','),
      MONGODB_URI: infra.mongoUri,
      MONGODB_DB: db,
      KAFKA_TOPIC_EVENTS: uniqueName('spec.events'),
      KAFKA_TOPIC_USAGE: uniqueName('spec.usage'),
      KEY_API_TLS: 'off',
      ...extra,
    };
  };

  const firstKey = async (api: ServiceProcess, dataDir: string): Promise<string> => {
    const file = join(dataDir, 'provider-admin.key');
    await api.waitFor(async () => Promise.resolve(readKey(file) !== ''), 30_000);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    return readKey(file);
  };

  afterAll(async () => {
    const mongo = await MongoClient.connect(infra.mongoUri);
    for (const db of databases)
      await mongo
        .db(db)
        .dropDatabase()
        .catch(() => undefined);
    await mongo.close();
  });

  it('with a root key file: the key is in the 0600 file, its path is logged, the key is not', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'kw-prod-'));
    const rootKeyFile = join(dataDir, 'root.key');
    writeFileSync(rootKeyFile, randomBytes(32).toString('base64'), { mode: 0o600 });
    const api = await ServiceProcess.start('key-api', productionEnv(dataDir, { ROOT_KEY_FILE: rootKeyFile }));
    try {
      const key = await firstKey(api, dataDir);
      expect(key).toMatch(/^kw_[A-Za-z0-9]{16}_[A-Za-z0-9_-]{43}$/);
      await api.waitFor(() => Promise.resolve(api.log.includes('provider-admin.key')), 10_000);
      expect(api.log).not.toContain(key);
      expect(api.log).not.toContain(key.slice(20)); // not even the secret part
      expect(api.log).not.toMatch(/kw_[A-Za-z0-9]{16}_[A-Za-z0-9_-]{43}/);
      const answer = await api.request('GET', '/v1/tenants', { headers: { authorization: `Bearer ${key}` } });
      expect(answer.status).toBe(200);
    } finally {
      await api.stop();
    }
  });

  it('started sealed: the key is not printed, can only unseal, and works fully once it has', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'kw-prod-sealed-'));
    const api = await ServiceProcess.start('key-api', productionEnv(dataDir));
    try {
      const key = await firstKey(api, dataDir);
      const auth = { authorization: `Bearer ${key}` };
      const sealed = await api.request('GET', '/v1/tenants', { headers: auth });
      expect([sealed.status, sealed.json<{ type: string }>().type]).toEqual([503, expect.stringMatching(/sealed$/) as unknown]);
      const unsealed = await api.request('POST', '/v1/sys/unseal', {
        headers: auth,
        body: { rootKey: randomBytes(32).toString('base64') },
      });
      expect(unsealed.status).toBe(200);
      expect((await api.request('GET', '/v1/tenants', { headers: auth })).status).toBe(200);
      expect(api.log).not.toContain(key);
      expect(api.log).not.toMatch(/kw_[A-Za-z0-9]{16}_[A-Za-z0-9_-]{43}/);
    } finally {
      await api.stop();
    }
  });
});

function readKey(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    return '';
  }
}
