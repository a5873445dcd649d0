import { z } from 'zod';

/**
 * Every setting Keyward reads, keyed by its environment variable. The description and default
 * here are the single source for the README's configuration table (`npm run config:doc`).
 */
const port = (fallback: number) => z.coerce.number().int().min(1).max(65535).default(fallback);
const ms = (fallback: number) => z.coerce.number().int().min(1).max(3_600_000).default(fallback);
const onOff = (fallback: 'on' | 'off') => z.enum(['on', 'off']).default(fallback);
const optionalPath = z.string().min(1).optional();

export const settingsSchema = z.object({
  NODE_ENV: z
    .enum(['development', 'production', 'test'])
    .default('development')
    .describe('Run mode. `production` refuses development conveniences (generated root key, generated TLS).'),
  KEYWARD_DATA: z
    .string()
    .min(1)
    .default('.keyward')
    .describe('Local data folder (infrastructure data, logs, generated TLS material, first admin key). Relative to the working directory.'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info').describe('pino log level.'),
  KAFKA_BROKERS: z
    .string()
    .regex(/^[^\s,]+:\d+(,[^\s,]+:\d+)*$/, 'must be a comma-separated list of host:port')
    .default('127.0.0.1:9092')
    .describe('Kafka bootstrap brokers. When unset together with MONGODB_URI, `npm start` and `npm test` start the local infrastructure.'),
  KAFKA_CLIENT_ID: z.string().min(1).default('keyward').describe('Kafka client id prefix.'),
  KAFKA_TOPIC_EVENTS: z.string().min(1).default('keyward.events').describe('Topic carrying the key-lifecycle commits.'),
  KAFKA_TOPIC_USAGE: z.string().min(1).default('keyward.usage').describe('Topic carrying crypto usage audit records.'),
  KAFKA_TOPIC_PARTITIONS: z.coerce.number().int().min(1).max(1000).default(6).describe('Partitions for topics Keyward creates.'),
  KAFKA_REPLICATION_FACTOR: z.coerce
    .number()
    .int()
    .min(1)
    .max(7)
    .default(1)
    .describe('Replication factor for topics Keyward creates (3 in production).'),
  MONGODB_URI: z
    .string()
    .regex(/^mongodb(\+srv)?:\/\//, 'must start with mongodb:// or mongodb+srv://')
    .default('mongodb://127.0.0.1:27017')
    .describe('MongoDB (or FerretDB) connection string.'),
  MONGODB_DB: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,48}$/, 'must be 1-48 characters of A-Z a-z 0-9 _ -')
    .default('keyward')
    .describe('Database name.'),
  KEY_API_HOST: z.string().min(1).default('127.0.0.1').describe('key-api listen address.'),
  KEY_API_PORT: port(8443).describe('key-api listen port.'),
  KEY_API_TLS: onOff('on').describe('`off` serves plain HTTP, only for running behind a TLS-terminating proxy.'),
  KEY_API_TLS_CERT: optionalPath.describe('PEM server certificate (chain). Default: generated under KEYWARD_DATA/tls (development only).'),
  KEY_API_TLS_KEY: optionalPath.describe('PEM private key for KEY_API_TLS_CERT.'),
  PROJECTOR_HOST: z.string().min(1).default('127.0.0.1').describe('projector health/metrics listen address.'),
  PROJECTOR_PORT: port(8444).describe('projector health/metrics port (plain HTTP, keep it internal).'),
  BACKUP_HOST: z.string().min(1).default('127.0.0.1').describe('backup service health/metrics listen address.'),
  BACKUP_PORT: port(8445).describe('backup service health/metrics port (plain HTTP, keep it internal).'),
  HEALTH_TIMEOUT_MS: ms(1500).describe('Time limit for each dependency probe in /health/ready.'),
  SHUTDOWN_GRACE_MS: ms(10_000).describe('How long a stopping service drains in-flight work before it exits.'),
  KEYWARD_CLOCK_OFFSET_MS: z.coerce
    .number()
    .int()
    .default(0)
    .describe('Shifts the clock lifecycle decisions use, in milliseconds. Test runs only (NODE_ENV=test); refused otherwise.'),
  ROOT_KEY: z
    .string()
    .optional()
    .describe('Root key as base64 (32 bytes). Prefer ROOT_KEY_FILE: environment variables leak into process listings and crash dumps.'),
  ROOT_KEY_FILE: optionalPath.describe(
    'File holding the root key (32 raw bytes, or base64). Without a root key the service starts sealed.',
  ),
  ROOT_KEY_GENERATE: z
    .enum(['auto', 'on', 'off'])
    .default('auto')
    .describe(
      'Generate a root key into KEYWARD_DATA/root.key when none is configured. `auto`: on in development and test, off in production (where `on` is refused).',
    ),
  CRYPTO_CACHE_MAX_ENTRIES: z.coerce
    .number()
    .int()
    .min(0)
    .max(1_000_000)
    .default(10_000)
    .describe('Most unwrapped key versions and KEKs kept in memory per key-api instance (0 disables the cache).'),
  CRYPTO_CACHE_TTL_MS: ms(300_000).describe('Longest time an unwrapped key version stays in memory; evicted buffers are zeroed.'),
  CRYPTO_STATE_TTL_MS: ms(5_000).describe(
    'Longest time a key-api instance trusts its cached key states without re-reading the log, should keyward.events go quiet. Events invalidate sooner.',
  ),
  USAGE_FLUSH_MS: ms(200).describe('How often batched usage audit records are sent to the usage topic.'),
  USAGE_BUFFER_MAX: z.coerce
    .number()
    .int()
    .min(100)
    .max(10_000_000)
    .default(100_000)
    .describe('Usage records held in memory while Kafka is unreachable; beyond it the oldest are dropped and counted in a metric.'),
});

export type Settings = z.infer<typeof settingsSchema>;
export type SettingName = keyof Settings;
