import { isAbsolute, resolve, sep } from 'node:path';
import { Cron } from 'croner';
import { settingsSchema, type Settings } from './settings.schema';
import type {
  AuthSetting,
  BackupDestinationSetting,
  BackupSetting,
  KafkaSecuritySetting,
  KeywardConfig,
  KmipSetting,
  MtlsSetting,
  RootKeySetting,
  SecretSource,
} from './keyward-config';

/** Thrown when the environment holds an invalid setting; the message names each bad setting. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Settings whose values never appear in an error message. */
const SECRET_SETTINGS: ReadonlySet<string> = new Set([
  'ROOT_KEY',
  'BACKUP_KEK_KEY',
  'BACKUP_DEK_KEY',
  'BACKUP_KEK_S3_SECRET_ACCESS_KEY',
  'BACKUP_DEK_S3_SECRET_ACCESS_KEY',
  'KAFKA_SASL_PASSWORD',
]);

type Env = Readonly<Record<string, string | undefined>>;

/** Reads and validates every setting; empty strings count as unset. */
export function loadConfig(env: Env = process.env, cwd: string = process.cwd()): KeywardConfig {
  const raw: Record<string, string> = {};
  for (const name of Object.keys(settingsSchema.shape)) {
    const value = env[name];
    if (value !== undefined && value.trim() !== '') raw[name] = value.trim();
  }
  const parsed = settingsSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => {
        const name = String(issue.path[0] ?? '?');
        const got = SECRET_SETTINGS.has(name) ? undefined : raw[name];
        return `${name}: ${issue.message}${got === undefined ? '' : ` (got ${JSON.stringify(got)})`}`;
      }),
    );
  }
  const s = parsed.data;
  const problems: string[] = [];
  if ((s.KEY_API_TLS_CERT === undefined) !== (s.KEY_API_TLS_KEY === undefined)) {
    problems.push('KEY_API_TLS_CERT / KEY_API_TLS_KEY: set both or neither');
  }
  if (s.NODE_ENV === 'production' && s.KEY_API_TLS === 'on' && s.KEY_API_TLS_CERT === undefined) {
    problems.push('KEY_API_TLS_CERT: required in production when KEY_API_TLS=on (generated certificates are for development)');
  }
  if (s.ROOT_KEY !== undefined && s.ROOT_KEY_FILE !== undefined) problems.push('ROOT_KEY / ROOT_KEY_FILE: set one, not both');
  if (s.NODE_ENV === 'production' && s.ROOT_KEY_GENERATE === 'on') {
    problems.push('ROOT_KEY_GENERATE: cannot be on in production (a generated root key is for development)');
  }
  if (s.KEYWARD_CLOCK_OFFSET_MS !== 0 && s.NODE_ENV !== 'test') problems.push('KEYWARD_CLOCK_OFFSET_MS: only allowed when NODE_ENV=test');
  problems.push(...authProblems(s));
  if ((s.KMIP_TLS_CERT === undefined) !== (s.KMIP_TLS_KEY === undefined))
    problems.push('KMIP_TLS_CERT / KMIP_TLS_KEY: set both or neither');
  problems.push(...backupProblems(s, cwd));
  problems.push(...kafkaSecurityProblems(s));
  if (problems.length > 0) throw new ConfigError(problems);
  return toConfig(s, cwd, { kafka: env.KAFKA_BROKERS, mongo: env.MONGODB_URI });
}

function toConfig(s: Settings, cwd: string, explicit: { kafka?: string; mongo?: string }): KeywardConfig {
  const dataDir = isAbsolute(s.KEYWARD_DATA) ? s.KEYWARD_DATA : resolve(cwd, s.KEYWARD_DATA);
  return {
    env: s.NODE_ENV,
    dataDir,
    logLevel: s.LOG_LEVEL,
    logFormat: s.LOG_FORMAT,
    kafka: {
      brokers: s.KAFKA_BROKERS.split(','),
      clientId: s.KAFKA_CLIENT_ID,
      topics: { events: s.KAFKA_TOPIC_EVENTS, usage: s.KAFKA_TOPIC_USAGE },
      partitions: s.KAFKA_TOPIC_PARTITIONS,
      replicationFactor: s.KAFKA_REPLICATION_FACTOR,
      security: kafkaSecurity(s, cwd),
    },
    mongo: { uri: s.MONGODB_URI, db: s.MONGODB_DB },
    infraConfigured: Boolean(explicit.kafka?.trim()) && Boolean(explicit.mongo?.trim()),
    keyApi: {
      host: s.KEY_API_HOST,
      port: s.KEY_API_PORT,
      tls:
        s.KEY_API_TLS === 'off'
          ? { enabled: false }
          : s.KEY_API_TLS_CERT !== undefined && s.KEY_API_TLS_KEY !== undefined
            ? { enabled: true, certFile: resolve(cwd, s.KEY_API_TLS_CERT), keyFile: resolve(cwd, s.KEY_API_TLS_KEY) }
            : { enabled: true, generated: resolve(dataDir, 'tls') },
      metrics: { host: s.KEY_API_METRICS_HOST, port: s.KEY_API_METRICS_PORT },
    },
    projector: { host: s.PROJECTOR_HOST, port: s.PROJECTOR_PORT },
    kmip: kmipSetting(s, cwd, dataDir),
    backup: backupSetting(s, cwd),
    clockOffsetMs: s.KEYWARD_CLOCK_OFFSET_MS,
    rootKey: rootKeySetting(s, cwd, dataDir),
    crypto: {
      cacheMaxEntries: s.CRYPTO_CACHE_MAX_ENTRIES,
      cacheTtlMs: s.CRYPTO_CACHE_TTL_MS,
      gcm: { versionLimit: s.GCM_VERSION_ENCRYPTION_LIMIT, reservationBlock: s.GCM_RESERVATION_BLOCK },
      stateTtlMs: s.CRYPTO_STATE_TTL_MS,
      usageFlushMs: s.USAGE_FLUSH_MS,
      usageBufferMax: s.USAGE_BUFFER_MAX,
      usageAuditPolicy: s.USAGE_AUDIT_POLICY,
      usageBacklogMax: s.USAGE_BACKLOG_MAX,
      usageOutboxMax: s.USAGE_OUTBOX_MAX,
    },
    healthTimeoutMs: s.HEALTH_TIMEOUT_MS,
    shutdownGraceMs: s.SHUTDOWN_GRACE_MS,
    auth: authSetting(s, cwd, dataDir),
    audit: {
      checkpointIntervalMs: s.AUDIT_CHECKPOINT_INTERVAL_MS,
      signingKey:
        s.AUDIT_SIGNING_KEY_FILE !== undefined
          ? { kind: 'file', path: resolve(cwd, s.AUDIT_SIGNING_KEY_FILE) }
          : s.NODE_ENV === 'production'
            ? { kind: 'none' }
            : { kind: 'generate', path: resolve(dataDir, 'audit-signing.key') },
      usageScanMax: s.AUDIT_USAGE_SCAN_MAX,
    },
    limits: {
      http: {
        requestTimeoutMs: s.HTTP_REQUEST_TIMEOUT_MS,
        headersTimeoutMs: Math.min(s.HTTP_HEADERS_TIMEOUT_MS, s.HTTP_REQUEST_TIMEOUT_MS),
        connectionTimeoutMs: s.HTTP_CONNECTION_TIMEOUT_MS,
        keepAliveTimeoutMs: s.HTTP_KEEP_ALIVE_TIMEOUT_MS,
        maxConnections: s.HTTP_MAX_CONNECTIONS,
      },
      tenantLogCacheMax: s.TENANT_LOG_CACHE_MAX,
      tenantLogCacheMaxBytes: s.TENANT_LOG_CACHE_MAX_BYTES,
      tenantSnapshotEvery: s.TENANT_SNAPSHOT_EVERY,
      tenantMaxKeys: s.TENANT_MAX_KEYS,
      tenantCommitsPerMinute: s.TENANT_COMMITS_PER_MINUTE,
      auditScansPerTenant: s.AUDIT_SCANS_PER_TENANT,
      auditScansMax: s.AUDIT_SCANS_MAX,
    },
  };
}

function kmipSetting(s: Settings, cwd: string, dataDir: string): KmipSetting {
  const generated = resolve(dataDir, 'tls');
  return {
    host: s.KMIP_HOST,
    port: s.KMIP_PORT,
    tls:
      s.KMIP_TLS_CERT !== undefined && s.KMIP_TLS_KEY !== undefined
        ? { certFile: resolve(cwd, s.KMIP_TLS_CERT), keyFile: resolve(cwd, s.KMIP_TLS_KEY) }
        : { generated },
    clientCaFile:
      s.KMIP_CLIENT_CA !== undefined ? resolve(cwd, s.KMIP_CLIENT_CA) : s.NODE_ENV === 'production' ? null : resolve(generated, 'ca.crt'),
    maxMessageBytes: s.KMIP_MAX_MESSAGE_BYTES,
    maxDepth: s.KMIP_MAX_DEPTH,
    tlsMinVersion: s.KMIP_TLS_MIN_VERSION,
    maxConnections: s.KMIP_MAX_CONNECTIONS,
    maxConnectionsPerCert: s.KMIP_MAX_CONNECTIONS_PER_CERT,
    idleTimeoutMs: s.KMIP_IDLE_TIMEOUT_SECONDS * 1000,
    readTimeoutMs: s.KMIP_READ_TIMEOUT_SECONDS * 1000,
    http: { host: s.KMIP_HTTP_HOST, port: s.KMIP_HTTP_PORT },
  };
}

function authProblems(s: Settings): string[] {
  const problems: string[] = [];
  if (s.KEY_API_MTLS === 'required' && s.KEY_API_TLS === 'off') {
    problems.push('KEY_API_MTLS: cannot be required when KEY_API_TLS=off (client certificates need TLS)');
  }
  if (s.KEY_API_MTLS === 'required' && s.KEY_API_TLS === 'on' && s.KEY_API_CLIENT_CA === undefined && s.KEY_API_TLS_CERT !== undefined) {
    problems.push('KEY_API_CLIENT_CA: required when KEY_API_MTLS=required with your own TLS certificate');
  }
  if (s.OIDC_JWKS_URL === undefined) {
    if (s.OIDC_ISSUER !== undefined || s.OIDC_AUDIENCE !== undefined) {
      problems.push('OIDC_JWKS_URL: required with OIDC_ISSUER / OIDC_AUDIENCE (JWTs are refused without it)');
    }
  } else {
    if (s.OIDC_ISSUER === undefined) problems.push('OIDC_ISSUER: required with OIDC_JWKS_URL');
    if (s.OIDC_AUDIENCE === undefined) problems.push('OIDC_AUDIENCE: required with OIDC_JWKS_URL');
    if (s.NODE_ENV === 'production' && !s.OIDC_JWKS_URL.startsWith('https:')) {
      problems.push('OIDC_JWKS_URL: must be https in production');
    }
  }
  return problems;
}

function authSetting(s: Settings, cwd: string, dataDir: string): AuthSetting {
  return {
    mtls: mtlsSetting(s, cwd, dataDir),
    oidc:
      s.OIDC_JWKS_URL !== undefined && s.OIDC_ISSUER !== undefined && s.OIDC_AUDIENCE !== undefined
        ? {
            jwksUrl: s.OIDC_JWKS_URL,
            issuer: s.OIDC_ISSUER,
            audience: s.OIDC_AUDIENCE,
            tenantClaim: s.OIDC_TENANT_CLAIM,
            roleClaim: s.OIDC_ROLE_CLAIM,
            algorithms: [...new Set(s.OIDC_ALGORITHMS.split(','))] as ('RS256' | 'ES256')[],
            clockToleranceMs: s.OIDC_CLOCK_TOLERANCE_MS,
            jwksCacheMs: s.OIDC_JWKS_CACHE_MS,
          }
        : null,
    rateLimits: {
      principalRps: s.RATE_LIMIT_PRINCIPAL_RPS,
      principalBurst: s.RATE_LIMIT_PRINCIPAL_BURST,
      tenantRps: s.RATE_LIMIT_TENANT_RPS,
      tenantBurst: s.RATE_LIMIT_TENANT_BURST,
    },
    lockout: { failures: s.AUTH_LOCKOUT_FAILURES, windowMs: s.AUTH_LOCKOUT_WINDOW_MS, durationMs: s.AUTH_LOCKOUT_MS },
    addressLockoutFailures: s.AUTH_LOCKOUT_ADDRESS_FAILURES,
    addressLimits: {
      rps: s.AUTH_ADDRESS_RPS,
      burst: s.AUTH_ADDRESS_BURST,
      failureRps: s.AUTH_ADDRESS_FAILURE_RPS,
      failureBurst: s.AUTH_ADDRESS_FAILURE_BURST,
    },
    unknownKeyCache: { ttlMs: s.AUTH_UNKNOWN_KEY_CACHE_MS, maxEntries: s.AUTH_UNKNOWN_KEY_CACHE_MAX },
    enrollment: { ttlHours: s.ENROLLMENT_TTL_HOURS, perAddressPerMinute: s.ENROLLMENT_RATE_PER_MINUTE },
  };
}

function mtlsSetting(s: Settings, cwd: string, dataDir: string): MtlsSetting {
  if (s.KEY_API_MTLS === 'off') return { mode: 'off' };
  if (s.KEY_API_TLS === 'off') return { mode: 'off', reason: 'KEY_API_TLS=off: client certificates need TLS' };
  if (s.KEY_API_CLIENT_CA !== undefined) return { mode: s.KEY_API_MTLS, clientCaFile: resolve(cwd, s.KEY_API_CLIENT_CA) };
  // The development CA is trusted for client certificates only where key-api generates its own TLS.
  if (s.KEY_API_TLS_CERT === undefined && s.NODE_ENV !== 'production') {
    return { mode: s.KEY_API_MTLS, clientCaFile: resolve(dataDir, 'tls', 'ca.crt') };
  }
  return { mode: 'off', reason: 'no KEY_API_CLIENT_CA: client certificates are not asked for' };
}

function rootKeySetting(s: Settings, cwd: string, dataDir: string): RootKeySetting {
  if (s.ROOT_KEY !== undefined) return { kind: 'env', base64: s.ROOT_KEY };
  if (s.ROOT_KEY_FILE !== undefined) return { kind: 'file', path: resolve(cwd, s.ROOT_KEY_FILE) };
  const generate = s.ROOT_KEY_GENERATE === 'on' || (s.ROOT_KEY_GENERATE === 'auto' && s.NODE_ENV !== 'production');
  return generate ? { kind: 'generate', path: resolve(dataDir, 'root.key') } : { kind: 'none' };
}

const secretSource = (base64: string | undefined, file: string | undefined, cwd: string): SecretSource =>
  base64 !== undefined ? { kind: 'env', base64 } : file !== undefined ? { kind: 'file', path: resolve(cwd, file) } : { kind: 'none' };

function backupDestination(s: Settings, part: 'KEK' | 'DEK', cwd: string): BackupDestinationSetting | null {
  const value = s[`BACKUP_${part}_DEST`];
  if (value === undefined) return null;
  if (!value.startsWith('s3://')) return { kind: 'directory', path: resolve(cwd, value) };
  const [bucket = '', ...rest] = value.slice('s3://'.length).split('/');
  const id = s[`BACKUP_${part}_S3_ACCESS_KEY_ID`];
  const secret = s[`BACKUP_${part}_S3_SECRET_ACCESS_KEY`];
  return {
    kind: 's3',
    bucket,
    prefix: rest.filter((segment) => segment !== '').join('/'),
    endpoint: s[`BACKUP_${part}_S3_ENDPOINT`]?.replace(/\/+$/, '') ?? null,
    region: s[`BACKUP_${part}_S3_REGION`],
    credentials: id !== undefined && secret !== undefined ? { accessKeyId: id, secretAccessKey: secret } : null,
  };
}

const within = (a: string, b: string, separator: string): boolean => a === b || a.startsWith(`${b}${separator}`) || b === '';

/** One destination is the other, or lies inside it: then one stolen place would hold both halves. */
export function sameBackupPlace(a: BackupDestinationSetting, b: BackupDestinationSetting): boolean {
  if (a.kind === 'directory' && b.kind === 'directory') return within(a.path, b.path, sep) || within(b.path, a.path, sep);
  if (a.kind === 's3' && b.kind === 's3') {
    if (a.bucket !== b.bucket || (a.endpoint ?? '') !== (b.endpoint ?? '')) return false;
    return within(a.prefix, b.prefix, '/') || within(b.prefix, a.prefix, '/');
  }
  return false;
}

function backupProblems(s: Settings, cwd: string): string[] {
  const problems: string[] = [];
  const kek = backupDestination(s, 'KEK', cwd);
  const dek = backupDestination(s, 'DEK', cwd);
  if ((kek === null) !== (dek === null)) problems.push('BACKUP_KEK_DEST / BACKUP_DEK_DEST: set both or neither');
  if (kek !== null && dek !== null && sameBackupPlace(kek, dek)) {
    problems.push(
      'BACKUP_KEK_DEST / BACKUP_DEK_DEST: must be two different places (neither inside the other), so that no single place holds both halves of a snapshot',
    );
  }
  for (const part of ['KEK', 'DEK'] as const) {
    const env = s[`BACKUP_${part}_KEY`];
    const file = s[`BACKUP_${part}_KEY_FILE`];
    if (env !== undefined && file !== undefined) problems.push(`BACKUP_${part}_KEY / BACKUP_${part}_KEY_FILE: set one, not both`);
    if ((kek !== null || dek !== null) && env === undefined && file === undefined) {
      problems.push(`BACKUP_${part}_KEY_FILE: required when backups are configured (or BACKUP_${part}_KEY)`);
    }
    if ((s[`BACKUP_${part}_S3_ACCESS_KEY_ID`] === undefined) !== (s[`BACKUP_${part}_S3_SECRET_ACCESS_KEY`] === undefined)) {
      problems.push(`BACKUP_${part}_S3_ACCESS_KEY_ID / BACKUP_${part}_S3_SECRET_ACCESS_KEY: set both or neither`);
    }
  }
  const keys = [s.BACKUP_KEK_KEY, s.BACKUP_DEK_KEY, s.ROOT_KEY].map((k) => k?.trim());
  if (keys[0] !== undefined && keys[0] === keys[1]) problems.push('BACKUP_KEK_KEY / BACKUP_DEK_KEY: the two backup keys must differ');
  if (keys[2] !== undefined && (keys[0] === keys[2] || keys[1] === keys[2])) {
    problems.push('BACKUP_KEK_KEY / BACKUP_DEK_KEY: a backup key must never be the root key');
  }
  if (s.BACKUP_SCHEDULE !== undefined) {
    if (kek === null || dek === null) problems.push('BACKUP_SCHEDULE: needs BACKUP_KEK_DEST and BACKUP_DEK_DEST');
    try {
      new Cron(s.BACKUP_SCHEDULE, { paused: true, timezone: 'Etc/UTC' }).stop();
    } catch (err: unknown) {
      problems.push(
        `BACKUP_SCHEDULE: not a valid cron expression (${err instanceof Error ? err.message : String(err)}) (got ${JSON.stringify(s.BACKUP_SCHEDULE)})`,
      );
    }
  }
  return problems;
}

function backupSetting(s: Settings, cwd: string): BackupSetting {
  const kek = backupDestination(s, 'KEK', cwd);
  const dek = backupDestination(s, 'DEK', cwd);
  return {
    host: s.BACKUP_HOST,
    port: s.BACKUP_PORT,
    destinations: kek !== null && dek !== null ? { kek, dek } : null,
    keys: {
      kek: secretSource(s.BACKUP_KEK_KEY, s.BACKUP_KEK_KEY_FILE, cwd),
      dek: secretSource(s.BACKUP_DEK_KEY, s.BACKUP_DEK_KEY_FILE, cwd),
    },
    schedule: s.BACKUP_SCHEDULE ?? null,
    retain: s.BACKUP_RETAIN,
  };
}

function kafkaSecurityProblems(s: Settings): string[] {
  const problems: string[] = [];
  const passwords = [s.KAFKA_SASL_PASSWORD, s.KAFKA_SASL_PASSWORD_FILE].filter((v) => v !== undefined).length;
  if (s.KAFKA_SASL_MECHANISM === undefined) {
    if (s.KAFKA_SASL_USERNAME !== undefined || passwords > 0)
      problems.push('KAFKA_SASL_USERNAME / KAFKA_SASL_PASSWORD: set KAFKA_SASL_MECHANISM too');
  } else {
    if (s.KAFKA_SASL_USERNAME === undefined) problems.push('KAFKA_SASL_USERNAME: required with KAFKA_SASL_MECHANISM');
    if (passwords !== 1) problems.push('KAFKA_SASL_PASSWORD / KAFKA_SASL_PASSWORD_FILE: set exactly one with KAFKA_SASL_MECHANISM');
    if (s.KAFKA_SASL_MECHANISM === 'plain' && s.KAFKA_SSL === 'off')
      problems.push('KAFKA_SASL_MECHANISM: `plain` sends the password in clear; it needs KAFKA_SSL=on');
  }
  if (s.KAFKA_SSL_CA_FILE !== undefined && s.KAFKA_SSL === 'off') problems.push('KAFKA_SSL_CA_FILE: only with KAFKA_SSL=on');
  return problems;
}

function kafkaSecurity(s: Settings, cwd: string): KafkaSecuritySetting {
  const mechanism = s.KAFKA_SASL_MECHANISM;
  const username = s.KAFKA_SASL_USERNAME;
  const password =
    s.KAFKA_SASL_PASSWORD !== undefined
      ? { kind: 'env' as const, value: s.KAFKA_SASL_PASSWORD }
      : s.KAFKA_SASL_PASSWORD_FILE !== undefined
        ? { kind: 'file' as const, path: resolve(cwd, s.KAFKA_SASL_PASSWORD_FILE) }
        : undefined;
  return {
    ssl: s.KAFKA_SSL === 'on' ? { caFile: s.KAFKA_SSL_CA_FILE === undefined ? null : resolve(cwd, s.KAFKA_SSL_CA_FILE) } : null,
    sasl: mechanism !== undefined && username !== undefined && password !== undefined ? { mechanism, username, password } : null,
  };
}
