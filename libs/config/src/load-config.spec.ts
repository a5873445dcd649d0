import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, loadConfig } from './load-config';
import { settingsSchema } from './settings.schema';

describe('loadConfig', () => {
  it('has a working default for local use', () => {
    const config = loadConfig({}, '/srv/kw');
    expect(config.kafka.brokers).toEqual(['127.0.0.1:9092']);
    expect(config.mongo).toEqual({ uri: 'mongodb://127.0.0.1:27017', db: 'keyward' });
    expect(config.keyApi).toEqual({ host: '127.0.0.1', port: 8443, tls: { enabled: true, generated: '/srv/kw/.keyward/tls' } });
    expect(config.dataDir).toBe('/srv/kw/.keyward');
    expect(config.infraConfigured).toBe(false);
  });

  it('reads every setting from its environment variable', () => {
    const config = loadConfig(
      {
        KAFKA_BROKERS: 'k1:9092,k2:9093',
        MONGODB_URI: 'mongodb://db:27017/?replicaSet=rs0',
        KEY_API_PORT: '9443',
        KEY_API_TLS: 'off',
        KEYWARD_DATA: '/data',
      },
      '/srv',
    );
    expect(config.kafka.brokers).toEqual(['k1:9092', 'k2:9093']);
    expect(config.keyApi.port).toBe(9443);
    expect(config.keyApi.tls).toEqual({ enabled: false });
    expect(config.dataDir).toBe('/data');
    expect(config.infraConfigured).toBe(true);
  });

  it('treats empty values as unset', () => {
    expect(loadConfig({ KEY_API_PORT: '  ' }).keyApi.port).toBe(8443);
  });

  it.each([
    ['KEY_API_PORT', 'eighty'],
    ['KEY_API_PORT', '70000'],
    ['KAFKA_BROKERS', 'no-port'],
    ['MONGODB_URI', 'postgres://x'],
    ['KEY_API_TLS', 'maybe'],
    ['LOG_LEVEL', 'loud'],
    ['MONGODB_DB', 'a b'],
    ['NODE_ENV', 'staging'],
  ])('refuses %s=%s and names the setting and the value', (name, value) => {
    const error = (() => {
      try {
        loadConfig({ [name]: value });
      } catch (err: unknown) {
        return err;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toContain(name);
    expect((error as ConfigError).message).toContain(JSON.stringify(value));
  });

  it('needs the TLS certificate and key together', () => {
    expect(() => loadConfig({ KEY_API_TLS_CERT: 'a.crt' })).toThrow(/KEY_API_TLS_CERT \/ KEY_API_TLS_KEY/);
  });

  it('refuses generated TLS in production', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/KEY_API_TLS_CERT: required in production/);
    expect(loadConfig({ NODE_ENV: 'production', KEY_API_TLS: 'off' }).keyApi.tls).toEqual({ enabled: false });
  });

  it('chooses the root key source: env, file, generated in development, none (sealed) in production', () => {
    expect(loadConfig({ ROOT_KEY: 'x' }, '/srv').rootKey).toEqual({ kind: 'env', base64: 'x' });
    expect(loadConfig({ ROOT_KEY_FILE: 'root.key' }, '/srv').rootKey).toEqual({ kind: 'file', path: '/srv/root.key' });
    expect(loadConfig({}, '/srv').rootKey).toEqual({ kind: 'generate', path: '/srv/.keyward/root.key' });
    expect(loadConfig({ ROOT_KEY_GENERATE: 'off' }, '/srv').rootKey).toEqual({ kind: 'none' });
    expect(loadConfig({ NODE_ENV: 'production', KEY_API_TLS: 'off' }, '/srv').rootKey).toEqual({ kind: 'none' });
  });

  it('refuses two root key sources and a generated root key in production', () => {
    expect(() => loadConfig({ ROOT_KEY: 'x', ROOT_KEY_FILE: 'f' })).toThrow(/ROOT_KEY \/ ROOT_KEY_FILE: set one, not both/);
    expect(() => loadConfig({ NODE_ENV: 'production', KEY_API_TLS: 'off', ROOT_KEY_GENERATE: 'on' })).toThrow(/ROOT_KEY_GENERATE/);
  });

  it('never echoes the root key in an error', () => {
    let message = '';
    try {
      loadConfig({ ROOT_KEY: 'c2VjcmV0LXJvb3Qta2V5LW1hcmtlcg==', ROOT_KEY_FILE: 'f', KAFKA_BROKERS: 'bad' });
    } catch (err: unknown) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/KAFKA_BROKERS/);
    expect(message).not.toContain('c2VjcmV0');
  });

  it('every setting has a line in the README configuration table', () => {
    const readme = readFileSync(join(__dirname, '..', '..', '..', 'README.md'), 'utf8');
    const missing = Object.keys(settingsSchema.shape).filter((name) => !readme.includes(`| \`${name}\` |`));
    expect(missing).toEqual([]);
  });
});
