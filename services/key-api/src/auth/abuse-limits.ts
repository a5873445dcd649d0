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
 * - before authentication, per client address: a token bucket for every request that presents a
 *   credential, and a stricter one for failed authentications (once it is empty, the address's
 *   requests answer 429 before any credential is looked up);
 * - token buckets per principal and per tenant, taken only after authentication, so that nobody
 *   can spend another principal's requests by naming it;
 * - lock-out of an API key id from one address after repeated failed authentications, and of the
 *   whole address after more failures across key ids, answered the same whether or not the key exists.
 */
@Injectable()
export class AbuseLimits {
  private readonly principals: TokenBuckets;
  private readonly tenants: TokenBuckets;
  private readonly addresses: TokenBuckets;
  private readonly addressFailures: TokenBuckets;
  private readonly lockout: FailureLockout;
  private readonly addressLockout: FailureLockout;
  private readonly limited: Counter<'scope'>;
  private readonly failures: Counter<'method'>;
  private readonly lockouts: Counter;

  constructor(@Inject(KEYWARD_CONFIG) config: KeywardConfig, metrics: MetricsRegistry) {
    const { rateLimits, lockout } = config.auth;
    this.principals = new TokenBuckets(rateLimits.principalRps, rateLimits.principalBurst);
    this.tenants = new TokenBuckets(rateLimits.tenantRps, rateLimits.tenantBurst);
    this.lockout = new FailureLockout({ failures: lockout.failures, windowMs: lockout.windowMs, lockoutMs: lockout.durationMs });
    const { addressLimits, addressLockoutFailures } = config.auth;
    this.addresses = new TokenBuckets(addressLimits.rps, addressLimits.burst);
    this.addressFailures = new TokenBuckets(addressLimits.failureRps, addressLimits.failureBurst);
    this.addressLockout = new FailureLockout({
      failures: addressLockoutFailures,
      windowMs: lockout.windowMs,
      lockoutMs: lockout.durationMs,
    });
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
      help: 'API key ids, or whole addresses, locked out after repeated failed authentications',
      registers: [metrics.registry],
    });
  }

  /**
   * Before authentication, for every request that presents a credential: throws 429 when the
   * address is locked out, has spent its failure budget, or its request budget; else takes a request.
   */
  admitAddress(address: string): void {
    const lockedMs = this.addressLockout.lockedFor(address);
    if (lockedMs > 0) {
      this.limited.inc({ scope: 'address-lockout' });
      throw lockedOut(lockedMs, 'from this address');
    }
    const failureWait = this.addressFailures.waitMs(address);
    if (failureWait > 0) {
      this.limited.inc({ scope: 'address-failures' });
      throw rateLimited('address-failures', failureWait, 'too many failed authentications from this address');
    }
    const wait = this.addresses.waitMs(address);
    if (wait > 0) {
      this.limited.inc({ scope: 'address' });
      throw rateLimited('address', wait, 'the request rate limit of this address is exhausted');
    }
    this.addresses.take(address);
  }

  /** Takes one request from the principal's and the tenant's buckets, or throws 429. */
  takeRequest(principal: AuthenticatedPrincipal): void {
    const principalKey = `${principal.tenantId}\u0000${principal.principalId}`;
    const principalWait = this.principals.waitMs(principalKey);
    const tenantWait = this.tenants.waitMs(principal.tenantId);
    if (principalWait > 0 || tenantWait > 0) {
      const scope = principalWait >= tenantWait ? 'principal' : 'tenant';
      this.limited.inc({ scope });
      throw rateLimited(scope, Math.max(principalWait, tenantWait), `the ${scope} request rate limit is exhausted`);
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

  /** Records a failed authentication of an API key id from an address (also against the address itself). */
  authenticationFailed(address: string, credentialId: string): void {
    this.failures.inc({ method: 'api-key' });
    if (this.lockout.fail(lockoutKey(address, credentialId)) > 0) this.lockouts.inc();
    this.addressFailed(address);
  }

  authenticationSucceeded(address: string, credentialId: string): void {
    this.lockout.succeed(lockoutKey(address, credentialId));
  }

  /** Counts a refused JWT (no key id to lock out; it spends the address's failure budget). */
  tokenRefused(address: string): void {
    this.failures.inc({ method: 'oidc' });
    this.addressFailed(address);
  }

  /** Counts a refused console session cookie (it spends the address's failure budget). */
  sessionRefused(address: string): void {
    this.failures.inc({ method: 'session' });
    this.addressFailed(address);
  }

  private addressFailed(address: string): void {
    if (this.addressFailures.waitMs(address) === 0) this.addressFailures.take(address);
    if (this.addressLockout.fail(address) > 0) this.lockouts.inc();
  }
}

function rateLimited(limit: string, waitMs: number, why: string): ProblemError {
  return new ProblemError(
    429,
    'rate-limited',
    'Too many requests',
    `${why}; retry after the Retry-After delay`,
    { limit, retryAfterSeconds: Number(retryAfter(waitMs)) },
    { 'retry-after': retryAfter(waitMs) },
  );
}

function lockoutKey(address: string, credentialId: string): string {
  return `${address}\u0000${credentialId}`;
}

function lockedOut(waitMs: number, what = 'with this API key from this address'): ProblemError {
  return new ProblemError(
    429,
    'authentication-locked',
    'Too many failed authentications',
    `too many failed authentications ${what}; retry after the Retry-After delay`,
    { retryAfterSeconds: Number(retryAfter(waitMs)) },
    { 'retry-after': retryAfter(waitMs) },
  );
}
