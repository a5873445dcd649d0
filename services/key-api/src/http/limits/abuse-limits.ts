import { Inject, Injectable } from '@nestjs/common';
import { Counter } from 'prom-client';
import { FailureLockout, TokenBuckets, type AuthenticatedPrincipal } from '@keyward/auth';
import type { KeywardConfig } from '@keyward/config';
import { KEYWARD_CONFIG, MetricsRegistry, ProblemError } from '@keyward/platform';

/** Retry-After in whole seconds, at least 1. */
function retryAfter(ms: number): string {
  return String(Math.max(1, Math.ceil(ms / 1000)));
}

/**
 * Abuse limits of one key-api instance, all in memory:
 * - token buckets per principal and per tenant, taken only after authentication, so that nobody
 *   can spend another principal's requests by naming it;
 * - lock-out of an API key id from one address after repeated failed authentications, answered
 *   the same whether or not the key exists.
 */
@Injectable()
export class AbuseLimits {
  private readonly principals: TokenBuckets;
  private readonly tenants: TokenBuckets;
  private readonly lockout: FailureLockout;
  private readonly limited: Counter<'scope'>;
  private readonly failures: Counter<'method'>;
  private readonly lockouts: Counter;

  constructor(@Inject(KEYWARD_CONFIG) config: KeywardConfig, metrics: MetricsRegistry) {
    const { rateLimits, lockout } = config.auth;
    this.principals = new TokenBuckets(rateLimits.principalRps, rateLimits.principalBurst);
    this.tenants = new TokenBuckets(rateLimits.tenantRps, rateLimits.tenantBurst);
    this.lockout = new FailureLockout({ failures: lockout.failures, windowMs: lockout.windowMs, lockoutMs: lockout.durationMs });
    this.limited = new Counter({
      name: 'keyward_rate_limited_total',
      help: 'Requests refused with 429 by a rate limit or an authentication lock-out',
      labelNames: ['scope'],
      registers: [metrics.registry],
    });
    this.failures = new Counter({
      name: 'keyward_auth_failures_total',
      help: 'Failed authentications by method',
      labelNames: ['method'],
      registers: [metrics.registry],
    });
    this.lockouts = new Counter({
      name: 'keyward_auth_lockouts_total',
      help: 'API key ids locked out for an address after repeated failed authentications',
      registers: [metrics.registry],
    });
  }

  /** Takes one request from the principal's and the tenant's buckets, or throws 429. */
  takeRequest(principal: AuthenticatedPrincipal): void {
    const principalKey = `${principal.tenantId}\u0000${principal.principalId}`;
    const principalWait = this.principals.waitMs(principalKey);
    const tenantWait = this.tenants.waitMs(principal.tenantId);
    if (principalWait > 0 || tenantWait > 0) {
      const scope = principalWait >= tenantWait ? 'principal' : 'tenant';
      this.limited.inc({ scope });
      const waitMs = Math.max(principalWait, tenantWait);
      throw new ProblemError(
        429,
        'rate-limited',
        'Too many requests',
        `the ${scope} request rate limit is exhausted; retry after the Retry-After delay`,
        { limit: scope, retryAfterSeconds: Number(retryAfter(waitMs)) },
        { 'retry-after': retryAfter(waitMs) },
      );
    }
    this.principals.take(principalKey);
    this.tenants.take(principal.tenantId);
  }

  /** Throws 429 when this API key id is locked out for this address. */
  checkLockout(address: string, credentialId: string): void {
    const waitMs = this.lockout.lockedFor(lockoutKey(address, credentialId));
    if (waitMs > 0) {
      this.limited.inc({ scope: 'lockout' });
      throw lockedOut(waitMs);
    }
  }

  /** Records a failed authentication of an API key id from an address. */
  authenticationFailed(address: string, credentialId: string): void {
    this.failures.inc({ method: 'api-key' });
    if (this.lockout.fail(lockoutKey(address, credentialId)) > 0) this.lockouts.inc();
  }

  authenticationSucceeded(address: string, credentialId: string): void {
    this.lockout.succeed(lockoutKey(address, credentialId));
  }

  /** Counts a refused JWT (no lock-out: there is no key id to lock, and the signature is not guessable). */
  tokenRefused(): void {
    this.failures.inc({ method: 'oidc' });
  }
}

function lockoutKey(address: string, credentialId: string): string {
  return `${address}\u0000${credentialId}`;
}

function lockedOut(waitMs: number): ProblemError {
  return new ProblemError(
    429,
    'authentication-locked',
    'Too many failed authentications',
    'too many failed authentications with this API key from this address; retry after the Retry-After delay',
    { retryAfterSeconds: Number(retryAfter(waitMs)) },
    { 'retry-after': retryAfter(waitMs) },
  );
}
