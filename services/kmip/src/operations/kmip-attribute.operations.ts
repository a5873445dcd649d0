import { createHash } from 'node:crypto';
import { isDestroyed, LABEL_KEY_PATTERN, type AttributeValue, type KeyState, type KeywardCommand } from '@keyward/domain';
import {
  asDate,
  asEnum,
  asInt,
  asText,
  child,
  children,
  ItemType,
  KeyFormatType,
  ResultReason,
  Tag,
  ttlv,
  type TtlvItem,
} from '@keyward/kmip';
import { businessNow } from '@keyward/platform';
import {
  ATTRIBUTE_TAGS,
  attributeNameOfTag,
  isCustomAttribute,
  keyAttributes,
  nameValue,
  readAttributes,
  SERVER_ATTRIBUTES,
  writeAttributes,
  type KmipAttribute,
} from '../kmip-attributes';
import { decodeValue, encodeValue, isServerRecord, isStored, SINGLE_INSTANCE } from '../kmip-stored-attributes';
import { checkUsageDate } from '../kmip-usage-dates';
import {
  decisionContext,
  fail,
  findKey,
  isKmip2,
  MANAGERS,
  READERS,
  requireRole,
  type Call,
  type KmipDeps,
  type Payload,
} from '../kmip-call';
import { uidOf } from '../kmip-key-pair';

/** A KMIP 2.0 Attribute Reference: an enumeration naming the tag, or a structure with the Attribute Name. */
function referenceName(ref: TtlvItem | undefined): string | undefined {
  const tag = asEnum(ref);
  if (tag !== undefined) return attributeNameOfTag(tag) ?? `0x${tag.toString(16)}`;
  return asText(child(ref, Tag.AttributeName));
}

export async function getAttributes(deps: KmipDeps, payload: TtlvItem | undefined, call: Call): Promise<Payload> {
  requireRole(call, READERS, 'read key attributes');
  const { key, part } = await findKey(deps, payload, call);
  const wanted = new Set<string>(
    children(payload, Tag.AttributeName)
      .map(asText)
      .filter((n): n is string => n !== undefined),
  );
  for (const ref of children(payload, Tag.AttributeReference)) {
    const name = referenceName(ref);
    if (name) wanted.add(name);
  }
  const all = keyAttributes(key, part).filter((a) => wanted.size > 0 || isKmip2(call) || !UNNAMED_IN_KMIP1.has(a.name));
  if (part === 'key' && (wanted.size === 0 || wanted.has('Digest'))) all.push(...(await digestOf(deps, call, key)));
  const chosen = wanted.size === 0 ? all : all.filter((a) => wanted.has(a.name));
  const encoded = writeAttributes(chosen, call.version.major);
  return [ttlv.text(Tag.UniqueIdentifier, uidOf(key, part)), ...(isKmip2(call) ? [ttlv.struct(Tag.Attributes, encoded)] : encoded)];
}

export async function getAttributeList(deps: KmipDeps, payload: TtlvItem | undefined, call: Call): Promise<Payload> {
  requireRole(call, READERS, 'read key attributes');
  const { key, part } = await findKey(deps, payload, call);
  const uid = uidOf(key, part);
  const names = [...new Set(keyAttributes(key, part).map((a) => a.name))];
  if (part === 'key' && hasDigest(key)) names.push('Digest');
  if (isKmip2(call)) {
    // 2.0 answers Attribute References: the tags of standard attributes (custom ones have no tag).
    const tags = names.map((n) => ATTRIBUTE_TAGS[n]).filter((t): t is number => t !== undefined);
    return [ttlv.text(Tag.UniqueIdentifier, uid), ...tags.map((t) => ttlv.enum(Tag.AttributeReference, t))];
  }
  return [ttlv.text(Tag.UniqueIdentifier, uid), ...names.map((n) => ttlv.text(Tag.AttributeName, n))];
}

const SHA_256 = 6;

/**
 * Attributes a 1.x Get Attributes without names leaves out: those KMIP 1.x does not define and the
 * Random Number Generator (optional), whose names some 1.x clients cannot parse (PyKMIP 0.10 raises on
 * them). Asked for by name, and in Get Attribute List, they are answered, as the OASIS 1.4 cases expect.
 */
const UNNAMED_IN_KMIP1: ReadonlySet<string> = new Set(['Extractable', 'Always Sensitive', 'Never Extractable', 'Random Number Generator']);

/** A Digest is answered for live key material; never for secret data (a digest of a password could be guessed). */
const hasDigest = (key: KeyState): boolean =>
  key.keyType !== 'SECRET' && !isDestroyed(key.state) && !(key.useSuspended && key.destroyAfter !== null);

/** Digest: SHA-256 of the latest version's material in Raw format (KMIP 1.4 §3.17). */
async function digestOf(deps: KmipDeps, call: Call, key: KeyState): Promise<KmipAttribute[]> {
  if (!hasDigest(key)) return [];
  const version = key.versions.find((v) => v.version === key.latestVersion);
  if (version === undefined || version.destroyed) return [];
  const ref = { tenantId: call.principal.tenantId, keyId: key.keyId, version: version.version };
  const digest = await deps.materials.withMaterial(ref, version.kcv, (m) => createHash('sha256').update(m).digest());
  const value = ttlv.struct(Tag.AttributeValue, [
    ttlv.enum(Tag.HashingAlgorithm, SHA_256),
    ttlv.bytes(Tag.DigestValue, digest),
    ttlv.enum(Tag.KeyFormatType, KeyFormatType.Raw),
  ]);
  return [{ name: 'Digest', value }];
}

/** Attributes the server sets and no client may change. */
const READ_ONLY = new Set([
  'Unique Identifier',
  'Object Type',
  'Cryptographic Algorithm',
  'Cryptographic Length',
  'Cryptographic Usage Mask',
  'State',
  'Initial Date',
  'Compromise Date',
  'Compromise Occurrence Date',
  'Destroy Date',
  'Last Change Date',
  // Given at Create or Register only: a client that could raise it would lift its own limit.
  'Usage Limits',
]);

const readOnly = (call: Call, name: string): never =>
  fail(
    isKmip2(call) ? ResultReason.AttributeReadOnly : ResultReason.PermissionDenied,
    `the ${name} attribute cannot be changed by a client`,
  );
const unsupported = (call: Call, name: string): never =>
  fail(isKmip2(call) ? ResultReason.UnsupportedAttribute : ResultReason.InvalidField, `Keyward does not keep a ${name} attribute`);
const notFound = (call: Call, name: string): never =>
  fail(isKmip2(call) ? ResultReason.AttributeNotFound : ResultReason.ItemNotFound, `the key has no ${name} attribute`);

type Change = 'add' | 'modify' | 'set';

/**
 * A custom attribute kept as a label (REST shows it): the key has that label already, or it is new,
 * a Text String, and its name fits the label pattern. Other custom attributes are stored as given.
 */
function isLabel(key: KeyState, { name, value }: KmipAttribute): boolean {
  if (!isCustomAttribute(name)) return false;
  if (Object.hasOwn(key.labels, name)) return true;
  return value.type === ItemType.TextString && LABEL_KEY_PATTERN.test(name) && !Object.hasOwn(key.attributes ?? {}, name);
}

/** The instance a 2.0 Current Attribute names among the stored ones (its position), else the 1.x index. */
function positionOf(values: readonly AttributeValue[], index: number, current: KmipAttribute | undefined): number {
  if (current === undefined) return index;
  const wanted = JSON.stringify(encodeValue(current.value));
  return values.findIndex((v) => JSON.stringify(v) === wanted);
}

/** Add, Modify or Set of a stored attribute (kmip-stored-attributes): key.change-attributes with the whole new list. */
function storedChange(
  call: Call,
  key: KeyState,
  change: Change,
  attribute: KmipAttribute,
  index: number,
  current?: KmipAttribute,
): KeywardCommand {
  const { name, value } = attribute;
  const values = key.attributes?.[name] ?? [];
  const encoded = encodeValue(value);
  let next: AttributeValue[];
  if (change === 'add') {
    if (SINGLE_INSTANCE.has(name) && values.length > 0)
      fail(isKmip2(call) ? ResultReason.AttributeSingleValued : ResultReason.IllegalOperation, `${name} has a single instance; modify it`);
    next = [...values, encoded];
  } else if (change === 'set') {
    next = [encoded];
  } else {
    const at = positionOf(values, index, current);
    if (at < 0 || at >= values.length) return notFound(call, name);
    next = values.map((v, i) => (i === at ? encoded : v));
  }
  return { kind: 'key.change-attributes', keyId: key.keyId, set: { [name]: next } };
}

/**
 * The domain command an attribute change is: Name → key.set-alias (one Name per key), custom "x-"
 * text attributes → key.change-labels, an Activation or Deactivation Date that has come →
 * key.activate / key.deactivate. Future dates cannot be rescheduled (set them at Create).
 * Everything else is refused.
 */
function commandFor(
  call: Call,
  key: KeyState,
  change: Change,
  attribute: KmipAttribute,
  index: number,
  current?: KmipAttribute,
): KeywardCommand {
  const { name, value } = attribute;
  const keyId = key.keyId;
  if (name === 'Name') {
    const alias = nameValue(value);
    if (alias === undefined) return fail(ResultReason.InvalidField, 'a Name needs a Name Value');
    // KMIP 2.x: a Name is unique among objects, so adding one the object already has is a second, non-unique instance.
    if (change === 'add' && key.alias === alias && isKmip2(call))
      fail(ResultReason.NonUniqueNameAttribute, `the object already has the Name ${alias}`);
    if (change === 'add' && key.alias !== null && key.alias !== alias)
      fail(
        isKmip2(call) ? ResultReason.AttributeSingleValued : ResultReason.IllegalOperation,
        'a Keyward key has one Name (its alias); use Modify Attribute',
      );
    return { kind: 'key.set-alias', keyId, alias };
  }
  if (isLabel(key, attribute)) {
    const text = value.type === ItemType.TextString ? value.value : '';
    if (change === 'modify' && !Object.hasOwn(key.labels, name)) notFound(call, name);
    return { kind: 'key.change-labels', keyId, set: { [name]: text } };
  }
  if (isStored(name)) {
    checkUsageDate(attribute);
    return storedChange(call, key, change, attribute, index, current);
  }
  if (name === 'Activation Date' || name === 'Deactivation Date') {
    const date = asDate(value);
    if (date === undefined) return fail(ResultReason.InvalidField, `${name} must be a Date-Time`);
    // KMIP 1.4 §3.24: the Activation Date may change only while the object is Pre-Active (SKLC-M-3-14: Permission Denied).
    if (name === 'Activation Date' && key.state !== 'PreActive')
      fail(ResultReason.PermissionDenied, `the Activation Date of a ${key.state} key cannot change`, 'illegal-transition');
    if (date.getTime() > businessNow().getTime())
      fail(ResultReason.FeatureNotSupported, `${name} can be set in the future only when the key is created`);
    return name === 'Activation Date' ? { kind: 'key.activate', keyId } : { kind: 'key.deactivate', keyId };
  }
  if (READ_ONLY.has(name) || SERVER_ATTRIBUTES.has(name)) return readOnly(call, name);
  return unsupported(call, name);
}

/** The attribute of a 1.x request (Attribute structure) or a 2.0 one (New Attribute holding one tagged item). */
function attributeOf(payload: TtlvItem | undefined, call: Call): { attribute: KmipAttribute; index: number; current?: KmipAttribute } {
  const found = isKmip2(call)
    ? readAttributes(child(payload, Tag.NewAttribute))
    : readAttributes(ttlv.struct(Tag.Attributes, children(payload, Tag.Attribute)));
  const attribute = found[0];
  if (attribute === undefined) {
    const tag = unknownTagOf(child(payload, Tag.NewAttribute));
    return tag === undefined ? fail(ResultReason.MissingData, 'the attribute is missing') : unsupported(call, `0x${tag.toString(16)}`);
  }
  const index = asInt(child(child(payload, Tag.Attribute), Tag.AttributeIndex)) ?? 0;
  if (index !== 0 && !isStored(attribute.name)) fail(ResultReason.IndexOutOfBounds, `${attribute.name} has a single instance (index 0)`);
  const current = isKmip2(call) ? readAttributes(child(payload, Tag.CurrentAttribute))[0] : undefined;
  return { attribute, index, ...(current ? { current } : {}) };
}

/** The tag of the single item inside a 2.0 New Attribute that Keyward does not know. */
function unknownTagOf(item: TtlvItem | undefined): number | undefined {
  return item?.type === ItemType.Structure ? item.value[0]?.tag : undefined;
}

async function change(deps: KmipDeps, payload: TtlvItem | undefined, call: Call, kind: Change): Promise<Payload> {
  requireRole(call, MANAGERS, 'change key attributes');
  const { key } = await findKey(deps, payload, call);
  const { attribute, index, current } = attributeOf(payload, call);
  await deps.executor.execute(call.principal.tenantId, commandFor(call, key, kind, attribute, index, current), decisionContext(call));
  const after = (await deps.executor.current(call.principal.tenantId)).keys.get(key.keyId);
  const now =
    isStored(attribute.name) && !isLabel(key, attribute)
      ? attribute
      : after
        ? keyAttributes(after).find((a) => a.name === attribute.name)
        : undefined;
  // 1.x answers the attribute as it now is (with its index); 2.0 only the identifier.
  if (isKmip2(call) || now === undefined) return [ttlv.text(Tag.UniqueIdentifier, key.keyId)];
  const answered = writeAttributes([{ ...now, value: { ...now.value, tag: Tag.AttributeValue } }], 1);
  const withIndex =
    index === 0
      ? answered
      : answered.map((a) => withAttributeIndex(a, kind === 'add' ? (key.attributes?.[attribute.name]?.length ?? 0) : index));
  return [ttlv.text(Tag.UniqueIdentifier, key.keyId), ...withIndex];
}

export const addAttribute = (deps: KmipDeps, payload: TtlvItem | undefined, call: Call): Promise<Payload> =>
  change(deps, payload, call, 'add');
export const modifyAttribute = (deps: KmipDeps, payload: TtlvItem | undefined, call: Call): Promise<Payload> =>
  change(deps, payload, call, 'modify');
export const setAttribute = (deps: KmipDeps, payload: TtlvItem | undefined, call: Call): Promise<Payload> =>
  change(deps, payload, call, 'set');

/**
 * Delete Attribute: custom "x-" attributes (labels) only. A Name cannot be removed (the domain has
 * no alias removal: Modify it instead); the other attributes are the lifecycle's.
 */
export async function deleteAttribute(deps: KmipDeps, payload: TtlvItem | undefined, call: Call): Promise<Payload> {
  requireRole(call, MANAGERS, 'change key attributes');
  const { key } = await findKey(deps, payload, call);
  let name: string | undefined = asText(child(payload, Tag.AttributeName));
  const current = child(payload, Tag.CurrentAttribute);
  if (name === undefined && current !== undefined) name = readAttributes(current)[0]?.name;
  if (name === undefined) name = referenceName(child(payload, Tag.AttributeReference));
  if (name === undefined) return fail(ResultReason.MissingData, 'name the attribute to delete');
  // The server's records of how an object was registered (kmip-key-format.ts) are no client's to delete.
  if (isServerRecord(name)) return readOnly(call, name);
  const index = asInt(child(payload, Tag.AttributeIndex));
  const stored = key.attributes?.[name];
  if (stored !== undefined && !Object.hasOwn(key.labels, name)) {
    const currentValue = current === undefined ? undefined : readAttributes(current)[0];
    const all = isKmip2(call) && currentValue === undefined;
    const at = all ? 0 : positionOf(stored, index ?? 0, currentValue);
    if (at < 0 || at >= stored.length) return notFound(call, name);
    const rest = all ? [] : stored.filter((_, i) => i !== at);
    await deps.executor.execute(
      call.principal.tenantId,
      rest.length === 0
        ? { kind: 'key.change-attributes', keyId: key.keyId, remove: [name] }
        : { kind: 'key.change-attributes', keyId: key.keyId, set: { [name]: rest } },
      decisionContext(call),
    );
    const deleted = decodeValue(stored[at] as AttributeValue, Tag.AttributeValue);
    return [ttlv.text(Tag.UniqueIdentifier, key.keyId), ...(isKmip2(call) ? [] : writeAttributes([{ name, value: deleted }], 1))];
  }
  if (isStored(name) && !Object.hasOwn(key.labels, name)) return notFound(call, name);
  if (index !== undefined && index !== 0) fail(ResultReason.IndexOutOfBounds, `${name} has a single instance (index 0)`);
  if (!isCustomAttribute(name)) {
    if (name === 'Name' || name === 'Activation Date' || name === 'Deactivation Date' || READ_ONLY.has(name)) return readOnly(call, name);
    return unsupported(call, name);
  }
  const value = key.labels[name];
  if (value === undefined) return notFound(call, name);
  await deps.executor.execute(
    call.principal.tenantId,
    { kind: 'key.change-labels', keyId: key.keyId, remove: [name] },
    decisionContext(call),
  );
  return [
    ttlv.text(Tag.UniqueIdentifier, key.keyId),
    ...(isKmip2(call) ? [] : writeAttributes([{ name, value: ttlv.text(Tag.AttributeValue, value) }], 1)),
  ];
}

/** A 1.x Attribute structure with its Attribute Index after the name. */
function withAttributeIndex(attribute: TtlvItem, index: number): TtlvItem {
  if (attribute.type !== ItemType.Structure) return attribute;
  const [name, ...rest] = attribute.value;
  return ttlv.struct(attribute.tag, [...(name ? [name] : []), ttlv.int(Tag.AttributeIndex, index), ...rest]);
}
