import { refuse } from '../shared/domain-error';
import { CRYPTO_OPERATIONS, type CryptoOperation } from './key.use';

/** What a Usage Limits total counts: bytes protected, or protect operations (KMIP's Object unit). */
export const USAGE_LIMIT_UNITS = ['byte', 'object'] as const;
export type UsageLimitUnit = (typeof USAGE_LIMIT_UNITS)[number];

/**
 * KMIP Usage Limits: the most a key may protect in its whole life, across every kmip and key-api
 * process. The count is not in the log (one event per use would make the log the hot path): it lives
 * in the store (libs/keys usage-limits.service.ts) and may only overcount, never undercount.
 */
export interface UsageLimits {
  readonly total: number;
  readonly unit: UsageLimitUnit;
}

/** The largest total accepted: an exact integer in a JSON number and in the store. */
export const MAX_USAGE_LIMIT = Number.MAX_SAFE_INTEGER;

/** Refuses a Usage Limits value that is not a positive whole total of a known unit, or one on a key not created over KMIP. */
export function validateUsageLimits(limits: UsageLimits, kmipOnly: boolean): void {
  if (!kmipOnly) refuse('invalid', 'only keys created over KMIP have Usage Limits');
  if (!USAGE_LIMIT_UNITS.includes(limits.unit)) refuse('invalid', `Usage Limits unit must be one of ${USAGE_LIMIT_UNITS.join(', ')}`);
  if (!Number.isSafeInteger(limits.total) || limits.total < 1 || limits.total > MAX_USAGE_LIMIT) {
    refuse('invalid', 'Usage Limits total must be a positive whole number');
  }
}

/**
 * What one use of `key` spends of its Usage Limits: nothing for keys without limits and for uses that
 * apply no protection (decrypt, verify: KMIP counts protection only); else the bytes of data protected
 * (unit byte) or one (unit object).
 */
export function usageLimitCharge(key: { readonly usageLimits?: UsageLimits }, operation: CryptoOperation, dataBytes: number): number {
  const limits = key.usageLimits;
  if (limits === undefined || CRYPTO_OPERATIONS[operation].direction !== 'protect') return 0;
  return limits.unit === 'byte' ? dataBytes : 1;
}
