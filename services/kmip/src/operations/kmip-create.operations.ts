import { newId } from '@keyward/auth';
import {
  extraUsagesFor,
  isOwnershipBound,
  KEY_TYPES,
  SECRET_IMPORT_BYTES,
  type CreateKey,
  type KeyAttributes,
  type KeyType,
  type KeyUsage,
} from '@keyward/domain';
import { commitNewKeyVersion } from '@keyward/keys';
import { isStored, toStored } from '../kmip-stored-attributes';
import { checkUsageDate } from '../kmip-usage-dates';
import { opaqueDataTypeAttribute, registeredFormatAttribute } from '../kmip-key-format';
import {
  asBool,
  asBytes,
  asDate,
  asEnum,
  asInt,
  child,
  CryptographicAlgorithm,
  CryptographicUsageMask,
  ItemType,
  KeyFormatType,
  ObjectType,
  ResultReason,
  Tag,
  ttlv,
  type TtlvItem,
} from '@keyward/kmip';
import { nameValue, readAttributes, SERVER_ATTRIBUTES, symmetricKeyType, type KmipAttribute } from '../kmip-attributes';
import { readCipherParameters } from '../kmip-cipher-parameters';
import { readUsageLimits, usagesOfMask } from '../kmip-usage-limits';
import { SUPPORTED_SYMMETRIC_KEYS } from '../kmip-key-types';
import { decisionContext, fail, isKmip2, MANAGERS, requireRole, type Call, type KmipDeps, type Payload } from '../kmip-call';

/** What Create, Create Key Pair and Register share: the attributes a key is created with. */
export interface CreateAttributes {
  readonly find: (name: string) => KmipAttribute | undefined;
  readonly options: Pick<
    CreateKey,
    'alias' | 'activationDate' | 'deactivationDate' | 'exportable' | 'attributes' | 'kmipOnly' | 'cipherParameters' | 'usageLimits'
  >;
  /** The usages the Cryptographic Usage Mask names (a key type takes on those KEY_REUSE allows: reuseOf). */
  readonly usages: readonly KeyUsage[];
}

/** Attributes Create and Register turn into the key's own fields (one instance each). */
const APPLIED = new Set([
  'Cryptographic Algorithm',
  'Cryptographic Length',
  'Cryptographic Usage Mask',
  'Cryptographic Parameters',
  'Name',
  'Activation Date',
  'Deactivation Date',
  'Extractable',
  'Sensitive',
  'Usage Limits',
]);

/**
 * An appliance (kmip-client) retrieves the keys it creates: without an Extractable attribute its keys
 * are extractable, KMIP's default (an administrator's KMIP keys still need the Export usage or
 * Extractable true, then export enabled under dual control).
 */
const ownsWhatItCreates = (call: Call): boolean => isOwnershipBound(call.principal.role);

/**
 * Every attribute of the request is applied (APPLIED), kept for the client (kmip-stored-attributes)
 * or refused with the precise reason; none is dropped.
 */
export function createAttributes(attributes: readonly KmipAttribute[], call: Call): CreateAttributes {
  const kept: KmipAttribute[] = [];
  for (const a of attributes) {
    if (APPLIED.has(a.name)) {
      if (attributes.filter((b) => b.name === a.name).length > 1) fail(ResultReason.InvalidField, `${a.name} may be given once`);
      if (a.name === 'Cryptographic Usage Mask') kept.push(a);
    } else if (isStored(a.name)) {
      checkUsageDate(a);
      kept.push(a);
    } else if (SERVER_ATTRIBUTES.has(a.name))
      fail(isKmip2(call) ? ResultReason.AttributeReadOnly : ResultReason.InvalidField, `${a.name} is set by the server`);
    else fail(isKmip2(call) ? ResultReason.UnsupportedAttribute : ResultReason.InvalidField, `Keyward does not keep a ${a.name} attribute`);
  }
  const find = (name: string): KmipAttribute | undefined => attributes.find((a) => a.name === name);
  const name = find('Name');
  const alias = name ? nameValue(name.value) : undefined;
  const activationDate = asDate(find('Activation Date')?.value);
  const deactivationDate = asDate(find('Deactivation Date')?.value);
  const mask = asInt(find('Cryptographic Usage Mask')?.value) ?? 0;
  const extractable = asBool(find('Extractable')?.value);
  const exportMask = (mask & CryptographicUsageMask.Export) !== 0;
  if (extractable === false && exportMask) fail(ResultReason.InvalidField, 'Extractable false contradicts the Export usage');
  if (asBool(find('Sensitive')?.value) === true)
    fail(ResultReason.FeatureNotSupported, 'Keyward does not keep Sensitive objects: create the key not extractable instead');
  const stored = toStored(kept);
  const cipherParameters = readCipherParameters(find('Cryptographic Parameters')?.value);
  const limitsItem = find('Usage Limits')?.value;
  const usageLimits = limitsItem === undefined ? undefined : readUsageLimits(limitsItem);
  return {
    find,
    usages: usagesOfMask(mask),
    options: {
      exportable: exportMask || (extractable ?? ownsWhatItCreates(call)),
      // Keys created or registered over KMIP are KMIP keys: KMIP uses their material, REST's data plane never does (docs/kmip.md).
      kmipOnly: true,
      ...(cipherParameters === undefined ? {} : { cipherParameters }),
      ...(usageLimits === undefined ? {} : { usageLimits }),
      ...(alias === undefined ? {} : { alias }),
      ...(activationDate === undefined ? {} : { activationDate }),
      ...(deactivationDate === undefined ? {} : { deactivationDate }),
      ...(Object.keys(stored).length === 0 ? {} : { attributes: stored }),
    },
  };
}

/**
 * The usages beyond its type's a key takes on because the client's mask asked for them (KEY_REUSE:
 * an AES key with MAC Generate/Verify); used only while the tenant policy allows key reuse.
 */
export function reuseOf(keyType: KeyType, usages: readonly KeyUsage[]): Pick<CreateKey, 'extraUsages'> {
  const extraUsages = extraUsagesFor(keyType, usages);
  return extraUsages.length === 0 ? {} : { extraUsages };
}

/** The attributes of a Create or Register (1.x Template-Attribute, 2.0 Attributes). */
export const requestAttributes = (payload: TtlvItem | undefined): KmipAttribute[] => [
  ...readAttributes(child(payload, Tag.TemplateAttribute)),
  ...readAttributes(child(payload, Tag.Attributes), true),
];

/** Creates the key through the one create-with-material use case REST shares (see commitNewKeyVersion). */
export async function createWithMaterial(
  deps: KmipDeps,
  call: Call,
  keyId: string,
  keyType: KeyType,
  command: (kcv: string) => CreateKey,
  material?: Buffer,
): Promise<void> {
  const context = decisionContext(call);
  await commitNewKeyVersion(deps.executor, deps.materials, {
    tenantId: call.principal.tenantId,
    keyId,
    keyType,
    command,
    context,
    material,
  });
}

/**
 * Commits a Register, whatever the object: the caller-supplied material through the one `key.create`
 * command (`origin: imported`, the material's length, the request's options, the server's records
 * added to its attributes, then what the object kind decides: exportable, extra usages, public only),
 * and names the new key as the batch's placeholder. The caller zeroes `material` afterwards.
 */
export async function commitRegistered(
  deps: KmipDeps,
  call: Call,
  keyType: KeyType,
  material: Buffer,
  options: CreateAttributes['options'],
  kind: { readonly records?: KeyAttributes; readonly exportable: boolean } & Pick<CreateKey, 'extraUsages' | 'publicOnly'>,
): Promise<Payload> {
  const { records, ...decided } = kind;
  const keyId = newId('key');
  const attributes =
    records === undefined || Object.keys(records).length === 0 ? options.attributes : { ...options.attributes, ...records };
  await createWithMaterial(
    deps,
    call,
    keyId,
    keyType,
    (kcv) => ({
      kind: 'key.create',
      keyId,
      keyType,
      kcv,
      origin: 'imported',
      materialBytes: material.length,
      ...options,
      ...(attributes === undefined ? {} : { attributes }),
      ...decided,
    }),
    material,
  );
  call.placeholder = keyId;
  return [ttlv.text(Tag.UniqueIdentifier, keyId)];
}

/** Create: a Symmetric Key (AES-128/192/256, HMAC-SHA1/224/256/384/512 or 3DES) with fresh CSPRNG material, a KMIP key. */
export async function create(deps: KmipDeps, payload: TtlvItem | undefined, call: Call): Promise<Payload> {
  requireRole(call, MANAGERS, 'create keys');
  if (asEnum(child(payload, Tag.ObjectType)) !== ObjectType.SymmetricKey)
    fail(ResultReason.FeatureNotSupported, 'only symmetric keys can be created');
  const { find, options, usages } = createAttributes(requestAttributes(payload), call);
  const algorithm = asEnum(find('Cryptographic Algorithm')?.value);
  const length = asInt(find('Cryptographic Length')?.value);
  const keyType = symmetricKeyType(algorithm, length);
  if (keyType === undefined) {
    return fail(
      ResultReason.InvalidField,
      `Cryptographic Algorithm ${algorithm ?? 'none'} with Cryptographic Length ${length ?? 'none'} is not supported: ${SUPPORTED_SYMMETRIC_KEYS}`,
    );
  }
  const keyId = newId('key');
  const reuse = reuseOf(keyType, usages);
  await createWithMaterial(deps, call, keyId, keyType, (kcv) => ({ kind: 'key.create', keyId, keyType, kcv, ...options, ...reuse }));
  call.placeholder = keyId;
  return [ttlv.enum(Tag.ObjectType, ObjectType.SymmetricKey), ttlv.text(Tag.UniqueIdentifier, keyId)];
}

/** The material of a Register's Key Block (Raw or Opaque, unwrapped, uncompressed), and the Key Block's own algorithm and length. */
/**
 * Key Format Types whose Key Material is a structure of integers (Transparent RSA keys): keyBlockOf
 * answers the structure as `fields` (and no bytes) for the register path to read.
 */
const STRUCTURED_FORMATS: ReadonlySet<number> = new Set([KeyFormatType.TransparentRSAPrivateKey, KeyFormatType.TransparentRSAPublicKey]);

export function keyBlockOf(
  object: TtlvItem | undefined,
  formats: readonly number[],
): { material: Buffer; format: number; algorithm?: number; bits?: number; fields?: TtlvItem } {
  const block = child(object, Tag.KeyBlock);
  if (block === undefined) return fail(ResultReason.MissingData, 'the object has no Key Block');
  if (child(block, Tag.KeyWrappingData) !== undefined) fail(ResultReason.FeatureNotSupported, 'wrapped key material cannot be registered');
  if (child(block, Tag.KeyCompressionType) !== undefined)
    fail(ResultReason.KeyCompressionTypeNotSupported, 'compressed key material cannot be registered');
  const format = asEnum(child(block, Tag.KeyFormatType));
  if (format === undefined || !formats.includes(format)) return fail(ResultReason.KeyFormatTypeNotSupported, 'unsupported Key Format Type');
  const value = child(block, Tag.KeyValue);
  const algorithm = asEnum(child(block, Tag.CryptographicAlgorithm));
  const bits = asInt(child(block, Tag.CryptographicLength));
  const given = { ...(algorithm === undefined ? {} : { algorithm }), ...(bits === undefined ? {} : { bits }) };
  if (STRUCTURED_FORMATS.has(format)) {
    const fields = child(value, Tag.KeyMaterial);
    if (fields?.type !== ItemType.Structure) return fail(ResultReason.KeyValueNotPresent, 'the Key Block has no Key Material structure');
    return { material: Buffer.alloc(0), format, fields, ...given };
  }
  const material = asBytes(child(value, Tag.KeyMaterial)) ?? asBytes(child(child(value, Tag.KeyMaterial), Tag.Key));
  if (material === undefined || material.length === 0) return fail(ResultReason.KeyValueNotPresent, 'the Key Block has no Key Material');
  return { material, format, ...given };
}

/**
 * Register: caller-supplied material through the same domain command as Create (key.create with
 * origin `imported` and the material's check value, tenant-keyed for Secret Data so that a password
 * cannot be guessed from the log; the domain checks its length against the key
 * type) and the same store-before-commit path. Symmetric Keys become AES-*-GCM or HMAC-SHA256 keys;
 * Secret Data becomes a SECRET key, which no crypto operation admits and which is created
 * exportable (its only use is retrieval by Get, once export is enabled under dual control).
 * The supplied bytes are zeroed in the request once stored.
 */
export async function register(deps: KmipDeps, payload: TtlvItem | undefined, call: Call): Promise<Payload> {
  requireRole(call, MANAGERS, 'register keys');
  const objectType = asEnum(child(payload, Tag.ObjectType));
  const { find, options, usages } = createAttributes(requestAttributes(payload), call);
  let keyType: KeyType;
  let exportable = options.exportable === true;
  let supplied: Buffer;
  // The format Get serves the object in when it is not the default one (kmip-key-format.ts).
  let registeredFormat: number | undefined;
  let opaqueDataType: number | undefined;
  if (objectType === ObjectType.SymmetricKey) {
    const block = keyBlockOf(child(payload, Tag.SymmetricKey), [KeyFormatType.Raw, KeyFormatType.TransparentSymmetricKey]);
    supplied = block.material;
    if (block.format !== KeyFormatType.Raw) registeredFormat = block.format;
    const algorithm = block.algorithm ?? asEnum(find('Cryptographic Algorithm')?.value);
    const given = block.bits ?? asInt(find('Cryptographic Length')?.value);
    // Without a length, the material's (3DES: 168 bits in 24 bytes with parity).
    const type = symmetricKeyType(algorithm, given ?? (algorithm === CryptographicAlgorithm.TRIPLE_DES ? 168 : supplied.length * 8));
    if (type === undefined) {
      supplied.fill(0);
      return fail(ResultReason.InvalidField, `only ${SUPPORTED_SYMMETRIC_KEYS} keys can be registered`);
    }
    if (KEY_TYPES[type].materialBytes !== supplied.length) {
      supplied.fill(0);
      return fail(
        ResultReason.InvalidField,
        `Cryptographic Length ${given ?? 'none'} does not match ${supplied.length * 8}-bit key material`,
      );
    }
    keyType = type;
  } else if (objectType === ObjectType.SecretData) {
    const block = keyBlockOf(child(payload, Tag.SecretData), [KeyFormatType.Opaque, KeyFormatType.Raw]);
    supplied = block.material;
    if (block.format !== KeyFormatType.Opaque) registeredFormat = block.format;
    keyType = 'SECRET';
    exportable = true;
    if (supplied.length > SECRET_IMPORT_BYTES.max) {
      supplied.fill(0);
      return fail(ResultReason.InvalidField, `secret data is at most ${SECRET_IMPORT_BYTES.max} bytes`);
    }
  } else if (objectType === ObjectType.OpaqueObject) {
    // An Opaque Object is kept as a SECRET key whose material is its Opaque Data Value (kmip-key-format.ts).
    const opaque = child(payload, Tag.OpaqueObject);
    const dataType = asEnum(child(opaque, Tag.OpaqueDataType));
    const value = asBytes(child(opaque, Tag.OpaqueDataValue));
    if (dataType === undefined) return fail(ResultReason.MissingData, 'an Opaque Object needs an Opaque Data Type');
    if (value === undefined || value.length === 0) return fail(ResultReason.MissingData, 'an Opaque Object needs an Opaque Data Value');
    supplied = value;
    opaqueDataType = dataType;
    keyType = 'SECRET';
    exportable = true;
    if (supplied.length > SECRET_IMPORT_BYTES.max) {
      supplied.fill(0);
      return fail(ResultReason.InvalidField, `an Opaque Data Value is at most ${SECRET_IMPORT_BYTES.max} bytes`);
    }
  } else {
    return fail(ResultReason.FeatureNotSupported, 'only Symmetric Keys, Secret Data, Opaque Objects and Private Keys can be registered');
  }
  const material = Buffer.from(supplied);
  supplied.fill(0);
  const records = {
    ...(registeredFormat === undefined ? {} : registeredFormatAttribute(registeredFormat)),
    ...(opaqueDataType === undefined ? {} : opaqueDataTypeAttribute(opaqueDataType)),
  };
  return commitRegistered(deps, call, keyType, material, options, { records, ...reuseOf(keyType, usages), exportable });
}
