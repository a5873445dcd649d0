import type { AttributeValue, KeyAttributes, KeyState } from '@keyward/domain';
import { asText, child, ItemType, ResultReason, Tag, type TtlvItem } from '@keyward/kmip';
import { KmipError } from './kmip-error';
import type { KmipAttribute } from './kmip-attributes';

/**
 * KMIP attributes Keyward keeps for clients and answers back as given: the domain stores them as
 * client attributes on the key (key.created.v1 / key.attributes-changed.v1), as JSON values that
 * encode the TTLV item exactly (type, value, and the tags inside structures).
 */
export const STORED_ATTRIBUTES: ReadonlySet<string> = new Set([
  'Object Group',
  'Alternative Name',
  'Application Specific Information',
  'Contact Information',
  'Link',
  'Operation Policy Name',
  'Description',
  'Comment',
  // Enforced by Encrypt, Decrypt, MAC and MAC Verify (kmip-usage-dates.ts).
  'Process Start Date',
  'Protect Stop Date',
]);

/** Stored attributes that have one instance at most (KMIP 1.4 §3: single-instance). */
export const SINGLE_INSTANCE: ReadonlySet<string> = new Set([
  'Contact Information',
  'Operation Policy Name',
  'Description',
  'Process Start Date',
  'Protect Stop Date',
]);

/** Custom attributes: client-defined `x-` and server-defined `y-` names (KMIP 1.x; kept with any type). */
export const isCustomName = (name: string): boolean => name.startsWith('x-') || name.startsWith('y-');

/** Whether the key keeps this attribute among its client attributes. */
export const isStored = (name: string): boolean => STORED_ATTRIBUTES.has(name) || isCustomName(name);

/** One TTLV item as JSON (the item's own tag is left out at the top: 1.x and 2.0 tag it differently). */
export function encodeValue(item: TtlvItem): AttributeValue {
  return { t: item.type, v: encodeInner(item) };
}

function encodeInner(item: TtlvItem): AttributeValue {
  switch (item.type) {
    case ItemType.Structure:
      return item.value.map((c) => ({ g: c.tag, t: c.type, v: encodeInner(c) }));
    case ItemType.LongInteger:
    case ItemType.BigInteger:
    case ItemType.DateTime:
      return item.value.toString();
    case ItemType.ByteString:
      return item.value.toString('hex');
    default:
      return item.value;
  }
}

const invalid = (): never => {
  throw new KmipError(ResultReason.GeneralFailure, 'a stored attribute could not be read back');
};

const text = (v: AttributeValue | undefined): string => (typeof v === 'string' ? v : invalid());

/** The TTLV item a stored value encodes, with `tag`. */
export function decodeValue(value: AttributeValue, tag: number): TtlvItem {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return invalid();
  const record = value as { readonly [k: string]: AttributeValue };
  return decodeInner(tag, record.t, record.v);
}

function decodeInner(tag: number, type: AttributeValue | undefined, v: AttributeValue | undefined): TtlvItem {
  switch (type) {
    case ItemType.Structure: {
      if (!Array.isArray(v)) return invalid();
      const items = (v as readonly AttributeValue[]).map((c) => {
        const r = c as { readonly [k: string]: AttributeValue };
        return decodeInner(Number(r.g), r.t, r.v);
      });
      return { tag, type: ItemType.Structure, value: items };
    }
    case ItemType.Integer:
    case ItemType.Enumeration:
    case ItemType.Interval:
      return { tag, type, value: Number(v) };
    case ItemType.LongInteger:
    case ItemType.BigInteger:
    case ItemType.DateTime:
      return { tag, type, value: BigInt(text(v)) };
    case ItemType.Boolean:
      return { tag, type, value: v === true };
    case ItemType.TextString:
      return { tag, type, value: text(v) };
    case ItemType.ByteString:
      return { tag, type, value: Buffer.from(text(v), 'hex') };
    default:
      return invalid();
  }
}

/**
 * The server's records of how an object was registered (kmip-key-format.ts): the Key Format Type a
 * Register gave, and the Opaque Data Type of an Opaque Object. Kept with the client attributes, never
 * answered as attributes, never changed by a client.
 */
export const REGISTERED_FORMAT = 'Key Format Type';
export const OPAQUE_DATA_TYPE = 'Opaque Data Type';
const SERVER_RECORDS: ReadonlySet<string> = new Set([REGISTERED_FORMAT, OPAQUE_DATA_TYPE]);
export const isServerRecord = (name: string): boolean => SERVER_RECORDS.has(name);

/** The key's stored attributes, each instance as a KMIP attribute (value tagged `valueTag`). */
export function storedAttributes(key: KeyState, valueTag: number): KmipAttribute[] {
  const out: KmipAttribute[] = [];
  for (const [name, values] of Object.entries(key.attributes ?? {})) {
    if (SERVER_RECORDS.has(name)) continue;
    for (const value of values) out.push({ name, value: decodeValue(value, valueTag) });
  }
  return out;
}

/** The stored values of a set of attributes (by name, in order); refuses a second instance of a single-instance one. */
export function toStored(attributes: readonly KmipAttribute[]): KeyAttributes {
  const out: Record<string, AttributeValue[]> = {};
  for (const { name, value } of attributes) {
    const list = (out[name] ??= []);
    if (SINGLE_INSTANCE.has(name) && list.length > 0) {
      throw new KmipError(ResultReason.InvalidField, `${name} has a single instance`);
    }
    list.push(encodeValue(value));
  }
  return out;
}

/** Whether `filter` (a Locate attribute) matches one of the key's stored instances of it. */
export function matchesStored(key: KeyState, filter: KmipAttribute): boolean {
  const values = key.attributes?.[filter.name] ?? [];
  if (filter.name === 'Application Specific Information') {
    // By namespace, and by data too when the filter names some.
    const ns = asText(child(filter.value, Tag.ApplicationNamespace));
    const data = asText(child(filter.value, Tag.ApplicationData));
    return values.some((v) => {
      const stored = decodeValue(v, Tag.AttributeValue);
      return asText(child(stored, Tag.ApplicationNamespace)) === ns && (!data || asText(child(stored, Tag.ApplicationData)) === data);
    });
  }
  const wanted = JSON.stringify(encodeValue(filter.value));
  return values.some((v) => JSON.stringify(v) === wanted);
}
