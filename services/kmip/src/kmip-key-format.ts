import type { KeyAttributes, KeyState } from '@keyward/domain';
import { asEnum, Tag, ttlv } from '@keyward/kmip';
import { decodeValue, encodeValue, OPAQUE_DATA_TYPE, REGISTERED_FORMAT } from './kmip-stored-attributes';

/**
 * How an object was registered, where Keyward's key types do not say it, recorded by the server with
 * the key's client attributes (never answered as attributes, never changed by a client):
 * - the Key Format Type a Register gave when it is not the one Keyward serves the object in by
 *   default (Transparent Symmetric Key instead of Raw, Raw Secret Data instead of Opaque), so that
 *   Get answers the material as it was registered (OASIS 2.1 Baseline cases BL-M-3 and BL-M-4);
 * - the Opaque Data Type of an Opaque Object, which Keyward keeps as a `SECRET` key (its Opaque Data
 *   Value is the material): Get, Get Attributes and Locate answer it as an Opaque Object (BL-M-5).
 */
const record = (name: string, value: number): KeyAttributes => ({ [name]: [encodeValue(ttlv.enum(Tag.AttributeValue, value))] });

function recorded(key: KeyState, name: string): number | undefined {
  const stored = key.attributes?.[name]?.[0];
  return stored === undefined ? undefined : asEnum(decodeValue(stored, Tag.AttributeValue));
}

export const registeredFormatAttribute = (format: number): KeyAttributes => record(REGISTERED_FORMAT, format);
export const registeredFormatOf = (key: KeyState): number | undefined => recorded(key, REGISTERED_FORMAT);

export const opaqueDataTypeAttribute = (dataType: number): KeyAttributes => record(OPAQUE_DATA_TYPE, dataType);
/** The Opaque Data Type of a key registered as an Opaque Object (undefined: not one). */
export const opaqueDataTypeOf = (key: KeyState): number | undefined =>
  key.keyType === 'SECRET' ? recorded(key, OPAQUE_DATA_TYPE) : undefined;
