/** The validated, typed configuration every service receives. */
export interface KeywardConfig {
  readonly env: 'development' | 'production' | 'test';
  readonly dataDir: string;
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  readonly logFormat: 'auto' | 'json' | 'pretty';
  readonly kafka: {
    readonly brokers: readonly string[];
    readonly clientId: string;
    readonly topics: { readonly events: string; readonly usage: string };
    readonly partitions: number;
    readonly replicationFactor: number;
    /** TLS and SASL of the connections to the brokers (see kafkaClientSecurity in @keyward/platform). */
    readonly security: KafkaSecuritySetting;
  };
  readonly mongo: { readonly uri: string; readonly db: string };
  /** True when both KAFKA_BROKERS and MONGODB_URI were given explicitly. */
  readonly infraConfigured: boolean;
  readonly keyApi: {
    readonly host: string;
    readonly port: number;
    readonly tls: TlsSetting;
    /** /metrics, on a listener of its own (never the API port). */
    readonly metrics: ListenSetting;
  };
  readonly projector: ListenSetting;
  readonly kmip: KmipSetting;
  readonly backup: BackupSetting;
  /** Test runs only: shift of the business clock. */
  readonly clockOffsetMs: number;
  readonly rootKey: RootKeySetting;
  readonly crypto: {
    readonly cacheMaxEntries: number;
    readonly cacheTtlMs: number;
    /** Most AES-GCM encryptions per key version (all instances), and how many an instance reserves per store write. */
    readonly gcm: { readonly versionLimit: number; readonly reservationBlock: number };
    readonly stateTtlMs: number;
    readonly usageFlushMs: number;
    readonly usageBufferMax: number;
    /** Whether crypto is refused (fail-closed) or records dropped (fail-open) when the usage audit can take no more. */
    readonly usageAuditPolicy: 'fail-closed' | 'fail-open';
    /** Usage records of one tenant held in memory (neither on Kafka nor in the outbox). */
    readonly usageBacklogMax: number;
    /** Usage records of one tenant one instance keeps in the outbox (0: no outbox). */
    readonly usageOutboxMax: number;
  };
  readonly healthTimeoutMs: number;
  readonly shutdownGraceMs: number;
  /** How key-api authenticates callers beyond API keys, and the abuse limits it applies. */
  readonly auth: AuthSetting;
  /** Compliance: signed checkpoints of each tenant's chain, usage scans. */
  readonly audit: AuditSetting;
  /** Resource limits: HTTP timeouts and connections, per-tenant quotas and caches. */
  readonly limits: LimitsSetting;
}

export interface LimitsSetting {
  readonly http: {
    readonly requestTimeoutMs: number;
    readonly headersTimeoutMs: number;
    readonly connectionTimeoutMs: number;
    readonly keepAliveTimeoutMs: number;
    readonly maxConnections: number;
  };
  /** Tenants whose folded commit log a process keeps in memory. */
  readonly tenantLogCacheMax: number;
  /** Estimated bytes of the folded commit logs a process keeps in memory. */
  readonly tenantLogCacheMaxBytes: number;
  /** Commits between snapshots of a tenant's folded log (0: snapshots off). */
  readonly tenantSnapshotEvery: number;
  readonly tenantMaxKeys: number;
  readonly tenantCommitsPerMinute: number;
  readonly auditScansPerTenant: number;
  readonly auditScansMax: number;
}

export interface AuditSetting {
  /** 0: checkpoints are not signed. */
  readonly checkpointIntervalMs: number;
  /** Where the Ed25519 checkpoint signing key comes from; `none` (production without a file): not signed. */
  readonly signingKey: { readonly kind: 'file' | 'generate'; readonly path: string } | { readonly kind: 'none' };
  readonly usageScanMax: number;
}

export interface AuthSetting {
  readonly mtls: MtlsSetting;
  /** null: JWT bearer tokens are refused. */
  readonly oidc: OidcSetting | null;
  readonly rateLimits: {
    readonly principalRps: number;
    readonly principalBurst: number;
    readonly tenantRps: number;
    readonly tenantBurst: number;
  };
  readonly lockout: { readonly failures: number; readonly windowMs: number; readonly durationMs: number };
  /** Failures from one address across key ids that lock the address out (same window and duration). */
  readonly addressLockoutFailures: number;
  /** Checked before authentication, per client address: requests with a credential, and failed authentications. */
  readonly addressLimits: {
    readonly rps: number;
    readonly burst: number;
    readonly failureRps: number;
    readonly failureBurst: number;
  };
  /** Unknown API key ids answered without a store read for `ttlMs` (0: off). */
  readonly unknownKeyCache: { readonly ttlMs: number; readonly maxEntries: number };
  /** One-time enrollment tokens: how long they live, how often one address may try to redeem one. */
  readonly enrollment: { readonly ttlHours: number; readonly perAddressPerMinute: number };
}

/**
 * Client certificates on the key-api listener. `off` carries why when mTLS was asked for but
 * cannot apply (plain HTTP, or no CA to verify client certificates against).
 */
export type MtlsSetting =
  { readonly mode: 'off'; readonly reason?: string } | { readonly mode: 'optional' | 'required'; readonly clientCaFile: string };

export interface OidcSetting {
  readonly jwksUrl: string;
  readonly issuer: string;
  readonly audience: string;
  readonly tenantClaim: string;
  readonly roleClaim: string;
  readonly algorithms: readonly ('RS256' | 'ES256')[];
  readonly clockToleranceMs: number;
  readonly jwksCacheMs: number;
}

export interface ListenSetting {
  readonly host: string;
  readonly port: number;
}

/** The backup service: where the two halves of each snapshot go, under which keys, how often, how many are kept. */
export interface BackupSetting extends ListenSetting {
  /** null: backups are off (neither BACKUP_KEK_DEST nor BACKUP_DEK_DEST is set). */
  readonly destinations: { readonly kek: BackupDestinationSetting; readonly dek: BackupDestinationSetting } | null;
  readonly keys: { readonly kek: SecretSource; readonly dek: SecretSource };
  /** Cron expression (UTC); null: on demand only. */
  readonly schedule: string | null;
  readonly retain: number;
}

export type BackupDestinationSetting =
  | { readonly kind: 'directory'; readonly path: string }
  | {
      readonly kind: 's3';
      readonly bucket: string;
      /** Object key prefix, without leading or trailing slash ('' for the bucket root). */
      readonly prefix: string;
      /** null: AWS S3 itself. */
      readonly endpoint: string | null;
      readonly region: string;
      /** null: the AWS SDK's default credential chain. */
      readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string } | null;
    };

/** A secret given in the environment (base64), in a file, or not at all. */
export type SecretSource =
  { readonly kind: 'env'; readonly base64: string } | { readonly kind: 'file'; readonly path: string } | { readonly kind: 'none' };

export type TlsSetting =
  | { readonly enabled: false }
  | { readonly enabled: true; readonly certFile: string; readonly keyFile: string }
  | { readonly enabled: true; readonly generated: string };

/** Where the root key comes from; `none` starts the service sealed. */
export type RootKeySetting =
  | { readonly kind: 'env'; readonly base64: string }
  | { readonly kind: 'file'; readonly path: string }
  | { readonly kind: 'generate'; readonly path: string }
  | { readonly kind: 'none' };

/** The kmip service: KMIP (TTLV) over mutual TLS. */
export interface KmipSetting {
  readonly host: string;
  readonly port: number;
  /** Server certificate files, or the folder of generated development TLS material. */
  readonly tls: { readonly certFile: string; readonly keyFile: string } | { readonly generated: string };
  /** null: no CA to verify client certificates against, so the service refuses to start. */
  readonly clientCaFile: string | null;
  readonly maxMessageBytes: number;
  readonly maxDepth: number;
  /** Oldest TLS version accepted (TLS 1.3 unless configured down for old appliances). */
  readonly tlsMinVersion: 'TLSv1.3' | 'TLSv1.2';
  /** Open connections at most, overall and per client certificate fingerprint. */
  readonly maxConnections: number;
  readonly maxConnectionsPerCert: number;
  /** Idle connection timeout, and the time for a handshake or the rest of a started message. */
  readonly idleTimeoutMs: number;
  readonly readTimeoutMs: number;
  /** Health and metrics over plain HTTP. */
  readonly http: ListenSetting;
}

/** How Kafka clients authenticate the brokers (TLS) and themselves (SASL). */
export interface KafkaSecuritySetting {
  /** null: plaintext. */
  readonly ssl: { readonly caFile: string | null } | null;
  /** null: no SASL. The password is read when a client is created, never kept in the configuration. */
  readonly sasl: {
    readonly mechanism: 'scram-sha-256' | 'scram-sha-512' | 'plain';
    readonly username: string;
    readonly password: { readonly kind: 'env'; readonly value: string } | { readonly kind: 'file'; readonly path: string };
  } | null;
}
