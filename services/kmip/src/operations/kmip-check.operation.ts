import { asInt, child, ResultReason, Tag, ttlv, type TtlvItem } from '@keyward/kmip';
import { keyAttributes } from '../kmip-attributes';
import { fail, findKey, isKmip2, READERS, requireRole, type Call, type KmipDeps, type Payload } from '../kmip-call';
import { uidOf } from '../kmip-key-pair';

/**
 * Check (KMIP 1.0 §4.10, 2.1 §6.1.5): whether the object may be used for the Cryptographic Usage
 * Mask given (every bit must be in the object's mask, as Get Attributes answers it). Changes
 * nothing. Usage Limits Count and Lease Time are refused (Feature Not Supported), not ignored:
 * Keyward keeps no Lease Time, and a Usage Limits check would have to reserve the count it says is left.
 */
export async function check(deps: KmipDeps, payload: TtlvItem | undefined, call: Call): Promise<Payload> {
  requireRole(call, READERS, 'check keys');
  if (child(payload, Tag.UsageLimitsCount) !== undefined)
    fail(ResultReason.FeatureNotSupported, 'Check of a Usage Limits Count is not supported');
  if (child(payload, Tag.LeaseTime) !== undefined)
    fail(ResultReason.FeatureNotSupported, 'Check of a Lease Time is not supported: Keyward keeps no Lease Time');
  const { key, part } = await findKey(deps, payload, call);
  const uid = uidOf(key, part);
  const wanted = asInt(child(payload, Tag.CryptographicUsageMask));
  if (wanted !== undefined) {
    const maskItem = keyAttributes(key, part).find((a) => a.name === 'Cryptographic Usage Mask')?.value;
    const mask = asInt(maskItem) ?? 0;
    if ((wanted & ~mask) !== 0) {
      fail(
        isKmip2(call) ? ResultReason.IncompatibleCryptographicUsageMask : ResultReason.IllegalOperation,
        `Check failed: the object's Cryptographic Usage Mask (${mask}) does not allow ${wanted}`,
      );
    }
  }
  return [ttlv.text(Tag.UniqueIdentifier, uid)];
}
