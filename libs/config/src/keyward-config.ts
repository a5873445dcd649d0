/** The validated, typed configuration every service receives. */
export interface KeywardConfig {
  readonly env: 'development' | 'production' | 'test';
  readonly dataDir: string;
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  readonly kafka: {
    readonly brokers: readonly string[];
    readonly clientId: string;
    readonly topics: { readonly events: string; readonly usage: string };
    readonly partitions: number;
    readonly replicationFactor: number;
  };
  readonly mongo: { readonly uri: string; readonly db: string };
  /** True when both KAFKA_BROKERS and MONGODB_URI were given explicitly. */
  readonly infraConfigured: boolean;
  readonly keyApi: {
    readonly host: string;
    readonly port: number;
    readonly tls: TlsSetting;
  };
  readonly projector: ListenSetting;
  readonly backup: ListenSetting;
  /** Test runs only: shift of the business clock. */
  readonly clockOffsetMs: number;
  readonly rootKey: RootKeySetting;
  readonly crypto: {
    readonly cacheMaxEntries: number;
    readonly cacheTtlMs: number;
    readonly stateTtlMs: number;
    readonly usageFlushMs: number;
    readonly usageBufferMax: number;
  };
  readonly healthTimeoutMs: number;
  readonly shutdownGraceMs: number;
}

export interface ListenSetting {
  readonly host: string;
  readonly port: number;
}

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
