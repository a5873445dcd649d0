import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, loadConfig } from './load-config';
import { settingsSchema } from './settings.schema';

describe('loadConfig', () => {
  it('has a working default for local use', () => {
    const config = loadConfig({}, '/srv/kw');
    expect(config.kafka.brokers).toEqual(['127.0.0.1:9092']);
    expect(config.mongo).toEqual({ uri: 'mongodb://127.0.0.1:27017', db: 'keyward' });
    expect(config.keyApi).toEqual({
      host: '127.0.0.1',
      port: 8443,
      tls: { enabled: true, generated: '/srv/kw/.keyward/tls' },
      metrics: { host: '127.0.0.1', port: 8447 },
    });
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

  it('every setting has a line in the configuration table of docs/configuration.md', () => {
    const doc = readFileSync(join(__dirname, '..', '..', '..', 'docs', 'configuration.md'), 'utf8');
    const missing = Object.keys(settingsSchema.shape).filter((name) => !doc.includes(`| \`${name}\` |`));
    expect(missing).toEqual([]);
  });
});

describe('loadConfig: authentication and abuse limits', () => {
  it('asks for client certificates by default, trusting the development CA only where it generates TLS', () => {
    expect(loadConfig({}, '/srv').auth.mtls).toEqual({ mode: 'optional', clientCaFile: '/srv/.keyward/tls/ca.crt' });
    expect(loadConfig({ KEY_API_MTLS: 'required', KEY_API_CLIENT_CA: 'clients.pem' }, '/srv').auth.mtls).toEqual({
      mode: 'required',
      clientCaFile: '/srv/clients.pem',
    });
    expect(loadConfig({ KEY_API_MTLS: 'off' }).auth.mtls).toEqual({ mode: 'off' });
    // Own certificate (and production): no client CA unless configured, so mTLS cannot apply.
    const own = loadConfig({ KEY_API_TLS_CERT: 's.crt', KEY_API_TLS_KEY: 's.key' }).auth.mtls;
    expect(own).toMatchObject({ mode: 'off', reason: expect.stringContaining('KEY_API_CLIENT_CA') as string });
    expect(loadConfig({ KEY_API_TLS: 'off' }).auth.mtls).toMatchObject({
      mode: 'off',
      reason: expect.stringContaining('KEY_API_TLS') as string,
    });
  });

  it('refuses required mTLS without TLS or without a client CA for its own certificate', () => {
    expect(() => loadConfig({ KEY_API_MTLS: 'required', KEY_API_TLS: 'off' })).toThrow(/KEY_API_MTLS: cannot be required/);
    expect(() => loadConfig({ KEY_API_MTLS: 'required', KEY_API_TLS_CERT: 's.crt', KEY_API_TLS_KEY: 's.key' })).toThrow(
      /KEY_API_CLIENT_CA/,
    );
    expect(() => loadConfig({ KEY_API_MTLS: 'sometimes' })).toThrow(/KEY_API_MTLS/);
  });

  it('turns OIDC on only with a JWKS URL, an issuer and an audience', () => {
    expect(loadConfig({}).auth.oidc).toBeNull();
    const oidc = loadConfig({
      OIDC_JWKS_URL: 'https://idp/jwks',
      OIDC_ISSUER: 'https://idp',
      OIDC_AUDIENCE: 'keyward',
      OIDC_ALGORITHMS: 'ES256',
    }).auth.oidc;
    expect(oidc).toMatchObject({
      issuer: 'https://idp',
      audience: 'keyward',
      tenantClaim: 'keyward_tenant',
      roleClaim: 'keyward_role',
      algorithms: ['ES256'],
    });
    expect(() => loadConfig({ OIDC_JWKS_URL: 'https://idp/jwks' })).toThrow(/OIDC_ISSUER: required[\s\S]*OIDC_AUDIENCE: required/);
    expect(() => loadConfig({ OIDC_ISSUER: 'https://idp' })).toThrow(/OIDC_JWKS_URL: required/);
    expect(() => loadConfig({ OIDC_JWKS_URL: 'ftp://idp/jwks' })).toThrow(/OIDC_JWKS_URL/);
    expect(() => loadConfig({ OIDC_ALGORITHMS: 'HS256' })).toThrow(/OIDC_ALGORITHMS/);
    const prod = { NODE_ENV: 'production', KEY_API_TLS: 'off', OIDC_ISSUER: 'i', OIDC_AUDIENCE: 'a' };
    expect(() => loadConfig({ ...prod, OIDC_JWKS_URL: 'http://idp/jwks' })).toThrow(/must be https in production/);
  });

  it('has rate limits and a lock-out high enough for normal use, and reads them', () => {
    const { rateLimits, lockout } = loadConfig({}).auth;
    expect(rateLimits).toEqual({ principalRps: 2000, principalBurst: 4000, tenantRps: 5000, tenantBurst: 10_000 });
    expect(lockout).toEqual({ failures: 10, windowMs: 300_000, durationMs: 900_000 });
    const low = loadConfig({ RATE_LIMIT_PRINCIPAL_RPS: '0.5', RATE_LIMIT_PRINCIPAL_BURST: '2', AUTH_LOCKOUT_FAILURES: '3' }).auth;
    expect([low.rateLimits.principalRps, low.rateLimits.principalBurst, low.lockout.failures]).toEqual([0.5, 2, 3]);
    expect(() => loadConfig({ RATE_LIMIT_PRINCIPAL_BURST: '0' })).toThrow(/RATE_LIMIT_PRINCIPAL_BURST/);
    expect(() => loadConfig({ AUTH_LOCKOUT_MS: 'forever' })).toThrow(/AUTH_LOCKOUT_MS/);
  });
});

describe('loadConfig: backups', () => {
  const keys = { BACKUP_KEK_KEY_FILE: 'kek.key', BACKUP_DEK_KEY_FILE: 'dek.key' };
  const dirs = { BACKUP_KEK_DEST: '/mnt/a/kek', BACKUP_DEK_DEST: '/mnt/b/dek', ...keys };

  it('is off unless both destinations are set', () => {
    expect(loadConfig({}).backup).toMatchObject({ destinations: null, schedule: null, retain: 7, port: 8445 });
    expect(() => loadConfig({ BACKUP_KEK_DEST: '/a', ...keys })).toThrow(/BACKUP_KEK_DEST \/ BACKUP_DEK_DEST: set both or neither/);
  });

  it('reads a directory and an S3 destination, each with its own settings', () => {
    const config = loadConfig(
      {
        BACKUP_KEK_DEST: 'backups/kek',
        BACKUP_DEK_DEST: 's3://dek-bucket/keyward/prod/',
        BACKUP_DEK_S3_ENDPOINT: 'http://127.0.0.1:9000/',
        BACKUP_DEK_S3_ACCESS_KEY_ID: 'id',
        BACKUP_DEK_S3_SECRET_ACCESS_KEY: 'secret',
        BACKUP_KEK_KEY: 'a2Vr',
        BACKUP_DEK_KEY_FILE: 'dek.key',
        BACKUP_SCHEDULE: '0 3 * * *',
        BACKUP_RETAIN: '3',
      },
      '/srv',
    ).backup;
    expect(config.destinations).toEqual({
      kek: { kind: 'directory', path: '/srv/backups/kek' },
      dek: {
        kind: 's3',
        bucket: 'dek-bucket',
        prefix: 'keyward/prod',
        endpoint: 'http://127.0.0.1:9000',
        region: 'us-east-1',
        credentials: { accessKeyId: 'id', secretAccessKey: 'secret' },
      },
    });
    expect(config.keys).toEqual({ kek: { kind: 'env', base64: 'a2Vr' }, dek: { kind: 'file', path: '/srv/dek.key' } });
    expect([config.schedule, config.retain]).toEqual(['0 3 * * *', 3]);
  });

  it.each([
    ['/mnt/x', '/mnt/x'],
    ['/mnt/x', '/mnt/x/dek'],
    ['/mnt/x/kek/..', '/mnt/x'],
    ['s3://bkt/p', 's3://bkt/p/'],
    ['s3://bkt', 's3://bkt/dek'],
    ['s3://bkt/p', 's3://bkt/p/q'],
  ])('refuses two destinations in one place: %s and %s', (a, b) => {
    expect(() => loadConfig({ ...keys, BACKUP_KEK_DEST: a, BACKUP_DEK_DEST: b })).toThrow(/must be two different places/);
  });

  it('accepts two places that merely look alike', () => {
    expect(loadConfig({ ...keys, BACKUP_KEK_DEST: '/mnt/x', BACKUP_DEK_DEST: '/mnt/xy' }).backup.destinations).not.toBeNull();
    expect(loadConfig({ ...keys, BACKUP_KEK_DEST: 's3://bkt/p', BACKUP_DEK_DEST: 's3://bkt/pq' }).backup.destinations).not.toBeNull();
    const twoServers = { ...keys, BACKUP_KEK_DEST: 's3://bkt/p', BACKUP_DEK_DEST: 's3://bkt/p', BACKUP_KEK_S3_ENDPOINT: 'http://a:9000' };
    expect(loadConfig(twoServers).backup.destinations).not.toBeNull();
  });

  it('needs one key source per part, two different keys, never the root key, and never echoes them', () => {
    expect(() => loadConfig({ ...dirs, BACKUP_KEK_KEY_FILE: undefined })).toThrow(/BACKUP_KEK_KEY_FILE: required/);
    expect(() => loadConfig({ ...dirs, BACKUP_DEK_KEY: 'x' })).toThrow(/BACKUP_DEK_KEY \/ BACKUP_DEK_KEY_FILE: set one, not both/);
    const same = 'c2VjcmV0LWJhY2t1cC1rZXktbWFya2VyLTAwMDAwMDA=';
    let message = '';
    try {
      loadConfig({
        ...dirs,
        BACKUP_KEK_KEY_FILE: undefined,
        BACKUP_DEK_KEY_FILE: undefined,
        BACKUP_KEK_KEY: same,
        BACKUP_DEK_KEY: same,
        ROOT_KEY: same,
      });
    } catch (err: unknown) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/the two backup keys must differ/);
    expect(message).toMatch(/a backup key must never be the root key/);
    expect(message).not.toContain('c2VjcmV0');
  });

  it('refuses a bad destination, a bad cron expression, a schedule without destinations, half S3 credentials', () => {
    expect(() => loadConfig({ ...dirs, BACKUP_KEK_DEST: 'https://bucket/x' })).toThrow(/BACKUP_KEK_DEST: must be a directory path or s3/);
    expect(() => loadConfig({ ...dirs, BACKUP_SCHEDULE: 'every night' })).toThrow(/BACKUP_SCHEDULE: not a valid cron expression/);
    expect(() => loadConfig({ BACKUP_SCHEDULE: '0 3 * * *' })).toThrow(/BACKUP_SCHEDULE: needs BACKUP_KEK_DEST/);
    expect(() => loadConfig({ ...dirs, BACKUP_KEK_S3_ACCESS_KEY_ID: 'id' })).toThrow(/BACKUP_KEK_S3_SECRET_ACCESS_KEY: set both/);
    expect(() => loadConfig({ ...dirs, BACKUP_RETAIN: '0' })).toThrow(/BACKUP_RETAIN/);
  });
});

describe('loadConfig: audit', () => {
  it('signs checkpoints every minute with a key generated into the data folder, outside production', () => {
    expect(loadConfig({}, '/srv').audit).toEqual({
      checkpointIntervalMs: 60_000,
      signingKey: { kind: 'generate', path: '/srv/.keyward/audit-signing.key' },
      usageScanMax: 1_000_000,
    });
    const prod = { NODE_ENV: 'production', KEY_API_TLS: 'off' };
    expect(loadConfig(prod).audit.signingKey).toEqual({ kind: 'none' });
    expect(loadConfig({ ...prod, AUDIT_SIGNING_KEY_FILE: 'keys/audit.pem' }, '/srv').audit.signingKey).toEqual({
      kind: 'file',
      path: '/srv/keys/audit.pem',
    });
  });

  it('reads the interval (0 turns signing off) and the usage scan bound, and refuses nonsense', () => {
    const audit = loadConfig({ AUDIT_CHECKPOINT_INTERVAL_MS: '0', AUDIT_USAGE_SCAN_MAX: '5000' }).audit;
    expect([audit.checkpointIntervalMs, audit.usageScanMax]).toEqual([0, 5000]);
    expect(() => loadConfig({ AUDIT_CHECKPOINT_INTERVAL_MS: '-1' })).toThrow(/AUDIT_CHECKPOINT_INTERVAL_MS/);
    expect(() => loadConfig({ AUDIT_USAGE_SCAN_MAX: '10' })).toThrow(/AUDIT_USAGE_SCAN_MAX/);
  });
});

describe('loadConfig: usage audit', () => {
  it('fails closed by default, reads the backlog and outbox bounds, and refuses nonsense', () => {
    expect(loadConfig({}).crypto).toMatchObject({ usageAuditPolicy: 'fail-closed', usageBacklogMax: 50_000, usageOutboxMax: 1_000_000 });
    const crypto = loadConfig({ USAGE_AUDIT_POLICY: 'fail-open', USAGE_BACKLOG_MAX: '50', USAGE_OUTBOX_MAX: '0' }).crypto;
    expect([crypto.usageAuditPolicy, crypto.usageBacklogMax, crypto.usageOutboxMax]).toEqual(['fail-open', 50, 0]);
    expect(() => loadConfig({ USAGE_AUDIT_POLICY: 'open' })).toThrow(/USAGE_AUDIT_POLICY/);
    expect(() => loadConfig({ USAGE_BACKLOG_MAX: '1' })).toThrow(/USAGE_BACKLOG_MAX/);
    expect(() => loadConfig({ USAGE_OUTBOX_MAX: '-1' })).toThrow(/USAGE_OUTBOX_MAX/);
  });
});

describe('loadConfig: resource limits', () => {
  it('bounds every HTTP request, connection and tenant by default, and reads the settings', () => {
    const config = loadConfig({});
    expect(config.limits).toEqual({
      http: {
        requestTimeoutMs: 30_000,
        headersTimeoutMs: 10_000,
        connectionTimeoutMs: 60_000,
        keepAliveTimeoutMs: 5_000,
        maxConnections: 10_000,
      },
      tenantLogCacheMax: 1_000,
      tenantLogCacheMaxBytes: 67_108_864,
      tenantSnapshotEvery: 64,
      tenantMaxKeys: 100_000,
      tenantCommitsPerMinute: 3_000,
      auditScansPerTenant: 1,
      auditScansMax: 4,
    });
    expect(config.auth.addressLimits).toEqual({ rps: 5000, burst: 10_000, failureRps: 2, failureBurst: 50 });
    expect(config.auth.addressLockoutFailures).toBe(100);
    expect(config.auth.unknownKeyCache).toEqual({ ttlMs: 5_000, maxEntries: 100_000 });
    // The header deadline never exceeds the whole request's (Node refuses that combination).
    expect(loadConfig({ HTTP_REQUEST_TIMEOUT_MS: '1500' }).limits.http.headersTimeoutMs).toBe(1500);
    expect(loadConfig({ AUTH_UNKNOWN_KEY_CACHE_MS: '0' }).auth.unknownKeyCache.ttlMs).toBe(0);
    expect(() => loadConfig({ HTTP_REQUEST_TIMEOUT_MS: '0' })).toThrow(/HTTP_REQUEST_TIMEOUT_MS/);
    expect(() => loadConfig({ AUDIT_SCANS_MAX: '0' })).toThrow(/AUDIT_SCANS_MAX/);
  });
});
