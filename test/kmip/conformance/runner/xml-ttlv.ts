import { ItemType, type TtlvItem } from '@keyward/kmip';
import { enumerationValue, integerValue, tagNumber } from './kmip-dictionary';
import type { XmlElement } from './xml-reader';

/** A problem in a test case itself (unknown tag, bad value): the case cannot be run. */
export class CaseFormatError extends Error {
  constructor(message: string, element: XmlElement) {
    super(`${message} (<${element.name}> line ${element.line})`);
    this.name = 'CaseFormatError';
  }
}

export const TYPE_BY_NAME: Record<string, ItemType> = {
  Structure: ItemType.Structure,
  Integer: ItemType.Integer,
  LongInteger: ItemType.LongInteger,
  BigInteger: ItemType.BigInteger,
  Enumeration: ItemType.Enumeration,
  Boolean: ItemType.Boolean,
  TextString: ItemType.TextString,
  ByteString: ItemType.ByteString,
  DateTime: ItemType.DateTime,
  Interval: ItemType.Interval,
};

/** The tag of an element: its name, or the `tag` attribute of a `<TTLV>` element (KMIP XML encoding). */
export function elementTag(element: XmlElement): number {
  const name = element.name === 'TTLV' ? (element.attributes.tag ?? '') : element.name;
  return tagNumber(name) ?? throwFormat(`unknown tag ${name}`, element);
}

export function elementType(element: XmlElement): ItemType {
  const type = element.attributes.type ?? 'Structure';
  return TYPE_BY_NAME[type] ?? throwFormat(`unknown type ${type}`, element);
}

/**
 * The name enumerations and masks of an element are looked up by: its own tag, or for an Attribute
 * Value the Attribute Name beside it ("Cryptographic Algorithm" → AES).
 */
export function valueContext(element: XmlElement, parent: XmlElement | undefined): string {
  if (element.name === 'AttributeValue' && parent) {
    const name = parent.children.find((c) => c.name === 'AttributeName')?.attributes.value;
    if (name) return name;
  }
  return element.name === 'TTLV' ? (element.attributes.tag ?? '') : element.name;
}

/** `$NOW`, `$NOW+3600`, `$NOW-3600`: seconds relative to `now`. */
export function nowPlaceholder(value: string, now: Date): bigint | undefined {
  const m = /^\$NOW(?:([+-])([0-9]+))?$/.exec(value);
  if (!m) return undefined;
  const offset = m[2] ? Number(m[2]) * (m[1] === '-' ? -1 : 1) : 0;
  return BigInt(Math.floor(now.getTime() / 1000) + offset);
}

/** A leaf value written in the case (no placeholder) as the codec's value for that type. */
export function leafValue(element: XmlElement, parent: XmlElement | undefined, type: ItemType): TtlvItem['value'] {
  const raw = element.attributes.value;
  if (raw === undefined) return throwFormat('a primitive needs a value attribute', element);
  const context = valueContext(element, parent);
  switch (type) {
    case ItemType.Integer:
      return integerValue(context, raw) ?? throwFormat(`bad Integer ${raw}`, element);
    case ItemType.Interval:
      return /^[0-9]+$/.test(raw) ? Number(raw) : throwFormat(`bad Interval ${raw}`, element);
    case ItemType.LongInteger:
      return /^-?[0-9]+$|^0x[0-9a-fA-F]+$/.test(raw) ? BigInt(raw) : throwFormat(`bad LongInteger ${raw}`, element);
    case ItemType.BigInteger:
      return /^(0x)?[0-9a-fA-F]+$/.test(raw)
        ? BigInt(raw.startsWith('0x') ? raw : `0x${raw}`)
        : throwFormat(`bad BigInteger ${raw}`, element);
    case ItemType.Enumeration:
      return enumerationValue(context, raw) ?? throwFormat(`unknown ${context} value ${raw}`, element);
    case ItemType.Boolean:
      if (raw === 'true' || raw === '1') return true;
      if (raw === 'false' || raw === '0') return false;
      return throwFormat(`bad Boolean ${raw}`, element);
    case ItemType.TextString:
      return raw;
    case ItemType.ByteString:
      return /^([0-9a-fA-F]{2})*$/.test(raw) ? Buffer.from(raw, 'hex') : throwFormat(`bad ByteString ${raw}`, element);
    case ItemType.DateTime: {
      if (/^0x[0-9a-fA-F]+$/.test(raw)) return BigInt(raw);
      const ms = Date.parse(raw);
      return Number.isNaN(ms) ? throwFormat(`bad DateTime ${raw}`, element) : BigInt(Math.floor(ms / 1000));
    }
    default:
      return throwFormat('a structure has no value', element);
  }
}

/** Resolves a `$NAME` placeholder of a request: the value to send, or undefined when nothing is known for it yet. */
export type PlaceholderResolver = (placeholder: string, tag: number, type: ItemType) => TtlvItem['value'] | undefined;

/** Converts a request element of a case into a TTLV item, replacing its placeholders. */
export function toTtlv(element: XmlElement, resolve: PlaceholderResolver, parent?: XmlElement): TtlvItem {
  const tag = elementTag(element);
  const type = elementType(element);
  if (type === ItemType.Structure) {
    return { tag, type, value: element.children.map((c) => toTtlv(c, resolve, element)) };
  }
  const raw = element.attributes.value ?? '';
  if (raw.startsWith('$')) {
    const value = resolve(raw, tag, type);
    if (value === undefined) return throwFormat(`placeholder ${raw} has no value yet`, element);
    return { tag, type, value } as TtlvItem;
  }
  return { tag, type, value: leafValue(element, parent, type) } as TtlvItem;
}

function throwFormat(message: string, element: XmlElement): never {
  throw new CaseFormatError(message, element);
}
