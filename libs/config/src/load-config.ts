import { isAbsolute, resolve } from 'node:path';
import { settingsSchema, type Settings } from './settings.schema';
import type { KeywardConfig, RootKeySetting } from './keyward-config';

/** Thrown when the environment holds an invalid setting; the message names each bad setting. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Settings whose values never appear in an error message. */
const SECRET_SETTINGS: ReadonlySet<string> = new Set(['ROOT_KEY']);

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
  if (problems.length > 0) throw new ConfigError(problems);
  return toConfig(s, cwd, { kafka: env.KAFKA_BROKERS, mongo: env.MONGODB_URI });
}

function toConfig(s: Settings, cwd: string, explicit: { kafka?: string; mongo?: string }): KeywardConfig {
  const dataDir = isAbsolute(s.KEYWARD_DATA) ? s.KEYWARD_DATA : resolve(cwd, s.KEYWARD_DATA);
  return {
    env: s.NODE_ENV,
    dataDir,
    logLevel: s.LOG_LEVEL,
    kafka: {
      brokers: s.KAFKA_BROKERS.split(','),
      clientId: s.KAFKA_CLIENT_ID,
      topics: { events: s.KAFKA_TOPIC_EVENTS, usage: s.KAFKA_TOPIC_USAGE },
      partitions: s.KAFKA_TOPIC_PARTITIONS,
      replicationFactor: s.KAFKA_REPLICATION_FACTOR,
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
    },
    projector: { host: s.PROJECTOR_HOST, port: s.PROJECTOR_PORT },
    backup: { host: s.BACKUP_HOST, port: s.BACKUP_PORT },
    clockOffsetMs: s.KEYWARD_CLOCK_OFFSET_MS,
    rootKey: rootKeySetting(s, cwd, dataDir),
    crypto: {
      cacheMaxEntries: s.CRYPTO_CACHE_MAX_ENTRIES,
      cacheTtlMs: s.CRYPTO_CACHE_TTL_MS,
      stateTtlMs: s.CRYPTO_STATE_TTL_MS,
      usageFlushMs: s.USAGE_FLUSH_MS,
      usageBufferMax: s.USAGE_BUFFER_MAX,
    },
    healthTimeoutMs: s.HEALTH_TIMEOUT_MS,
    shutdownGraceMs: s.SHUTDOWN_GRACE_MS,
  };
}

function rootKeySetting(s: Settings, cwd: string, dataDir: string): RootKeySetting {
  if (s.ROOT_KEY !== undefined) return { kind: 'env', base64: s.ROOT_KEY };
  if (s.ROOT_KEY_FILE !== undefined) return { kind: 'file', path: resolve(cwd, s.ROOT_KEY_FILE) };
  const generate = s.ROOT_KEY_GENERATE === 'on' || (s.ROOT_KEY_GENERATE === 'auto' && s.NODE_ENV !== 'production');
  return generate ? { kind: 'generate', path: resolve(dataDir, 'root.key') } : { kind: 'none' };
}
