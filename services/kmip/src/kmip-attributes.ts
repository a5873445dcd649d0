import { allowedOperations, isAsymmetricKeyType, KEY_TYPES, type AsymmetricKeyType, type KeyState, type KeyType } from '@keyward/domain';
import { publicKeyUid, uidOf, type KeyPart } from './kmip-key-pair';
import { cipherParametersItem } from './kmip-cipher-parameters';
import { usageLimitsItem } from './kmip-usage-limits';
import { keyTypeFor, kmipKeyType } from './kmip-key-types';
import { decodeValue, storedAttributes } from './kmip-stored-attributes';
import { opaqueDataTypeOf } from './kmip-key-format';
import {
  asInt,
  asStruct,
  asText,
  child,
  CryptographicAlgorithm,
  CryptographicUsageMask,
  DrbgAlgorithm,
  ItemType,
  LinkType,
  NameType,
  ObjectType,
  RevocationReasonCode,
  RngAlgorithm,
  State,
  Tag,
  ttlv,
  type TtlvItem,
} from '@keyward/kmip';

const dateOf = (iso: string | null | undefined): Date | undefined => (iso ? new Date(iso) : undefined);

/** One attribute, independent of how the protocol version carries it. */
export interface KmipAttribute {
  readonly name: string;
  /** The value, tagged Attribute Value (1.x) or with its own tag (2.0): only its type and value matter. */
  readonly value: TtlvItem;
}

/** Attribute names of KMIP 1.x and their KMIP 2.0 tags, for the attributes Keyward knows. */
export const ATTRIBUTE_TAGS: Readonly<Record<string, number>> = {
  'Unique Identifier': Tag.UniqueIdentifier,
  'Object Type': Tag.ObjectType,
  'Cryptographic Algorithm': Tag.CryptographicAlgorithm,
  'Cryptographic Length': Tag.CryptographicLength,
  'Cryptographic Usage Mask': Tag.CryptographicUsageMask,
  Name: Tag.Name,
  State: Tag.State,
  'Initial Date': Tag.InitialDate,
  'Activation Date': Tag.ActivationDate,
  'Deactivation Date': Tag.DeactivationDate,
  'Compromise Date': Tag.CompromiseDate,
  'Compromise Occurrence Date': Tag.CompromiseOccurrenceDate,
  'Destroy Date': Tag.DestroyDate,
  'Last Change Date': Tag.LastChangeDate,
  'Original Creation Date': Tag.OriginalCreationDate,
  Digest: Tag.Digest,
  Fresh: Tag.Fresh,
  Extractable: Tag.Extractable,
  Sensitive: Tag.Sensitive,
  'Always Sensitive': Tag.AlwaysSensitive,
  'Never Extractable': Tag.NeverExtractable,
  'Revocation Reason': Tag.RevocationReason,
  'Random Number Generator': Tag.RandomNumberGenerator,
  'Object Group': Tag.ObjectGroup,
  'Alternative Name': Tag.AlternativeName,
  'Application Specific Information': Tag.ApplicationSpecificInformation,
  'Cryptographic Parameters': Tag.CryptographicParameters,
  'Contact Information': Tag.ContactInformation,
  Link: Tag.Link,
  'Recommended Curve': Tag.RecommendedCurve,
  'Operation Policy Name': Tag.OperationPolicyName,
  Description: Tag.Description,
  Comment: Tag.Comment,
  'Process Start Date': Tag.ProcessStartDate,
  'Protect Stop Date': Tag.ProtectStopDate,
  'Usage Limits': Tag.UsageLimits,
  'Certificate Type': Tag.CertificateType,
  'Certificate Length': Tag.CertificateLength,
  'Certificate Subject CN': Tag.CertificateSubjectCN,
  'Certificate Issuer CN': Tag.CertificateIssuerCN,
};
const NAMES_BY_TAG = new Map(Object.entries(ATTRIBUTE_TAGS).map(([name, tag]) => [tag, name]));

export const attributeNameOfTag = (tag: number): string | undefined => NAMES_BY_TAG.get(tag);

/**
 * Reads the attributes of a Template-Attribute (1.x: Attribute structures) or an Attributes structure
 * (2.0: tagged items). With `keepUnknown` (a 2.0 Attributes structure), an item whose tag names no
 * attribute Keyward knows comes back named `tag 0x…`, to be refused, never dropped.
 */
export function readAttributes(container: TtlvItem | undefined, keepUnknown = false): KmipAttribute[] {
  const struct = asStruct(container);
  if (!struct) return [];
  const out: KmipAttribute[] = [];
  for (const item of struct.value) {
    if (item.tag === Tag.Attribute) {
      const name = asText(child(item, Tag.AttributeName));
      const value = child(item, Tag.AttributeValue);
      if (name !== undefined && value !== undefined) out.push({ name, value });
    } else {
      const name = NAMES_BY_TAG.get(item.tag) ?? (keepUnknown ? `tag 0x${item.tag.toString(16)}` : undefined);
      if (name !== undefined) out.push({ name, value: item });
    }
  }
  return out;
}

const attributeStruct = (a: KmipAttribute): TtlvItem =>
  ttlv.struct(Tag.Attribute, [ttlv.text(Tag.AttributeName, a.name), { ...a.value, tag: Tag.AttributeValue }]);

/**
 * Writes attributes as the protocol version wants them: Attribute structures (1.x) or tagged items
 * (2.0; custom attributes, which have no tag, stay Attribute structures).
 */
export function writeAttributes(attributes: readonly KmipAttribute[], major: number): TtlvItem[] {
  if (major >= 2) {
    return attributes.map((a) => {
      const tag = ATTRIBUTE_TAGS[a.name];
      return tag === undefined ? attributeStruct(a) : { ...a.value, tag };
    });
  }
  return attributes.map(attributeStruct);
}

/** Attributes only the server sets (never given at Create or Register, never changed by a client). */
export const SERVER_ATTRIBUTES: ReadonlySet<string> = new Set([
  'Unique Identifier',
  'Object Type',
  'State',
  'Initial Date',
  'Compromise Date',
  'Compromise Occurrence Date',
  'Destroy Date',
  'Last Change Date',
  'Original Creation Date',
  'Digest',
  'Fresh',
  'Always Sensitive',
  'Never Extractable',
  'Revocation Reason',
  'Random Number Generator',
  // A certificate's own facts, recorded at Register (operations/kmip-certificate.operations.ts).
  'Certificate Type',
  'Certificate Length',
  'Certificate Subject CN',
  'Certificate Issuer CN',
]);

/** Custom attributes (client-defined, KMIP "x-" names) live as the key's labels of the same name. */
export const isCustomAttribute = (name: string): boolean => name.startsWith('x-');

export const KMIP_STATES: Record<KeyState['state'], number> = {
  PreActive: State.PreActive,
  Active: State.Active,
  Deactivated: State.Deactivated,
  Compromised: State.Compromised,
  Destroyed: State.Destroyed,
  DestroyedCompromised: State.DestroyedCompromised,
};

/** The state KMIP sees: a pending destruction a KMIP Destroy asked for is reported as destroyed. */
export function kmipStateOf(key: KeyState): number {
  if (key.useSuspended && key.destroyAfter !== null) return key.state === 'Compromised' ? State.DestroyedCompromised : State.Destroyed;
  return KMIP_STATES[key.state];
}

/** KMIP object type of a key type: SECRET keys are Secret Data, asymmetric keys Private Keys, the others Symmetric Keys. */
export const objectTypeOf = (keyType: KeyType): number =>
  keyType === 'SECRET'
    ? ObjectType.SecretData
    : keyType === 'CERTIFICATE'
      ? ObjectType.Certificate
      : isAsymmetricKeyType(keyType)
        ? ObjectType.PrivateKey
        : ObjectType.SymmetricKey;

/** KMIP object type of a key: an Opaque Object registered as such (kmip-key-format.ts), else by its key type. */
export const objectTypeOfKey = (key: KeyState): number =>
  key.publicOnly === true
    ? ObjectType.PublicKey
    : opaqueDataTypeOf(key) === undefined
      ? objectTypeOf(key.keyType)
      : ObjectType.OpaqueObject;

/** KMIP Cryptographic Algorithm of a key type (none for secret data). */
export const algorithmOfType = (keyType: KeyType): number | undefined => kmipKeyType(keyType)?.algorithm;
export const algorithmOf = (key: KeyState): number | undefined => algorithmOfType(key.keyType);

/** KMIP Cryptographic Length in bits (none for secret data, whose imported length is not recorded). */
export const lengthOf = (key: KeyState): number | undefined => kmipKeyType(key.keyType)?.bits;

/** The key type of a Create/Register (see keyTypeFor); undefined when none fits exactly. */
export const symmetricKeyType = keyTypeFor;

export function usageMaskOf(key: KeyState, part: KeyPart = 'key'): number {
  if (isAsymmetricKeyType(key.keyType)) return pairUsageMask(key.keyType, part);
  const base =
    key.keyType === 'SECRET' || key.keyType === 'CERTIFICATE'
      ? 0
      : KEY_TYPES[key.keyType].usage === 'mac'
        ? CryptographicUsageMask.MacGenerate | CryptographicUsageMask.MacVerify
        : CryptographicUsageMask.Encrypt | CryptographicUsageMask.Decrypt;
  const reused = key.extraUsages?.includes('mac') === true ? CryptographicUsageMask.MacGenerate | CryptographicUsageMask.MacVerify : 0;
  return (key.exportable ? base | CryptographicUsageMask.Export : base) | reused;
}

/** A key pair's objects: the private key signs (RSA: and decrypts), the public key verifies (RSA: and encrypts). */
function pairUsageMask(keyType: AsymmetricKeyType, part: KeyPart): number {
  const rsa = allowedOperations(keyType).includes('encrypt');
  const { Sign, Verify, Encrypt, Decrypt } = CryptographicUsageMask;
  return part === 'public' ? Verify | (rsa ? Encrypt : 0) : Sign | (rsa ? Decrypt : 0);
}

/** The links between a pair's two objects (none for other keys). */
function pairLinks(key: KeyState, part: KeyPart, v: number): KmipAttribute[] {
  if (!isAsymmetricKeyType(key.keyType) || key.publicOnly === true) return [];
  const [type, other] = part === 'public' ? [LinkType.PrivateKeyLink, key.keyId] : [LinkType.PublicKeyLink, publicKeyUid(key.keyId)];
  return [{ name: 'Link', value: ttlv.struct(v, [ttlv.enum(Tag.LinkType, type), ttlv.text(Tag.LinkedObjectIdentifier, other)]) }];
}

/** The usage mask KMIP sees: the one the client gave at Create or Register, else the key type's. */
export function usageMaskOfKey(key: KeyState): number {
  const stored = key.attributes?.['Cryptographic Usage Mask']?.[0];
  const given = stored === undefined ? undefined : asInt(decodeValue(stored, Tag.AttributeValue));
  return given ?? usageMaskOf(key);
}

/** The dates of a key that Locate can match, by attribute name. */
export function keyDates(key: KeyState): Record<string, Date | undefined> {
  return {
    'Initial Date': dateOf(key.createdAt),
    'Activation Date': dateOf(key.activationDate ?? key.history.find((h) => h.to === 'Active')?.at),
    'Deactivation Date': dateOf(key.deactivationDate),
    // Compromise Date: when the key became Compromised; Compromise Occurrence Date: when the compromise happened (Revoke says).
    'Compromise Date': dateOf(key.history.find((h) => h.to === 'Compromised')?.at ?? key.compromiseDate),
    'Compromise Occurrence Date': dateOf(key.compromiseDate),
    'Destroy Date': dateOf(key.destroyedAt),
    'Last Change Date': dateOf(key.updatedAt),
    'Original Creation Date': dateOf(key.createdAt),
  };
}

/**
 * The generator of every key's material: Node's crypto.randomBytes, OpenSSL 3's default DRBG
 * (CTR_DRBG, SP 800-90A, with AES-256).
 */
const randomNumberGenerator = (tag: number): TtlvItem =>
  ttlv.struct(tag, [
    ttlv.enum(Tag.RngAlgorithm, RngAlgorithm.Drbg),
    ttlv.enum(Tag.CryptographicAlgorithm, CryptographicAlgorithm.AES),
    ttlv.int(Tag.CryptographicLength, 256),
    ttlv.enum(Tag.DrbgAlgorithm, DrbgAlgorithm.Ctr),
  ]);

/** Every attribute of a key (or of its pair's public key object), as the lifecycle made it. */
export function keyAttributes(key: KeyState, part: KeyPart = 'key'): KmipAttribute[] {
  const v = Tag.AttributeValue;
  const algorithm = algorithmOf(key);
  const length = lengthOf(key);
  // A pair's usage masks are its type's: the mask a Create Key Pair gave is the private key's, kept below
  // (a public key registered alone keeps the mask its Register gave).
  const pairPublic = part === 'public' && key.publicOnly !== true;
  const derivedMask = pairPublic || !key.attributes?.['Cryptographic Usage Mask'];
  const out: KmipAttribute[] = [
    { name: 'Unique Identifier', value: ttlv.text(v, uidOf(key, part)) },
    { name: 'Object Type', value: ttlv.enum(v, part === 'public' ? ObjectType.PublicKey : objectTypeOfKey(key)) },
    ...(algorithm === undefined ? [] : [{ name: 'Cryptographic Algorithm', value: ttlv.enum(v, algorithm) }]),
    ...(length === undefined ? [] : [{ name: 'Cryptographic Length', value: ttlv.int(v, length) }]),
    ...(derivedMask ? [{ name: 'Cryptographic Usage Mask', value: ttlv.int(v, usageMaskOf(key, part)) }] : []),
    ...pairLinks(key, part, v),
    { name: 'State', value: ttlv.enum(v, kmipStateOf(key)) },
    // Fresh: the material was never served. Keyward does not log Get in the key's events, so an
    // exportable key is answered "not fresh" (it may have been); a non-exportable one never is served.
    { name: 'Fresh', value: ttlv.bool(v, !key.exportable) },
    { name: 'Extractable', value: ttlv.bool(v, key.exportable) },
    { name: 'Sensitive', value: ttlv.bool(v, false) },
    { name: 'Always Sensitive', value: ttlv.bool(v, false) },
    { name: 'Never Extractable', value: ttlv.bool(v, !key.exportable) },
    { name: 'Random Number Generator', value: randomNumberGenerator(v) },
  ];
  if (key.state === 'Compromised' || key.state === 'DestroyedCompromised') {
    const message = key.compromiseReason ? [ttlv.text(Tag.RevocationMessage, key.compromiseReason)] : [];
    out.push({
      name: 'Revocation Reason',
      value: ttlv.struct(v, [ttlv.enum(Tag.RevocationReasonCode, RevocationReasonCode.KeyCompromise), ...message]),
    });
  }
  if (key.alias !== null) {
    out.push({
      name: 'Name',
      value: ttlv.struct(v, [ttlv.text(Tag.NameValue, key.alias), ttlv.enum(Tag.NameType, NameType.UninterpretedTextString)]),
    });
  }
  if (key.cipherParameters !== undefined)
    out.push({ name: 'Cryptographic Parameters', value: cipherParametersItem(v, key.cipherParameters) });
  if (key.usageLimits !== undefined) out.push({ name: 'Usage Limits', value: usageLimitsItem(v, key.usageLimits) });
  for (const [name, date] of Object.entries(keyDates(key))) if (date !== undefined) out.push({ name, value: ttlv.date(v, date) });
  for (const [name, text] of Object.entries(key.labels)) if (isCustomAttribute(name)) out.push({ name, value: ttlv.text(v, text) });
  out.push(...storedAttributes(key, v).filter((a) => !pairPublic || a.name !== 'Cryptographic Usage Mask'));
  return out;
}

/** The value of a Name attribute (a structure holding a Name Value). */
export function nameValue(value: TtlvItem): string | undefined {
  if (value.type === ItemType.TextString) return value.value;
  return asText(child(value, Tag.NameValue));
}
