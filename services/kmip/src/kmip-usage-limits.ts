import type { KeyUsage, UsageLimits, UsageLimitUnit } from '@keyward/domain';
import {
  asEnum,
  asStruct,
  child,
  CryptographicUsageMask,
  ItemType,
  ResultReason,
  Tag,
  ttlv,
  UsageLimitsUnit,
  type TtlvItem,
} from '@keyward/kmip';
import { fail } from './kmip-call';

const UNITS: ReadonlyMap<number, UsageLimitUnit> = new Map([
  [UsageLimitsUnit.Byte, 'byte'],
  [UsageLimitsUnit.Object, 'object'],
]);
const CODES: Readonly<Record<UsageLimitUnit, number>> = { byte: UsageLimitsUnit.Byte, object: UsageLimitsUnit.Object };

/** A whole number from an Integer or Long Integer item (undefined for other types or beyond 2^53). */
function wholeOf(item: TtlvItem | undefined): number | undefined {
  if (item?.type === ItemType.Integer) return item.value;
  if (item?.type === ItemType.LongInteger) return item.value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(item.value) : undefined;
  return undefined;
}

/**
 * The Usage Limits a Create or Register gives (Usage Limits Total and Unit; a Usage Limits Count is the
 * server's to keep, so a client's is refused). The domain checks the total (validateUsageLimits).
 */
export function readUsageLimits(value: TtlvItem): UsageLimits {
  const struct = asStruct(value);
  if (struct === undefined) return fail(ResultReason.InvalidField, 'Usage Limits must be a structure');
  if (child(struct, Tag.UsageLimitsCount) !== undefined) fail(ResultReason.InvalidField, 'Usage Limits Count is kept by the server');
  const total = wholeOf(child(struct, Tag.UsageLimitsTotal));
  const unitCode = asEnum(child(struct, Tag.UsageLimitsUnit));
  const unit = unitCode === undefined ? undefined : UNITS.get(unitCode);
  if (total === undefined || total < 1) return fail(ResultReason.InvalidField, 'Usage Limits Total must be a positive Long Integer');
  if (unit === undefined) return fail(ResultReason.InvalidField, 'Usage Limits Unit must be Byte or Object');
  const known = new Set<number>([Tag.UsageLimitsTotal, Tag.UsageLimitsUnit]);
  if (struct.value.some((item) => !known.has(item.tag))) fail(ResultReason.InvalidField, 'Usage Limits holds only its Total and Unit');
  return { total, unit };
}

/** The Usage Limits attribute as the key was given it (its Total and Unit). */
export const usageLimitsItem = (tag: number, limits: UsageLimits): TtlvItem =>
  ttlv.struct(tag, [ttlv.long(Tag.UsageLimitsTotal, BigInt(limits.total)), ttlv.enum(Tag.UsageLimitsUnit, CODES[limits.unit])]);

/** The usages a Cryptographic Usage Mask names (what a client asks a key for; the domain decides which a key type takes). */
export function usagesOfMask(mask: number): KeyUsage[] {
  const { Encrypt, Decrypt, MacGenerate, MacVerify, Sign, Verify } = CryptographicUsageMask;
  const out: KeyUsage[] = [];
  if ((mask & (Encrypt | Decrypt)) !== 0) out.push('encrypt');
  if ((mask & (MacGenerate | MacVerify)) !== 0) out.push('mac');
  if ((mask & (Sign | Verify)) !== 0) out.push('sign');
  return out;
}
