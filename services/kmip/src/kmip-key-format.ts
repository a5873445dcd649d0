import type { KeyAttributes, KeyState } from '@keyward/domain';
import { asEnum, Tag, ttlv } from '@keyward/kmip';
import { decodeValue, encodeValue, REGISTERED_FORMAT } from './kmip-stored-attributes';

/**
 * The Key Format Type a Register gave when it is not the one Keyward serves the object in by default
 * (Transparent Symmetric Key instead of Raw, Raw Secret Data instead of Opaque), kept under
 * REGISTERED_FORMAT so that Get answers the material as it was registered (the OASIS 2.1 Baseline
 * cases BL-M-3 and BL-M-4). Set by the server only.
 */
export const registeredFormatAttribute = (format: number): KeyAttributes => ({
  [REGISTERED_FORMAT]: [encodeValue(ttlv.enum(Tag.AttributeValue, format))],
});

export function registeredFormatOf(key: KeyState): number | undefined {
  const stored = key.attributes?.[REGISTERED_FORMAT]?.[0];
  return stored === undefined ? undefined : asEnum(decodeValue(stored, Tag.AttributeValue));
}
