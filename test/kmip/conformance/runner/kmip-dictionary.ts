import dictionary from '../dictionary/kmip-dictionary.json';

/**
 * Tag numbers, enumeration values and mask bits by name, from the tables of the KMIP 1.4 and 2.1
 * specifications (see ../dictionary/extract.py). Names are matched loosely, by their letters and digits
 * only, which is what the KMIP XML encoding's name normalisation keeps ("SHA-256" and "SHA_256",
 * "IV/Counter/Nonce" and "IVCounterNonce", "Pre-Active" and "PreActive" all meet).
 */
export const looseName = (name: string): string => name.toLowerCase().replace(/[^a-z0-9]/g, '');

type Table = ReadonlyMap<string, number>;

/** The XML encoding moves a name's leading digits to its end ("3DES" → "DES3"): both spellings are kept. */
const table = (entries: Record<string, number>): Table =>
  new Map(
    Object.entries(entries).flatMap(([name, value]) => {
      const loose = looseName(name);
      const digits = /^[0-9]+/.exec(loose)?.[0];
      return digits ? [[loose, value] as const, [loose.slice(digits.length) + digits, value] as const] : [[loose, value] as const];
    }),
  );

const tagsByName = table(dictionary.tags);
const tagNames = new Map<number, string>();
for (const [name, value] of Object.entries(dictionary.tags))
  if (!tagNames.has(value)) tagNames.set(value, name.replace(/[^A-Za-z0-9]/g, ''));
const enumerations = new Map<string, Table>(
  Object.entries(dictionary.enumerations).map(([name, values]) => [looseName(name), table(values)]),
);
const masks = new Map<string, Table>(Object.entries(dictionary.masks).map(([name, values]) => [looseName(name), table(values)]));

/** Tags whose enumeration is named differently from the tag. */
const ENUMERATION_OF_TAG: Record<string, string> = {
  objectgroupmemberoption: 'objectgroupmember',
  destroyactiontype: 'destroyaction',
  profilenametype: 'profilename',
  batcherrorcontinuation: 'batcherrorcontinuationoption',
};

export function tagNumber(name: string): number | undefined {
  const hex = /^0x([0-9a-fA-F]{6})$/.exec(name);
  return hex ? parseInt(hex[1]!, 16) : tagsByName.get(looseName(name));
}

/** A tag the runner names in its own code: an unknown name is a programming error. */
export function knownTag(name: string): number {
  const tag = tagNumber(name);
  if (tag === undefined) throw new Error(`no KMIP tag is named ${name}`);
  return tag;
}

/** The tags the runner itself looks at, by specification name. */
export const TAG = {
  Attribute: knownTag('Attribute'),
  AttributeName: knownTag('Attribute Name'),
  AttributeReference: knownTag('Attribute Reference'),
  AttributeValue: knownTag('Attribute Value'),
  Attributes: knownTag('Attributes'),
  BatchItem: knownTag('Batch Item'),
  IvCounterNonce: knownTag('IV/Counter/Nonce'),
  Operation: knownTag('Operation'),
  PrivateKeyUniqueIdentifier: knownTag('Private Key Unique Identifier'),
  PublicKeyUniqueIdentifier: knownTag('Public Key Unique Identifier'),
  RequestPayload: knownTag('Request Payload'),
  ResponseHeader: knownTag('Response Header'),
  ResponsePayload: knownTag('Response Payload'),
  ResultMessage: knownTag('Result Message'),
  ResultReason: knownTag('Result Reason'),
  ResultStatus: knownTag('Result Status'),
  TimeStamp: knownTag('Time Stamp'),
  UniqueIdentifier: knownTag('Unique Identifier'),
};

/** The XML element name of a tag (its specification name without spaces), or its hex form. */
export function tagName(tag: number): string {
  return tagNames.get(tag) ?? `0x${tag.toString(16).padStart(6, '0')}`;
}

/** The enumeration a tag (or an attribute of that name) takes its values from; suffix matches cover "Mask Generator Hashing Algorithm". */
function enumerationFor(name: string): Table | undefined {
  const key = looseName(name);
  const direct = enumerations.get(ENUMERATION_OF_TAG[key] ?? key);
  if (direct) return direct;
  for (const [enumName, values] of enumerations) if (key.endsWith(enumName) && enumName.length >= 5) return values;
  return undefined;
}

/** An Enumeration value given by name ("AES") or as hex ("0x00000003"), for the tag or attribute `context`. */
export function enumerationValue(context: string, value: string): number | undefined {
  if (/^0x[0-9a-fA-F]{1,8}$/.test(value)) return parseInt(value, 16);
  // KMIP 2.x: an Attribute Reference enumerates tags.
  if (looseName(context) === 'attributereference') return tagNumber(value);
  return enumerationFor(context)?.get(looseName(value));
}

/** The names of an enumeration value, for messages. */
export function enumerationName(context: string, value: number): string {
  if (looseName(context) === 'attributereference') return tagName(value);
  for (const [name, v] of Object.entries(dictionaryEnumeration(context))) if (v === value) return name.replace(/[^A-Za-z0-9]/g, '');
  return `0x${value.toString(16).padStart(8, '0')}`;
}

function dictionaryEnumeration(context: string): Record<string, number> {
  const key = looseName(context);
  const wanted = ENUMERATION_OF_TAG[key] ?? key;
  const all = dictionary.enumerations as Record<string, Record<string, number>>;
  for (const [name, values] of Object.entries(all)) if (looseName(name) === wanted) return values;
  for (const [name, values] of Object.entries(all)) if (key.endsWith(looseName(name)) && looseName(name).length >= 5) return values;
  return {};
}

/**
 * An Integer value: decimal, hex ("0x0000000C"), or mask bit names separated by spaces or '|'
 * ("Encrypt Decrypt") for a mask tag or attribute `context`.
 */
export function integerValue(context: string, value: string): number | undefined {
  if (/^-?[0-9]+$/.test(value)) return Number(value);
  if (/^0x[0-9a-fA-F]{1,8}$/.test(value)) return parseInt(value, 16) | 0;
  const bits = masks.get(looseName(context));
  if (!bits) return undefined;
  let mask = 0;
  for (const word of value.split(/[\s|]+/).filter(Boolean)) {
    const bit = bits.get(looseName(word));
    if (bit === undefined) return undefined;
    mask |= bit;
  }
  return mask;
}
