/** How the client retries answers that say "not now" (429 Too Many Requests, 503 Service Unavailable). */
export interface RetryPolicy {
  /** Attempts in all, the first included (1 = never retry). Default 4. */
  readonly maxAttempts: number;
  /** First backoff when the answer has no Retry-After; doubles per attempt, with full jitter. Default 200 ms. */
  readonly baseDelayMs: number;
  /** The longest single wait. A Retry-After beyond it is not waited for: the error is thrown at once. Default 10 s. */
  readonly maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxAttempts: 4, baseDelayMs: 200, maxDelayMs: 10_000 };

/** The statuses that are retried: the server did nothing and says when to come back. */
export const RETRIED_STATUSES: ReadonlySet<number> = new Set([429, 503]);

/** A Retry-After header (delta-seconds or an HTTP-date) in milliseconds from `now`; undefined if absent or unreadable. */
export function parseRetryAfter(value: string | readonly string[] | undefined, now: number = Date.now()): number | undefined {
  const text: string | undefined = typeof value === 'string' ? value : value?.[0];
  if (typeof text !== 'string' || text.trim() === '') return undefined;
  const trimmed = text.trim();
  if (/^[0-9]+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/**
 * How long to wait before attempt `attempt + 1` (attempt counts from 1), or undefined to give up:
 * the server's Retry-After when it gave one (if within maxDelayMs), else exponential backoff with
 * full jitter, capped at maxDelayMs.
 */
export function retryDelay(
  policy: RetryPolicy,
  attempt: number,
  retryAfterMs: number | undefined,
  random: () => number = Math.random,
): number | undefined {
  if (attempt >= policy.maxAttempts) return undefined;
  if (retryAfterMs !== undefined) return retryAfterMs <= policy.maxDelayMs ? retryAfterMs : undefined;
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.floor(random() * ceiling);
}
