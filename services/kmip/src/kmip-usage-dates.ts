import type { KeyState } from '@keyward/domain';
import { asDate, ItemType, ResultReason, Tag } from '@keyward/kmip';
import type { KmipAttribute } from './kmip-attributes';
import { KmipError } from './kmip-error';
import { decodeValue } from './kmip-stored-attributes';

/** The key's own usage dates (KMIP 1.4 §3.25, §3.26), kept as client attributes when given at Create or Register. */
export const USAGE_DATES = ['Process Start Date', 'Protect Stop Date'] as const;

type Use = 'encrypt' | 'decrypt' | 'mac' | 'verify-mac' | 'sign' | 'verify';

/** Applying protection (encrypt, MAC, sign) stops at the Protect Stop Date; processing (decrypt, verify) starts at the Process Start Date. */
const PROTECTS: ReadonlySet<Use> = new Set<Use>(['encrypt', 'mac', 'sign']);

/** A usage date the key keeps (given at Create or Register, or changed since). */
export function usageDateOf(key: KeyState, name: (typeof USAGE_DATES)[number]): Date | undefined {
  const stored = key.attributes?.[name]?.[0];
  return stored === undefined ? undefined : asDate(decodeValue(stored, Tag.AttributeValue));
}

/**
 * Refuses (Permission Denied, as the OASIS reference server answers CS-BC-M-14-14) a use outside the key's usage
 * dates: encrypt or MAC on or after its Protect Stop Date, decrypt or verify before its Process Start Date.
 */
export function requireUsageDates(key: KeyState, use: Use, now: Date): void {
  if (PROTECTS.has(use)) {
    const stop = usageDateOf(key, 'Protect Stop Date');
    if (stop !== undefined && now.getTime() >= stop.getTime())
      throw new KmipError(ResultReason.PermissionDenied, `key ${key.keyId} protects nothing after its Protect Stop Date`, 'key-unusable');
  } else {
    const start = usageDateOf(key, 'Process Start Date');
    if (start !== undefined && now.getTime() < start.getTime())
      throw new KmipError(
        ResultReason.PermissionDenied,
        `key ${key.keyId} processes nothing before its Process Start Date`,
        'key-unusable',
      );
  }
}

/** Refuses (Invalid Field) a usage date that is not a Date-Time, before it is kept. */
export function checkUsageDate(attribute: KmipAttribute): void {
  if ((USAGE_DATES as readonly string[]).includes(attribute.name) && attribute.value.type !== ItemType.DateTime)
    throw new KmipError(ResultReason.InvalidField, `${attribute.name} must be a Date-Time`);
}
