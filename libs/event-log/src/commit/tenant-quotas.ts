import { refuse, type KeywardCommand, type TenantLog } from '@keyward/domain';

export interface TenantQuotaLimits {
  /** Keys a tenant may hold, destroyed ones not counted. */
  readonly maxKeys: number;
  /** Commits a tenant may append per minute (a token bucket of this size, refilled over a minute). */
  readonly commitsPerMinute: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

const DESTROYED = new Set(['Destroyed', 'DestroyedCompromised']);

/**
 * Per-tenant quotas of one process, checked before a command is decided: a tenant cannot hold
 * more than `maxKeys` keys, nor append more than `commitsPerMinute` commits a minute, so that
 * one tenant cannot fill the shared log, topic and caches at the others' expense. Refusals are
 * domain errors: `quota-exceeded` (a count, 409) and `rate-exceeded` (429, with retryAfterSeconds).
 */
export class TenantQuotas {
  private readonly buckets = new Map<string, Bucket>();
  private readonly ratePerMs: number;

  constructor(
    readonly limits: TenantQuotaLimits,
    private readonly maxTenants = 100_000,
    private readonly now: () => number = () => Date.now(),
  ) {
    this.ratePerMs = limits.commitsPerMinute / 60_000;
  }

  /** Throws when `command` would exceed a quota of the tenant whose log is `log`. */
  admit(tenantId: string, command: KeywardCommand, log: TenantLog): void {
    const tokens = this.level(tenantId, this.now());
    if (tokens < 1) {
      const retryAfterSeconds = Math.max(1, Math.ceil((1 - tokens) / this.ratePerMs / 1000));
      refuse('rate-exceeded', `the tenant may change its log at most ${this.limits.commitsPerMinute} times a minute`, {
        quota: 'commits-per-minute',
        limit: this.limits.commitsPerMinute,
        retryAfterSeconds,
      });
    }
    if (command.kind === 'key.create') {
      const held = liveKeys(log);
      if (held >= this.limits.maxKeys) {
        refuse('quota-exceeded', `the tenant holds ${held} keys, its quota is ${this.limits.maxKeys}`, {
          quota: 'keys',
          limit: this.limits.maxKeys,
          current: held,
        });
      }
    }
  }

  /** Counts one appended commit of the tenant. */
  committed(tenantId: string): void {
    const now = this.now();
    const tokens = this.level(tenantId, now);
    this.buckets.delete(tenantId); // re-inserted last: the map stays in least-recently-used order
    if (this.buckets.size >= this.maxTenants) {
      const oldest = this.buckets.keys().next().value;
      if (oldest !== undefined) this.buckets.delete(oldest);
    }
    this.buckets.set(tenantId, { tokens: tokens - 1, at: now });
  }

  private level(tenantId: string, now: number): number {
    const bucket = this.buckets.get(tenantId);
    const capacity = this.limits.commitsPerMinute;
    return bucket ? Math.min(capacity, bucket.tokens + (now - bucket.at) * this.ratePerMs) : capacity;
  }
}

/** Keys of the log that are not destroyed. */
export function liveKeys(log: TenantLog): number {
  let count = 0;
  for (const key of log.keys.values()) if (!DESTROYED.has(key.state)) count++;
  return count;
}

/** The executor limits of a service, from its configuration (`config.limits`). */
export function executorLimitsOf(limits: {
  readonly tenantLogCacheMax: number;
  readonly tenantLogCacheMaxBytes: number;
  readonly tenantMaxKeys: number;
  readonly tenantCommitsPerMinute: number;
}): { maxCachedTenants: number; maxCachedBytes: number; quotas: TenantQuotas } {
  return {
    maxCachedTenants: limits.tenantLogCacheMax,
    maxCachedBytes: limits.tenantLogCacheMaxBytes,
    quotas: new TenantQuotas({ maxKeys: limits.tenantMaxKeys, commitsPerMinute: limits.tenantCommitsPerMinute }),
  };
}
