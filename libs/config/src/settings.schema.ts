import { z } from 'zod';

/**
 * Every setting Keyward reads, keyed by its environment variable. The description and default
 * here are the single source for the configuration table of docs/configuration.md (`npm run config:doc`).
 */
const port = (fallback: number) => z.coerce.number().int().min(1).max(65535).default(fallback);
const ms = (fallback: number) => z.coerce.number().int().min(1).max(3_600_000).default(fallback);
const onOff = (fallback: 'on' | 'off') => z.enum(['on', 'off']).default(fallback);
const optionalPath = z.string().min(1).optional();
const backupDestination = z
  .string()
  .refine(
    (v) => (v.startsWith('s3://') ? /^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/.*)?$/.test(v) : !v.includes('://')),
    'must be a directory path or s3://bucket/prefix',
  )
  .optional();
/** Per-destination S3 settings, so the two destinations can live with two providers. */
const s3Settings = <P extends 'KEK' | 'DEK'>(part: P) =>
  ({
    [`BACKUP_${part}_S3_ENDPOINT`]: z
      .url({ protocol: /^https?$/ })
      .optional()
      .describe(`Endpoint of the S3-compatible server of an s3:// BACKUP_${part}_DEST (path-style requests); unset: AWS S3.`),
    [`BACKUP_${part}_S3_REGION`]: z.string().min(1).default('us-east-1').describe(`Region of an s3:// BACKUP_${part}_DEST.`),
    [`BACKUP_${part}_S3_ACCESS_KEY_ID`]: z
      .string()
      .min(1)
      .optional()
      .describe(
        `Access key id for an s3:// BACKUP_${part}_DEST; unset: the AWS SDK's default credentials (AWS_ACCESS_KEY_ID, profiles, instance roles).`,
      ),
    [`BACKUP_${part}_S3_SECRET_ACCESS_KEY`]: z
      .string()
      .min(1)
      .optional()
      .describe(`Secret access key going with BACKUP_${part}_S3_ACCESS_KEY_ID.`),
  }) as {
    [K in `BACKUP_${P}_S3_ENDPOINT` | `BACKUP_${P}_S3_ACCESS_KEY_ID` | `BACKUP_${P}_S3_SECRET_ACCESS_KEY`]: z.ZodOptional<z.ZodString>;
  } & { [K in `BACKUP_${P}_S3_REGION`]: z.ZodDefault<z.ZodString> };

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
  LOG_FORMAT: z
    .enum(['auto', 'json', 'pretty'])
    .default('auto')
    .describe(
      'Log lines: `json` (one object a line), `pretty` (short readable lines, through pino-pretty when it is installed, otherwise JSON), or `auto`: pretty when the output is a terminal and NODE_ENV is not `production`, JSON otherwise.',
    ),
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
  KAFKA_SSL: onOff('off').describe('`on` connects to the Kafka brokers over TLS (the broker certificate is verified).'),
  KAFKA_SSL_CA_FILE: optionalPath.describe(
    "PEM file of the CA(s) that issued the brokers' certificates (with KAFKA_SSL=on); unset: Node's default CAs.",
  ),
  KAFKA_SASL_MECHANISM: z
    .enum(['scram-sha-256', 'scram-sha-512', 'plain'])
    .optional()
    .describe('SASL mechanism for Kafka (SCRAM preferred; `plain` only with KAFKA_SSL=on); unset: no SASL authentication.'),
  KAFKA_SASL_USERNAME: z.string().min(1).optional().describe('Kafka SASL user name (with KAFKA_SASL_MECHANISM).'),
  KAFKA_SASL_PASSWORD: z
    .string()
    .min(1)
    .optional()
    .describe('Kafka SASL password. Prefer KAFKA_SASL_PASSWORD_FILE: environment variables leak into process listings.'),
  KAFKA_SASL_PASSWORD_FILE: optionalPath.describe('File holding the Kafka SASL password (trailing newline ignored).'),
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
  KEY_API_MTLS: z
    .enum(['off', 'optional', 'required'])
    .default('optional')
    .describe(
      'Client certificates (mutual TLS). `optional`: key-api asks for one and verifies it against KEY_API_CLIENT_CA, and a principal bound to a certificate must present it; `required`: every connection must present a valid one; `off`: none are asked for, so bound principals are refused.',
    ),
  KEY_API_CLIENT_CA: optionalPath.describe(
    'PEM file of the CAs that issue client certificates. Default: the generated development CA (KEYWARD_DATA/tls/ca.crt) when key-api generates its TLS material; otherwise none, and no client certificate is accepted.',
  ),
  KEY_API_METRICS_HOST: z
    .string()
    .min(1)
    .default('127.0.0.1')
    .describe(
      'key-api /metrics listen address: a listener of its own, never the API port (plain HTTP, unauthenticated: keep it internal).',
    ),
  KEY_API_METRICS_PORT: port(8447).describe(
    'key-api /metrics port (Prometheus text over plain HTTP; the API port answers /metrics with 404).',
  ),
  KMIP_HOST: z.string().min(1).default('127.0.0.1').describe('kmip service listen address (KMIP over mutual TLS).'),
  KMIP_PORT: port(5696).describe('kmip service port (TTLV over TLS; 5696 is the IANA port for KMIP).'),
  KMIP_TLS_CERT: optionalPath.describe(
    'PEM server certificate (chain) of the kmip service. Default: the generated development certificate under KEYWARD_DATA/tls (development only).',
  ),
  KMIP_TLS_KEY: optionalPath.describe('PEM private key for KMIP_TLS_CERT.'),
  KMIP_CLIENT_CA: optionalPath.describe(
    'PEM file of the CAs that issue KMIP client certificates (required: every KMIP client presents one). Default: the generated development CA (KEYWARD_DATA/tls/ca.crt), outside production only.',
  ),
  KMIP_MAX_MESSAGE_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .max(64 * 1024 * 1024)
    .default(1024 * 1024)
    .describe('Largest KMIP request message accepted, in bytes; a larger one closes the connection.'),
  KMIP_MAX_DEPTH: z.coerce
    .number()
    .int()
    .min(4)
    .max(64)
    .default(16)
    .describe('Deepest nesting of TTLV structures accepted in a KMIP request.'),
  KMIP_TLS_MIN_VERSION: z
    .enum(['TLSv1.3', 'TLSv1.2'])
    .default('TLSv1.3')
    .describe('Oldest TLS version the kmip service accepts. `TLSv1.2` only for old appliances that cannot do TLS 1.3.'),
  KMIP_MAX_CONNECTIONS: z.coerce
    .number()
    .int()
    .min(1)
    .max(100_000)
    .default(512)
    .describe('Open KMIP connections at most (handshakes included); one more is closed at once, before its TLS handshake.'),
  KMIP_MAX_CONNECTIONS_PER_CERT: z.coerce
    .number()
    .int()
    .min(1)
    .max(100_000)
    .default(32)
    .describe(
      'Open KMIP connections at most per client certificate (by fingerprint); one more is closed right after the handshake, before it is read.',
    ),
  KMIP_IDLE_TIMEOUT_SECONDS: z.coerce
    .number()
    .int()
    .min(1)
    .max(3600)
    .default(120)
    .describe('A KMIP connection that sends nothing for this long is closed.'),
  KMIP_READ_TIMEOUT_SECONDS: z.coerce
    .number()
    .int()
    .min(1)
    .max(600)
    .default(10)
    .describe(
      'Time a KMIP client has for its TLS handshake and for the rest of a message once its first byte has arrived; the connection is closed otherwise.',
    ),
  KMIP_HTTP_HOST: z.string().min(1).default('127.0.0.1').describe('kmip service health/metrics listen address.'),
  KMIP_HTTP_PORT: port(8446).describe(
    'kmip service health/metrics port (/health/live, /health/ready, /metrics; plain HTTP, keep it internal).',
  ),
  PROJECTOR_HOST: z.string().min(1).default('127.0.0.1').describe('projector health/metrics listen address.'),
  PROJECTOR_PORT: port(8444).describe('projector health/metrics port (plain HTTP, keep it internal).'),
  BACKUP_HOST: z.string().min(1).default('127.0.0.1').describe('backup service listen address (health, metrics, /v1/backups).'),
  BACKUP_PORT: port(8445).describe('backup service port (plain HTTP: keep it internal, or behind a TLS-terminating proxy).'),
  BACKUP_KEK_DEST: backupDestination.describe(
    'Where KEK snapshots go (tenant KEKs, still wrapped by the root key): a local or mounted directory, or `s3://bucket/prefix`. Unset together with BACKUP_DEK_DEST: backups are off. Must be another place than BACKUP_DEK_DEST.',
  ),
  BACKUP_DEK_DEST: backupDestination.describe(
    'Where DEK snapshots go (key material, still wrapped by the tenant KEKs, and hashed API keys): a directory or `s3://bucket/prefix`.',
  ),
  BACKUP_KEK_KEY: z
    .string()
    .optional()
    .describe(
      'Backup key of the KEK snapshots as base64 (32 bytes). Prefer BACKUP_KEK_KEY_FILE. Never the root key nor the DEK backup key.',
    ),
  BACKUP_KEK_KEY_FILE: optionalPath.describe('File holding the KEK backup key (32 raw bytes, or base64). Required with BACKUP_KEK_DEST.'),
  BACKUP_DEK_KEY: z
    .string()
    .optional()
    .describe(
      'Backup key of the DEK snapshots as base64 (32 bytes). Prefer BACKUP_DEK_KEY_FILE. Never the root key nor the KEK backup key.',
    ),
  BACKUP_DEK_KEY_FILE: optionalPath.describe('File holding the DEK backup key (32 raw bytes, or base64). Required with BACKUP_DEK_DEST.'),
  BACKUP_SCHEDULE: z
    .string()
    .optional()
    .describe('Cron expression (UTC, 5 or 6 fields, e.g. `0 3 * * *`) for scheduled backups; unset: on demand only.'),
  BACKUP_RETAIN: z.coerce
    .number()
    .int()
    .min(1)
    .max(100_000)
    .default(7)
    .describe(
      'Snapshots kept in each destination; older ones are deleted after each successful backup, and with them any destroyed material they still held.',
    ),
  ...s3Settings('KEK'),
  ...s3Settings('DEK'),
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
  GCM_VERSION_ENCRYPTION_LIMIT: z.coerce
    .number()
    .int()
    .min(1)
    .max(2 ** 32)
    .default(2 ** 32 - 2 ** 24)
    .describe(
      'Most AES-GCM encryptions (encrypt, data keys, rewrap, KMIP Encrypt) with one key version, across all instances and restarts (NIST SP 800-38D allows 2^32 with random IVs); then 409 key-version-exhausted until the key is rotated. Decryption is not limited.',
    ),
  GCM_RESERVATION_BLOCK: z.coerce
    .number()
    .int()
    .min(1)
    .max(2 ** 24)
    .default(65_536)
    .describe(
      'Encryptions an instance reserves per key version with one store write (an atomic $inc of the version counter); a restart forfeits at most one block per version.',
    ),
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
    .describe(
      "Usage records of all tenants held in memory, not yet on Kafka nor in the outbox. Beyond it (fail-closed) the tenants with the largest backlog are refused crypto; (fail-open) the oldest records of the largest backlog are dropped and counted. It bounds the usage audit's memory: a record takes about 200 bytes, and with the records on their way to Kafka or the outbox the audit holds at most about five times this many.",
    ),
  USAGE_AUDIT_POLICY: z
    .enum(['fail-closed', 'fail-open'])
    .default('fail-closed')
    .describe(
      "What crypto does when the usage audit can take no more records of a tenant (Kafka away and the outbox unavailable or full): `fail-closed` refuses that tenant's operations (503 `audit-unavailable`) before any crypto; `fail-open` answers and drops that tenant's oldest records (counted).",
    ),
  USAGE_BACKLOG_MAX: z.coerce
    .number()
    .int()
    .min(10)
    .max(10_000_000)
    .default(50_000)
    .describe(
      "Usage records of one tenant held in memory, not yet on Kafka nor in the outbox; at the bound that tenant's crypto is refused (fail-closed) or its oldest records are dropped (fail-open). From three quarters of it on, that tenant's records go to the outbox. About 5 s of one tenant at 10,000 operations/s, while a send to a loaded broker is under way.",
    ),
  USAGE_OUTBOX_MAX: z.coerce
    .number()
    .int()
    .min(0)
    .max(1_000_000_000)
    .default(1_000_000)
    .describe(
      'Usage records of one tenant a key-api instance keeps in the MongoDB outbox (`usage_outbox`) while Kafka is away, drained to the usage topic when it returns; 0 disables the outbox.',
    ),
  AUDIT_CHECKPOINT_INTERVAL_MS: z.coerce
    .number()
    .int()
    .min(0)
    .max(86_400_000)
    .default(60_000)
    .describe(
      "How often key-api signs the head of each tenant's hash chain into a checkpoint (one instance at a time, by lease; only heads that moved). 0 turns signing off.",
    ),
  AUDIT_SIGNING_KEY_FILE: optionalPath.describe(
    'PEM file of the Ed25519 private key (PKCS#8) that signs checkpoints. Unset: generated into KEYWARD_DATA/audit-signing.key (mode 0600) in development and test; in production checkpoints are then not signed. Never stored in MongoDB.',
  ),
  AUDIT_USAGE_SCAN_MAX: z.coerce
    .number()
    .int()
    .min(1_000)
    .max(100_000_000)
    .default(1_000_000)
    .describe(
      'Most usage records one GET /v1/audit/usage reads from the usage topic (from the offset of its `from` time on); beyond it the answer says `truncated`.',
    ),
  OIDC_JWKS_URL: z
    .url({ protocol: /^https?$/ })
    .optional()
    .describe(
      'JWKS URL of the identity provider whose JWTs key-api accepts as bearer tokens (OIDC). Unset: JWTs are refused. Must be https in production.',
    ),
  OIDC_ISSUER: z.string().min(1).optional().describe('Required `iss` of accepted JWTs (required with OIDC_JWKS_URL).'),
  OIDC_AUDIENCE: z.string().min(1).optional().describe('Required `aud` of accepted JWTs (required with OIDC_JWKS_URL).'),
  OIDC_TENANT_CLAIM: z
    .string()
    .min(1)
    .default('keyward_tenant')
    .describe('JWT claim naming the tenant id of the caller (`provider` for provider-admins).'),
  OIDC_ROLE_CLAIM: z
    .string()
    .min(1)
    .default('keyward_role')
    .describe('JWT claim naming the role: a tenant role, or `provider-admin` when the tenant claim is `provider`.'),
  OIDC_ALGORITHMS: z
    .string()
    .regex(/^(RS256|ES256)(,(RS256|ES256))*$/, 'must be a comma-separated list of RS256, ES256')
    .default('RS256,ES256')
    .describe('Accepted JWT signature algorithms (RS256 and ES256 only).'),
  OIDC_CLOCK_TOLERANCE_MS: z.coerce
    .number()
    .int()
    .min(0)
    .max(300_000)
    .default(30_000)
    .describe('Clock skew allowed when checking `exp` and `nbf` of JWTs.'),
  OIDC_JWKS_CACHE_MS: ms(600_000).describe(
    'How long signing keys fetched from OIDC_JWKS_URL are kept; an unknown `kid` refetches, at most 10 times a minute.',
  ),
  RATE_LIMIT_PRINCIPAL_RPS: z.coerce
    .number()
    .min(0.01)
    .max(1_000_000)
    .default(2000)
    .describe('Sustained requests per second each authenticated principal may make (token bucket, per key-api instance).'),
  RATE_LIMIT_PRINCIPAL_BURST: z.coerce
    .number()
    .int()
    .min(1)
    .max(10_000_000)
    .default(4000)
    .describe('Token bucket size per principal: the most requests it may make at once after being idle.'),
  RATE_LIMIT_TENANT_RPS: z.coerce
    .number()
    .min(0.01)
    .max(1_000_000)
    .default(5000)
    .describe('Sustained requests per second all principals of one tenant may make together (per key-api instance).'),
  RATE_LIMIT_TENANT_BURST: z.coerce.number().int().min(1).max(10_000_000).default(10_000).describe('Token bucket size per tenant.'),
  AUTH_LOCKOUT_FAILURES: z.coerce
    .number()
    .int()
    .min(1)
    .max(1_000_000)
    .default(10)
    .describe(
      'Failed authentications with one API key id from one address, within AUTH_LOCKOUT_WINDOW_MS, that lock that key id out for that address.',
    ),
  AUTH_LOCKOUT_WINDOW_MS: ms(300_000).describe('Window in which failed authentications are counted.'),
  AUTH_LOCKOUT_MS: ms(900_000).describe('How long a locked-out key id is refused (429) from that address, whether or not the key exists.'),
  AUTH_LOCKOUT_ADDRESS_FAILURES: z.coerce
    .number()
    .int()
    .min(1)
    .max(1_000_000)
    .default(100)
    .describe(
      'Failed authentications from one address, whatever key ids they name, within AUTH_LOCKOUT_WINDOW_MS, that lock the whole address out for AUTH_LOCKOUT_MS.',
    ),
  AUTH_ADDRESS_RPS: z.coerce
    .number()
    .min(0.01)
    .max(1_000_000)
    .default(5000)
    .describe(
      'Sustained requests per second one client address may make with a credential, checked before authentication (token bucket, per key-api instance).',
    ),
  AUTH_ADDRESS_BURST: z.coerce
    .number()
    .int()
    .min(1)
    .max(10_000_000)
    .default(10_000)
    .describe('Token bucket size per client address (AUTH_ADDRESS_RPS).'),
  AUTH_ADDRESS_FAILURE_RPS: z.coerce
    .number()
    .min(0.01)
    .max(1_000_000)
    .default(2)
    .describe(
      'Sustained failed authentications per second one client address may cause; beyond it, its requests with a credential answer 429 before any lookup.',
    ),
  AUTH_ADDRESS_FAILURE_BURST: z.coerce
    .number()
    .int()
    .min(1)
    .max(10_000_000)
    .default(50)
    .describe('Failed authentications one client address may cause at once (AUTH_ADDRESS_FAILURE_RPS).'),
  AUTH_UNKNOWN_KEY_CACHE_MS: z.coerce
    .number()
    .int()
    .min(0)
    .max(60_000)
    .default(5_000)
    .describe(
      'How long an API key id the credential store does not know is answered 401 without reading the store again (0: off). Issuing a key clears it in the issuing instance.',
    ),
  AUTH_UNKNOWN_KEY_CACHE_MAX: z.coerce
    .number()
    .int()
    .min(1)
    .max(10_000_000)
    .default(100_000)
    .describe('Most unknown API key ids remembered (AUTH_UNKNOWN_KEY_CACHE_MS).'),
  HTTP_REQUEST_TIMEOUT_MS: ms(30_000).describe(
    'Longest time a client may take to send a whole request (headers and body); then 408 and the connection is closed. Also bounds HTTP_HEADERS_TIMEOUT_MS.',
  ),
  HTTP_HEADERS_TIMEOUT_MS: ms(10_000).describe(
    'Longest time a client may take to send the request headers (at most HTTP_REQUEST_TIMEOUT_MS).',
  ),
  HTTP_CONNECTION_TIMEOUT_MS: ms(60_000).describe('A connection idle (no bytes either way) this long is closed.'),
  HTTP_KEEP_ALIVE_TIMEOUT_MS: ms(5_000).describe('How long an idle keep-alive connection is kept open between requests.'),
  HTTP_MAX_CONNECTIONS: z.coerce
    .number()
    .int()
    .min(1)
    .max(1_000_000)
    .default(10_000)
    .describe('Most open HTTP connections per service process; beyond it new connections are dropped at once.'),
  TENANT_LOG_CACHE_MAX: z.coerce
    .number()
    .int()
    .min(1)
    .max(10_000_000)
    .default(1_000)
    .describe(
      "Most tenants' commit logs a key-api or kmip process keeps folded in memory (least recently used beyond it are dropped and reloaded from the store on demand).",
    ),
  TENANT_LOG_CACHE_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(1_048_576)
    .max(2 ** 40)
    .default(67_108_864)
    .describe(
      'Most estimated bytes of folded commit logs a key-api or kmip process keeps in memory (about 2 KiB a key; 64 MiB holds some 300 tenants of 100 keys). The least recently used idle logs beyond it (or beyond TENANT_LOG_CACHE_MAX) are dropped and reloaded from the store on their next request; docs/architecture.md#memory-bounds.',
    ),
  TENANT_SNAPSHOT_EVERY: z.coerce
    .number()
    .int()
    .min(0)
    .max(1_000_000)
    .default(64)
    .describe(
      "Commits after which a key-api or kmip process stores a new snapshot of a tenant's folded log (MAC'd under the root key), so that loading a tenant costs its snapshot and the commits after it instead of its whole history; 0: no snapshots are read or written. docs/architecture.md#tenant-log-snapshots.",
    ),
  TENANT_MAX_KEYS: z.coerce
    .number()
    .int()
    .min(1)
    .max(100_000_000)
    .default(100_000)
    .describe('Most keys a tenant may hold (destroyed keys do not count); creating one more answers 409 quota-exceeded.'),
  TENANT_COMMITS_PER_MINUTE: z.coerce
    .number()
    .int()
    .min(1)
    .max(100_000_000)
    .default(3_000)
    .describe("Most commands that change a tenant's log per minute (token bucket, per process); beyond it 429 with Retry-After."),
  AUDIT_SCANS_PER_TENANT: z.coerce
    .number()
    .int()
    .min(1)
    .max(1_000)
    .default(1)
    .describe('Topic scans (GET /v1/audit/verify and /v1/audit/usage) one tenant may run at once per key-api instance; beyond it 429.'),
  AUDIT_SCANS_MAX: z.coerce
    .number()
    .int()
    .min(1)
    .max(1_000)
    .default(4)
    .describe('Topic scans all tenants together may run at once per key-api instance; beyond it 429.'),
  ENROLLMENT_TTL_HOURS: z.coerce
    .number()
    .int()
    .min(1)
    .max(720)
    .default(72)
    .describe('How long a new principal has to redeem its one-time enrollment token (POST /v1/enroll) for its API key.'),
  ENROLLMENT_RATE_PER_MINUTE: z.coerce
    .number()
    .int()
    .min(1)
    .max(100_000)
    .default(10)
    .describe(
      'Refused enrollment redemptions (POST /v1/enroll, unauthenticated) each client address may make per minute before it gets 429 (per key-api instance).',
    ),
});

export type Settings = z.infer<typeof settingsSchema>;
export type SettingName = keyof Settings;
